"""Battery item 3: internal knowledge stays internal.

Every internal chunk's distinctive sentences are asked through the customer widget's channels on a
real server: /api/chat, /api/chat/stream and /api/recommend (and /api/search, which the widget key
must not reach). Nothing internal may come back: no internal text, no internal title in the sources,
suggestions or related questions. The knowledge base is the API tests' one (copied, since this check
uploads into it) plus documents uploaded through the API: an internal rulebook with no audience given
(the safe default), a DOCX with a sidecar saying internal, and a public notice as the positive control.
The long part runs the same against the sample knowledge base (kb/build), every sentence.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gridkb.kb import KnowledgeBase
from gridkb.records import Audience, Chunk
from tests.api.conftest import ADMIN_KEY, WIDGET_KEY, LiveServer, serving, web_settings  # noqa: F401 - session fixture
from tests.battery.conftest import long_only
from tests.conftest import ROOT
from tests.helpers import make_docx

GRAM = 10  # characters: a run this long shared with internal text only is internal text
SENTENCE = re.compile(r"[^。！？!?；;\n]+")

RULEBOOK = """# 客服中心坐席质检内部考核细则

## 一、录音抽检
坐席每月抽检录音不少于二十通，质检得分低于八十五分的坐席须参加脱产复训。
同一客户四十八小时内重复来电仍未解决的，计入首问负责差错，扣减当月绩效零点五分。

## 二、结果运用
质检结果由客服中心综合部于每月五日前汇总，报人力资源部作为评优依据。
"""
SPARES_SIDECAR = "title: 配网抢修备品备件内部管理办法\naudience: internal\ndoc_type: 内部制度\nvalid_from: 2025-01-01\n"
SPARES = [
    ("第一条 常备数量", ["抢修班组应常备十千伏跌落式熔断器不少于六组，低压电缆分支箱备件不少于两台。"]),
    ("第二条 领用与盘点", ["备件领用须在生产管理系统登记领用单号，月末由班长盘点签字后归档。",
                        "备品备件库存低于警戒值时，班组长应于二十四小时内提交补库申请。"]),
]
BILLING = "# 居民电费账单寄送说明\n\n纸质电费账单于每月十日前寄出，客户可致电95598改为免费的电子账单推送。\n"
BILLING_QUESTION = "纸质电费账单什么时候寄出"
UPLOADED_INTERNAL = frozenset({"客服中心坐席质检内部考核细则", "配网抢修备品备件内部管理办法"})


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _grams(text: str) -> set[str]:
    text = _compact(text)
    return {text[i : i + GRAM] for i in range(len(text) - GRAM + 1)}


def _internal(chunk: Chunk, meant: frozenset[str]) -> bool:
    """Internal as the knowledge base says, or as the uploader meant (so a wrong default shows as a leak)."""
    return chunk.audience is Audience.INTERNAL or chunk.title_path[0] in meant


@dataclass
class Leaks:
    """What counts as internal: text runs found only in internal chunks, and internal titles."""

    grams: set[str]
    titles: set[str]

    @classmethod
    def of(cls, kb: KnowledgeBase, meant: frozenset[str] = frozenset()) -> "Leaks":
        public = set().union(*(_grams(c.text) for c in kb.chunks if not _internal(c, meant)))
        internal = set().union(*(_grams(c.text) for c in kb.chunks if _internal(c, meant)))
        titles = {c.title_path[0] for c in kb.chunks if _internal(c, meant)}
        public_titles = {c.title_path[0] for c in kb.chunks if not _internal(c, meant)}
        return cls(internal - public, titles - public_titles)

    def find(self, asked: str, served: list[str], titles: list[str]) -> str:
        """The first internal text or title in what was served ('' = none); echoing the asker's own
        words back is not a leak."""
        for title in titles:
            if title in self.titles:
                return f"internal title {title!r}"
        own = _grams(asked)
        for text in served:
            hit = next((g for g in sorted(_grams(text) - own) if g in self.grams), None)
            if hit:
                return f"internal text {hit!r} in {text[:60]!r}"
        return ""


def distinctive_sentences(kb: KnowledgeBase, meant: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """(document title, sentence) for every internal chunk: its sentences not found in public text."""
    public = "\n".join(_compact(c.text) for c in kb.chunks if not _internal(c, meant))
    asked: list[tuple[str, str]] = []
    for chunk in (c for c in kb.chunks if _internal(c, meant)):
        sentences = [s.strip().removeprefix("问：").removeprefix("答：") for s in SENTENCE.findall(chunk.text)]
        asked += [(chunk.title_path[0], s) for s in dict.fromkeys(sentences) if len(_compact(s)) >= 8 and _compact(s) not in public]
    return asked


def served_texts(reply: dict) -> tuple[list[str], list[str]]:
    """(every text a widget shows of a chat reply, the titles of its sources)."""
    sources = reply.get("sources") or []
    texts = [reply.get("answer") or "", *(reply.get("suggestions") or []), *(reply.get("options") or []), *(reply.get("choices") or [])]
    texts += [s.get(k) or "" for s in sources for k in ("title", "section", "snippet")]
    return [t if isinstance(t, str) else json.dumps(t, ensure_ascii=False) for t in texts], [s.get("title") or "" for s in sources]


def stream_reply(widget: httpx.Client, question: str) -> tuple[str, dict]:
    """(the text of the delta events, the reply of the done event) of one streamed answer."""
    deltas, done, event = [], {}, ""
    with widget.stream("POST", "/api/chat/stream", json={"message": question}) as response:
        assert response.status_code == 200, response.status_code
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = json.loads(line.removeprefix("data: "))
                if event == "delta":
                    deltas.append(data["text"])
                elif event == "done":
                    done = data
    return "".join(deltas), done


def ask_everywhere(server: LiveServer, leaks: Leaks, questions: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Failures per widget channel over every question."""
    failures: dict[str, list[str]] = {"chat": [], "stream": [], "recommend": [], "search": []}
    with server.client(WIDGET_KEY) as widget:
        for title, question in questions:
            reply = widget.post("/api/chat", json={"message": question})
            if reply.status_code != 200:
                failures["chat"].append(f"{question}: HTTP {reply.status_code}")
            elif found := leaks.find(question, *served_texts(reply.json())):
                failures["chat"].append(f"{question} ({title}): {found}")
            deltas, done = stream_reply(widget, question)
            texts, titles = served_texts(done)
            if found := leaks.find(question, [deltas, *texts], titles):
                failures["stream"].append(f"{question} ({title}): {found}")
            related = widget.get("/api/recommend", params={"q": question})
            if related.status_code != 200:
                failures["recommend"].append(f"{question}: HTTP {related.status_code}")
            elif found := leaks.find(question, [*related.json()["related"], *related.json()["popular"]], []):
                failures["recommend"].append(f"{question} ({title}): {found}")
            searched = widget.get("/api/search", params={"q": question})
            if searched.status_code != 403:  # the widget key has no business in the staff search
                failures["search"].append(f"{question}: widget key got HTTP {searched.status_code} from /api/search")
    return failures


def record(battery, prefix: str, questions: list, failures: dict[str, list[str]]) -> list[str]:  # type: ignore[no-untyped-def]
    names = {"chat": "/api/chat", "stream": "/api/chat/stream", "recommend": "/api/recommend", "search": "/api/search (widget key)"}
    for channel, name in names.items():
        battery.record(f"internal knowledge{prefix}: {name}", len(questions), failures[channel])
    return [f for found in failures.values() for f in found]


def finished(admin: httpx.Client, job: httpx.Response) -> dict:
    assert job.status_code == 202, job.text
    for _ in range(600):
        state = admin.get(f"/api/documents/{job.json()['id']}").json()
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.2)
    raise AssertionError(f"upload job did not finish: {state}")


@pytest.fixture(scope="module")
def uploaded_server(web_settings, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A copy of the API tests' knowledge base on its own server (this check uploads into it), with an
    internal rulebook uploaded with no audience, an internal DOCX with its sidecar and a public notice."""
    base = tmp_path_factory.mktemp("internal_battery")
    shutil.copytree(web_settings.kb_dir, base / "kb")
    settings = web_settings.model_copy(update={
        "kb_dir": base / "kb", "database_url": f"sqlite:///{base / 'service.sqlite'}", "published_dir": base / "published",
    })
    spares = make_docx(base / "备件管理办法.docx", "配网抢修备品备件内部管理办法", SPARES)
    with serving(settings) as server, server.client(ADMIN_KEY) as admin:
        jobs = [
            finished(admin, admin.post("/api/documents", files={"files": ("坐席质检考核细则.md", RULEBOOK.encode())})),
            finished(admin, admin.post("/api/documents", files=[
                ("files", ("备件管理办法.docx", spares.read_bytes())), ("files", ("备件管理办法.docx.meta.yaml", SPARES_SIDECAR.encode())),
            ])),
            finished(admin, admin.post("/api/documents", files={"files": ("电费账单寄送说明.md", BILLING.encode())}, data={"audience": "public"})),
        ]
        assert [j["status"] for j in jobs] == ["done"] * 3, jobs
        yield server


def test_uploads_carry_their_audience(uploaded_server):
    documents = KnowledgeBase(uploaded_server.settings).manifest.documents
    uploads = uploaded_server.settings.uploads_path.name
    audiences = {key.removeprefix(uploads + "/"): d.audience.value for key, d in documents.items() if key.startswith(uploads + "/")}
    assert audiences == {"坐席质检考核细则.md": "internal", "备件管理办法.docx": "internal", "电费账单寄送说明.md": "public"}
    titles = {d.title for d in documents.values()}
    assert "配网抢修备品备件内部管理办法" in titles  # the sidecar's title, so its other keys were read too


def test_the_leak_detector_sees_internal_text(uploaded_server):
    """The check below can fail: a reply quoting an internal rule, or citing an internal title, is caught."""
    leaks = Leaks.of(KnowledgeBase(uploaded_server.settings), UPLOADED_INTERNAL)
    assert leaks.find("质检怎么考核", ["按规定，坐席每月抽检录音不少于二十通。"], [])
    assert leaks.find("备件", ["请见来源"], ["配网抢修备品备件内部管理办法"])
    assert not leaks.find("坐席每月抽检录音不少于二十通吗", ["您问的是：坐席每月抽检录音不少于二十通吗？暂未找到答案"], [])


def test_public_upload_is_served_to_the_widget(uploaded_server):
    """The positive control: the same channels do serve what is public."""
    with uploaded_server.client(WIDGET_KEY) as widget:
        reply = widget.post("/api/chat", json={"message": BILLING_QUESTION}).json()
    assert "十日" in reply["answer"] and "居民电费账单寄送说明" in [s["title"] for s in reply["sources"]], reply


def test_internal_knowledge_is_never_served_to_the_widget(uploaded_server, battery):
    kb = KnowledgeBase(uploaded_server.settings)
    questions = distinctive_sentences(kb, UPLOADED_INTERNAL)
    assert {t for t, _ in questions} == {"业务中台培训讲义", *UPLOADED_INTERNAL}
    failures = record(battery, "", questions, ask_everywhere(uploaded_server, Leaks.of(kb, UPLOADED_INTERNAL), questions))
    assert not failures, "\n".join(failures)


@long_only
def test_sample_knowledge_base_keeps_internal_knowledge_internal(tmp_path, battery):
    """The sample knowledge base (kb/build, read only): every sentence of every internal chunk."""
    from gridkb.config import Settings

    kb_dir = ROOT / "kb" / "build"
    if not (kb_dir / "CURRENT").exists():
        pytest.skip("the sample knowledge base is not built (make kb)")
    settings = Settings(
        kb_dir=kb_dir, database_url=f"sqlite:///{tmp_path / 'service.sqlite'}", published_dir=tmp_path / "published",
        admin_key=ADMIN_KEY, widget_key=WIDGET_KEY, widget_rate_per_minute=100_000,
    )
    kb = KnowledgeBase(settings)
    questions = distinctive_sentences(kb)
    with serving(settings) as server:
        failures = record(battery, " (sample kb)", questions, ask_everywhere(server, Leaks.of(kb), questions))
    assert not failures, "\n".join(failures[:20])
