"""gridkb search as a LangChain retriever, so LangChain users can drop it into their own chains."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from gridkb.application.search import Searcher
from gridkb.records import Audience


class GridkbRetriever(BaseRetriever):
    """Hybrid search results as LangChain ``Document``s with their source, section, category and scores."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: Searcher
    k: int = 5
    audience: Audience = Audience.PUBLIC
    category: str | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.searcher.search(query, k=self.k, category=self.category, audience=self.audience)
        return [
            Document(
                page_content=hit.chunk.text,
                metadata={
                    "chunk_id": hit.chunk.id,
                    "source": hit.chunk.source,
                    "title": hit.chunk.title_path[0],
                    "section": hit.chunk.section,
                    "category": hit.chunk.category,
                    "audience": hit.chunk.audience.value,
                    "score": hit.score,
                    "also_in": list(hit.also_in),
                },
            )
            for hit in hits
        ]

    def __repr__(self) -> str:
        return f"GridkbRetriever(k={self.k}, audience={self.audience.value}, category={self.category})"


def as_retriever(searcher: Searcher, **kwargs: Any) -> GridkbRetriever:
    return GridkbRetriever(searcher=searcher, **kwargs)
