"""Comparing the service's JSON with the CLI's: the same fields, decimals by value (the
service writes them normalised, the CLI at full precision)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import run_in_process

DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def same_figures(got: Any, want: Any, where: str = "") -> None:
    """Every field of the CLI's document ``want`` is in ``got`` with the same value."""
    if isinstance(want, dict):
        assert isinstance(got, dict), (where, got)
        for k, v in want.items():
            assert k in got, (where, k)
            same_figures(got[k], v, f"{where}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), (where, got, want)
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            same_figures(g, w, f"{where}.{i}")
    elif isinstance(want, str) and isinstance(got, str) and DECIMAL.fullmatch(want):
        assert DECIMAL.fullmatch(got), (where, got)
        assert Decimal(got) == Decimal(want), (where, got, want)
    else:
        assert got == want, (where, got, want)


def cli_json(capsys: pytest.CaptureFixture[str], *args: str | Path) -> dict[str, Any]:
    """The CLI's JSON document for ``args`` (run in-process); it must succeed."""
    run = run_in_process(capsys, *args, "--json")
    assert run.code == 0, run.err
    doc: dict[str, Any] = run.json()
    return doc
