"""Alembic environment of the xmargin store (run through :mod:`xmargin.store.migrations`)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from xmargin.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("xmargin migrations run through xmargin.store.migrations.upgrade")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("xmargin migrations run online only")
run_migrations_online()
