"""Schemathesis drives every operation of the OpenAPI description (/api/openapi.json)
in-process through the WSGI application: no generated request may produce a 5xx.

Requests carry the coordinator's bearer token, so authenticated operations are reached;
path ids are mostly unknown (404) and bodies are hostile by construction. (Schemathesis'
pytest plugin does not yet run under pytest 9, so each operation's Hypothesis strategy is
driven directly.)"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.web.security.conftest import FUZZ_CASES

EXAMPLES_PER_OPERATION = 20


@pytest.fixture
def keep_test_connection():
    """Like Django's test client: the WSGI app must not close the test's database connection
    at the end of each request (it runs inside the test transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_no_generated_api_request_is_a_server_error(
    api_tokens, study, participant, keep_test_connection
):
    from fibrosurvey.web.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
    headers = {"Authorization": f"Bearer {api_tokens['carol']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5
    failures: list[str] = []

    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy())
        def run(case):  # type: ignore[no-untyped-def]
            FUZZ_CASES["schemathesis API"] += 1
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")
            case.validate_response(response, checks=[not_a_server_error], headers=headers)

        run()
    assert failures == []
