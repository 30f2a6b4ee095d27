"""Battery item 5: property-based tests (hypothesis) of the production and analysis functions that see
arbitrary input. For any input each raises only its declared error type (``gridkb.errors``) and
finishes within a generous time bound, measured per example (a slow example is a property failure,
like a wrong exception; this is no timing benchmark).

- loaders (every supported suffix): random bytes, text in the encodings customers' files come in,
  and real sample files truncated or overwritten → only ``SourceError`` (UnsupportedFormatError, DecodeError,
  CorruptFileError, EmptyDocumentError, FileTooLargeError);
- the normaliser and the text sanitiser, the masker, the question analyser: any text → no error at all;
- the chunker: whatever a loader accepted → sections and chunks, no error.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridkb.errors import SourceError
from gridkb.production.chunking import chunk_document
from gridkb.production.documents import load_document
from gridkb.production.loaders import LOADERS
from gridkb.production.normalize import clean_text, normalize_line, normalize_query
from gridkb.production.structure import build_sections
from tests.battery.conftest import trials
from tests.conftest import ROOT

BOUND_SECONDS = 2.0  # per example; generous: a normal one takes milliseconds
SAMPLES = {suffix: next((ROOT / "corpus").rglob(f"*{suffix}")) for suffix in (".pdf", ".docx", ".xlsx", ".csv", ".json", ".html")}
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "gbk", "big5", "utf-16", "utf-16-le", "latin-1", "shift_jis", "cp1252"]
# text that stresses the parsers and the masker's number patterns as well as ordinary Chinese
TRICKY = st.text(alphabet=st.sampled_from(list("0123456789０１２３４５６７８９ -—xX+()（）:：户号电话身份证账号#*|,\"'{}[]<>&;\n\t\r\x00\u200b\ufeff停电费")), max_size=400)
ANY_TEXT = st.one_of(st.text(max_size=2000), TRICKY)


def _document_bytes() -> st.SearchStrategy[tuple[str, bytes]]:
    suffixes = st.sampled_from(sorted(LOADERS))
    raw = st.tuples(suffixes, st.binary(max_size=4096))
    encoded = st.tuples(suffixes, st.tuples(ANY_TEXT, st.sampled_from(ENCODINGS)).map(lambda te: te[0].encode(te[1], errors="ignore")))
    corrupted = st.tuples(st.sampled_from(sorted(SAMPLES)), st.data()).map(lambda sd: (sd[0], _corrupt(SAMPLES[sd[0]].read_bytes(), sd[1])))
    return st.one_of(raw, encoded, corrupted)


def _corrupt(data: bytes, draw: Any) -> bytes:
    """A real file truncated, or with a run of its bytes overwritten."""
    cut = draw.draw(st.integers(0, len(data)))
    if draw.draw(st.booleans()):
        return data[:cut]
    patch = draw.draw(st.binary(min_size=1, max_size=64))
    return data[:cut] + patch + data[cut + len(patch):]


class Probe:
    """Runs one example: records a failure when it raises anything but ``allowed`` or exceeds the bound."""

    def __init__(self, allowed: tuple[type[BaseException], ...] = ()) -> None:
        self.allowed = allowed
        self.trials = 0
        self.failures: list[str] = []

    def __call__(self, label: str, function: Callable[[], Any]) -> Any:
        self.trials += 1
        start = time.perf_counter()
        result = None
        try:
            result = function()
        except self.allowed:
            pass
        except Exception as error:  # noqa: BLE001 - an undeclared error is the finding
            self.failures.append(f"{label}: {type(error).__name__}: {str(error)[:120]}")
        elapsed = time.perf_counter() - start
        if elapsed > BOUND_SECONDS:
            self.failures.append(f"{label}: took {elapsed:.1f} s (bound {BOUND_SECONDS:g} s)")
        return result


def _explore(strategy: st.SearchStrategy[Any], examples: int, body: Callable[[Any], None]) -> None:
    @given(strategy)
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def run(value: Any) -> None:
        body(value)

    run()


def test_loaders_and_chunker_raise_only_source_errors(battery):
    loading, chunking = Probe(allowed=(SourceError,)), Probe()
    with tempfile.TemporaryDirectory() as folder:

        def one(example: tuple[str, bytes]) -> None:
            suffix, data = example
            path = Path(folder) / f"样本{suffix}"
            path.write_bytes(data)
            document = loading(f"load {suffix} ({len(data)} bytes: {data[:24]!r})", lambda: load_document(path, 10 * 1024 * 1024))
            if document is not None:
                chunking(f"chunk {suffix}", lambda: chunk_document(document, build_sections(document.id, document.title, document.blocks), 60, 420))

        _explore(_document_bytes(), trials(60, 1500), one)
    assert loading.trials >= trials(60, 1500) // 2 and chunking.trials > 0  # the chunker saw documents that loaded
    battery.record("properties: loaders, any bytes × every suffix → only SourceError, ≤ 2 s", loading.trials, loading.failures)
    battery.record("properties: chunker, every loaded document → chunks, ≤ 2 s", chunking.trials, chunking.failures)
    assert not loading.failures + chunking.failures, "\n".join(loading.failures + chunking.failures)


@pytest.mark.parametrize("name", ["normaliser", "masker", "question analyser"])
def test_text_functions_never_raise(name, battery, lexicon):
    from gridkb.application.analysis import QuestionAnalyser
    from gridkb.privacy import mask_personal_data

    functions: dict[str, list[Callable[[str], Any]]] = {
        "normaliser": [normalize_line, normalize_query, clean_text],
        "masker": [mask_personal_data],
        "question analyser": [QuestionAnalyser.load(ROOT / "kb", lexicon).analyse],
    }
    for function in functions[name]:
        function("电费怎么交")  # the bound is for the input, not for loading dictionaries on first use
    probe = Probe()

    def one(text: str) -> None:
        for function in functions[name]:
            probe(f"{function.__qualname__}({text[:40]!r})", lambda: function(text))

    _explore(ANY_TEXT, trials(100, 3000), one)
    battery.record(f"properties: {name}, any text → no error, ≤ 2 s", probe.trials, probe.failures)
    assert not probe.failures, "\n".join(probe.failures)
