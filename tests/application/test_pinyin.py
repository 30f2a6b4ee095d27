"""The pinyin shortcut: pypinyin is asked only when some reading of a word could spell a vocabulary
word, with the same outcome as asking it every time; the table is kept between processes."""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile

import pytest
from pypinyin import Style, lazy_pinyin, pinyin

import gridkb.application.pinyin as module
from gridkb.application.pinyin import PinyinResolver, readings

VOCABULARY = [("用电", 10), ("充电桩", 5), ("多久", 5), ("临时", 5), ("银行", 4), ("重新", 3), ("还款", 3), ("电费", 9), ("抢修", 6), ("怎么办", 2)]


@pytest.fixture(autouse=True)
def own_temp_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def test_every_characters_readings_are_pypinyins():
    chars = [chr(c) for c in range(0x4E00, 0x9FA6, 7)]  # a spread over the common block
    for char in chars:
        expected = tuple(dict.fromkeys(pinyin(char, style=Style.NORMAL, heteronym=True)[0]))
        if expected == (char,):  # pypinyin has no reading for it and returns it as it is
            assert readings(char) == (), char
            continue
        assert readings(char) == expected, char
        assert readings(char)[0] == lazy_pinyin(char)[0], char


def test_the_shortcut_never_changes_what_pypinyin_would_say():
    resolver = PinyinResolver(lambda: VOCABULARY)
    rng = random.Random(5)
    common = "电费用店充庄多九临时银航重新还款抢枪修怎么办半交缴纳到能的是行长期"
    words = [w for w, _ in VOCABULARY] + ["用店", "充电庄", "多九", "银航", "枪修", "怎么半", "怎么交", "电非", "店费"]
    words += ["".join(rng.choice(common) for _ in range(rng.randint(2, 4))) for _ in range(400)]
    table = resolver._table
    for word in words:
        asked = table.get("".join(lazy_pinyin(word)))
        assert resolver._sounds_like(word) == (asked if asked and asked != word else None), word


def test_most_questions_need_no_pypinyin_at_all(tmp_path):
    code = (
        "import sys\nfrom gridkb.application.pinyin import PinyinResolver\n"
        f"r = PinyinResolver(lambda: {VOCABULARY!r})\n"
        "first = r.correct(['电费', '怎么', '交'], lambda w: w in {'电费', '怎么'})\n"
        "print(first, 'pypinyin' in sys.modules)\n"
    )
    env = {"TMPDIR": str(tmp_path), "PATH": ""}
    run = lambda: subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.split()  # noqa: E731
    assert run() == ["电费怎么交", "True"]  # the first process builds the table with pypinyin and keeps it
    assert run() == ["电费怎么交", "False"]  # the next reads it, and 怎么交 sounds like nothing in it
    assert len(list(tmp_path.glob("gridkb-pinyin-*.marshal"))) == 1


def test_a_typo_is_still_corrected_from_the_kept_table():
    PinyinResolver(lambda: VOCABULARY).warm_up()  # writes the table
    resolver = PinyinResolver(lambda: VOCABULARY)
    assert resolver.correct(["临时", "用店"], {"临时"}.__contains__) == "临时用电"
    assert resolver.convert("yinhang chongxin") == "银行重新"  # typed pinyin reads phrases right (行 hang, 重 chong)


def test_lone_syllables_between_converted_words_become_the_questions_actions_and_particles():
    resolver = PinyinResolver(lambda: [*VOCABULARY, ("怎么", 5), ("补贴", 3)], lambda: ["交", "缴", "算", "了", "有", "吗"])
    assert resolver.convert("dianfei zenme jiao") == "电费怎么交"  # jiao: the first of its readers, 交
    assert resolver.convert("butie you ma") == "补贴有吗"  # two syllables left over, each one character
    assert resolver.convert("dianfei zenme xyz") == "电费怎么xyz"  # letters that are no syllable stay
    assert resolver.convert("wifi password") == "wifi password"  # not pinyin: nothing is read into it
    assert PinyinResolver(lambda: VOCABULARY).convert("dianfei jiao") == "电费jiao"  # no syllables given
