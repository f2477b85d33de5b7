"""Roles and API keys: who may do what.

A request carries ``Authorization: Bearer KEY``; keys are created with
``xmargin keys create`` and only their SHA-256 is stored. Each endpoint needs one
permission; :data:`PERMISSIONS` says which roles hold it. An ``account`` key acts on its
own account only.

=================  =====================================================================
permission         roles
=================  =====================================================================
read_assets        admin, oracle, liquidator, account
set_asset_params   admin
push_prices        oracle
read_account       admin, liquidator, account (own account only)
move_balances      account (own account only)
read_liquidations  admin, liquidator
liquidate          liquidator
read_risk          admin, liquidator
read_journal       admin
read_book          admin, oracle, liquidator (the dashboard's book-wide views)
read_events        admin, oracle, liquidator; account (its own account's events, prices)
run_analysis       admin (calibrate, optimize, network: read-only)
=================  =====================================================================
"""

from __future__ import annotations

import time
from typing import Literal

from sqlalchemy import Engine

from xmargin.errors import NotAuthenticated, PermissionDenied
from xmargin.store.repositories import ApiKey, Role, find_api_key, hash_secret

__all__ = ["PERMISSIONS", "KeyCache", "Permission", "authorize", "bearer_key"]

Permission = Literal[
    "read_assets",
    "set_asset_params",
    "push_prices",
    "read_account",
    "move_balances",
    "read_liquidations",
    "liquidate",
    "read_risk",
    "read_journal",
    "read_book",
    "read_events",
    "run_analysis",
]

PERMISSIONS: dict[Permission, frozenset[Role]] = {
    "read_assets": frozenset({"admin", "oracle", "liquidator", "account"}),
    "set_asset_params": frozenset({"admin"}),
    "push_prices": frozenset({"oracle"}),
    "read_account": frozenset({"admin", "liquidator", "account"}),
    "move_balances": frozenset({"account"}),
    "read_liquidations": frozenset({"admin", "liquidator"}),
    "liquidate": frozenset({"liquidator"}),
    "read_risk": frozenset({"admin", "liquidator"}),
    "read_journal": frozenset({"admin"}),
    "read_book": frozenset({"admin", "oracle", "liquidator"}),
    "read_events": frozenset({"admin", "oracle", "liquidator", "account"}),
    "run_analysis": frozenset({"admin"}),
}

_OWN_ACCOUNT_ONLY: frozenset[Permission] = frozenset({"read_account", "move_balances"})


def authorize(key: ApiKey, permission: Permission, account: str | None = None) -> None:
    """Raise :class:`PermissionDenied` unless ``key`` may use ``permission`` (on ``account``)."""
    roles = PERMISSIONS[permission]
    if key.role not in roles:
        allowed = ", ".join(sorted(roles))
        raise PermissionDenied(
            f"a key of role {key.role!r} may not {permission.replace('_', ' ')} "
            f"(needs role {allowed})"
        )
    if (
        key.role == "account"
        and permission in _OWN_ACCOUNT_ONLY
        and account is not None
        and account != key.account
    ):
        raise PermissionDenied(f"this key acts for account {key.account!r} only, not {account!r}")


def bearer_key(header: str | None) -> str:
    """The key of an ``Authorization: Bearer KEY`` header; else :class:`NotAuthenticated`."""
    if not header:
        raise NotAuthenticated("missing Authorization header: send 'Authorization: Bearer KEY'")
    scheme, _, key = header.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise NotAuthenticated("the Authorization header must be 'Bearer KEY'")
    return key


class KeyCache:
    """Verified keys by hash, remembered for ``ttl`` seconds (unknown keys are not)."""

    def __init__(self, engine: Engine, ttl: float) -> None:
        self.engine = engine
        self.ttl = ttl
        self._known: dict[str, tuple[ApiKey, float]] = {}

    def resolve(self, key: str) -> ApiKey:
        digest = hash_secret(key)
        hit = self._known.get(digest)
        now = time.monotonic()
        if hit is not None and hit[1] > now:
            return hit[0]
        found = find_api_key(self.engine, key)
        if found is None:
            raise NotAuthenticated("unknown API key")
        if self.ttl > 0:
            if len(self._known) > 10_000:
                self._known.clear()
            self._known[digest] = (found, now + self.ttl)
        return found
