"""The durable store: SQLAlchemy models, repositories, the journal, and migrations.

``make_engine(url)`` builds an engine (nothing connects at import time); the database is
the durable truth behind the service's in-memory market. See :mod:`xmargin.store.journal`
for the event-sourced journal and :func:`xmargin.store.replay.replay_database`.
"""

from xmargin.store.engine import DEFAULT_DATABASE_URL, database_url_from_env, make_engine
from xmargin.store.replay import replay_database

__all__ = ["DEFAULT_DATABASE_URL", "database_url_from_env", "make_engine", "replay_database"]
