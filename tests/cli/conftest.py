"""Fixtures of the CLI tests: run ``xmargin`` in-process, or as the installed script.

In-process runs call :func:`xmargin.cli.app.main` exactly as the script does and capture
its exit status, stdout and stderr; a few tests run the real ``.venv/bin/xmargin`` to
prove that nothing escapes as a traceback.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from xmargin.cli.app import main

FILES = Path(__file__).parent / "files"


@dataclass(frozen=True)
class Run:
    """One run of the CLI: exit status and everything it printed."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    @property
    def error_line(self) -> str:
        """The one ``error: ...`` line a failure prints on stderr."""
        lines = self.err.splitlines()
        assert len(lines) == 1, f"expected exactly one stderr line, got {lines!r}"
        assert lines[0].startswith("error: "), lines[0]
        return lines[0]

    def assert_clean(self) -> None:
        """No traceback anywhere."""
        assert "Traceback" not in self.out
        assert "Traceback" not in self.err


def run_in_process(capsys: pytest.CaptureFixture[str], *args: str | Path) -> Run:
    capsys.readouterr()  # drop anything printed before
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    else:  # pragma: no cover - main always exits
        raise AssertionError("main() returned without sys.exit")
    captured = capsys.readouterr()
    assert isinstance(code, int), code
    return Run(code, captured.out, captured.err)


@pytest.fixture
def xm(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """``xm("health", path, "--json")`` runs the CLI in-process."""

    def run(*args: str | Path) -> Run:
        return run_in_process(capsys, *args)

    return run


@pytest.fixture
def xmargin_exe() -> Path:
    """The installed ``xmargin`` script (``.venv/bin/xmargin``)."""
    found = Path(sys.executable).with_name("xmargin")
    if not found.exists():
        which = shutil.which("xmargin")
        if which is None:
            pytest.skip("the xmargin script is not installed next to this Python")
        found = Path(which)
    return found


@pytest.fixture
def xm_script(xmargin_exe: Path) -> Callable[..., Run]:
    """``xm_script("health", path)`` runs the installed ``xmargin`` script."""

    def run(*args: str | Path) -> Run:
        proc = subprocess.run(
            [str(xmargin_exe), *(str(a) for a in args)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def demo_toml() -> Path:
    return FILES / "demo.toml"


@pytest.fixture
def demo_json() -> Path:
    return FILES / "demo.json"


@pytest.fixture
def dust_toml() -> Path:
    return FILES / "dust.toml"
