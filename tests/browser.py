"""One way to a real browser for every test that needs one: Playwright driving Debian's
Chromium (no browser download).

``XMARGIN_CHROMIUM`` names the executable (default ``/usr/bin/chromium``, else
``chromium-browser`` or ``chromium`` on the PATH). Without Playwright or Chromium a test
that needs them skips with the reason on a developer's machine, and fails in CI
(``CI=true``), where ``.ci/run`` installs both.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def unavailable(reason: str) -> None:
    """Fail in CI (the browser tests must run there); skip elsewhere, with the reason."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: the browser tests must run in CI (.ci/run installs chromium)")
    pytest.skip(reason)


def chromium_path() -> str | None:
    """The Chromium executable to drive, or ``None``."""
    named = os.environ.get("XMARGIN_CHROMIUM")
    for c in (named, *CHROMIUM_CANDIDATES) if named else CHROMIUM_CANDIDATES:
        if c and Path(c).exists():
            return c
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (a Playwright ``Browser``), closed on exit."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed")
    path = chromium_path()
    if path is None:
        unavailable("no Chromium (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=path, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield browser
        finally:
            browser.close()
