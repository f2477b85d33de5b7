"""The storefront (contract 8.3) and the loss waterfall (8.4) in the service: absorb and
buy collateral (liquidator), socialise a deficit and deleverage (admin); each answers as
the CLI does, is journalled, replayed and kept across a restart.

Markets: the Comet, Drift and dYdX vectors of tests/vectors (their numbers are worked
out at the top of each file).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tests.service.conftest import VECTORS
from tests.service.figures import cli_json, same_figures
from tests.service.test_prices_and_events import _connected, _events
from xmargin.errors import JournalMismatch
from xmargin.store import replay_database
from xmargin.store.engine import write_transaction
from xmargin.store.models import AssetRow

COMET = VECTORS / "comet_storefront.toml"
DRIFT = VECTORS / "drift_socialized_loss.toml"
DYDX = VECTORS / "dydx_adl.toml"


def test_absorb_and_buy_collateral_answer_as_the_cli(
    server_factory: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    m1, m2 = tmp_path / "m1.toml", tmp_path / "m2.toml"
    cli_absorb = cli_json(capsys, "absorb", COMET, "--account", "under", "--out", m1)
    cli_weth = cli_json(
        capsys, "buy-collateral", m1, "--asset", "WETH", "--amount", "1447.5", "--out", m2
    )
    cli_wbtc = cli_json(capsys, "buy-collateral", m2, "--asset", "WBTC", "--max")
    with server_factory(market=COMET) as srv, srv.client() as c:
        liq = srv.headers("liquidator")
        absorbed = c.post("/v1/absorb", json={"account": "under"}, headers=liq)
        shop = c.get("/v1/storefront", headers=liq).json()
        weth = c.post("/v1/buy-collateral", json={"asset": "WETH", "amount": "1447.5"}, headers=liq)
        wbtc = c.post("/v1/buy-collateral", json={"asset": "WBTC", "max": True}, headers=liq)
        empty = c.post("/v1/buy-collateral", json={"asset": "WBTC", "max": True}, headers=liq)
        left = c.get("/v1/storefront", headers=liq).json()
        under = c.get("/v1/accounts/under", headers=liq).json()
        replay_database(srv.engine)
    with server_factory(market=None) as srv, srv.client() as c:
        assert c.get("/v1/storefront", headers=srv.headers("admin")).json() == left
    same_figures(absorbed.json(), cli_absorb)
    same_figures(weth.json(), cli_weth)
    same_figures(wbtc.json(), cli_wbtc)
    assert under["supply"] == {"USDC": "480"} and under["borrow"] == {}
    assert shop == {
        "base": "USDC",
        "reserves": {"USDC": "-6480"},
        "target_reserves": "1000000",
        "for_sale": True,
        "holdings": [
            {"asset": "WETH", "units": "1", "price": "3000", "store_front_price": "2895"},
            {"asset": "WBTC", "units": "0.1", "price": "41000", "store_front_price": "38950"},
        ],
    }
    assert (weth.json()["bought"], wbtc.json()["paid"]) == ("0.5", "3895")
    assert empty.status_code == 409
    assert empty.json()["error"]["code"] == "insufficient_reserves"
    assert left["reserves"] == {"USDC": "-1137.5"}  # -6480 + 1447.5 + 3895
    assert left["holdings"] == [
        {"asset": "WETH", "units": "0.5", "price": "3000", "store_front_price": "2895"}
    ]


def test_a_liquidation_on_a_storefront_market_absorbs_the_account(server_factory: Any) -> None:
    body = {"account": "sunk", "debt_asset": "USDC", "collateral_asset": "WETH", "max": True}
    with server_factory(market=COMET) as srv, srv.client() as c:
        liq = srv.headers("liquidator")
        for wrong, status, code in [
            ({**body, "max": False, "amount": "100"}, 422, "invalid_request"),
            ({**body, "collateral_asset": "WBTC"}, 409, "nothing_to_liquidate"),
            ({**body, "account": "safe"}, 409, "not_liquidatable"),
        ]:
            r = c.post("/v1/liquidations", json=wrong, headers=liq)
            assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
        assert srv.journal_len() == 1
        quote = c.get(
            "/v1/liquidations/quote",
            params={k: v for k, v in body.items() if k != "max"},
            headers=liq,
        )
        r = c.post("/v1/liquidations", json=body, headers=liq)
        journal = c.get("/v1/journal", headers=srv.headers("admin")).json()["entries"]
    assert r.status_code == 200, r.text
    assert {k: v for k, v in r.json().items() if k not in ("seq", "liquidator")} == quote.json()
    # credited 2790 < 3500 of debt: no excess; the protocol's value -500 (reserves bear it).
    assert (r.json()["excess"], r.json()["protocol_value"]) == ("0", "-500")
    assert r.json()["reserves"] == {"USDC": "-3500"}
    assert (journal[-1]["kind"], journal[-1]["account"]) == ("absorb", "sunk")


def test_socialised_losses_answer_as_the_cli_and_reach_every_stream(
    server_factory: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    m1 = tmp_path / "m1.toml"
    cli_perp = cli_json(capsys, "socialize", DRIFT, "--perp", "ETH-PERP", "--out", m1)
    cli_spot = cli_json(capsys, "socialize", m1, "--asset", "DAI")
    with server_factory(market=DRIFT) as srv, srv.client() as c, srv.client() as s:
        admin = srv.headers("admin")
        with s.stream("GET", "/v1/events", headers=srv.headers("account", "saver20")) as st:
            lines = st.iter_lines()
            _connected(lines)
            perp = c.post("/v1/socialize", json={"perp": "ETH-PERP"}, headers=admin)
            spot = c.post("/v1/socialize", json={"asset": "DAI"}, headers=admin)
            got = _events(lines, 2)
        again = c.post("/v1/socialize", json={"asset": "DAI"}, headers=admin)
        long3 = c.get("/v1/accounts/long3", headers=admin).json()
        saver = c.get("/v1/accounts/saver100", headers=admin).json()
        summary = c.get("/v1/risk/summary", headers=admin).json()
    with server_factory(market=None) as srv, srv.client() as c:
        assert (
            c.get("/v1/risk/summary", headers=srv.headers("admin")).json()["assets"]
            == (summary["assets"])
        )
        replay_database(srv.engine)
    same_figures(perp.json(), cli_perp)
    same_figures(spot.json(), cli_spot)
    assert perp.json()["funding_delta"] == "9.0909091"
    assert [k for k, _ in got] == ["loss_socialized", "loss_socialized"]
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "nothing_to_socialize"
    assert long3["perps"]["ETH-PERP"]["funding_index"] == "-9.0909091"
    assert long3["perps"]["ETH-PERP"]["pnl"] == "-27.2727273"  # owed, settled when it trades
    assert saver["supply"] == {"DAI": "90.833333"}
    assert summary["deficit"] == {}
    assert summary["assets"]["DAI"]["supply_index"] == "0.908333333333333333"
    assert summary["assets"]["USDC"]["supply_index"] == "1"


def test_deleverage_answers_as_the_cli_and_tells_the_counterparties(
    server_factory: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = cli_json(capsys, "deleverage", DYDX, "--account", "bankrupt", "--perp", "ETH-PERP")
    body = {"account": "bankrupt", "perp": "ETH-PERP"}
    with server_factory(market=DYDX) as srv, srv.client() as c, srv.client() as s:
        admin = srv.headers("admin")
        refused = c.post("/v1/deleverage", json={**body, "account": "loser"}, headers=admin)
        with s.stream("GET", "/v1/events", headers=srv.headers("account", "deep")) as st:
            lines = st.iter_lines()
            _connected(lines)
            r = c.post("/v1/deleverage", json=body, headers=admin)
            ((kind, event),) = _events(lines, 1)
        deep = c.get("/v1/accounts/deep", headers=admin).json()
        perps = c.get("/v1/perps", headers=admin).json()["perps"][0]
        replay_database(srv.engine)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "not_bankrupt"
    assert r.status_code == 200, r.text
    same_figures(r.json(), cli)
    assert (kind, event["accounts"]) == ("deleverage", ["bankrupt", "deep", "wide"])
    # deep's short 1.5 closed at 2050: +75 realised into its 500 USDC.
    assert deep["perps"] == {} and deep["supply"] == {"USDC": "575"}
    # left: twin's long 1; loser's short 1.
    assert (perps["open_interest_long"], perps["open_interest_short"]) == ("1", "1")


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"reserves": Decimal(1)}, "state.reserves.USDC"),
        ({"protocol_collateral": Decimal(2)}, "state.protocol_collateral.USDC"),
        ({"supply_index": Decimal("0.5")}, "state.supply_index.USDC"),
    ],
)
def test_replay_names_a_stored_design_state_the_journal_does_not_give(
    server_factory: Any, values: dict[str, Decimal], named: str
) -> None:
    with server_factory(market=COMET) as srv:
        with srv.client() as c:
            c.post("/v1/absorb", json={"account": "under"}, headers=srv.headers("liquidator"))
        replay_database(srv.engine)
        with write_transaction(srv.engine) as conn:
            conn.execute(update(AssetRow).where(AssetRow.symbol == "USDC").values(**values))
        with pytest.raises(JournalMismatch) as info:
            replay_database(srv.engine)
    assert any(named in d for d in info.value.differences), info.value.differences


def test_a_liquidation_on_a_target_health_market_repays_to_the_target(
    server_factory: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    target = VECTORS / "aave_v4_target.toml"
    cli = cli_json(
        capsys, "liquidate", target, "--account", "ninety-six", "--debt", "USDC",
        "--collateral", "WETH", "--max",
    )  # fmt: skip
    body = {"account": "ninety-six", "debt_asset": "USDC", "collateral_asset": "WETH"}
    with server_factory(market=target) as srv, srv.client() as c:
        liq = srv.headers("liquidator")
        quote = c.get("/v1/liquidations/quote", params=body, headers=liq)
        r = c.post("/v1/liquidations", json={**body, "max": True}, headers=liq)
        replay_database(srv.engine)
    assert r.status_code == 200, r.text
    same_figures(r.json(), cli)
    assert {k: v for k, v in r.json().items() if k not in ("seq", "liquidator")} == quote.json()
    assert (r.json()["repaid"], r.json()["bonus"]) == ("4169.240272", "0.042666666666666666")
