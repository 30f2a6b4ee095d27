"""Property-based run of schemathesis against the app's own OpenAPI schema: no input the schema
allows (or nearly allows) may cause a server error. The app runs in-process over a copy of the test
knowledge base (fuzzed uploads and publications must not change what the other tests see)."""

import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.api.conftest import ADMIN_KEY


@pytest.fixture(scope="module")
def api_schema(web_settings, tmp_path_factory):
    from gridkb.api.app import create_app

    base = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(web_settings.kb_dir, base / "kb")
    fuzz = web_settings.model_copy(update={
        "kb_dir": base / "kb", "database_url": f"sqlite:///{base / 'service.sqlite'}", "published_dir": base / "published",
    })
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(fuzz))


def test_no_input_causes_a_server_error(api_schema):
    failures = []
    calls = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 18
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
        def run(case):  # type: ignore[no-untyped-def]
            response = case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN_KEY}"}, checks=[not_a_server_error])
            calls.append(response.status_code)

        try:
            run()
        except Exception as error:  # noqa: BLE001 - collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {error}")
    assert not failures, "\n\n".join(failures)
    assert len(calls) >= 100 and 200 in calls and any(400 <= c < 500 for c in calls)  # it really exercised the app
