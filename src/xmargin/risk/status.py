"""An account's risk status from its figures (contract section 2, and the warning level).

An account is ``liquidatable`` (contract 2: maintenance_debt > 0 and health factor < 1),
``at_risk`` (health factor from 1 up to the warning level) or ``healthy`` (no debt, or
health factor at or above the warning level). The risk book, the service and the
simulations classify with this function or its float twin
(:func:`xmargin.fast.health.status_of`).
"""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum

from xmargin.mathlib import ONE
from xmargin.risk.health import AccountHealth

__all__ = ["DEFAULT_WARNING_LEVEL", "Status", "check_warning_level", "status_of"]

#: Health factor below which an account is ``at_risk`` (and at or above which healthy).
DEFAULT_WARNING_LEVEL = Decimal("1.1")


class Status(IntEnum):
    """An account's risk status, in order of severity."""

    HEALTHY = 0
    AT_RISK = 1
    LIQUIDATABLE = 2

    @property
    def label(self) -> str:
        """``healthy``, ``at_risk`` or ``liquidatable``."""
        return self.name.lower()


def check_warning_level(level: Decimal, where: str = "warning level") -> Decimal:
    """``level`` if it is a finite number >= 1; else :class:`~xmargin.errors.InputError`."""
    from xmargin.errors import InputError

    if not level.is_finite() or level < ONE:
        raise InputError(f"{where}: must be a number >= 1, was {level}")
    return level


def status_of(health: AccountHealth, warning_level: Decimal = DEFAULT_WARNING_LEVEL) -> Status:
    """The status of an account with figures ``health`` (exact; see the module docstring).

    Notes
    -----
    liquidatable  <=>  md > 0 and mc < md;   at_risk  <=>  not liquidatable and
    hf < warning_level, i.e. mc < warning_level x md.
    """
    if health.liquidatable:
        return Status.LIQUIDATABLE
    hf = health.health_factor
    if hf is not None and hf < warning_level:
        return Status.AT_RISK
    return Status.HEALTHY
