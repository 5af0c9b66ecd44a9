"""Schemathesis sends generated requests, valid and invalid, to every API operation.

The check is the one that matters for trust: no input makes the server fail (no 5xx).
Bounded so the suite stays fast; raise FUZZ_EXAMPLES for a longer hunt. (Schemathesis's
own pytest plugin does not run under pytest 9 yet, so each operation's Hypothesis strategy is
driven here directly.)
"""

from __future__ import annotations

import os

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from app.models import User
from tests.factories import PASSWORD

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
# Deleting the account or revoking the token mid-run would turn every later request into a
# 401 and hide the rest from the fuzzer; both are covered by their own tests.
NOT_FUZZED = {
    ("DELETE", "/api/v1/account"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/account/logout-everywhere"),
}


def test_no_request_makes_the_api_fail(app: FastAPI, client: TestClient, user: User) -> None:
    token = client.post(
        "/api/v1/auth/token", json={"email": user.email, "password": PASSWORD}
    ).json()["access_token"]
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    fuzzed = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in NOT_FUZZED:
            continue
        fuzzed.append(f"{operation.method.upper()} {operation.path}")

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error]
            )

        run()
    assert "PUT /api/v1/entries/{date}" in fuzzed
    assert "POST /api/v1/entries/batch" in fuzzed
