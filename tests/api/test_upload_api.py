"""POST /api/documents: uploads state their audience and dates, or are refused with a clear 422.
Only refusals here (nothing reaches the shared knowledge base); accepted uploads and what the widget
then serves are checked in tests/battery/test_internal_knowledge.py on a server of their own."""

import pytest

from tests.api.conftest import ADMIN_KEY

DOC = ("回访规范.md", "# 回访规范\n\n回访须在办结后二十四小时内完成。\n".encode())


@pytest.mark.parametrize(
    ("files", "form", "message"),
    [
        ([DOC, ("回访规范.md.meta.yaml", b"audience: public\n")], {"audience": "internal"}, "文档元数据写的是 public"),
        ([DOC, ("其他.pdf.meta.yaml", b"audience: public\n")], {}, "其他.pdf.meta.yaml 没有对应的文档"),
        ([DOC, ("回访规范.md.meta.yaml", b"audience: staff\n")], {}, "public 或 internal"),
        ([DOC], {"audience": "everyone"}, "audience"),
        ([DOC], {"valid_from": "2025-02-30"}, "valid_from"),
        ([DOC], {"valid_from": "2025-03-01", "valid_to": "2025-01-01"}, "早于生效日期"),
        ([("evil.exe", b"MZ")], {}, "不支持的文件"),
    ],
)
def test_upload_refusals(live_server, files, form, message):
    with live_server.client(ADMIN_KEY) as admin:
        response = admin.post("/api/documents", files=[("files", f) for f in files], data=form)
    assert response.status_code == 422 and message in response.text, response.text
