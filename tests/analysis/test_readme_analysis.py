"""The README's calibrate / optimize / network examples run, and print what it shows."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
START = "## Calibrate, optimise, map the network"


def _examples() -> list[tuple[str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(START) :]
    section = section[: section.index("\n## ", 1)]
    out: list[tuple[str, str]] = []
    for block in re.findall(r"```console\n(.*?)```", section, flags=re.S):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            assert lines[i].startswith("$ "), lines[i]
            cmd = lines[i][2:]
            while cmd.endswith("\\"):
                i += 1
                cmd = cmd[:-1] + " " + lines[i].strip()
            i += 1
            shown: list[str] = []
            while i < len(lines) and not lines[i].startswith("$ "):
                shown.append(lines[i])
                i += 1
            # The README shows stdout then stderr (tests/test_readme.py); stdout here.
            shown = [line for line in shown if not line.startswith("warning: ")]
            out.append((cmd, "\n".join(shown).rstrip("\n")))
    return out


def test_the_section_shows_the_three_commands() -> None:
    names = [shlex.split(c)[1] for c, _ in _examples()]
    assert names == ["calibrate", "optimize", "simulate", "network"]


def test_every_example_runs_on_what_the_package_ships_and_prints_what_is_shown(
    xm: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").symlink_to(ROOT / "src")  # the commands name src/xmargin/data/...
    after_var99 = None
    for cmd, shown in _examples():
        args = shlex.split(cmd)
        assert args[0] == "xmargin"
        run = xm(*args[1:])
        assert run.code == 0, (cmd, run.err)
        got = "\n".join(line.rstrip() for line in run.out.rstrip("\n").splitlines())
        if shown:
            assert got.rstrip("\n") == shown, cmd
        if args[1] == "optimize":
            js = xm(*args[1:], "--json").json()
            after_var99 = js["after"]["var99"]
        if args[1] == "simulate":
            assert json.loads(run.out)["figures"]["var_99"]["value"] == after_var99
            # the README shows the figure's first digits (the last depend on the CPU)
            shown_var = re.search(r"\(`(\d+\.\d+)…`", README.read_text())
            assert shown_var is not None and str(after_var99).startswith(shown_var[1])
