"""The knowledge base as a long-running service sees it: the newest generation, re-opened when an
ingest (a published ticket answer, an uploaded document, a rebuild) switches it, in every worker."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from gridkb.application.qa import QuestionAnswerer
from gridkb.application.recommend import Recommender
from gridkb.config import Settings
from gridkb.kb import KnowledgeBase
from gridkb.storage.embedders import QueryVectorCache
from gridkb.storage.layout import KbLayout


@dataclass(frozen=True)
class Serving:
    """One generation with the objects that answer from it (they share its searcher and caches)."""

    generation: str
    kb: KnowledgeBase
    answerer: QuestionAnswerer
    recommender: Recommender


class LiveKnowledgeBase:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._layout = KbLayout(settings.kb_dir)
        self._lock = threading.Lock()
        self._serving: Serving | None = None

    def current(self) -> Serving:
        """The serving objects of the current generation (one small file read when nothing changed)."""
        directory = self._layout.require_current()
        serving = self._serving
        if serving is not None and serving.generation == directory.name:
            return serving
        with self._lock:
            if self._serving is None or self._serving.generation != directory.name:
                kb = KnowledgeBase(self.settings)
                answerer = QuestionAnswerer.from_settings(kb)
                self._serving = Serving(kb.directory.name, kb, answerer, Recommender(kb, answerer.searcher))
            return self._serving

    def forget_queries(self) -> int:
        """Forget every customer question's vector: the in-process memo of the generation in use and the
        host's shared query cache (an erasure request). Returns the shared entries dropped."""
        serving = self._serving
        if serving is not None:
            serving.kb.forget_query_vectors()
        return QueryVectorCache.erase(self._layout.embedding_cache)

    def warm_up(self) -> None:
        """Load the indexes and the models now rather than on the first customer's question."""
        self.current().answerer.warm_up()
