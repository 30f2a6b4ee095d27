"""The utility's service area: a question about another province's tariff or another city's outage
is not answered from this knowledge base, whose prices, time limits and rules hold only here.

Places are recognised with the gazetteer ``kb/places.tsv`` (China's provinces, cities and counties,
``scripts/build_places.py``) and the words for abroad of ``kb/service_area.yaml``; a name counts only
where it is a word of the question (中山 is not a place in 中山路). A place is outside the area when
it neither lies within nor contains a place the utility serves (``served`` in the same file). The
answer path declines such a question unless the answer it found speaks of that place itself (the
knowledge base's own news about 深圳供电局 still answers a question about 深圳供电局).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from gridkb.errors import ConfigError
from gridkb.production.lexicon import SAFE_LOADER

AREA_FILE = "service_area.yaml"
PLACES_FILE = "places.tsv"
ABROAD = "abroad"  # the code of every foreign place: never served


@dataclass(frozen=True)
class Place:
    code: str  # six-digit adcode (province 440000, city 440300, county 440305), or ABROAD
    name: str  # full name (深圳市)
    forms: tuple[str, ...]  # every way of writing it that is recognised, full name first

    def contains(self, other: "Place") -> bool:
        """``other`` is this place or lies within it (by adcode: 440000 ⊃ 440300 ⊃ 440305)."""
        if ABROAD in (self.code, other.code):
            return self == other
        return other.code.startswith(_prefix(self.code))

    def mentioned_in(self, text: str) -> bool:
        return any(form in text for form in self.forms)


class ServiceArea:
    def __init__(self, places: Iterable[Place], served: Iterable[str] = (), not_places: Iterable[str] = ()) -> None:
        """``served``: names of served places (any of their forms); ``not_places``: phrases that hold
        a place name without naming a place (北京时间)."""
        self._by_form: dict[str, list[Place]] = {}
        for place in places:
            for form in place.forms:
                self._by_form.setdefault(form, []).append(place)
        self._longest = max((len(f) for f in self._by_form), default=0)
        served = list(served)
        unknown = [name for name in served if name not in self._by_form]
        if unknown:
            raise ConfigError(f"served places not in the gazetteer: {unknown} (use names of kb/{PLACES_FILE})")
        self.served = tuple(p for name in served for p in self._by_form[name])
        self.not_places = tuple(not_places)

    @classmethod
    def load(cls, config_dir: Path) -> "ServiceArea":
        """From ``kb/service_area.yaml`` and ``kb/places.tsv``; without them, no place is recognised."""
        path = config_dir / AREA_FILE
        if not path.exists():
            return cls(())
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
            abroad = [Place(ABROAD, str(word), (str(word),)) for word in data.get("abroad") or ()]
            places = read_places(config_dir / PLACES_FILE) if (config_dir / PLACES_FILE).exists() else []
            return cls([*places, *abroad], map(str, data.get("served") or ()), map(str, data.get("not_places") or ()))
        except (OSError, yaml.YAMLError, AttributeError, TypeError, ValueError) as error:
            raise ConfigError(f"{path}: cannot read the service area ({error})") from error

    def places_named(self, text: str, words: Callable[[str], Iterable[str]]) -> list[Place]:
        """The places ``text`` names (of a name several places bear, such as 南山区, the first)."""
        return [same_name[0] for same_name in self._mentions(text, words)]

    def outside(self, text: str, words: Callable[[str], Iterable[str]]) -> list[Place]:
        """The places ``text`` names that lie outside the service area (a name several places bear
        is outside only when none of them is served)."""
        return [same_name[0] for same_name in self._mentions(text, words) if not any(map(self.is_served, same_name))]

    def is_served(self, place: Place) -> bool:
        """Within a served place, or containing one (a question about the whole province concerns a
        utility that serves one of its cities)."""
        return any(s.contains(place) or place.contains(s) for s in self.served)

    def _mentions(self, text: str, words: Callable[[str], Iterable[str]]) -> list[list[Place]]:
        """Every place name of ``text`` (longest first at each position) with the places bearing it;
        ``words`` splits a text into words: a name inside a longer word (中山 in 中山路) is not one."""
        for phrase in self.not_places:
            text = text.replace(phrase, "，" * len(phrase))
        inside_words: set[int] | None = None  # split into words only once a name is found: most questions name none
        found: dict[str, list[Place]] = {}
        start = 0
        while start < len(text):
            for end in range(min(len(text), start + self._longest), start + 1, -1):
                places = self._by_form.get(text[start:end])
                if not places:
                    continue
                if inside_words is None:
                    inside_words = _inside_positions(text, words)
                if start not in inside_words and end not in inside_words:
                    found.setdefault(places[0].name, places)
                    start = end
                    break
            else:
                start += 1
        return list(found.values())


def _prefix(code: str) -> str:
    """The adcode digits a place's subdivisions share: 44 for a province, 4403 for a city."""
    return code[:2] if code[2:] == "0000" else code[:4] if code[4:] == "00" else code


def _inside_positions(text: str, words: Callable[[str], Iterable[str]]) -> set[int]:
    """Character positions that fall strictly inside a word of two characters or more."""
    inside: set[int] = set()
    position = 0
    for word in words(text):
        if len(word) >= 2:
            inside.update(range(position + 1, position + len(word)))
        position += len(word)
    return inside


def read_places(path: Path) -> list[Place]:
    """The gazetteer: ``adcode<TAB>full name<TAB>short forms separated by |`` per line; ``#`` comments."""
    places = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not fields[0].isdigit() or len(fields[0]) != 6:
            raise ValueError(f"{path.name} line {number}: expected 'adcode<TAB>name<TAB>short forms'")
        code, name, short = fields
        places.append(Place(code, name, (name, *(s for s in short.split("|") if s))))
    return places


def outside_message(places: Iterable[Place]) -> str:
    named = "、".join(dict.fromkeys(p.forms[-1] for p in places))
    return (
        f"抱歉，{named}不在本供电营业区内。这里的电价、停电信息和办事规定只适用于本营业区，不能代替当地的规定，"
        f"请咨询当地供电企业或当地的供电服务热线。如果您问的是本营业区内的用电，请告诉我，我再为您解答。"
    )
