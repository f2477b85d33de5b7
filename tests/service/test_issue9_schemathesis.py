"""The API against its own OpenAPI document (issue 9, item 11): schemathesis generates
requests for every operation and every role, sends them to a real server, and checks each
answer: no server error, a documented status, a documented content type, and a body
that matches the documented schema exactly.

The full run (a few thousand requests) is marked slow and runs in CI; the default suite
runs the same test with fewer examples per operation.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.service.conftest import Server

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
ROLES: list[tuple[str, str | None]] = [
    ("admin", None),
    ("oracle", None),
    ("liquidator", None),
    ("account", "alice"),
]


def _sender(
    server: Server,
    op: Any,
    role: str,
    headers: dict[str, str],
    session: requests.Session,
    statuses: Counter[str],
    failures: list[str],
    examples: int,
    mode: GenerationMode,
) -> Any:
    """A Hypothesis test sending ``examples`` generated requests to ``op`` as ``role``:
    valid ones (``positive``) or ones that break the schema (``negative``)."""
    streams = op.path == "/v1/events"

    @hsettings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy(mode))
    def send(case: Any) -> None:
        if streams:
            # An event stream stays open: replay one held event (of any kind), then close.
            case.query = {"max_events": 1}
            case.headers = {**(case.headers or {}), "Last-Event-ID": "0"}
        response = case.call(base_url=server.url, session=session, headers=headers, timeout=20)
        statuses[f"{response.status_code}"] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as exc:  # schemathesis raises a group of failures
            failures.append(
                f"{role} {op.label} -> {response.status_code}: {' '.join(str(exc).split())[:600]}"
            )

    return send


def _fuzz(server: Server, examples: int) -> tuple[Counter[str], list[str]]:
    """Send ``examples`` valid and ``examples`` invalid generated requests per operation
    and role; (statuses seen, failures)."""
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    statuses: Counter[str] = Counter()
    failures: list[str] = []
    session = requests.Session()
    # One event held by the server, so that every generated stream ends at once.
    pushed = session.post(
        f"{server.url}/v1/prices", json={"WETH": "2000"}, headers=server.headers("oracle")
    )
    assert pushed.status_code == 200, pushed.text
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 16, [op.label for op in operations]  # every route
    for role, account in ROLES:
        headers = server.headers(role, account)
        for op in operations:
            for mode in GenerationMode:
                send = _sender(
                    server, op, role, headers, session, statuses, failures, examples, mode
                )
                try:
                    send()
                except Unsatisfiable:
                    # Nothing of this operation can be made invalid (it takes no input).
                    assert mode is GenerationMode.NEGATIVE, op.label
    return statuses, failures


def test_item11_every_operation_and_role_answers_to_its_schema(shared_server: Server) -> None:
    statuses, failures = _fuzz(shared_server, examples=4)
    assert failures == []
    assert not [s for s in statuses if s.startswith("5")], statuses
    assert sum(statuses.values()) >= 300
    assert statuses["200"] > 0 and statuses["422"] > 0


@pytest.mark.slow
def test_item11_a_few_thousand_generated_requests_find_no_server_error_or_violation(
    shared_server: Server,
) -> None:
    statuses, failures = _fuzz(shared_server, examples=30)
    print(f"schemathesis: {sum(statuses.values())} requests, statuses {dict(statuses)}")
    assert failures == []
    assert not [s for s in statuses if s.startswith("5")], statuses
    assert sum(statuses.values()) >= 2500
