from pathlib import Path

import pytest

from gridkb.errors import ConfigError
from gridkb.organisation.taxonomy import Taxonomy
from tests.conftest import ROOT


def test_real_taxonomy_has_the_fourteen_categories_with_departments():
    taxonomy = Taxonomy.load(ROOT / "kb" / "taxonomy.yaml")
    assert len(taxonomy.codes) == 14 and taxonomy.codes[0] == "billing"
    assert taxonomy.department("outage") == "生产指挥中心"
    assert taxonomy.department("billing.tariff") == "电费核算中心"  # a sub-category routes to its parent's department
    assert all(c.keywords and c.examples for c in taxonomy.categories)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_department_names_the_line(tmp_path):
    path = write(tmp_path, "categories:\n  - code: billing\n    name: 电费\n    department: 核算中心\n  - code: payment\n    name: 缴费\n")
    with pytest.raises(ConfigError, match=r"第 5 行: 类别 'payment' 缺少 department"):
        Taxonomy.load(path)


def test_duplicate_code_bad_keywords_and_bad_yaml(tmp_path):
    dup = "categories:\n  - {code: a, name: A, department: D}\n  - {code: a, name: B, department: D}\n"
    with pytest.raises(ConfigError, match="第 3 行: 类别代码 'a' 重复"):
        Taxonomy.load(write(tmp_path, dup))
    with pytest.raises(ConfigError, match="keywords 应是字符串列表"):
        Taxonomy.load(write(tmp_path, "categories:\n  - {code: a, name: A, department: D, keywords: 电费}\n"))
    with pytest.raises(ConfigError, match="第 3 行: not valid YAML"):
        Taxonomy.load(write(tmp_path, "categories:\n  - code: a\n   name: [\n"))
    with pytest.raises(ConfigError, match="categories"):
        Taxonomy.load(write(tmp_path, "other: 1\n"))
