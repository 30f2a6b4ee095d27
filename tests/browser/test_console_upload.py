"""The console's upload form states the audience (仅内部 unless the admin chooses 对外公开) and the dates.
Refused uploads only, so the shared knowledge base is left as the other tests expect."""

from tests.api.conftest import ADMIN_KEY
from tests.browser.test_web import browser, page  # noqa: F401 - shared fixtures

PUBLIC_MD = "---\naudience: public\n---\n# 缴费指南\n\n可在南网在线缴费。\n".encode()


def test_upload_form_defaults_to_internal_and_sends_dates(page, live_server):
    page.goto(live_server.url + "/console")
    page.locator("#login-key").fill(ADMIN_KEY)
    page.get_by_role("button", name="登录").click()
    page.locator("#who").get_by_text("管理员").wait_for()
    page.get_by_role("button", name="文档导入").click()
    audience = page.locator("#upload-audience")
    assert audience.input_value() == "internal"
    assert audience.locator("option:checked").inner_text() == "仅内部"
    page.locator("#upload-files").set_input_files([{"name": "缴费指南.md", "mimeType": "text/markdown", "buffer": PUBLIC_MD}])
    page.get_by_role("button", name="上传并导入").click()
    status = page.locator("#upload-status")
    status.get_by_text("文档元数据写的是 public").wait_for()  # the form said internal: the server saw it
    audience.select_option("public")
    page.locator("#upload-valid-from").fill("2025-03-01")
    page.locator("#upload-valid-to").fill("2025-01-01")
    page.get_by_role("button", name="上传并导入").click()
    status.get_by_text("早于生效日期").wait_for()
