"""Fixtures of the simulation tests: the shared price data (skipped cleanly without it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA

PRICES_HOURLY = SHARED_DATA / "prices_hourly"


@pytest.fixture(name="prices_hourly")
def prices_hourly_fixture() -> Path:
    """``../shared/data/prices_hourly`` (no licence: read here, never shipped)."""
    if not (PRICES_HOURLY / "UST_usd.csv").is_file():
        pytest.skip(f"shared price data not found at {PRICES_HOURLY}")
    return PRICES_HOURLY
