"""Schema migrations: Alembic scripts shipped inside the package, run programmatically."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from xmargin.errors import StoreError

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade"]

SCRIPT_LOCATION = "xmargin.store:alembic"


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migration scripts."""
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    return cfg


def head_revision() -> str:
    """The newest migration this version of xmargin ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision, ``None`` for an empty database."""
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the database schema version: {exc.args[0]}") from exc


def upgrade(engine: Engine) -> None:
    """Bring the database's schema to the newest revision (a no-op when it is there)."""
    cfg = alembic_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        raise StoreError(f"database migration failed: {exc.args[0]}") from exc
