"""The store keeps options (migration 0004): instruments, ``[option_margin]`` and
``[portfolio_margin]``, margin methods and positions are read back exactly, in SQLite and
PostgreSQL, and a database of the previous revision gets them from its genesis when it is
upgraded.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from alembic import command

from xmargin.io.market_file import load_market
from xmargin.model.market import Market
from xmargin.model.options import MarginMethod
from xmargin.store import make_engine
from xmargin.store.compare import compare_markets
from xmargin.store.engine import create_database
from xmargin.store.migrations import alembic_config, current_revision, head_revision, upgrade
from xmargin.store.repositories import initialize_market, load_state

MARKET = Path(__file__).parent / "option_market.toml"
PARAMS = """
[option_margin]
max_spot_requirement = 0.2
unpaired_initial_scale = 1.4

[portfolio_margin]
maintenance_factor = 0.7
maintenance_haircut = { WETH = 0.02 }
"""


def _market(tmp_path: Path) -> Market:
    path = tmp_path / "options.toml"
    path.write_text(MARKET.read_text(encoding="utf-8") + PARAMS, encoding="utf-8")
    return load_market(path)


def test_a_market_with_options_is_read_back_exactly(db_url: str, tmp_path: Path) -> None:
    market = _market(tmp_path)
    create_database(db_url)
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        initialize_market(engine, market, "options.toml")
        with engine.connect() as conn:
            stored = load_state(conn).market
    finally:
        engine.dispose()
    assert compare_markets(stored, market) == []
    assert stored.options == market.options
    assert stored.option_margin == market.option_margin
    assert stored.portfolio_margin == market.portfolio_margin
    assert stored.accounts["strangle"].margin is MarginMethod.PORTFOLIO
    assert stored.accounts["edge"].options == {"ETH-20240628-2200-C": Decimal(-5)}


def test_a_database_of_the_previous_revision_gets_its_options_from_the_genesis(
    db_url: str, tmp_path: Path
) -> None:
    market = _market(tmp_path)
    create_database(db_url)
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        initialize_market(engine, market, "options.toml")
        cfg = alembic_config()
        with engine.begin() as conn:  # what a server of revision 0003 kept: no options
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0003")
        assert current_revision(engine) == "0003"
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            stored = load_state(conn).market
    finally:
        engine.dispose()
    assert compare_markets(stored, market) == []
    assert stored.options == market.options
    assert stored.portfolio_margin == market.portfolio_margin
    assert stored.accounts["strangle"].margin is MarginMethod.PORTFOLIO
