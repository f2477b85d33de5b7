"""The CLI's one error boundary: exit codes, ``error:`` lines, JSON errors, no tracebacks."""

from __future__ import annotations

import typer


def run_guarded(app: typer.Typer, argv: list[str] | None) -> int:
    """Run ``app``; map every failure to the contract's exit status (0, 1 or 2)."""
    raise NotImplementedError  # written by the CLI work
