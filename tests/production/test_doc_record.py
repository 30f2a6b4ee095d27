"""A parsed file's record as stored: the format every generation's records/ holds."""

from __future__ import annotations

import orjson
import pytest

from gridkb.config import Settings
from gridkb.production.parse_tasks import DocRecord, ParseLimits, derive_record
from tests.conftest import ROOT


@pytest.mark.parametrize("name", ["public/业扩报装FAQ.json", "internal/高压用户暂停与减容管理规定.pdf", "internal/客户服务中心工单处理内部规范.docx"])
def test_a_record_is_stored_as_its_parts_dicts_and_reads_back_equal(lexicon, name):
    record = derive_record(ROOT / "corpus" / name, ParseLimits.of(Settings()), lexicon, name)
    assert record.chunks and record.document.blocks
    parts = {
        "document": record.document.to_dict(),
        "chunks": [c.to_dict() for c in record.chunks],
        "terms": [t.to_dict() for t in record.terms],
        "entities": [e.to_dict() for e in record.entities],
        "relations": [r.to_dict() for r in record.relations],
    }
    assert record.to_json() == orjson.dumps(parts)  # generations written before keep reading, and the other way round
    assert DocRecord.from_json(record.to_json()) == record
