"""Repositories: every query the service and the CLI make, importable from one place.

Each job lives in its own module; this one only gathers their public names:

- :mod:`xmargin.store.records` — the plain records repositories hand out and take in;
- :mod:`xmargin.store.market_store` — the genesis and the stored market;
- :mod:`xmargin.store.batches` — the write path (one batch, one transaction) and
  idempotency;
- :mod:`xmargin.store.journal_reads` — reading the journal;
- :mod:`xmargin.store.api_keys` — API keys.

Domain objects go in and out (:class:`~xmargin.model.Market`, plain records); ORM rows
stay in the store. SQLAlchemy errors leave as :class:`~xmargin.errors.StoreError`.
"""

from __future__ import annotations

from xmargin.store.api_keys import (
    KeyLookup,
    create_api_key,
    find_api_key,
    hash_secret,
    list_api_keys,
    revoke_api_key,
)
from xmargin.store.batches import commit_batch, find_idempotent, write_batch
from xmargin.store.journal_reads import iter_journal, journal_after, journal_count
from xmargin.store.market_store import (
    count_rows,
    genesis_document,
    initialize_market,
    is_initialized,
    load_state,
    stored_totals,
)
from xmargin.store.records import (
    ROLES,
    ApiKey,
    BatchWrite,
    IdempotentResult,
    JournalEntry,
    Role,
    StoredState,
    utcnow,
)

__all__ = [
    "ROLES",
    "ApiKey",
    "BatchWrite",
    "IdempotentResult",
    "JournalEntry",
    "KeyLookup",
    "Role",
    "StoredState",
    "commit_batch",
    "count_rows",
    "create_api_key",
    "find_api_key",
    "find_idempotent",
    "genesis_document",
    "hash_secret",
    "initialize_market",
    "is_initialized",
    "iter_journal",
    "journal_after",
    "journal_count",
    "list_api_keys",
    "load_state",
    "revoke_api_key",
    "stored_totals",
    "utcnow",
    "write_batch",
]
