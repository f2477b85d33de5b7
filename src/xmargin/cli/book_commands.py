"""Commands backed by the columnar risk book: watch, generate-book, large-file paths."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
