"""Settings of one service instance (built by the CLI, or by tests)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from xmargin.risk.status import DEFAULT_WARNING_LEVEL
from xmargin.store.engine import DEFAULT_DATABASE_URL

__all__ = ["Settings"]


class Settings(BaseModel):
    """What ``create_app`` needs; nothing here connects to anything."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: ``sqlite:///FILE`` (embedded default) or ``postgresql+psycopg://...``
    database_url: str = DEFAULT_DATABASE_URL
    #: loaded into an empty database at the first start; ignored once the database holds
    #: a market (later starts resume from the database)
    market_file: Path | None = None
    #: FULL: a commit survives power loss; NORMAL: survives a crash of the process
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    #: health factor below which a solvent account is ``at_risk``
    at_risk_below: Decimal = DEFAULT_WARNING_LEVEL
    #: kernels of the risk book. NumPy by default: the service updates the book in small
    #: steps and starts in milliseconds; Numba (``auto`` when installed) pays off on books
    #: of millions of accounts, after a JIT start of a few seconds
    book_backend: Literal["auto", "numpy", "numba"] = "numpy"
    #: most commands committed in one transaction
    max_batch: int = Field(default=256, ge=1, le=10_000)
    #: events kept for clients that reconnect with Last-Event-ID
    event_history: int = Field(default=1000, ge=0)
    #: largest request body read; a larger one is refused (413) without being read
    max_body_bytes: int = Field(default=1 << 20, ge=1024, le=64 << 20)
    #: seconds a request body may take to arrive (408 after that)
    body_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    #: seconds a connection may take to send a request's headers; idle or slow
    #: connections are closed after that
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=3600)
    #: seconds an idle keep-alive connection is kept open after a response
    keep_alive_seconds: float = Field(default=5.0, gt=0, le=3600)
    #: failed authentications (unknown, revoked or expired keys) one client may make
    #: within ``auth_failure_window_seconds`` before its requests are refused (429);
    #: 0 turns the limit off
    auth_failure_limit: int = Field(default=20, ge=0)
    auth_failure_window_seconds: float = Field(default=60.0, gt=0)
