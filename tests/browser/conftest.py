"""The browser tests use the API tests' live server."""

from tests.api.conftest import agent_key, live_server, web_settings  # noqa: F401 - fixtures shared with tests/api
