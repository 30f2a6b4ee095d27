import os

import pytest

from gridkb.errors import DecodeError, UnsupportedFormatError
from gridkb.production.encoding import decode_text

SIMPLIFIED = "示例供电局停电告示：计划停电提前7天公告，电费缴纳请通过南网在线APP办理。"
TRADITIONAL = "南方電網公司現代供電服務體系建設，電費繳納請通過網上營業廳辦理。"


@pytest.mark.parametrize(
    "data, expected",
    [
        (SIMPLIFIED.encode("utf-8"), SIMPLIFIED),
        (b"\xef\xbb\xbf" + SIMPLIFIED.encode("utf-8"), SIMPLIFIED),
        (SIMPLIFIED.encode("gbk"), SIMPLIFIED),
        (SIMPLIFIED.encode("gb18030"), SIMPLIFIED),
        (TRADITIONAL.encode("big5"), TRADITIONAL),
    ],
    ids=["utf8", "utf8-bom", "gbk", "gb18030", "big5"],
)
def test_detects_encoding(data, expected):
    assert decode_text(data, "x.txt") == expected


def test_declared_encoding_wins_and_wrong_declaration_is_reported():
    assert decode_text(SIMPLIFIED.encode("gbk"), "x.txt", "gbk") == SIMPLIFIED
    with pytest.raises(DecodeError, match="not valid utf-8"):
        decode_text(SIMPLIFIED.encode("gbk"), "x.txt", "utf-8")


def test_binary_and_garbage_are_refused():
    with pytest.raises(UnsupportedFormatError, match="binary"):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "x.txt")
    garbage = bytes(b for b in os.urandom(4000) if b not in (0,) and b > 0x20)
    with pytest.raises((DecodeError, UnsupportedFormatError)):
        decode_text(b"\xff\xfe\xfa" + garbage, "x.txt")
