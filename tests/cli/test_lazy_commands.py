"""The static command table (issue 11, item 4): ``xmargin --help`` imports no command
module, a command imports only its own, and the table says what the modules say."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import typer

from tests.probes import probe
from xmargin.cli.app import app
from xmargin.cli.command_table import COMMANDS, MODULES, load_command, register_module, sub_app

from .conftest import Run


def test_the_table_lists_exactly_what_the_modules_register_in_their_order() -> None:
    every = sub_app()
    for module in MODULES:
        register_module(every, module)
    group = typer.main.get_group(every)
    assert list(group.commands) == list(COMMANDS)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_summary_is_the_first_paragraph_of_the_commands_help(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    first = (command.help or "").split("\n\n")[0]
    assert COMMANDS[name][1] == " ".join(first.split())


@pytest.mark.parametrize("columns", ["40", "80", "200"])
def test_the_overview_is_the_same_before_and_after_every_command_is_built(
    xm: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    group = typer.main.get_command(app)
    ctx = typer.Context(group, info_name="xmargin", **group.context_settings)
    before = group.get_help(ctx)
    for name in COMMANDS:
        assert group.get_command(ctx, name) is not None  # type: ignore[attr-defined]
    assert group.get_help(ctx) == before
    assert xm("--help").out.rstrip("\n") == before.rstrip("\n")


_PROBE = """
import json, sys
from xmargin.cli.app import main
try:
    main(json.loads(sys.argv[1]))
except SystemExit as exc:
    code = exc.code
heavy = ("numpy", "pydantic", "rich", "pyarrow", "xmargin.model", "xmargin.analytics")
mods = sorted(m for m in sys.modules if m.startswith("xmargin.cli.") and m.endswith("_commands"))
sys.stderr.write(json.dumps({"code": code, "heavy": [h for h in heavy if h in sys.modules],
                             "modules": mods}))
"""


def _imports(*args: str) -> dict[str, object]:
    return probe(_PROBE, list(args))


def test_the_overview_imports_no_command_module_nor_numpy_pydantic_or_rich() -> None:
    for args in (["--help"], ["-h"], [], ["--version"]):
        found = _imports(*args)
        assert found == {"code": 0, "heavy": [], "modules": []}, args


def test_a_command_imports_only_its_own_module() -> None:
    found = _imports("health", "--help")
    assert found["code"] == 0 and found["modules"] == ["xmargin.cli.core_commands"]
    found = _imports("simulate", "montecarlo", "--help")
    assert found["code"] == 0 and found["modules"] == ["xmargin.cli.simulate_commands"]
    found = _imports("no-such-command")
    assert found["code"] == 2 and found["modules"] == []
