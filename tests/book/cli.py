"""Running ``xmargin`` in-process for the risk-book CLI tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from xmargin.cli.app import main


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines()]


def xm(capsys: pytest.CaptureFixture[str], *args: str | Path) -> Run:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    captured = capsys.readouterr()
    assert isinstance(exc.value.code, int)
    assert "Traceback" not in captured.out + captured.err
    return Run(exc.value.code, captured.out, captured.err)
