"""Knowledge-gap mining and diagnosis.

Unresolved and badly rated questions are clustered by meaning (average-linkage agglomerative
clustering of their query embeddings); each cluster is named by its most typical question (the
medoid), counted, and given a proposed category. Diagnosis tells a knowledge gap (the knowledge
base lacks the answer: it goes to the knowledge operators) from a service problem (a complaint,
a danger, a power cut in progress, a customer's own account: it goes to the agents).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from gridkb.application.guards import AbstainReason
from gridkb.chat.bot import HANDOFF_ONLY
from gridkb.chat.intents import Intent
from gridkb.kb import KnowledgeBase
from gridkb.privacy import mask_personal_data
from gridkb.records import ChatMessage, Feedback, Queue
from gridkb.storage.protocols import ServiceStorage

DISTANCE = 0.07  # average cosine distance within which questions ask the same thing (e5: paraphrases ≥ 0.93, unrelated 0.85–0.91)
MAX_QUESTIONS = 5000  # the newest ones; clustering is quadratic
_SERVICE_INTENTS = {Intent.COMPLAINT.value, Intent.URGENT.value, Intent.HUMAN.value, Intent.OUTAGE.value}
_NOT_A_GAP = {AbstainReason.EMPTY.value, AbstainReason.GIBBERISH.value, AbstainReason.INJECTION.value, AbstainReason.OUT_OF_SCOPE.value,
              AbstainReason.OUTSIDE_AREA.value}


@dataclass(frozen=True)
class Gap:
    question: str  # the most typical question of the cluster
    count: int
    examples: tuple[str, ...]
    category: str  # proposed
    department: str
    queue: Queue
    last_seen: datetime


def diagnose(message: ChatMessage, badly_rated: bool) -> Queue | None:
    """Which queue an unresolved or badly rated bot turn belongs to; None when it is neither
    (small talk, gibberish, injection, another service's question)."""
    if message.reason == HANDOFF_ONLY or message.intent == Intent.CONTACT.value:
        return None  # a bare 转人工 asks nothing; its ticket carries the question that came before
    if message.intent in _SERVICE_INTENTS or message.reason == AbstainReason.ACCOUNT.value:
        return Queue.SERVICE
    if message.reason in _NOT_A_GAP:
        return None
    if message.reason == AbstainReason.UNKNOWN.value or badly_rated:
        return Queue.KNOWLEDGE
    return None


def collect(store: ServiceStorage, since: datetime | None) -> list[tuple[ChatMessage, Queue]]:
    """The bot turns that failed: unresolved, or rated badly by the customer."""
    bad = {f.message_id for f in store.feedback_since(since) if _negative(f)}
    failed = []
    for message in store.messages_since(since):
        if message.role != "bot":
            continue
        badly_rated = message.id in bad
        if message.resolved is False or badly_rated:
            queue = diagnose(message, badly_rated)
            if queue is not None:
                failed.append((message, queue))
    return failed[-MAX_QUESTIONS:]


def _negative(feedback: Feedback) -> bool:
    return feedback.helpful is False or (feedback.rating is not None and feedback.rating <= 2)


def mine_gaps(
    store: ServiceStorage,
    kb: KnowledgeBase,
    since: datetime | None = None,
    distance: float = DISTANCE,
    embed: Callable[[str], np.ndarray] | None = None,
) -> list[Gap]:
    """Clusters of failed questions, biggest first. ``embed``: the query vector of a question (a
    serving searcher's memo, so questions it just searched are not embedded again)."""
    failed = collect(store, since)
    if not failed:
        return []
    questions = [m.question or m.text for m, _ in failed]
    vectors = np.stack([embed(q) for q in questions]) if embed else kb.embedder.embed_queries(questions)
    labels = cluster(vectors, distance)
    gaps = []
    for label in set(labels):
        members = [i for i, lab in enumerate(labels) if lab == label]
        gaps.append(_gap([failed[i] for i in members], vectors[members], kb))
    return sorted(gaps, key=lambda g: (-g.count, g.question))


def cluster(vectors: np.ndarray, distance: float = DISTANCE) -> list[int]:
    if len(vectors) == 1:
        return [0]
    model = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance)
    return [int(x) for x in model.fit_predict(vectors)]


def _gap(members: Sequence[tuple[ChatMessage, Queue]], vectors: np.ndarray, kb: KnowledgeBase) -> Gap:
    similarity = vectors @ vectors.T
    medoid = int(np.argmax(similarity.mean(axis=1)))
    typical = members[medoid][0]
    question = typical.question or typical.text
    queue = Counter(q for _, q in members).most_common(1)[0][0]
    categories = Counter(m.category for m, _ in members if m.category and m.category != "unknown")
    category = categories.most_common(1)[0][0] if categories else kb.classify_question(question).category
    # a gap is about knowledge: no one who reads it needs the customer's number
    examples = tuple(dict.fromkeys(mask_personal_data(m.question or m.text) for m, _ in members))[:5]
    return Gap(mask_personal_data(question), len(members), examples, category, kb.taxonomy.department(category), queue, max(m.created_at for m, _ in members))
