"""docs/contract.md documents every command and every option that exists (issue 9,
item 9): the command tree is walked as ``--help`` shows it, and each command's synopsis
(``xmargin simulate replay``) and each option name (``--static``) must be in the contract.
A new command or option without a line in the contract fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from xmargin.cli.app import _register, app

CONTRACT = Path(__file__).resolve().parents[1] / "docs" / "contract.md"


def _commands() -> Iterator[tuple[list[str], Any]]:
    _register()
    root = typer.main.get_command(app)
    ctx = typer.Context(root, info_name="xmargin")

    def walk(cmd: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
        yield path, cmd
        if hasattr(cmd, "list_commands"):
            for name in cmd.list_commands(ctx):
                yield from walk(cmd.get_command(ctx, name), [*path, name])

    yield from walk(root, [])


def _undocumented() -> list[str]:
    text = CONTRACT.read_text(encoding="utf-8")
    missing: list[str] = []
    for path, cmd in _commands():
        if path and not hasattr(cmd, "list_commands"):
            synopsis = "xmargin " + " ".join(path)
            if not re.search(re.escape(synopsis) + r"(?![\w-])", text):
                missing.append(synopsis)
        for param in cmd.params:
            if param.param_type_name != "option" or getattr(param, "hidden", False):
                continue
            for name in [*param.opts, *param.secondary_opts]:
                if name in ("--help", "-h"):
                    continue
                if not re.search(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", text):
                    missing.append(f"xmargin {' '.join(path)} {name}".replace("  ", " "))
    return missing


def test_item9_the_contract_documents_every_command_and_option() -> None:
    assert _undocumented() == []


def test_item9_the_walk_sees_the_commands_the_issue_names() -> None:
    seen = {" ".join(p) for p, _ in _commands()}
    for name in ("watch", "generate-book", "serve", "keys create", "replay", "demo",
                 "simulate scenario", "simulate replay", "calibrate"):  # fmt: skip
        assert name in seen, name
