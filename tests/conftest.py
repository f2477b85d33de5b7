"""Shared fixtures: the declarative market builder, the hand-checked vectors, a browser.

Hypothesis profiles: ``default`` (modest, for every run) and ``ci`` (more examples);
choose one with ``HYPOTHESIS_PROFILE``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.browser import chromium
from tests.builders import VECTORS, load_vector, make_market
from xmargin.model import Market

settings.register_profile(
    "default",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

#: Real data shared beside the project (read-only; tests skip cleanly without it).
SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.fixture(name="make_market")
def make_market_fixture() -> Callable[..., Market]:
    """``make_market(assets=..., accounts=..., market=..., categories=..., state=...)``."""
    return make_market


@pytest.fixture(name="vectors_dir")
def vectors_dir_fixture() -> Path:
    """The folder of hand-checked market files, ``tests/vectors``."""
    return VECTORS


@pytest.fixture(name="load_vector")
def load_vector_fixture() -> Callable[[str], Market]:
    """``load_vector("basic.toml")``: a vector loaded through ``xmargin.io.load_market``."""
    return load_vector


@pytest.fixture(name="shared_data")
def shared_data_fixture() -> Path:
    """``../shared/data`` (real market data); skips the test when it is absent."""
    path = SHARED_DATA.resolve()
    if not path.is_dir():
        pytest.skip(f"shared data folder {path} is not present")
    return path


@pytest.fixture(name="browser", scope="module")
def browser_fixture() -> Iterator[Any]:
    """A headless Chromium (Playwright ``Browser``) for the module's tests
    (:mod:`tests.browser`: skips without one, fails in CI)."""
    with chromium() as b:
        yield b


@pytest.fixture(autouse=True)
def _no_inherited_terminal_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables follow ``COLUMNS`` when it is set (issue 9, item 3), and pytest-xdist's
    workers export ``COLUMNS=80``: every test starts without it, as a pipe does, and a
    test that wants a width sets it."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
