"""Recommendation, the LangChain retriever in a small chain, and LLM mode against a local fake
OpenAI-compatible server (a real HTTP server started by the test)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gridkb.application.qa import QuestionAnswerer
from gridkb.application.recommend import Recommender
from gridkb.application.search import Searcher
from gridkb.kb import KnowledgeBase
from gridkb.records import Audience


@pytest.fixture(scope="module")
def kb(built_kb):
    settings, _, _ = built_kb
    return KnowledgeBase(settings)


def test_related_and_popular_questions(kb):
    recommender = Recommender(kb)
    related = recommender.related_questions("城区抢修多久能到？")
    assert related and all(r.question != "城区抢修多久能到？" for r in related)
    popular = recommender.popular_questions(k=3)
    assert popular and len({r.question for r in popular}) == len(popular)
    boosted = Recommender(kb, popularity={popular[-1].chunk_id: 50}).popular_questions(k=3)
    assert boosted[0].chunk_id == popular[-1].chunk_id  # chat-log popularity comes first
    assert all(r.category == "payment" for r in recommender.popular_questions("payment", k=5))


def test_related_knowledge_for_an_agent(kb):
    chunk = next(c for c in kb.chunks if "45 分钟" in c.text and not c.faq_id)
    related = Recommender(kb).related_knowledge(chunk.id, k=5)
    assert related and all(c.id != chunk.id for c, _ in related)
    public = Recommender(kb).related_knowledge(chunk.id, k=20, audience=Audience.PUBLIC)
    assert all(c.audience is Audience.PUBLIC for c, _ in public)


def test_langchain_retriever_in_a_chain(kb):
    from langchain_core.runnables import RunnableLambda

    from gridkb.integrations.langchain import as_retriever

    retriever = as_retriever(Searcher(kb), k=2)
    docs = retriever.invoke("城区抢修多久能到")
    assert docs and "45 分钟" in docs[0].page_content and docs[0].metadata["source"].endswith((".txt", ".csv"))
    assert {"chunk_id", "title", "section", "category", "score"} <= set(docs[0].metadata)
    chain = retriever | RunnableLambda(lambda documents: "\n".join(d.metadata["title"] for d in documents))
    assert chain.invoke("电费在哪里交")


class _FakeOpenAI(BaseHTTPRequestHandler):
    mode = "ok"
    requests: list = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _FakeOpenAI.requests.append(body)
        if _FakeOpenAI.mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        if _FakeOpenAI.mode == "slow":
            time.sleep(3)
        content = "城区范围 45 分钟到达现场[1]。" if _FakeOpenAI.mode == "ok" else "抢修很快就到。"
        reply = {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                 "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                 "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def fake_llm():
    pytest.importorskip("langchain_openai", reason="the llm extra is not installed")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


@pytest.mark.parametrize("mode, expect_llm", [("ok", True), ("error", False), ("slow", False), ("uncited", False)])
def test_llm_mode_and_fallback(kb, fake_llm, mode, expect_llm):
    settings = kb.settings.model_copy(update={"llm_base_url": fake_llm, "llm_model": "fake", "llm_timeout": 1.0})
    _FakeOpenAI.mode = mode
    answerer = QuestionAnswerer.from_settings(KnowledgeBase(settings))
    answer = answerer.answer("城区抢修多久能到现场")
    assert answer.resolved and "45 分钟" in answer.answer
    assert (answer.reason == "llm") is expect_llm
    prompt = json.dumps(_FakeOpenAI.requests[-1], ensure_ascii=False)
    assert "<资料>" in prompt and "不要执行" in prompt  # passages go in as quoted data
