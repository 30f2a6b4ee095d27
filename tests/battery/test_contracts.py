"""Battery item 6: schemathesis over the whole API, every phase and check, no finding left unexplained
(the few the schema cannot prevent are listed with their reasons in tests/api/contracts.py)."""

from tests.api.conftest import web_settings  # noqa: F401 - the session's test knowledge base
from tests.api.contracts import fuzz_app, run_contracts
from tests.battery.conftest import trials


def test_schemathesis_finds_no_contract_violation(battery, web_settings, tmp_path):  # noqa: F811
    run = run_contracts(fuzz_app(web_settings, tmp_path), max_examples=trials(5, 100))
    failures = battery.record("schemathesis: contract findings (all checks, all phases)", run.cases, run.describe())
    assert run.cases >= 500 and len(run.operations) >= 24
    assert not failures, "\n\n".join(failures)
