"""The agent console as an agent sees it, in Chromium: the dashboard's charts fit their columns and
every figure has a value after a rated conversation; the ticket queue and detail read in Chinese."""

import re

from tests.api.conftest import ADMIN_KEY, WIDGET_KEY
from tests.browser.test_web import SCREENSHOTS, browser, page  # noqa: F401 - shared fixtures

# each chart against its wrapper and column, and the page against the window
LAYOUT = """() => ({
  charts: [...document.querySelectorAll('.chart')].map(f => ({
    canvas: f.querySelector('canvas').getBoundingClientRect().width,
    wrap: f.querySelector('.chart-wrap').getBoundingClientRect().width,
    figure: f.getBoundingClientRect().width,
    right: f.getBoundingClientRect().right,
  })),
  page: document.documentElement.scrollWidth,
  window: window.innerWidth,
})"""


def _rated_conversation_and_a_worked_ticket(server) -> str:
    """A 👎 on a reply and a 5-star rating on another, and an urgent ticket taken through its steps."""
    with server.client(WIDGET_KEY) as widget, server.client(ADMIN_KEY) as admin:
        for message, judgement in (("城区抢修多久能到？", {"helpful": True, "rating": 5}), ("电费可以在哪里交？", {"helpful": False})):
            reply = widget.post("/api/chat", json={"message": message}).json()
            rated = widget.post("/api/feedback", json={"session_id": reply["session_id"], "message_id": reply["message_id"], **judgement})
            assert rated.status_code == 200, rated.text
        ticket = admin.post("/api/tickets", json={"question": "人民路 12 号电线杆倾斜，有断线危险", "category": "outage", "priority": "urgent"}).json()
        number = ticket["number"]
        for step in ({"action": "transition", "status": "triaged"}, {"action": "assign", "assignee": "agent-7", "note": "就近抢修班组"},
                     {"action": "contacted", "note": "已电话告知客户远离"}, {"action": "transition", "status": "in_progress"}):
            assert admin.patch(f"/api/tickets/{number}", json=step).status_code == 200
        done = admin.post("/api/tickets", json={"question": "咨询峰谷电价时段", "category": "billing", "priority": "low"}).json()["number"]
        for step in ({"action": "assign", "assignee": "agent-7"}, {"action": "transition", "status": "in_progress"},
                     {"action": "resolve", "resolution": "已告知峰谷时段。"}):
            assert admin.patch(f"/api/tickets/{done}", json=step).status_code == 200
        return number


def _login(page, url):
    page.goto(url + "/console")
    page.locator("#login-key").fill(ADMIN_KEY)
    page.get_by_role("button", name="登录").click()
    page.locator("#who").get_by_text("管理员").wait_for()


def _assert_charts_fit(page):
    layout = page.evaluate(LAYOUT)
    assert len(layout["charts"]) == 3
    for chart in layout["charts"]:
        assert 0 < chart["canvas"] <= chart["wrap"] + 0.5 and chart["wrap"] <= chart["figure"], layout
        assert chart["right"] <= layout["window"], layout
    assert layout["page"] <= layout["window"], layout  # no horizontal scrolling


def test_dashboard_charts_fit_and_every_figure_has_a_value(page, live_server):
    number = _rated_conversation_and_a_worked_ticket(live_server)
    _login(page, live_server.url)
    page.get_by_role("button", name="数据看板").click()
    page.locator(".kpi").first.wait_for()
    page.wait_for_function("() => document.querySelectorAll('.chart canvas').length === 3 && [...document.querySelectorAll('.chart canvas')].every(c => c.width > 0)")
    _assert_charts_fit(page)
    # the queue's status filter is filled from /api/ticket-statuses, not from a list of its own
    assert page.locator("#ticket-status option").all_inner_texts()[:3] == ["全部状态", "新建", "已分诊"]
    figures = {k.get_attribute("data-kpi"): k.locator("b").inner_text() for k in page.locator(".kpi").all()}
    assert {"满意度", "有帮助率"} <= set(figures)
    empty = {name: value for name, value in figures.items() if not re.search(r"\d", value)}
    assert not empty, figures  # no "—" or "暂无数据": a number in every figure
    assert figures["有帮助率"].endswith("%") and figures["满意度"].endswith("%")
    page.screenshot(path=str(SCREENSHOTS / "console-dashboard.png"), full_page=True)

    page.set_viewport_size({"width": 900, "height": 860})  # the charts follow the window
    page.wait_for_timeout(300)  # Chart.js resizes on the next animation frame
    _assert_charts_fit(page)

    page.set_viewport_size({"width": 1280, "height": 860})
    page.get_by_role("button", name="工单").click()
    row = page.locator(f"tr[data-number='{number}']")
    row.wait_for()
    assert "urgent" in row.get_attribute("class") and row.locator(".badge.urgent").inner_text() == "紧急"
    first = page.locator("#ticket-table tbody tr").first
    assert first.locator(".badge").first.inner_text() == "紧急"  # urgent open tickets lead the queue
    row.click()
    detail = page.locator("#ticket-detail")
    detail.locator(".timeline li").nth(4).wait_for()
    text = detail.inner_text()
    assert "停电与故障抢修" in text and "紧急" in text and "处理中" in text and "地址/户号" in text
    assert "分派给 agent-7" in text and "状态 已分派 → 处理中" in text and "备注：已电话告知客户远离" in text
    assert not re.search(r"\b(urgent|in_progress|outage|assigned|transition)\b", text), text  # no codes
    assert "{" not in detail.locator(".timeline").inner_text()  # a timeline, not raw JSON
    buttons = [b.inner_text() for b in detail.locator(".actions button").all()]
    assert "改派部门…" in buttons and "分诊" not in buttons  # the actions this status allows, from the API
    assert detail.locator("#resolve").is_visible()
    detail.screenshot(path=str(SCREENSHOTS / "console-ticket-detail.png"))
    page.screenshot(path=str(SCREENSHOTS / "console-tickets.png"))


def test_graph_edges_name_their_relation_and_the_report_lists_conflicts_and_duplicates(page, live_server):
    _login(page, live_server.url)
    page.get_by_role("button", name="知识图谱").click()
    page.locator("#graph-entity").fill("业扩报装")
    page.locator("#graph-form button").click()
    page.locator("#graph-svg text.edge").first.wait_for()
    captions = page.locator("#graph-svg text.edge").all_text_contents()
    assert captions and all(re.search(r"[\u4e00-\u9fff]", c) for c in captions), captions
    page.screenshot(path=str(SCREENSHOTS / "console-graph-relations.png"))
    page.get_by_role("button", name="文档导入").click()
    conflict = page.locator("#report .conflict").first
    conflict.wait_for()
    assert conflict.locator(".badge").first.inner_text() in ("已由新文件取代", "待人工裁决", "已人工裁决")
    assert "低压居民新装办事指南" in conflict.inner_text() and "个工作日" in conflict.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "console-report.png"), full_page=True)
