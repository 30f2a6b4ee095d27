"""Markdown and JSON reports: gridkb's systems and the baseline side by side, with their ratio."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from gridkb.evaluation.calibration import ReliabilityBin, format_reliability
from gridkb.evaluation.classification import confusion_markdown
from gridkb.evaluation.harness import SystemResult
from gridkb.evaluation.runner import EvalRun

QUALITY_ORDER = [
    "Recall@1", "Recall@5", "Recall@10", "MRR@10", "nDCG@10",
    "key_phrase_accuracy", "answer_contains_gold",
    "abstention_precision", "abstention_recall", "false_abstention",
]
BASELINE = "langchain-baseline"
CUSTOMER_ORDER = [
    "right", "right_with_clarification", "honest_abstention", "confidently_wrong", "clarified", "false_abstention",
    "expected_calibration_error",
    "follow_up_right", "follow_up_rewritten", "new_question_right", "new_question_kept_alone", "unanswerable_turn_declined",
    "confidently_wrong_turns",
]
CUSTOMER_NOTES = (
    "right: answered (resolved) and every key phrase present, share of the answerable questions; right_with_clarification "
    "also counts a clarifying question whose option the customer means and which then answers; honest_abstention: declined "
    "or clarified, share of the unanswerable ones; confidently_wrong: resolved but not right, share of all questions. "
    "The baseline answers every question with its top passage."
)


def _fmt(value: float) -> str:
    return f"{value:.3f}"


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}×" if theirs else "–"


def to_markdown(run: EvalRun) -> str:
    names = [r.system for r in run.results]
    by_name = {r.system: r for r in run.results}
    baseline = by_name.get(BASELINE)
    ours = [n for n in names if n != BASELINE]
    lines = [f"# gridkb evaluation: {run.dataset} ({run.split} split)", ""]
    lines += [f"- questions: {run.questions}"] + [f"- {k}: {v}" for k, v in run.setup.items()] + [f"- {n}" for n in run.notes]
    lines += ["", "Recall@k is the share of questions with a gold passage in the top k; MRR@10 and nDCG@10 by ir-measures.", ""]
    header = ["metric", *names] + ([f"{n} / baseline" for n in ours] if baseline else [])
    lines += ["## Quality", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    metrics = [m for m in QUALITY_ORDER if any(m in r.metrics for r in run.results)]
    for metric in metrics:
        row = [metric, *(_fmt(by_name[n].metrics.get(metric, 0.0)) for n in names)]
        if baseline:
            row += [_ratio(by_name[n].metrics.get(metric, 0.0), baseline.metrics.get(metric, 0.0)) for n in ours]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "## Latency (ms per question, this machine)", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for stage in ("retrieve", "answer"):
        for stat in ("p50_ms", "p95_ms"):
            row = [f"{stage} {stat.removesuffix('_ms')}", *(f"{by_name[n].latency.get(stage, {}).get(stat, 0.0):.1f}" for n in names)]
            if baseline:
                # for latency the ratio says how many times faster gridkb is
                theirs = baseline.latency.get(stage, {}).get(stat, 0.0)
                row += [_ratio(theirs, by_name[n].latency.get(stage, {}).get(stat, 0.0)) + " faster" for n in ours]
            lines.append("| " + " | ".join(row) + " |")
    categorised = [r for r in run.results if r.per_category]
    if categorised:
        lines += ["", "## Per category (Recall@5 / MRR@10 / key-phrase accuracy)", ""]
        categories = sorted({c for r in categorised for c in r.per_category})
        lines += ["| category | n | " + " | ".join(r.system for r in categorised) + " |", "|" + "---|" * (len(categorised) + 2)]
        for category in categories:
            n = int(categorised[0].per_category.get(category, {}).get("questions", 0))
            cells = []
            for r in categorised:
                c = r.per_category.get(category, {})
                cells.append(f"{c.get('Recall@5', 0):.2f} / {c.get('MRR@10', 0):.2f} / {c.get('key_phrase_accuracy', 0):.2f}")
            lines.append(f"| {category} | {n} | " + " | ".join(cells) + " |")
    if run.classification:
        c = run.classification
        lines += ["", "## Classification (organisation layer)", ""]
        lines += [f"- macro-F1: **{c.macro_f1:.3f}** over {len(c.labels)} categories; accuracy {c.accuracy:.3f}; "
                  f"answered \"unknown\" {c.unknown_rate:.1%} (counted as wrong)", ""]
        lines += confusion_markdown(c)
        if c.misses:
            lines += ["", "Misclassified:", ""] + [f"- `{m['id']}` {m['question']}: {m['gold']} → {m['predicted']}" for m in c.misses[:10]]
    if run.customer_classification:
        c = run.customer_classification
        lines += ["", "The questions as customers type them (the real-phrasing split; the category routes the ticket of a question the bot cannot answer to its department):", ""]
        lines += [f"- macro-F1: **{c.macro_f1:.3f}**; accuracy {c.accuracy:.3f}; answered \"unknown\" {c.unknown_rate:.1%} (counted as wrong)"]
    for title, results in run.sets.items():
        lines += _customer_set(title, results)
    for r in run.results:
        if r.failures:
            lines += ["", f"## Sample misses: {r.system}", ""]
            lines += [_miss(f) for f in r.failures[:8]]
    return "\n".join(lines) + "\n"


def _customer_set(title: str, results: list[SystemResult]) -> list[str]:
    """One set of customer questions: outcomes side by side, the reliability table, sample misses."""
    names = [r.system for r in results]
    lines = ["", f"## {title}", "", CUSTOMER_NOTES, "", "| metric | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 1)]
    for metric in (m for m in CUSTOMER_ORDER if any(m in r.metrics for r in results)):
        lines.append(f"| {metric} | " + " | ".join(_fmt(r.metrics[metric]) if metric in r.metrics else "–" for r in results) + " |")
    for stat in ("p50_ms", "p95_ms"):
        if any(r.latency for r in results):
            lines.append(f"| answer {stat.removesuffix('_ms')} (ms) | " + " | ".join(f"{r.latency.get('answer', {}).get(stat, 0.0):.1f}" for r in results) + " |")
    for r in results:
        if r.reliability:
            lines += ["", f"Reliability of {r.system}'s confidence (every question that reached the answer stage; right = the answer it would give holds the key phrases):", ""]
            lines += format_reliability([ReliabilityBin(**b) for b in r.reliability])  # type: ignore[arg-type]
    for r in results:
        if r.failures:
            lines += ["", f"Sample misses of {r.system}:", ""] + [_miss(f) for f in r.failures[:10]]
    return lines


def write_reports(run: EvalRun, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{run.dataset}-{run.split}"
    markdown = folder / f"{stem}.md"
    markdown.write_text(to_markdown(run), encoding="utf-8")
    (folder / f"{stem}.json").write_text(json.dumps(dataclasses.asdict(run), ensure_ascii=False, indent=1), encoding="utf-8")
    return markdown


def _miss(failure: dict) -> str:
    """One list item: an answer's own line breaks and headings must not break the report's structure."""
    answer = " ".join(str(failure["answer"]).split())
    return f"- `{failure['id']}` {failure['question']} → {answer}"
