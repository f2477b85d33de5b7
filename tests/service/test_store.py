"""The store: exact decimals in every database, migrations that match the models,
clear errors for bad database URLs, one server per database."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from tests.service.conftest import MARKET
from xmargin.errors import StoreError
from xmargin.io.market_file import load_market
from xmargin.store import make_engine
from xmargin.store.engine import acquire_instance_lock, create_database, write_transaction
from xmargin.store.migrations import current_revision, head_revision, upgrade
from xmargin.store.models import AssetRow, BalanceRow, Base
from xmargin.store.repositories import initialize_market, load_state


def test_the_migrations_create_exactly_the_models(db_url: str) -> None:
    create_database(db_url)  # only `serve` creates a database
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        upgrade(engine)  # a second run changes nothing
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


EXTREMES = ["0.000000000000000001", "999999999999999999999999", "123456789.123456789012345678"]


def test_decimals_are_stored_exactly_never_as_floats(db_url: str) -> None:
    create_database(db_url)  # only `serve` creates a database
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        initialize_market(engine, load_market(MARKET), "market.toml")
        with write_transaction(engine) as conn:
            conn.execute(
                BalanceRow.__table__.update()
                .where(BalanceRow.account_id == "alice", BalanceRow.asset == "WETH")
                .values(supply=Decimal(EXTREMES[0]))
            )
            conn.execute(
                AssetRow.__table__.update()
                .where(AssetRow.symbol == "WETH")
                .values(
                    total_supply=Decimal(EXTREMES[1]),
                    deficit=Decimal(EXTREMES[2]),
                    isolation_debt=Decimal(EXTREMES[0]),
                )
            )
        with engine.connect() as conn:
            row = conn.execute(
                select(AssetRow.total_supply, AssetRow.deficit, AssetRow.isolation_debt).where(
                    AssetRow.symbol == "WETH"
                )
            ).one()
            assert [type(v) for v in row] == [Decimal] * 3
            assert list(row) == [Decimal(EXTREMES[1]), Decimal(EXTREMES[2]), Decimal(EXTREMES[0])]
            kind = conn.execute(
                text(
                    "SELECT data_type FROM information_schema.columns WHERE table_name = 'balances'"
                    " AND column_name = 'supply' AND table_schema = current_schema()"
                    if engine.dialect.name == "postgresql"
                    else "SELECT type FROM pragma_table_info('balances') WHERE name = 'supply'"
                )
            ).scalar_one()
            assert kind.lower() == (
                "numeric" if engine.dialect.name == "postgresql" else "varchar(80)"
            )
            stored = load_state(conn).market
        assert stored.accounts["alice"].supply == {"WETH": Decimal(EXTREMES[0])}
    finally:
        engine.dispose()


def test_a_second_server_on_one_database_is_refused(db_url: str) -> None:
    create_database(db_url)  # only `serve` creates a database
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        lock = acquire_instance_lock(engine)
        try:
            with pytest.raises(StoreError, match="in use by another xmargin server"):
                acquire_instance_lock(engine, wait_seconds=0.2)
        finally:
            lock.release()
        acquire_instance_lock(engine).release()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("nonsense", "not valid"),
        ("sqlite://", "SQLite file"),
        ("sqlite:///:memory:", "SQLite file"),
        ("mysql://u@h/db", "only SQLite and PostgreSQL"),
        ("postgresql+psycopg2://u@h/db", "psycopg 3"),
    ],
)
def test_a_database_url_the_store_cannot_use_is_refused_clearly(url: str, words: str) -> None:
    with pytest.raises(StoreError, match=words):
        make_engine(url)


def test_make_engine_connects_to_nothing(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'never.db'}")
    engine.dispose()
    assert not (tmp_path / "never.db").exists()
