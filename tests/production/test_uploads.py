"""Uploaded documents carry their audience and dates (issue 14): the upload rule, without a server."""

from datetime import date

import pytest
import yaml

from gridkb.errors import InvalidUploadError
from gridkb.production.documents import load_document
from gridkb.production.loaders import SUPPORTED_SUFFIXES, is_supported
from gridkb.production.uploads import UploadedFile, UploadMeta, save_upload
from gridkb.records import Audience

RULE = "# 工单回访内部规范\n\n回访须在办结后二十四小时内完成。\n".encode()
MB = 1 << 20


def sidecar(folder, name):  # type: ignore[no-untyped-def]
    return yaml.safe_load((folder / f"{name}.meta.yaml").read_text(encoding="utf-8"))


def test_nothing_given_means_internal(tmp_path):
    assert save_upload([UploadedFile("回访规范.md", RULE)], UploadMeta(), tmp_path) == ["回访规范.md"]
    assert sidecar(tmp_path, "回访规范.md") == {"audience": "internal"}
    assert load_document(tmp_path / "回访规范.md", MB, "uploads/回访规范.md").meta.audience is Audience.INTERNAL


def test_form_fields_fill_what_the_document_does_not_say(tmp_path):
    form = UploadMeta(Audience.PUBLIC, date(2025, 7, 1), date(2025, 12, 31))
    save_upload([UploadedFile("回访规范.md", RULE)], form, tmp_path)
    meta = load_document(tmp_path / "回访规范.md", MB, "uploads/回访规范.md").meta
    assert (meta.audience, meta.valid_from, meta.valid_to) == (Audience.PUBLIC, "2025-07-01", "2025-12-31")


def test_a_sidecar_in_the_upload_is_read_and_kept(tmp_path):
    own = "title: 示例供电局工单回访规范\naudience: internal\ndoc_type: 内部制度\nvalid_from: 2025-03-01\n"
    files = [UploadedFile("规范.txt", "回访须在办结后二十四小时内完成。".encode()), UploadedFile("规范.txt.meta.yaml", own.encode())]
    save_upload(files, UploadMeta(audience=Audience.INTERNAL), tmp_path)
    assert sidecar(tmp_path, "规范.txt") == {"title": "示例供电局工单回访规范", "audience": "internal", "doc_type": "内部制度", "valid_from": "2025-03-01"}
    assert load_document(tmp_path / "规范.txt", MB, "uploads/规范.txt").title == "示例供电局工单回访规范"


def test_front_matter_counts_as_a_declaration(tmp_path):
    public_md = "---\naudience: public\n---\n# 缴费指南\n\n可在南网在线缴费。\n".encode()
    save_upload([UploadedFile("缴费.md", public_md)], UploadMeta(), tmp_path)
    assert sidecar(tmp_path, "缴费.md") == {"audience": "public"}
    with pytest.raises(InvalidUploadError, match="表单的受众为 internal，文档元数据写的是 public"):
        save_upload([UploadedFile("缴费.md", public_md)], UploadMeta(audience=Audience.INTERNAL), tmp_path / "other")


def test_markdown_by_either_extension_is_uploaded_and_ingested(tmp_path):
    """The upload form takes the loaders' list of types (a copy of it once lost .markdown)."""
    public_md = "---\naudience: public\n---\n# 缴费指南\n\n可在南网在线缴费。\n".encode()
    assert {".md", ".markdown"} <= SUPPORTED_SUFFIXES and is_supported("指南.MARKDOWN")
    assert save_upload([UploadedFile("缴费.markdown", public_md)], UploadMeta(), tmp_path) == ["缴费.markdown"]
    assert sidecar(tmp_path, "缴费.markdown") == {"audience": "public"}  # front matter read as for .md
    document = load_document(tmp_path / "缴费.markdown", MB, "uploads/缴费.markdown")
    assert (document.title, document.meta.audience) == ("缴费指南", Audience.PUBLIC)


@pytest.mark.parametrize(
    ("files", "form", "message"),
    [
        ([("a.pdf", b"%PDF"), ("a.pdf.meta.yaml", b"audience: public")], UploadMeta(audience=Audience.INTERNAL), "表单的受众"),
        ([("a.pdf", b"%PDF"), ("b.pdf.meta.yaml", b"audience: public")], UploadMeta(), "b.pdf.meta.yaml 没有对应的文档"),
        ([("a.pdf.meta.yaml", b"audience: public")], UploadMeta(), "请至少上传一个文档"),
        ([("a.pdf", b"%PDF"), ("a.pdf.meta.yaml", b"audiance: public")], UploadMeta(), "unknown metadata keys audiance"),
        ([("a.pdf", b"%PDF"), ("a.pdf.meta.yaml", b"audience: everyone")], UploadMeta(), "audience 为 public 或 internal"),
        ([("a.pdf", b"%PDF"), ("a.pdf.meta.yaml", b"valid_from: 2025-13-45")], UploadMeta(), "invalid metadata"),
        ([("a.pdf", b"%PDF"), ("a.pdf.meta.yaml", b"valid_from: 2025-03-01\nvalid_to: 2025-01-01")], UploadMeta(), "失效日期 2025-01-01 早于生效日期"),
        ([("a.pdf", b"%PDF"), ("a.pdf.meta.yaml", b"title: [")], UploadMeta(), "not valid YAML"),
        ([("a.pdf", b"%PDF"), ("a.pdf.meta.yaml", "audience: public".encode("utf-16"))], UploadMeta(), "UTF-8"),
        ([("a.exe", b"MZ")], UploadMeta(), "不支持的文件：a.exe"),
        ([("a.pdf", b"%PDF"), ("dir/a.pdf", b"%PDF")], UploadMeta(), "文件名重复：a.pdf"),
        ([(".hidden.md", b"# a")], UploadMeta(), "文件名无效"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_written(tmp_path, files, form, message):
    with pytest.raises(InvalidUploadError, match=message):
        save_upload([UploadedFile(n, d) for n, d in files], form, tmp_path / "job")
    assert not (tmp_path / "job").exists()


def test_form_dates_in_the_wrong_order_are_refused():
    with pytest.raises(InvalidUploadError, match="早于生效日期"):
        UploadMeta(valid_from=date(2025, 3, 1), valid_to=date(2025, 1, 1))
