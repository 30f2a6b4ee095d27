"""schemathesis over the whole API: every phase (examples, coverage, fuzzing, stateful), positive and
negative data, every check it has (server errors, status codes, content types, headers, response
schemas, positive acceptance, negative rejection, Allow headers, authentication, use after free …).

Shared by tests/api/test_schema.py (a short run in `make test`) and the battery's contract row
(tests/battery/test_contracts.py, more examples). The app runs in-process over a writable copy of the
test knowledge base: fuzzed uploads, tickets and publications must not change what other tests see.
"""

from __future__ import annotations

import importlib
import pkgutil
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import schemathesis
from schemathesis import engine
from schemathesis.engine import Status, events
from schemathesis.generation import GenerationMode

from tests.api.conftest import ADMIN_KEY


def _import_every_module(package: ModuleType) -> None:
    """Import all of ``package`` now, at collection, on a shallow stack and one thread. schemathesis
    imports about 30 modules lazily during a run, some in its worker threads; pytest rewrites them
    (schemathesis is a pytest plugin) and CPython 3.11.7 can then fail to parse one ("AST
    constructor recursion depth mismatch"), which failed this module's fixture now and then."""
    for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        try:
            importlib.import_module(module.name)
        except ImportError:  # an optional extra (allure reporting)
            continue


_import_every_module(schemathesis)

# Findings the schema cannot prevent, each with its reason. Nothing else is dropped.
EXPLAINED = {
    # JSON Schema cannot say that one field must be later than another: the app refuses a notice
    # that ends before it starts (422 "结束时间须晚于开始时间"), which the generator cannot know.
    ("POST /api/notices", "positive_data_acceptance"): lambda case: not _window_ordered(case.body),
    # What a multipart part must hold (a file name with a supported suffix, a parseable document) is
    # not expressible in OpenAPI: the app refuses other files with 422 and says which and why.
    ("POST /api/documents", "positive_data_acceptance"): lambda case: True,
}


def _window_ordered(body: Any) -> bool:
    try:
        return bool(datetime.fromisoformat(body["ends_at"]) > datetime.fromisoformat(body["starts_at"]))
    except (TypeError, KeyError, ValueError):
        return True


@dataclass
class ContractRun:
    cases: int = 0
    operations: set[str] = field(default_factory=set)
    statuses: set[int] = field(default_factory=set)
    findings: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (operation, check, title) → first example

    def describe(self) -> list[str]:
        return [f"{op} · {check} · {title}: {example}" for (op, check, title), example in sorted(self.findings.items())]


def fuzz_app(settings: Any, folder: Path) -> Any:
    """The real app over a copy of ``settings``' knowledge base, with its own service database."""
    from gridkb.api.app import create_app

    shutil.copytree(settings.kb_dir, folder / "kb")
    return create_app(settings.model_copy(update={
        "kb_dir": folder / "kb", "database_url": f"sqlite:///{folder / 'service.sqlite'}", "published_dir": folder / "published",
    }))


def run_contracts(app: Any, max_examples: int) -> ContractRun:
    """Every schemathesis phase and check against ``app`` with the admin key; findings by operation and check."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.update(headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=max_examples, deterministic=True)

    @schema.hook("filter_failure")
    def unexplained(context, failure, case, response):  # type: ignore[no-untyped-def]
        reasons = [EXPLAINED.get((case.operation.label, check)) for check in failure.checks]
        return not any(reason and reason(case) for reason in reasons)

    run = ContractRun()
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _collect(run, event.recorder)
        elif isinstance(event, (events.FatalError, events.NonFatalError)):
            run.findings[("engine", type(event).__name__, "")] = str(getattr(event, "exception", None) or getattr(event, "value", ""))[:300]
    return run


def _collect(run: ContractRun, recorder: Any) -> None:
    for case_id, node in recorder.cases.items():
        run.cases += 1
        run.operations.add(node.value.operation.label)
        interaction = recorder.interactions.get(case_id)
        if interaction is not None and interaction.response is not None:
            run.statuses.add(interaction.response.status_code)
        for check in recorder.checks.get(case_id, []):
            if check.status is Status.FAILURE and check.failure_info is not None:
                failure = check.failure_info.failure
                key = (recorder.label, check.name, failure.title)
                case = node.value
                status = interaction.response.status_code if interaction is not None and interaction.response is not None else "-"
                run.findings.setdefault(key, f"{case.method} {case.formatted_path} query={case.query} body={str(case.body)[:200]} → {status}: {failure.message[:300]}")
