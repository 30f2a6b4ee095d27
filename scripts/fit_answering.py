"""Fit the answer path's two models on the dev splits, and choose its threshold.

    python scripts/fit_answering.py [--kb kb/build] [--folds 5] [--target-wrong 0.04] [--dry-run [--repeats 5]]
        [--internal-abstention 0.90] [--internal-right 0.92] [--internal-false-abstention 0.05]

1. The reranker: LightGBM lambdarank over the candidate features; a candidate is relevant when
   its answer holds every key phrase of the question. Questions: the dev splits of the domain set
   and the real-phrasing set, and the shared real customer phrasings (development only). Each is
   retrieved and described with the category of a classifier fitted without its fold: the
   knowledge base's classifier learnt from these very questions, and would be surer of them than of
   a new one (a model fitted on in-sample categories answered 0.367 of the customer test questions
   right, against 0.408 with held-out ones).
2. The confidence model: the reranker is refitted fold by fold, so that every dev question is
   ranked by a model that never saw it (as a new question will be); a logistic regression over the
   decision features of those out-of-fold answers predicts "right", and Platt scaling fitted on its
   own out-of-fold scores calibrates it. Unanswerable dev questions are the negatives the
   model must learn to decline.
3. The threshold: the lowest confidence at which, on the out-of-fold dev answers to the questions
   customers type (the real-phrasing sets), at most ``--target-wrong`` of them get a confidently
   wrong answer (resolved but not right), both as the questions were collected and with the
   answerable and unanswerable ones weighted to their shares in real customer traffic (the shared
   real phrasings, collected from the public): the budget holds whatever the mix. Then the clarification floor: the lowest option score at
   which at most ``--max-clarified`` of those questions get a clarifying question. Then the staff's
   threshold (internal audience): the one that meets the staff targets on the staff dev questions
   with the most room (``--internal-abstention`` of the unanswerable ones declined,
   ``--internal-right`` of the answerable ones right, at most ``--internal-false-abstention`` of
   them declined).

Writes ``kb/reranker.txt`` and ``kb/answer_confidence.yaml`` and prints the cross-validated figures,
with the reliability table. Test splits are never read.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm
import numpy as np
import orjson
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

from gridkb.application.candidates import FEATURES, Candidate, feature_matrix
from gridkb.application.decide import CONFIDENCE_FILE, DECISION_FEATURES, ConfidenceModel, clarification_options
from gridkb.application.guards import check
from gridkb.application.qa import AnswerTrace, QuestionAnswerer
from gridkb.application.rerank import RERANKER_FILE, Reranker, TreeEnsemble
from gridkb.config import Settings
from gridkb.evaluation import datasets as ds
from gridkb.evaluation.calibration import expected_calibration_error, format_reliability, reliability_table
from gridkb.kb import KnowledgeBase
from gridkb.organisation.classify import CategoryClassifier, TrainingExample
from gridkb.organisation.organise import labelled_dev_questions, training_examples
from gridkb.privacy import without_personal_data
from gridkb.records import Audience, Document
from gridkb.storage.embedders import CachedEmbedder, EmbeddingCache
from gridkb.storage.generation import GenerationFile

ROOT = Path(__file__).resolve().parent.parent
SHARED_REAL = ROOT.parent / "shared" / "eval-data" / "real-queries" / "dev.jsonl"
# monotone in the direction that means "answers better" (1), "worse" (-1), or free (0)
MONOTONE = {
    "fused": 1, "fused_rank": -1, "dense": 1, "wording_dense": 1, "bm25_share": 1, "subject_recall": 1, "subject_recall_text": 1,
    "subject_precision": 1, "extra_subject_words": -1, "char_overlap": 1, "wording_overlap": 1, "kind_primary_match": 1, "kind_overlap": 1,
    "kind_evidence": 1, "customer_agreement": 1, "action_agreement": 1, "category_match": 1,
}
RANKER_PARAMS = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [1, 3],
    "learning_rate": 0.05,
    "num_leaves": 7,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "monotone_constraints": [MONOTONE.get(name, 0) for name in FEATURES],
    "monotone_constraints_method": "advanced",
    "verbosity": -1,
    "num_threads": 2,
    "seed": 7,
}
ROUNDS = 300
CUSTOMER_SETS = ("real phrasing", "shared real")  # questions as customers type them
STAFF_SETS = ("domain", "unanswerable")  # questions as staff ask them (internal audience)
REGULARISATION_C = 0.1  # of the confidence regression (5-fold cross-validated log-loss on dev)


@dataclass
class DevQuestion:
    id: str
    text: str
    groups: list[list[str]] | None  # key phrases; None: the knowledge base must decline
    audience: Audience
    source: str  # which dev set it comes from
    trace: AnswerTrace | None = None  # None: refused before retrieval (guards, out of scope)
    labels: list[int] = field(default_factory=list)
    outside_area: bool = False  # declined because it asks about another utility's area

    @property
    def refused(self) -> bool:
        """Declined by a rule rather than by the confidence model."""
        return self.trace is None or self.outside_area

    def right(self, text: str) -> bool:
        return self.groups is not None and ds.key_phrases_found(text, self.groups)


def dev_questions(datasets: Path) -> list[DevQuestion]:
    questions = [DevQuestion(q.id, q.question, q.key_phrases, Audience.INTERNAL, "domain") for q in ds.load_domain(datasets / "domain_qa.jsonl", "dev")]
    questions += [DevQuestion(q.id, q.question, None, Audience.INTERNAL, "unanswerable") for q in ds.load_unanswerable(datasets / "unanswerable.jsonl", "dev")]
    real = [(q, "real phrasing") for q in ds.load_real(datasets / "real_phrasing.jsonl", "dev")]
    if SHARED_REAL.exists():
        real += [(q, "shared real") for q in ds.load_real(SHARED_REAL, "dev")]
    questions += [DevQuestion(q.id, q.q, None if q.unanswerable else q.must, Audience.PUBLIC, source) for q, source in real]
    return questions


def classifier_base(kb: KnowledgeBase) -> tuple[list[TrainingExample], CachedEmbedder]:
    """The category classifier's examples other than the labelled dev questions (FAQ questions and
    paraphrases, taxonomy examples, FAQ chunks), as the build made them, and the embedder to add more."""
    records = sorted(kb.generation.path(GenerationFile.RECORDS).glob("*.json"))
    documents = [Document.from_dict(orjson.loads(p.read_bytes())["document"]) for p in records]
    embedder = CachedEmbedder(kb.embedder, EmbeddingCache(kb.layout.embedding_cache))
    vectors = embedder.embed_passages([c.index_text for c in kb.chunks])  # from the cache of the build
    return training_examples(documents, kb.chunks, vectors, kb.taxonomy, embedder, None), embedder


def held_out_classifiers(kb: KnowledgeBase, folds: int) -> list[CategoryClassifier]:
    """Category classifiers each fitted without one fold of the labelled dev questions: the classifier
    of the knowledge base learnt from every one of them, so a dev question's category (reranker
    features) would be surer than a new question's."""
    base, embedder = classifier_base(kb)
    labelled = labelled_dev_questions(kb.settings.classifier_training)
    labelled_vectors = embedder.embed_queries([text for text, _ in labelled])
    examples = [(fold_of(text, folds), TrainingExample(v, category, text)) for v, (text, category) in zip(labelled_vectors, labelled)]
    return [CategoryClassifier.train(kb.taxonomy, base + [e for f, e in examples if f != fold]) for fold in range(folds)]


def gather(answerer: QuestionAnswerer, questions: list[DevQuestion], classifiers: list[CategoryClassifier] | None = None) -> None:
    """Candidates and their relevance labels for every question that reaches retrieval (classified,
    with ``classifiers``, by the one that did not learn from it)."""
    for question in questions:
        if check(question.text):
            continue
        if classifiers:
            answerer.kb.classifier = classifiers[fold_of(question.text, len(classifiers))]  # in place of the cached one
        query = answerer.searcher.prepare(without_personal_data(question.text))  # as QuestionAnswerer.trace does
        if not answerer.in_domain(query):
            continue
        trace = AnswerTrace(question.text)
        answerer.gather(trace, query, question.audience)
        if trace.candidates:
            question.trace = trace
            question.labels = [int(question.right(c.answer)) for c in trace.candidates]


def fold_of(question_id: str, folds: int, salt: str = "") -> int:
    """The fold of a question; another ``salt`` deals the questions into other folds."""
    return int(hashlib.sha1((salt + question_id).encode()).hexdigest(), 16) % folds


def fit_ranker(questions: list[DevQuestion]) -> lightgbm.Booster:
    usable = [q for q in questions if q.trace is not None and any(q.labels)]
    matrix = np.vstack([feature_matrix(q.trace.candidates) for q in usable])  # type: ignore[union-attr]
    labels = np.concatenate([q.labels for q in usable])
    data = lightgbm.Dataset(matrix, labels, group=[len(q.labels) for q in usable], feature_name=list(FEATURES), free_raw_data=False)
    return lightgbm.train(RANKER_PARAMS, data, num_boost_round=ROUNDS)


@dataclass
class Outcome:
    question: DevQuestion
    features: dict[str, float]
    right: bool
    top_score: float


def out_of_fold_outcomes(answerer: QuestionAnswerer, questions: list[DevQuestion], folds: int, salt: str = "") -> list[Outcome]:
    """Each question answered through a reranker fitted without its fold (none for the questions the
    service-area rule declines: they are marked ``outside_area``)."""
    outcomes = []
    for fold in range(folds):
        ranker = Reranker(TreeEnsemble(fit_ranker([q for q in questions if fold_of(q.id, folds, salt) != fold]).model_to_string()))
        for question in (q for q in questions if q.trace is not None and fold_of(q.id, folds, salt) == fold):
            trace = question.trace
            assert trace is not None
            trace.ranked = ranker.run(trace.candidates)
            if answerer.outside_area(trace):
                question.outside_area = True
                continue
            answerer.assess(trace)
            assert trace.composed is not None
            outcomes.append(Outcome(question, dict(trace.features), question.right(trace.composed.text), trace.ranked[0].score))
    return outcomes


def fit_confidence(
    outcomes: list[Outcome], folds: int, target_wrong: float, max_clarified: float, refused_customers: list[DevQuestion], answerable_share: float
) -> tuple[ConfidenceModel, np.ndarray]:
    matrix = np.array([[o.features[n] for n in DECISION_FEATURES] for o in outcomes])
    labels = np.array([o.right for o in outcomes])
    mean, scale = matrix.mean(axis=0), matrix.std(axis=0)
    scale[scale == 0] = 1.0
    standard = (matrix - mean) / scale
    regression = LogisticRegression(C=REGULARISATION_C, max_iter=2000)
    scores = cross_val_predict(regression, standard, labels, cv=folds, method="decision_function")
    platt = LogisticRegression(C=1e6, max_iter=2000).fit(scores.reshape(-1, 1), labels)  # fitted on held-out scores only
    calibrated = platt.predict_proba(scores.reshape(-1, 1))[:, 1]
    regression.fit(standard, labels)
    # the threshold and the floor are chosen on the questions customers type, which the widget meets,
    # both as collected (more than half of them unanswerable, as in the evaluation sets) and weighted
    # so that answerable ones weigh as much as in real customer traffic: the budget of confidently
    # wrong answers must hold whatever the share of questions the knowledge base cannot answer, for
    # those are answered wrongly more often
    customers = np.array([o.question.source in CUSTOMER_SETS for o in outcomes])
    asked = [o for o, c in zip(outcomes, customers) if c]
    answerable = [o.question.groups is not None for o in asked] + [q.groups is not None for q in refused_customers]
    mixes = [np.ones(len(answerable)), mix_weights(answerable, answerable_share)]
    threshold = choose_threshold(calibrated[customers], labels[customers], mixes, target_wrong)
    floor = choose_floor(asked, calibrated[customers] < threshold, max_clarified * (len(asked) + len(refused_customers)))
    model = ConfidenceModel(
        tuple(map(float, mean)), tuple(map(float, scale)), tuple(map(float, regression.coef_[0])), float(regression.intercept_[0]),
        float(platt.coef_[0][0]), float(platt.intercept_[0]), threshold, floor,
    )
    return model, calibrated


def choose_floor(outcomes: list[Outcome], unsure: np.ndarray, most: float) -> float:
    """The lowest option score at which at most ``most`` of the questions the bot is unsure of get
    a clarifying question (offering options nobody meant wastes the customer's time)."""
    scores = sorted({r.score for o in outcomes for r in o.question.trace.ranked[:6]})  # type: ignore[union-attr]
    for floor in scores:
        asked = sum(1 for o, u in zip(outcomes, unsure) if u and clarification_options(o.question.trace.ranked, floor))  # type: ignore[union-attr]
        if asked <= most:
            return float(floor)
    return float("inf")


def mix_weights(answerable: list[bool], share: float) -> np.ndarray:
    """Question weights that make answerable questions ``share`` of the total weight."""
    flags = np.array(answerable)
    if flags.all() or not flags.any():
        return np.ones(len(flags))
    return np.where(flags, share / flags.mean(), (1 - share) / (1 - flags.mean()))


def choose_threshold(confidences: np.ndarray, right: np.ndarray, mixes: list[np.ndarray], target_wrong: float) -> float:
    """The lowest threshold at which confidently wrong answers weigh at most ``target_wrong`` of all
    the questions in every mix of them (each of ``mixes`` weighs the answered questions first, then
    those refused before retrieval)."""
    for threshold in np.unique(np.concatenate([[0.0], confidences])):
        wrong = (confidences >= threshold) & ~right
        if all(np.sum(weights[: len(confidences)][wrong]) <= target_wrong * weights.sum() for weights in mixes):
            return float(threshold)
    return 1.0


@dataclass(frozen=True)
class StaffTargets:
    """What staff questions must reach (the issue's domain targets): shares of the unanswerable ones
    declined, of the answerable ones answered right, and of the answerable ones declined."""

    declined: float = 0.90
    right: float = 0.92
    false_abstention: float = 0.05


def choose_internal_threshold(
    outcomes: list[Outcome], calibrated: np.ndarray, refused: list[DevQuestion], targets: StaffTargets, ceiling: float
) -> float:
    """The staff's threshold (internal audience): the one that meets the three ``targets`` with the
    most room, i.e. whose smallest margin over a target is largest (the targets pull apart: a higher
    threshold declines more of the unanswerable questions and more of the answerable ones, so a
    threshold that meets one target only just misses another on new questions half the time).
    Questions refused before retrieval count as declined; the lowest of equals, and never above the
    customers' ``ceiling``."""
    staff = np.array([o.question.source in STAFF_SETS for o in outcomes])
    answerable = np.array([o.question.groups is not None for o in outcomes])
    right = np.array([o.right for o in outcomes])
    refused_unanswerable = sum(1 for q in refused if q.source in STAFF_SETS and q.groups is None)
    refused_answerable = sum(1 for q in refused if q.source in STAFF_SETS and q.groups is not None)
    n_unanswerable = int((staff & ~answerable).sum()) + refused_unanswerable
    n_answerable = int((staff & answerable).sum()) + refused_answerable
    if not n_unanswerable or not n_answerable:
        return ceiling
    best, best_room = ceiling, -math.inf
    for threshold in np.unique(np.concatenate([[0.0], calibrated[staff], [ceiling]])):
        if threshold > ceiling:
            break
        declined = (refused_unanswerable + np.sum(staff & ~answerable & (calibrated < threshold))) / n_unanswerable
        answered_right = np.sum(staff & answerable & right & (calibrated >= threshold)) / n_answerable
        false_abstention = (refused_answerable + np.sum(staff & answerable & (calibrated < threshold))) / n_answerable
        room = min(declined - targets.declined, answered_right - targets.right, targets.false_abstention - false_abstention)
        if room > best_room + 1e-12:
            best, best_room = float(threshold), room
    return best


def tradeoff_area(confidences: np.ndarray, right: np.ndarray, answerable: int, total: int, most_wrong: float = 0.08) -> float:
    """The mean share of right answers (of ``answerable``) over every confidently-wrong share (of
    ``total``) from 0 to ``most_wrong``, as the threshold falls: a yardstick for a change to the
    answer path that does not hang on where one threshold happens to land."""
    order = np.argsort(-confidences)
    right_share = np.concatenate([[0.0], np.cumsum(right[order]) / answerable])
    wrong_share = np.concatenate([[0.0], np.cumsum(~right[order]) / total])
    grid = np.linspace(0.0, most_wrong, 81)
    reached = np.searchsorted(wrong_share, grid, side="right") - 1  # the last point within each wrong share
    return float(right_share[reached].mean())


def report_staff(outcomes: list[Outcome], calibrated: np.ndarray, refused: list[DevQuestion], threshold: float) -> None:
    """What staff meet at their threshold: the domain questions right and declined, the unanswerable declined."""
    resolved = calibrated >= threshold
    domain = np.array([o.question.source == "domain" for o in outcomes])
    right = np.array([o.right for o in outcomes])
    unanswerable = np.array([o.question.source == "unanswerable" for o in outcomes])
    n_domain = int(domain.sum()) + sum(1 for q in refused if q.source == "domain")
    n_unanswerable = int(unanswerable.sum()) + sum(1 for q in refused if q.source == "unanswerable")
    declined = int(np.sum(unanswerable & ~resolved)) + sum(1 for q in refused if q.source == "unanswerable")
    print(f"staff threshold {threshold:.3f}: domain right {np.sum(domain & resolved & right) / n_domain:.3f}, "
          f"declined {np.sum(domain & ~resolved) / n_domain:.3f} of {n_domain}; unanswerable declined {declined / n_unanswerable:.3f} of {n_unanswerable}")


def traffic_answerable_share(dev: list[DevQuestion]) -> float:
    """The share of answerable questions in real customer traffic: the shared real customer
    phrasings when they are there (collected from the public), else the customer dev questions."""
    sample = [q for q in dev if q.source == "shared real"] or [q for q in dev if q.source in CUSTOMER_SETS]
    return sum(q.groups is not None for q in sample) / len(sample)


def customer_yardstick(outcomes: list[Outcome], calibrated: np.ndarray, refused: list[DevQuestion]) -> float:
    """``tradeoff_area`` of the questions customers type (the real-phrasing sets)."""
    right = np.array([o.right for o in outcomes])
    answerable = np.array([o.question.groups is not None for o in outcomes])
    customers = np.array([o.question.source in CUSTOMER_SETS for o in outcomes])
    n_customers = int(customers.sum()) + sum(1 for q in refused if q.source in CUSTOMER_SETS)
    n_customer_answerable = int((customers & answerable).sum()) + sum(1 for q in refused if q.source in CUSTOMER_SETS and q.groups is not None)
    return tradeoff_area(calibrated[customers], right[customers], n_customer_answerable, n_customers)


def spread_over_deals(
    answerer: QuestionAnswerer, questions: list[DevQuestion], reached: list[DevQuestion], args: argparse.Namespace, share: float
) -> None:
    """The yardstick and the top candidate's right share over ``args.repeats`` deals of the questions
    into folds: how far a change must move them to be more than the luck of one deal."""
    areas, tops = [], []
    for repeat in range(args.repeats):
        for question in reached:
            question.outside_area = False
        outcomes = out_of_fold_outcomes(answerer, reached, args.folds, salt=f"deal{repeat}" if repeat else "")
        refused = [q for q in questions if q.refused]
        _, calibrated = fit_confidence(outcomes, args.folds, args.target_wrong, args.max_clarified, [q for q in refused if q.source in CUSTOMER_SETS], share)
        areas.append(customer_yardstick(outcomes, calibrated, refused))
        tops.append(np.mean([o.right for o in outcomes if o.question.groups is not None]))
    print("yardstick per deal: " + " ".join(f"{area:.3f}" for area in areas))
    print(f"over {args.repeats} deals into {args.folds} folds: yardstick {np.mean(areas):.3f} ± {np.std(areas):.3f} "
          f"(min {np.min(areas):.3f}, max {np.max(areas):.3f}); top candidate right {np.mean(tops):.3f} ± {np.std(tops):.3f}")


def report(outcomes: list[Outcome], calibrated: np.ndarray, model: ConfidenceModel, refused: list[DevQuestion]) -> None:
    right = np.array([o.right for o in outcomes])
    answerable = np.array([o.question.groups is not None for o in outcomes])
    resolved = calibrated >= model.threshold
    options = [[] if r else clarification_options(o.question.trace.ranked, model.clarify_floor) for o, r in zip(outcomes, resolved)]  # type: ignore[union-attr]
    clarified = np.array([bool(x) for x in options])
    meant = np.array([any(o.question.right(x.candidate.answer) for x in opts) for o, opts in zip(outcomes, options)])
    total = len(outcomes) + len(refused)
    all_answerable = int(answerable.sum()) + sum(1 for q in refused if q.groups is not None)
    print(f"dev questions: {total} ({all_answerable} answerable); refused before retrieval: {len(refused)}")
    print(f"top candidate right (out of fold): {right[answerable].mean():.3f} of the answerable that reach retrieval")
    print(f"threshold {model.threshold:.3f}: right {np.sum(resolved & right) / all_answerable:.3f} of answerable, "
          f"confidently wrong {np.sum(resolved & ~right) / total:.3f} of all, clarify floor {model.clarify_floor:.3f}")
    for source in dict.fromkeys(o.question.source for o in outcomes):
        mine = np.array([o.question.source == source for o in outcomes])
        n_all = int(mine.sum()) + sum(1 for q in refused if q.source == source)
        n_ans = int((mine & answerable).sum()) + sum(1 for q in refused if q.source == source and q.groups is not None)
        right_share = np.sum(mine & resolved & right) / n_ans if n_ans else 0.0
        with_options = np.sum(mine & ((resolved & right) | (clarified & meant))) / n_ans if n_ans else 0.0
        print(f"  {source:14s} {n_all:4d} questions: right {right_share:.3f} ({with_options:.3f} with one clarifying question) of {n_ans} "
              f"answerable, confidently wrong {np.sum(mine & resolved & ~right) / n_all:.3f}, clarified {np.sum(mine & clarified) / n_all:.3f}")
    area = customer_yardstick(outcomes, calibrated, refused)
    print(f"customers: mean right share while confidently wrong stays 0-8 % (threshold-free yardstick): {area:.3f}")
    print(f"expected calibration error (out of fold): {expected_calibration_error(list(calibrated), list(right)):.3f}")
    print("\n".join(format_reliability(reliability_table(list(calibrated), list(right)))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", type=Path, default=ROOT / "kb" / "build")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--target-wrong", type=float, default=0.04, help="confidently wrong answers allowed, share of the customer dev questions")
    parser.add_argument("--max-clarified", type=float, default=0.25, help="clarifying questions allowed, share of the customer dev questions")
    parser.add_argument("--internal-abstention", type=float, default=0.90, help="staff target: unanswerable dev questions declined")
    parser.add_argument("--internal-right", type=float, default=0.92, help="staff target: answerable dev questions answered right")
    parser.add_argument("--internal-false-abstention", type=float, default=0.05, help="staff target: answerable dev questions declined, at most")
    parser.add_argument("--dry-run", action="store_true", help="print the figures, write nothing")
    parser.add_argument("--repeats", type=int, default=1, help="with --dry-run: also deal the questions into folds this many ways and print the yardstick's spread")
    args = parser.parse_args()
    settings = Settings(kb_dir=args.kb, config_dir=ROOT / "kb", shared_query_cache=False)
    answerer = QuestionAnswerer(KnowledgeBase(settings))
    questions = dev_questions(ROOT / "eval" / "datasets")
    print(f"gathering candidates for {len(questions)} dev questions", file=sys.stderr)
    gather(answerer, questions, held_out_classifiers(answerer.kb, args.folds))
    del answerer.kb.classifier  # the knowledge base's own again
    reached = [q for q in questions if q.trace is not None]
    outcomes = out_of_fold_outcomes(answerer, reached, args.folds)
    refused = [q for q in questions if q.refused]
    refused_customers = [q for q in refused if q.source in CUSTOMER_SETS]
    share = traffic_answerable_share(questions)
    print(f"answerable share of real customer traffic: {share:.2f}", file=sys.stderr)
    model, calibrated = fit_confidence(outcomes, args.folds, args.target_wrong, args.max_clarified, refused_customers, share)
    targets = StaffTargets(args.internal_abstention, args.internal_right, args.internal_false_abstention)
    internal = choose_internal_threshold(outcomes, calibrated, refused, targets, model.threshold)
    model = dataclasses.replace(model, internal_threshold=internal)
    report(outcomes, calibrated, model, refused)
    report_staff(outcomes, calibrated, refused, internal)
    if args.dry_run:
        if args.repeats > 1:
            spread_over_deals(answerer, questions, reached, args, share)
        return 0
    booster = fit_ranker(reached)
    (ROOT / "kb" / RERANKER_FILE).write_text(booster.model_to_string(), encoding="utf-8")
    note = (
        f"Fitted by scripts/fit_answering.py on {len(questions)} dev questions ({len(reached)} reached retrieval);\n"
        f"threshold: the lowest confidence with at most {args.target_wrong:.0%} of the customer dev questions confidently wrong\n"
        f"(as collected, and weighted to real traffic's share of answerable questions);\n"
        f"internal_threshold (staff): the one meeting the staff targets with the most room (declined {args.internal_abstention:.0%}\n"
        f"of the unanswerable, right {args.internal_right:.0%} and declined at most {args.internal_false_abstention:.0%} of the answerable)."
    )
    model.save(ROOT / "kb" / CONFIDENCE_FILE, note)
    print(f"wrote kb/{RERANKER_FILE} and kb/{CONFIDENCE_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
