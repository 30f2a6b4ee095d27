"""schemathesis against the app's own OpenAPI document, with every check it has (tests/api/contracts.py):
no server error, and the document tells the truth: documented status codes, content types and
headers, responses that match their schemas, schema-valid requests accepted, invalid ones refused.
The battery's contract row runs the same with more examples."""

import pytest

from tests.api.contracts import fuzz_app, run_contracts


@pytest.fixture(scope="module")
def contract_run(web_settings, tmp_path_factory):
    return run_contracts(fuzz_app(web_settings, tmp_path_factory.mktemp("fuzz")), max_examples=10)


def test_the_openapi_document_tells_the_truth(contract_run):
    assert not contract_run.findings, "\n\n".join(contract_run.describe())


def test_the_run_really_exercised_the_app(contract_run):
    assert len(contract_run.operations) >= 24 and contract_run.cases >= 500
    assert {200, 201, 404, 422} <= contract_run.statuses
