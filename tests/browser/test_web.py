"""The widget, the demo page and the agent console in a real browser (Debian's Chromium driven by
Playwright). Screenshots go to tests/browser/screenshots/latest/ (git-ignored); `make screenshots`
refreshes the committed ones in tests/browser/screenshots/."""

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.api.conftest import ADMIN_KEY

SCREENSHOTS = Path(os.environ.get("GRIDKB_SCREENSHOTS") or Path(__file__).resolve().parent / "screenshots" / "latest")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
XSS_CHECK = "() => window.__xss === undefined"


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it with apt)")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, errors  # no script errors on the page


def _open_widget(page, url):
    page.goto(url + "/demo")
    page.get_by_role("button", name="打开智能客服").click()
    return page.locator("[data-gridkb-widget]")


def _ask(page, widget, text, count, ready=".rate"):
    """Send ``text`` and wait for the ``count``-th bot reply to finish (its rating buttons appear, or
    ``ready``: ".choices" for a handoff, which asks about a call back instead)."""
    box = widget.get_by_label("问题")
    box.fill(text)
    box.press("Enter")
    reply = widget.locator(".msg.bot").nth(count)  # reply 0 is the greeting
    reply.locator(ready).wait_for(timeout=60_000)
    return reply


def test_widget_answers_with_sources_suggestions_and_feedback(page, live_server):
    widget = _open_widget(page, live_server.url)
    assert page.locator("#host-button").evaluate("b => getComputedStyle(b).fontSize") == "30px"  # the host keeps its styles
    fab_font = widget.locator(".fab").evaluate("b => getComputedStyle(b).fontSize")
    assert fab_font == "15px"  # and the widget keeps its own
    hello = _ask(page, widget, "你好", 1)
    chips = hello.locator(".chip")
    assert chips.count() >= 1
    answer = _ask(page, widget, "城区抢修多久能到？", 2)
    assert "45 分钟" in answer.locator(".bubble").inner_text()
    answer.locator("summary").click()
    assert answer.locator("details p").first.is_visible()
    first_chip = chips.first.inner_text()
    chips.first.click()
    widget.locator(".msg.bot .rate").nth(2).wait_for(timeout=60_000)
    assert widget.locator(".msg.user .bubble").last.inner_text() == first_chip
    answer.get_by_role("button", name="有帮助").click()
    thanks = answer.get_by_text("感谢您的评价！")
    thanks.wait_for()
    # inherited styles (the host page colours every element dark red) stop at the widget's panel
    assert thanks.evaluate("n => getComputedStyle(n).color") == "rgb(85, 85, 85)"
    assert answer.locator(".bubble").evaluate("n => getComputedStyle(n).color") == "rgb(34, 34, 34)"
    page.screenshot(path=str(SCREENSHOTS / "widget-answer.png"))


def test_handoff_shows_the_ticket_and_the_console_finds_it(page, live_server):
    widget = _open_widget(page, live_server.url)
    reply = _ask(page, widget, "转人工", 1, ready=".choices")
    ticket = re.search(r"GD\d{8}-\d{6}", reply.locator(".ticket").inner_text()).group(0)
    page.screenshot(path=str(SCREENSHOTS / "widget-handoff.png"))
    page.goto(live_server.url + "/console")
    page.locator("#login-key").fill(ADMIN_KEY)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("button", name="工单").click()
    row = page.locator(f"tr[data-number='{ticket}']")
    row.wait_for()
    row.click()
    detail = page.locator("#ticket-detail")
    detail.get_by_text("客户：转人工").wait_for()
    assert ticket in detail.locator("h3").inner_text()
    page.get_by_role("button", name="数据看板").click()
    page.locator(".kpi").first.wait_for()
    assert page.evaluate("() => typeof window.Chart") == "function"  # the charting library is served locally
    page.get_by_role("button", name="知识图谱").click()
    page.locator("#graph-entity").fill("业扩报装")
    page.locator("#graph-form button").click()
    page.locator("#graph-svg g.node").first.wait_for()
    page.screenshot(path=str(SCREENSHOTS / "console-graph.png"))


def test_html_in_knowledge_and_in_messages_is_shown_never_executed(page, live_server):
    widget = _open_widget(page, live_server.url)
    reply = _ask(page, widget, "示例小区配电房改造什么时候开工？", 1)
    reply.locator("summary").click()
    shown = reply.inner_text()
    assert "12 月 1 日" in shown and ("<img" in shown or "<script>" in shown)  # the payload is text on the screen
    payload = "<img src=x onerror=\"window.__xss='chat'\"><script>window.__xss='chat2'</script>转人工"
    handoff = _ask(page, widget, payload, 2, ready=".choices")
    assert widget.locator(".msg.user .bubble").last.inner_text() == payload
    assert page.evaluate(XSS_CHECK)
    ticket = re.search(r"GD\d{8}-\d{6}", handoff.inner_text()).group(0)
    page.screenshot(path=str(SCREENSHOTS / "widget-xss.png"))

    page.goto(live_server.url + "/console")
    page.locator("#login-key").fill(ADMIN_KEY)
    page.get_by_role("button", name="登录").click()
    page.locator("#search-q").fill("配电房改造")
    page.locator("#search-form button").click()
    page.locator("#search-results li").first.wait_for()
    assert "onerror" in page.locator("#search-results").inner_text()
    page.get_by_role("button", name="工单").click()
    page.locator(f"tr[data-number='{ticket}']").click()
    page.locator("#ticket-detail .transcript").get_by_text("onerror", exact=False).first.wait_for()
    assert page.evaluate(XSS_CHECK)
    page.screenshot(path=str(SCREENSHOTS / "console-xss.png"))


def test_admin_creates_and_revokes_an_agent_key_in_the_console(page, browser, live_server):
    page.goto(live_server.url + "/console")
    page.locator("#login-key").fill(ADMIN_KEY)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("button", name="密钥").click()
    page.locator("#key-name").fill("agent-browser")
    page.get_by_role("button", name="创建密钥").click()
    created = page.locator("#key-created")
    created.get_by_text("agt_").wait_for()
    agent_key = created.inner_text().rsplit("：", 1)[1].strip()
    page.screenshot(path=str(SCREENSHOTS / "console-keys.png"))

    agent = browser.new_context(locale="zh-CN").new_page()  # the new agent logs in: no key tab for agents
    agent.goto(live_server.url + "/console")
    agent.locator("#login-key").fill(agent_key)
    agent.get_by_role("button", name="登录").click()
    agent.locator("#who").get_by_text("agent-browser").wait_for()
    assert agent.locator("#keys-tab").is_hidden()

    page.on("dialog", lambda dialog: dialog.accept())
    row = page.locator("#key-table tr", has_text="agent-browser")
    row.get_by_role("button", name="吊销").click()
    row.get_by_text("已吊销").wait_for()
    agent.get_by_role("button", name="工单").click()  # the agent's next request is refused: back to the login
    agent.locator("#login").wait_for(state="visible")
    agent.context.close()


def test_clarifying_options_are_chips_that_continue_the_conversation(page, live_server):
    """The first reply (a clarifying question) is scripted at the network; choosing an option sends
    it as the next message to the real server, and "都不是" hands over to a person."""
    import json

    clarify = {
        "session_id": None, "message_id": "m-1", "answer": "您想咨询的是下面哪个问题？请点选一个，我再为您解答：",
        "confidence": 0.4, "resolved": False, "category": "payment", "department": "客户服务中心", "sources": [],
        "suggestions": [], "options": ["电费可以在哪里交？", "居民阶梯电价分几档？"], "ticket_id": None,
    }

    def scripted(route):
        route.fulfill(status=200, headers={"Content-Type": "text/event-stream"}, body="event: done\ndata: " + json.dumps(clarify, ensure_ascii=False) + "\n\n")
        page.unroute("**/api/chat/stream")  # only the first question is scripted

    page.route("**/api/chat/stream", scripted)
    widget = _open_widget(page, live_server.url)
    box = widget.get_by_label("问题")
    box.fill("电费")
    box.press("Enter")
    reply = widget.locator(".msg.bot").nth(1)
    reply.locator(".options").wait_for(timeout=60_000)
    assert reply.locator(".rate").count() == 0  # a clarifying question is not rated
    chips = reply.locator(".options .chip")
    assert [chips.nth(i).inner_text() for i in range(chips.count())] == ["电费可以在哪里交？", "居民阶梯电价分几档？", "都不是，转人工"]
    page.screenshot(path=str(SCREENSHOTS / "widget-clarify.png"))
    chips.first.click()
    widget.locator(".msg.bot .rate").first.wait_for(timeout=60_000)
    assert widget.locator(".msg.user .bubble").last.inner_text() == "电费可以在哪里交？"
    assert "南网在线" in widget.locator(".msg.bot .bubble").last.inner_text()
    assert chips.first.is_disabled() and chips.last.is_disabled()  # a choice is made once
    page.screenshot(path=str(SCREENSHOTS / "widget-clarify-chosen.png"))


def test_a_question_about_another_area_is_declined_with_the_advice_to_ask_there(page, live_server):
    widget = _open_widget(page, live_server.url)
    reply = _ask(page, widget, "广西的电费可以在哪里交", 1)
    text = reply.locator(".bubble").inner_text()
    assert "广西不在本供电营业区内" in text and "当地供电企业" in text
    assert reply.locator("details").count() == 0  # nothing of this knowledge base is cited for another area
    page.screenshot(path=str(SCREENSHOTS / "widget-outside-area.png"))


def test_table_rows_in_an_answer_are_shown_as_a_table_of_text(page, live_server):
    """Rows written "列：值；列：值" (as the knowledge base keeps a table) with the same columns are
    shown as a table; a single row, a list line and a cell holding markup stay text."""
    import json

    rows = [
        "时段：高峰时段；时间范围：10:00–12:00、14:00–19:00；电价比例：1.7",
        "时段：平段；时间范围：8:00–10:00；电价比例：1",
        "时段：低谷时段；时间范围：0:00–8:00；电价比例：<img src=x onerror=\"window.__xss='cell'\">",
    ]
    text = "\n".join(["峰谷分时电价按以下时段执行：", *rows, "温馨提示：低谷时段用电更划算。", "资料：身份证；说明：本人"])
    reply = {
        "session_id": None, "message_id": "m-1", "answer": text, "confidence": 0.9, "resolved": True, "category": "billing",
        "department": "电费核算中心", "sources": [], "suggestions": [], "options": [], "ticket_id": None,
    }
    page.route("**/api/chat/stream", lambda route: route.fulfill(
        status=200, headers={"Content-Type": "text/event-stream"}, body="event: done\ndata: " + json.dumps(reply, ensure_ascii=False) + "\n\n"))
    widget = _open_widget(page, live_server.url)
    answer = _ask(page, widget, "峰谷电几点到几点", 1)
    table = answer.locator(".bubble table")
    assert table.count() == 1
    assert [table.locator("th").nth(i).inner_text() for i in range(3)] == ["时段", "时间范围", "电价比例"]
    assert table.locator("tr").count() == 4  # the header and three rows
    assert table.locator("tr").nth(1).locator("td").nth(1).inner_text() == "10:00–12:00、14:00–19:00"
    assert "onerror" in table.locator("tr").nth(3).locator("td").nth(2).inner_text()  # markup is shown as text
    assert page.evaluate(XSS_CHECK)
    shown = answer.locator(".bubble").inner_text()
    assert shown.startswith("峰谷分时电价按以下时段执行：")
    assert "温馨提示：低谷时段用电更划算。" in shown and "资料：身份证；说明：本人" in shown  # one row alone stays a line
    page.screenshot(path=str(SCREENSHOTS / "widget-table.png"))
