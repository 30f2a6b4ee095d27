"""A document that quotes a customer (a case file, a complaint record) reaches no index with their numbers."""

from gridkb.production.documents import load_document

CASE_FILE = """---
title: 投诉处理案例 客户13812345678
audience: internal
---
# 投诉处理案例

客户（电话 138-1234-5678，身份证 44010419900101123X）反映户号 3100123456 的电费异常，
退费至银行卡 6222 0212 3456 7890 123，已回访 +86 139 1234 5678。

执行居民阶梯电价，2025-01-01 起第一档 0.59 元/千瓦时，每月 400 千瓦时以内；服务热线 95598。
"""
PLANTED = ("13812345678", "138-1234-5678", "44010419900101123X", "3100123456", "6222 0212 3456 7890 123", "139 1234 5678")


def test_customers_numbers_in_a_document_are_masked_at_ingestion(tmp_path):
    path = tmp_path / "案例.md"
    path.write_text(CASE_FILE, encoding="utf-8")
    document = load_document(path, max_bytes=1_000_000)
    stored = "\n".join([document.title, document.text, document.original_text, *(b.text for b in document.blocks)])
    for planted in PLANTED:
        assert planted not in stored, planted
    assert "138-****-5678" in document.text and "户号 31******56" in document.text
    assert "2025-01-01" in document.text and "0.59 元/千瓦时" in document.text and "400 千瓦时" in document.text and "95598" in document.text
