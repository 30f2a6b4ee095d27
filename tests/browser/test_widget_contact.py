"""The widget after a handoff, in Chromium: the call-back buttons, the phone input with a clear error,
the confirmation with the ticket number; icons drawn as SVG; rating keeps the buttons in place."""

import re

from tests.api.conftest import ADMIN_KEY
from tests.browser.test_web import SCREENSHOTS, _open_widget, browser, page  # noqa: F401 - the browser fixtures

# a button's place within its message (the log may scroll) and its size
BOX = "el => { const r = el.getBoundingClientRect(), m = el.closest('.msg').getBoundingClientRect(); return [r.x - m.x, r.y - m.y, r.width, r.height].map(Math.round); }"


def _drawn(locator) -> bool:
    """The element holds an SVG icon with a visible size (an emoji without a font draws an empty box)."""
    return bool(locator.locator("svg.icon").evaluate("s => s.getBoundingClientRect().width >= 10 && s.getBoundingClientRect().height >= 10"))


def test_widget_collects_the_phone_after_a_handoff(page, live_server):
    widget = _open_widget(page, live_server.url)
    assert _drawn(widget.locator(".fab"))
    box = widget.get_by_label("问题")
    box.fill("转人工")
    box.press("Enter")
    offer = widget.locator(".msg.bot").nth(1)
    offer.locator(".choices").wait_for(timeout=60_000)
    number = re.search(r"GD\d{8}-\d{6}", offer.locator(".ticket").inner_text()).group(0)
    assert offer.locator(".rate").count() == 0  # a question to the customer is not rated
    offer.get_by_role("button", name="需要回电").click()

    ask = widget.locator(".msg.bot").nth(2)
    phone = ask.get_by_label("联系电话")
    phone.wait_for(timeout=60_000)
    assert "隐私提示" in ask.locator(".bubble").inner_text()
    assert offer.get_by_role("button", name="不用了").is_disabled()  # a step is answered once
    phone.fill("1381234")
    ask.get_by_role("button", name="提交").click()

    retry = widget.locator(".msg.bot").nth(3)
    error = retry.get_by_role("alert")
    error.wait_for(timeout=60_000)
    assert "号码格式不正确" in error.inner_text() and "座机号请带区号" in error.inner_text()
    assert error.evaluate("n => getComputedStyle(n).color") == "rgb(198, 40, 40)"
    page.screenshot(path=str(SCREENSHOTS / "widget-contact-error.png"))
    retry.get_by_label("联系电话").fill("13812345678")
    retry.get_by_role("button", name="提交").click()

    done = widget.locator(".msg.bot").nth(4)
    done.locator(".rate").wait_for(timeout=60_000)
    text = done.locator(".bubble").inner_text()
    assert number in text and "138****5678" in text and "2 小时内" in text
    assert number in done.locator(".ticket").inner_text()
    assert widget.locator(".msg.user .bubble").last.inner_text() == "13812345678"

    up, down = done.get_by_role("button", name="有帮助"), done.get_by_role("button", name="没帮助")
    assert _drawn(up) and _drawn(down)
    before = [up.evaluate(BOX), down.evaluate(BOX)]
    up.click()
    done.get_by_text("感谢您的评价！").wait_for()
    assert [up.evaluate(BOX), down.evaluate(BOX)] == before  # the buttons keep their place and size
    assert up.is_disabled() and down.is_disabled() and up.get_attribute("aria-pressed") == "true"
    widget.locator(".panel").screenshot(path=str(SCREENSHOTS / "widget-contact.png"))

    with live_server.client(ADMIN_KEY) as admin:
        assert admin.get(f"/api/tickets/{number}").json()["contact"] == "13812345678"
