"""The SIGKILL test of ``test_crash_safety``, unchanged, on a server started with
``--sqlite-synchronous NORMAL``: in WAL mode a committed transaction is in the log file
before the writer answers, so a killed process loses no acknowledged action (only the
machine's crash, before the OS writes its cache out, could: hence FULL by default)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.service import test_crash_safety as crash


def test_acknowledged_actions_survive_sigkill_with_synchronous_normal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = crash._xmargin()
    wrapper = tmp_path / "xmargin-normal"
    args = " ".join(f"'{a}'" for a in real)
    wrapper.write_text(f'#!/bin/sh\nexec {args} "$@" --sqlite-synchronous NORMAL\n')
    wrapper.chmod(0o755)
    monkeypatch.setattr(crash, "_xmargin", lambda: [str(wrapper)])
    folder = tmp_path / "run"
    folder.mkdir()
    crash.test_acknowledged_actions_survive_sigkill_exactly_once(
        f"sqlite:///{folder / 'xmargin.db'}", folder
    )
    assert "--sqlite-synchronous NORMAL" in wrapper.read_text()
