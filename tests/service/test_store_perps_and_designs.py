"""The store keeps perps and the liquidation designs' state (migration 0003): a market is
read back exactly as it was written, in SQLite and PostgreSQL, and a database made by
the previous revision gets that state from its genesis when it is upgraded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from xmargin.io.market_file import load_market
from xmargin.model.market import Market
from xmargin.store import make_engine
from xmargin.store.compare import compare_markets
from xmargin.store.engine import create_database, write_transaction
from xmargin.store.migrations import alembic_config, current_revision, head_revision, upgrade
from xmargin.store.repositories import genesis_document, initialize_market, load_state
from xmargin.store.types import DecimalJSON, ExactDecimal

#: Every kind of state a market file may hold: perps with positions and a funding index,
#: the fund, the clock, a running auction, the storefront's books and a supply index.
EVERYTHING = """\
[market]
name = "everything"
quote = "USD"
liquidation = "auction"
time = "2024-06-01T08:00:00Z"
insurance_fund = { USDC = 100, WETH = 0.25 }

[market.auction]
buf = 1.2
tail = 8400

[assets.WETH]
price = 2000
collateral_factor = 0.75
liquidation_threshold = 0.8
liquidation_bonus = 0.13

[assets.USDC]
price = 1
decimals = 6
collateral_factor = 0.8
liquidation_threshold = 0.85
liquidation_bonus = 0.04

[perps.ETH-PERP]
underlying = "WETH"
settlement_asset = "USDC"
initial_margin = 0.10
maintenance_margin = 0.05
funding_index = 2.5
open_interest_cap = 500

[accounts.short]
supply = { WETH = 5 }
borrow = { USDC = 9000 }

[accounts.trader]
supply = { USDC = 10000 }
perps = { ETH-PERP = { size = -3, entry_price = 1950.123456789012345678, funding_index = 1 } }

[accounts.long]
supply = { USDC = 500 }
perps = { ETH-PERP = { size = 0.000000000000000001, entry_price = 2000 } }

[state]
auction_count = 2
reserves = { USDC = -5.5 }
protocol_collateral = { WETH = 1.5 }
supply_index = { USDC = 0.999999999999999999, WETH = 0 }

[state.auctions.2]
account = "short"
debt_asset = "USDC"
collateral_asset = "WETH"
debt = 100
tab = 113
lot = 1
top = 2400.000000000000000001
tic = "2024-06-01T07:59:59.123456Z"
"""


def _everything(tmp_path: Path) -> Market:
    path = tmp_path / "everything.toml"
    path.write_text(EVERYTHING, encoding="utf-8")
    return load_market(path)


def test_a_market_with_perps_and_design_state_is_read_back_exactly(
    db_url: str, tmp_path: Path
) -> None:
    market = _everything(tmp_path)
    create_database(db_url)
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        initialize_market(engine, market, "everything.toml")
        with engine.connect() as conn:
            stored = load_state(conn).market
    finally:
        engine.dispose()
    assert compare_markets(stored, market) == []  # everything, located (as replay does)
    assert stored.params.time == datetime(2024, 6, 1, 8, tzinfo=UTC)
    assert stored.auctions[2].tic == datetime(2024, 6, 1, 7, 59, 59, 123456, tzinfo=UTC)
    assert stored.auctions[2].top == Decimal("2400.000000000000000001")
    assert stored.accounts["long"].perps["ETH-PERP"].size == Decimal("1e-18")
    assert stored.open_interest == {"ETH-PERP": (Decimal("1e-18"), Decimal(3))}
    assert stored.supply_index == {"USDC": Decimal("0.999999999999999999"), "WETH": Decimal(0)}


def _old_tables() -> dict[str, sa.TableClause]:
    """The tables as revision 0002 left them (what a previous server wrote)."""
    d, j = ExactDecimal(), DecimalJSON()
    t = sa.DateTime(timezone=True)
    cols = {
        "market": [("id", sa.Integer()), ("params", j), ("categories", j),
                   ("source", sa.String()), ("created_at", t)],
        "assets": [("symbol", sa.String()), ("ord", sa.Integer()), ("params", j),
                   ("price", d), ("price_at", t), ("total_supply", d), ("total_borrow", d),
                   ("deficit", d), ("isolation_debt", d)],
        "accounts": [("id", sa.String()), ("ord", sa.Integer()), ("category", sa.String()),
                     ("version", sa.Integer())],
        "balances": [("account_id", sa.String()), ("asset", sa.String()), ("supply", d),
                     ("borrow", d)],
        "journal": [("seq", sa.Integer()), ("at", t), ("kind", sa.String()),
                    ("account", sa.String()), ("actor", sa.String()),
                    ("idempotency_key", sa.String()), ("command", j), ("result", j)],
    }  # fmt: skip
    return {name: sa.table(name, *(sa.column(c, ty) for c, ty in cs)) for name, cs in cols.items()}


def test_a_database_of_the_previous_revision_gets_its_perps_and_state_from_the_genesis(
    db_url: str, tmp_path: Path
) -> None:
    market = _everything(tmp_path)
    doc = genesis_document(market)
    now = datetime(2024, 6, 1, 9, tzinfo=UTC)
    create_database(db_url)
    engine = make_engine(db_url)
    try:
        cfg = alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0002")
        t = _old_tables()
        with write_transaction(engine) as conn:
            conn.execute(
                t["market"].insert(),
                [{"id": 1, "params": doc["market"], "categories": {}, "source": "f",
                  "created_at": now}],
            )  # fmt: skip
            conn.execute(
                t["assets"].insert(),
                [
                    {"symbol": s, "ord": i, "params": {}, "price": a.price, "price_at": None,
                     "total_supply": market.total_supply.get(s, Decimal(0)),
                     "total_borrow": market.total_borrow.get(s, Decimal(0)),
                     "deficit": Decimal(0), "isolation_debt": Decimal(0)}
                    for i, (s, a) in enumerate(market.assets.items())
                ],
            )  # fmt: skip
            conn.execute(
                t["assets"].update().where(t["assets"].c.symbol == sa.bindparam("s")),
                [
                    {"s": s, "params": a.model_dump(exclude={"symbol", "price"}, exclude_none=True)}
                    for s, a in market.assets.items()
                ],
            )
            conn.execute(
                t["accounts"].insert(),
                [{"id": a, "ord": i, "category": None, "version": 1}
                 for i, a in enumerate(market.accounts)],
            )  # fmt: skip
            conn.execute(
                t["balances"].insert(),
                [
                    {"account_id": acc.id, "asset": s, "supply": acc.supplied(s),
                     "borrow": acc.borrowed(s)}
                    for acc in market.accounts.values()
                    for s in dict.fromkeys([*acc.supply, *acc.borrow])
                ],
            )  # fmt: skip
            # The genesis, and a section-3 liquidation that drew 30 USDC from the fund.
            conn.execute(
                t["journal"].insert(),
                [
                    {"seq": 1, "at": now, "kind": "genesis", "account": None, "actor": None,
                     "idempotency_key": None, "command": doc, "result": {"source": "f"}},
                    {"seq": 2, "at": now, "kind": "liquidate", "account": "x", "actor": "k",
                     "idempotency_key": None, "command": {},
                     "result": {"insurance_fund_used": {"USDC": "30"}, "bad_debt": {}}},
                ],
            )  # fmt: skip
        assert current_revision(engine) == "0002"
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            stored = load_state(conn)
    finally:
        engine.dispose()
    m = stored.market
    assert m.insurance_fund == {"USDC": Decimal(70), "WETH": Decimal("0.25")}
    m.insurance_fund = market.insurance_fund
    assert compare_markets(m, market) == []
    assert stored.last_seq == 2
