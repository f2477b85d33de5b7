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


def _fuzz(
    server: Server, examples: int, only: set[str] | None = None, price: str = "WETH=2000"
) -> tuple[Counter[str], list[str]]:
    """Send ``examples`` valid and ``examples`` invalid generated requests per operation
    (of the paths ``only``, default all) and role; (statuses seen, failures). ``price``:
    an unchanged price pushed first, so that every generated event stream ends at once."""
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    statuses: Counter[str] = Counter()
    failures: list[str] = []
    session = requests.Session()
    # One event held by the server, so that every generated stream ends at once.
    asset, _, value = price.partition("=")
    pushed = session.post(
        f"{server.url}/v1/prices", json={asset: value}, headers=server.headers("oracle")
    )
    assert pushed.status_code == 200, pushed.text
    operations = [result.ok() for result in schema.get_all_operations()]
    if only is None:
        # every route: 25 of issue 9, 13 of perps (5) and the liquidation designs (8),
        # 3 of options (issue 14: greeks, the option list, the option liquidation) and the
        # designs compared (contract 8.6)
        assert len(operations) == 42, [op.label for op in operations]
    else:
        operations = [op for op in operations if op.path in only]
        assert {op.path for op in operations} == only, [op.label for op in operations]
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


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: dict[str, Any] = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return resolved


def _closed(doc: dict[str, Any], schema: dict[str, Any], where: str) -> None:
    """An exact object schema: named fields and nothing else (or typed extra fields)."""
    options = schema.get("anyOf", [schema])
    for option in options:
        target = _resolve(doc, option)
        assert target.get("type") == "object", (where, target)
        extra = target.get("additionalProperties")
        assert extra is False or isinstance(extra, dict), (where, target)
        assert target.get("properties") or isinstance(extra, dict), (where, target)


def test_item11_every_request_and_response_body_has_an_exact_schema(
    shared_server: Server,
) -> None:
    with shared_server.client() as c:
        doc = c.get("/openapi.json").json()
    bodies = 0
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            if "requestBody" in op:
                bodies += 1
                _closed(doc, op["requestBody"]["content"]["application/json"]["schema"], where)
            for status, answer in op["responses"].items():
                content = answer.get("content", {})
                if "application/json" in content:
                    _closed(doc, content["application/json"]["schema"], f"{where} {status}")
                else:
                    assert content, (where, status)  # text/plain or text/event-stream
    # 4 account actions, liquidations, prices, asset parameters; trade, settle, funding;
    # auction start and take, absorb, buy collateral, socialize, deleverage; the option
    # liquidation (issue 14)
    assert bodies == 17


def test_item11_the_answers_the_issue_named_match_their_schemas(server: Server) -> None:
    # PUT /v1/assets/{asset} answers {"seq", "asset"}; its OpenAPI said AssetPublic.
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    session = requests.Session()
    cases = [
        (
            "/v1/assets/{asset}",
            "PUT",
            "admin",
            {"asset": "WETH"},
            {"collateral_factor": "0.7", "liquidation_threshold": "0.8",
             "liquidation_bonus": "0.05", "max_price_deviation": "0.5"},
        ),
        ("/v1/prices", "POST", "oracle", {}, {"WETH": "2001"}),
        ("/v1/prices", "POST", "oracle", {}, {"prices": {"WETH": "2002"}, "timestamp": None}),
        ("/v1/accounts/{account_id}/deposit", "POST", "account", {"account_id": "alice"},
         {"asset": "USDC", "amount": "3"}),
        ("/v1/liquidations", "POST", "liquidator", {},
         {"account": "bob", "debt_asset": "USDC", "collateral_asset": "WETH", "max": True}),
    ]  # fmt: skip
    for path, method, role, params, body in cases:
        op = schema[path][method]
        case = op.Case(path_parameters=params or None, body=body, media_type="application/json")
        headers = server.headers(role, "alice" if role == "account" else None)
        response = case.call(base_url=server.url, session=session, headers=headers)
        assert response.status_code == 200, (path, response.text)
        case.validate_response(response, checks=CHECKS)
    for path in ("/v1/risk/summary", "/v1/assets", "/v1/journal", "/v1/liquidations/queue"):
        op = schema[path]["GET"]
        response = op.Case().call(
            base_url=server.url, session=session, headers=server.headers("admin")
        )
        assert response.status_code == 200, (path, response.text)
        op.Case().validate_response(response, checks=CHECKS)


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
