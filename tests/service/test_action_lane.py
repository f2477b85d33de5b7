"""The action routes' lean path answers exactly as the FastAPI route it stands in for.

The same requests, good and bad, are sent twice to one server: through the lean path
(the default) and with it switched off (``LaneApp.lean_actions``), so FastAPI's own
dependency and parameter machinery answers. Status, body and the headers that matter
must agree; the metrics count both under the route's template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.service.conftest import MARKET, ThreadedServer
from xmargin.service import Settings
from xmargin.service.action_lane import LaneApp
from xmargin.store import make_engine
from xmargin.store.repositories import create_api_key


def _cases(alice: str, bob: str) -> list[tuple[str, dict[str, str], Any]]:
    """(path, headers, body) of requests whose answer never depends on the state."""
    auth = {"Authorization": f"Bearer {alice}"}
    ok_body = {"asset": "USDC", "amount": "1"}
    return [
        ("/v1/accounts/alice/deposit", {}, ok_body),  # no key: 401
        ("/v1/accounts/alice/deposit", {"Authorization": "Bearer nope"}, ok_body),  # 401
        ("/v1/accounts/alice/deposit", {"Authorization": "Basic x"}, ok_body),  # 401
        ("/v1/accounts/bob/deposit", auth, ok_body),  # another account's: 403
        ("/v1/accounts/alice/borrow", {"Authorization": f"Bearer {bob}"}, ok_body),  # 403
        ("/v1/accounts/" + "a" * 300 + "/deposit", auth, ok_body),  # 422 path
        ("/v1/accounts/al ice/deposit", auth, ok_body),  # 422 name
        ("/v1/accounts/alice/deposit", {**auth, "Idempotency-Key": "x" * 201}, ok_body),
        ("/v1/accounts/alice/deposit", {**auth, "Idempotency-Key": "a b"}, ok_body),
        ("/v1/accounts/alice/deposit", auth, None),  # no body: 400
        ("/v1/accounts/alice/deposit", auth, "[1]"),  # not an object: 422
        ("/v1/accounts/alice/deposit", auth, '{"asset": "USDC", "asset": "ETH"}'),
        ("/v1/accounts/alice/deposit", auth, {"asset": "USDC"}),  # missing amount: 422
        ("/v1/accounts/alice/deposit", auth, {"asset": "USDC", "amount": "1", "x": 1}),
        ("/v1/accounts/alice/deposit", auth, {"asset": "DOGE", "amount": "1"}),  # 404
        ("/v1/accounts/alice/deposit", auth, {"asset": "USDC", "amount": "-1"}),  # 422
        ("/v1/accounts/alice/withdraw", auth, {"asset": "USDC", "amount": "1e30"}),  # 409/422
        ("/v1/accounts/alice/deposit", auth, "\xff"),  # not UTF-8: 400
    ]


def _send(c: httpx.Client, path: str, headers: dict[str, str], body: Any) -> httpx.Response:
    if body is None:
        return c.post(path, headers=headers)
    if isinstance(body, str):
        raw = body.encode("latin-1") if body == "\xff" else body.encode()
        return c.post(path, headers={**headers, "Content-Type": "application/json"}, content=raw)
    return c.post(path, headers=headers, json=body)


def test_the_lean_path_answers_as_the_fastapi_route_does(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    with ThreadedServer(Settings(database_url=db, market_file=MARKET)) as ts:
        app = ts.server.config.app
        assert isinstance(app, LaneApp)
        engine = make_engine(db)
        alice = create_api_key(engine, "account", "alice")[0]
        bob = create_api_key(engine, "account", "bob")[0]
        engine.dispose()
        answers: dict[bool, list[tuple[int, Any, str | None]]] = {}
        with httpx.Client(base_url=f"http://127.0.0.1:{ts.port}", timeout=10) as c:
            for lean in (True, False):
                app.lean_actions = lean
                got = []
                for path, headers, body in _cases(alice, bob):
                    r = _send(c, path, headers, body)
                    got.append((r.status_code, r.json(), r.headers.get("www-authenticate")))
                # A good action, then its key again (replayed), on both paths.
                ik = f"same-{lean}"
                first = _send(c, "/v1/accounts/alice/deposit",
                              {"Authorization": f"Bearer {alice}", "Idempotency-Key": ik},
                              {"asset": "USDC", "amount": "2"})  # fmt: skip
                again = _send(c, "/v1/accounts/alice/deposit",
                              {"Authorization": f"Bearer {alice}", "Idempotency-Key": ik},
                              {"asset": "USDC", "amount": "2"})  # fmt: skip
                assert first.status_code == again.status_code == 200
                assert again.json() == first.json()
                assert again.headers["idempotent-replayed"] == "true"
                assert set(first.json()) == {"seq", "action", "asset", "amount", "account"}
                answers[lean] = got
            metrics = c.get("/metrics").text
        app.lean_actions = True
    assert answers[True] == answers[False]
    statuses = {s for s, _, _ in answers[True]}
    assert {400, 401, 403, 404, 422} <= statuses
    assert 'route="/v1/accounts/{account_id}/deposit",status="401"' in metrics
