"""One test per format on small fixture files, plus corrupt, empty, oversized and unsupported files."""

from pathlib import Path

import orjson
import pytest

from gridkb.errors import CorruptFileError, EmptyDocumentError, FileTooLargeError, SourceError, UnsupportedFormatError
from gridkb.production.documents import load_document
from gridkb.records import Audience, BlockKind
from tests.helpers import make_docx, make_pdf, make_xlsx

MB = 1 << 20


def kinds(doc):
    return [(b.kind, b.text) for b in doc.blocks]


def test_txt_plain_structure(tmp_path: Path):
    path = tmp_path / "notice.txt"
    path.write_text("营业厅告示\n\n一、计划停电\n计划停电提前 7 天公告。\n二、查询方式\n1. 南网在线 APP；\n2. 95598 热线。\n", encoding="utf-8")
    doc = load_document(path, MB)
    assert doc.format == "txt"
    assert (BlockKind.HEADING, "一、计划停电") in kinds(doc)
    assert (BlockKind.LIST_ITEM, "2. 95598 热线。") in kinds(doc)


def test_gbk_and_big5_text_files(tmp_path: Path):
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("一、停电告示\n因线路检修，计划停电提前七天公告，请客户做好准备。".encode("gbk"))
    big5 = tmp_path / "big5.txt"
    big5.write_bytes("一、電費繳納\n電費可通過網上營業廳繳納，線上繳費全天可用。".encode("big5"))
    assert "计划停电提前七天公告" in load_document(gbk, MB).text
    big5_doc = load_document(big5, MB)
    assert "电费可通过网上营业厅缴纳" in big5_doc.text  # decoded and converted to simplified
    assert "電" in big5_doc.original_text


def test_markdown_front_matter_headings_lists_and_tables(tmp_path: Path):
    path = tmp_path / "guide.md"
    path.write_text(
        "---\ntitle: 新装指南\naudience: internal\nvalid_to: 2030-12-31\n---\n# 新装指南\n\n## 一、资料\n- 身份证件；\n- 房屋产权证明。\n\n"
        "## 二、时限\n| 类型 | 时限 |\n|---|---|\n| 低压居民 | 5 个工作日 |\n",
        encoding="utf-8",
    )
    doc = load_document(path, MB)
    assert doc.title == "新装指南"
    assert doc.meta.audience is Audience.INTERNAL and doc.meta.valid_to == "2030-12-31"
    assert (BlockKind.LIST_ITEM, "身份证件；") in kinds(doc)
    assert (BlockKind.TABLE_ROW, "类型：低压居民；时限：5 个工作日") in kinds(doc)


def test_markdown_faq(tmp_path: Path):
    path = tmp_path / "faq.md"
    path.write_text("---\ndoc_type: FAQ\n---\n# 安全问答\n\n问：漏电保护器多久试一次？\n答：每月按试验按钮\n检查一次。\n\n问：电动车能在楼道充电吗？\n答：不能。\n", encoding="utf-8")
    doc = load_document(path, MB)
    assert [(f.question, f.answer) for f in doc.faqs] == [("漏电保护器多久试一次？", "每月按试验按钮检查一次。"), ("电动车能在楼道充电吗？", "不能。")]


def test_markdown_faq_wordings(tmp_path: Path):
    path = tmp_path / "faq.md"
    path.write_text(
        "---\ndoc_type: FAQ\n---\n问：漏电保护器多久试一次？\n相似问法：漏保多久按一次|漏电开关要常试吗\n答：每月一次。\n\n"
        "问：电动车能在楼道充电吗？\n答：不能。\n相似问法：楼道里能充电瓶车吗\n",
        encoding="utf-8",
    )
    doc = load_document(path, MB)
    assert [(f.question, f.answer, f.similar) for f in doc.faqs] == [
        ("漏电保护器多久试一次？", "每月一次。", ("漏保多久按一次", "漏电开关要常试吗")),
        ("电动车能在楼道充电吗？", "不能。", ("楼道里能充电瓶车吗",)),
    ]


def test_html_drops_scripts_and_keeps_tables(tmp_path: Path):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>电价说明</title><script>alert(1)</script></head><body><nav>首页</nav>"
        "<h1>电价说明</h1><h2>一、分时电价</h2><p>工商业用户执行分时电价。</p>"
        "<table><tr><th>时段</th><th>时间</th></tr><tr><td>高峰</td><td>10:00–12:00</td></tr></table>"
        "<ul><li>峰平谷比 1.7:1:0.38</li></ul></body></html>",
        encoding="utf-8",
    )
    doc = load_document(path, MB)
    assert doc.title == "电价说明"
    assert "alert" not in doc.text and "首页" not in doc.text
    assert (BlockKind.HEADING, "一、分时电价") in kinds(doc)
    assert (BlockKind.TABLE_ROW, "时段：高峰；时间：10:00–12:00") in kinds(doc)


def test_pdf_rejoins_broken_lines_and_drops_page_furniture(tmp_path: Path):
    path = make_pdf(
        tmp_path / "notice.pdf",
        [
            ["一、办理时限", "低压居民用户从受理到装表接电不超过5个工作日，低压非居民用户", "不超过15个工作日。"],
            ["二、受理渠道", "可通过南网在线APP、95598热线或营业厅申请，资料齐全的当场受", "理。"],
        ],
        header="示例供电局办电时限通知",
    )
    doc = load_document(path, MB)
    assert "低压居民用户从受理到装表接电不超过5个工作日，低压非居民用户不超过15个工作日。" in doc.text
    assert "资料齐全的当场受理。" in doc.text
    assert "示例供电局办电时限通知" not in doc.text  # running header
    assert "- 1 -" not in doc.text and "- 2 -" not in doc.text  # page numbers


def test_docx_headings_lists_tables(tmp_path: Path):
    path = make_docx(
        tmp_path / "guide.docx",
        "缴费指南",
        [("一、缴费渠道", ["- 南网在线 APP", "- 银行代扣"]), ("二、发票", ["电子发票可在 APP 下载。"])],
        table=[["渠道", "到账"], ["APP", "实时"]],
    )
    doc = load_document(path, MB)
    assert doc.title == "缴费指南"
    assert (BlockKind.HEADING, "一、缴费渠道") in kinds(doc)
    assert (BlockKind.LIST_ITEM, "银行代扣") in kinds(doc)
    assert (BlockKind.TABLE_ROW, "渠道：APP；到账：实时") in kinds(doc)


def test_xlsx_and_csv_faq_sheets(tmp_path: Path):
    rows = [["问题", "答案", "类别", "相似问法"], ["户号在哪看？", "户号印在电费账单上。", "channel", "户号是什么|用户编号在哪"], ["", "", "", ""]]
    xlsx = load_document(make_xlsx(tmp_path / "faq.xlsx", rows), MB)
    assert len(xlsx.faqs) == 1 and xlsx.faqs[0].similar == ("户号是什么", "用户编号在哪") and xlsx.faqs[0].category == "channel"
    csv_path = tmp_path / "faq.csv"
    csv_path.write_text("问题,答案\n电费怎么交？,南网在线 APP 可缴费。\n", encoding="gbk")
    assert load_document(csv_path, MB).faqs[0].answer == "南网在线 APP 可缴费。"


def test_plain_table_sheet_becomes_rows(tmp_path: Path):
    path = tmp_path / "tariff.csv"
    path.write_text("档位,电量,电价\n第一档,0-200,0.59\n", encoding="utf-8")
    doc = load_document(path, MB)
    assert not doc.faqs and (BlockKind.TABLE_ROW, "档位：第一档；电量：0-200；电价：0.59") in kinds(doc)


def test_json_faq_and_bad_json(tmp_path: Path):
    good = tmp_path / "faq.json"
    good.write_bytes(orjson.dumps([{"question": "光伏怎么并网？", "answer": "先提交并网申请。", "similar": ["光伏并网流程"]}]))
    assert load_document(good, MB).faqs[0].similar == ("光伏并网流程",)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(CorruptFileError, match="invalid JSON"):
        load_document(bad, MB)
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"a": 1}', encoding="utf-8")
    with pytest.raises(UnsupportedFormatError, match="question"):
        load_document(wrong, MB)


def test_corrupt_pdf_and_docx(tmp_path: Path):
    pdf = tmp_path / "broken.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage" + b"\x00" * 50)
    docx_file = tmp_path / "broken.docx"
    docx_file.write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises((CorruptFileError, EmptyDocumentError)):
        load_document(pdf, MB)
    with pytest.raises(CorruptFileError, match="corrupt DOCX"):
        load_document(docx_file, MB)


def test_empty_oversized_unsupported(tmp_path: Path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(EmptyDocumentError):
        load_document(empty, MB)
    blank = tmp_path / "blank.md"
    blank.write_text("\n\n   \n", encoding="utf-8")
    with pytest.raises(EmptyDocumentError):
        load_document(blank, MB)
    big = tmp_path / "big.txt"
    big.write_text("电" * 2000, encoding="utf-8")
    with pytest.raises(FileTooLargeError, match="oversized"):
        load_document(big, 1000)
    image = tmp_path / "photo.png"
    image.write_bytes(b"\x89PNG")
    with pytest.raises(UnsupportedFormatError, match="unsupported format '.png'"):
        load_document(image, MB)


def test_sidecar_metadata_and_folder_audience(tmp_path: Path):
    folder = tmp_path / "internal"
    folder.mkdir()
    path = folder / "rule.txt"
    path.write_text("第一条 工单应在 24 小时内联系客户。", encoding="utf-8")
    assert load_document(path, MB).meta.audience is Audience.INTERNAL
    (folder / "rule.txt.meta.yaml").write_text("title: 工单规范\naudience: public\nvalid_from: 2025-01-01\n", encoding="utf-8")
    doc = load_document(path, MB)
    assert doc.title == "工单规范" and doc.meta.audience is Audience.PUBLIC and doc.meta.valid_from == "2025-01-01"
    (folder / "rule.txt.meta.yaml").write_text("valid_to: 2025-13-45\n", encoding="utf-8")
    with pytest.raises(SourceError, match="invalid metadata"):
        load_document(path, MB)


@pytest.mark.parametrize("suffix", [".docx", ".xlsx"])
def test_a_damaged_office_file_is_a_corrupt_file_wherever_the_damage_is(tmp_path: Path, suffix):
    """A damaged deflate stream or XML part used to escape as zlib.error / ParseError (issue 14)."""
    original = next((Path(__file__).parents[2] / "corpus").rglob(f"*{suffix}")).read_bytes()
    path = tmp_path / f"damaged{suffix}"
    for offset in range(40, len(original), len(original) // 150):
        path.write_bytes(original[:offset] + b"\xa5" * 16 + original[offset + 16 :])
        try:
            load_document(path, MB)
        except SourceError:
            pass


def test_a_csv_with_a_bare_carriage_return_loads(tmp_path: Path):
    path = tmp_path / "mac.csv"
    path.write_bytes("问题,答案\r电费怎么交,网上营业厅\r".encode())
    doc = load_document(path, MB)
    assert [f.question for f in doc.faqs] == ["电费怎么交"]
