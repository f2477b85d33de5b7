"""Commands of contract section 4: check, health, liquidate, liquidation-price, stress."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
