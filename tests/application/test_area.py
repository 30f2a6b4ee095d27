"""The service area: places named in a question, and which of them lie outside the utility's area."""

from pathlib import Path

import pytest

from gridkb.application.area import ABROAD, Place, ServiceArea, read_places
from gridkb.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def places() -> list[Place]:
    return read_places(ROOT / "kb" / "places.tsv")


@pytest.fixture(scope="module")
def area() -> ServiceArea:
    return ServiceArea.load(ROOT / "kb")


@pytest.fixture(scope="module")
def words(lexicon):
    return lexicon.tokenizer.cut


@pytest.mark.parametrize(
    "question, named",
    [
        ("广西阶梯电价怎么分档", ["广西壮族自治区"]),
        ("深圳南山区明天停电吗", ["深圳市", "南山区"]),
        ("湘西停电了", ["湘西土家族苗族自治州"]),
        ("内蒙古的峰谷电价", ["内蒙古自治区"]),
        ("国外有没有阶梯电价", ["国外"]),
        ("北京时间几点开始算谷段", []),  # a time zone, not a place
        ("中山路停电了", []),  # a street: 中山 is inside the word 中山路
        ("祝您安康", []),  # an everyday word that is also a city's short name
        ("电费怎么交", []),
    ],
)
def test_places_named(area, words, question, named):
    assert [p.name for p in area.places_named(question, words)] == named


def test_a_served_province_covers_its_cities_and_a_served_city_its_province(places, words):
    province = ServiceArea(places, served=["广东省"])
    assert province.outside("深圳南山区停电了", words) == []
    assert [p.name for p in province.outside("广西和深圳的电价一样吗", words)] == ["广西壮族自治区"]
    city = ServiceArea(places, served=["深圳"])
    assert city.outside("广东电价", words) == []  # the province of a served city concerns this utility
    assert [p.name for p in city.outside("广州停电了", words)] == ["广州市"]


def test_the_served_places_of_the_configuration_file_are_served(tmp_path, words):
    (tmp_path / "service_area.yaml").write_text("served: [广东省]\nabroad: [国外]\n", encoding="utf-8")
    (tmp_path / "places.tsv").write_text("440000\t广东省\t广东\n440300\t深圳市\t深圳\n450000\t广西壮族自治区\t广西\n", encoding="utf-8")
    area = ServiceArea.load(tmp_path)
    assert area.outside("深圳停电了", words) == []
    assert [p.name for p in area.outside("广西和国外的电价", words)] == ["广西壮族自治区", "国外"]


def test_abroad_is_never_served(places, words):
    area = ServiceArea([*places, Place(ABROAD, "国外", ("国外",))], served=["广东省"])
    assert [p.name for p in area.outside("国外电费怎么算", words)] == ["国外"]


def test_an_unknown_served_place_is_a_clear_error(places):
    with pytest.raises(ConfigError, match="示例省"):
        ServiceArea(places, served=["示例省"])


def test_a_broken_gazetteer_is_a_clear_error(tmp_path):
    (tmp_path / "service_area.yaml").write_text("served: []\n", encoding="utf-8")
    (tmp_path / "places.tsv").write_text("440000\t广东省\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="places.tsv line 1"):
        ServiceArea.load(tmp_path)


def test_without_configuration_no_place_is_recognised(tmp_path, words):
    assert ServiceArea.load(tmp_path).places_named("广西电价", words) == []
