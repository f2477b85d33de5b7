"""Help text, the one error boundary, and the installed script (no traceback escapes)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import typer

from xmargin.cli import core_commands
from xmargin.cli.app import _register, app
from xmargin.errors import PermissionDenied, StoreError

CORE = ["check", "health", "liquidate", "liquidation-price", "stress"]


def _commands(xm) -> dict[str, object]:
    assert xm("--help").code == 0
    group = typer.main.get_command(app)  # the root group, as the script builds it
    ctx = typer.Context(group, info_name="xmargin")
    names = group.list_commands(ctx)
    return {name: group.get_command(ctx, name) for name in names}


def test_every_registered_command_has_help_text(xm) -> None:
    commands = _commands(xm)
    assert set(CORE) <= set(commands)
    for name, command in commands.items():
        text = getattr(command, "help", None)
        assert isinstance(text, str) and text.strip(), f"{name} has no help text"
        run = xm(name, "--help")
        assert run.code == 0, name
        assert "Usage" in run.out
        assert run.err == ""


def test_core_commands_are_registered_once_however_often_main_runs(xm) -> None:
    overview = xm("--help").out
    xm("health", "--help")
    assert xm("--help").out == overview
    listed = re.findall(r"^  ([a-z][a-z-]+)  ", overview, flags=re.M)
    assert len(listed) == len(set(listed)) and set(CORE) <= set(listed)
    _register()
    _register()
    names = [info.name for info in app.registered_commands]
    for name in CORE:
        assert names.count(name) == 1


def test_help_on_the_core_commands_names_their_options(xm) -> None:
    run = xm("liquidate", "--help")
    for option in ("--account", "--debt", "--collateral", "--amount", "--max", "--out", "--json"):
        assert option in run.out


def test_no_arguments_prints_the_overview(xm) -> None:
    run = xm()
    assert run.code == 0
    for name in CORE:
        assert name in run.out


def test_an_unexpected_exception_is_an_internal_error_with_exit_2(
    xm, demo_toml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(core_commands, "account_health", boom)
    run = xm("health", demo_toml, "--json")
    run.assert_clean()
    assert run.code == 2
    assert run.error_line == "error: internal error: ZeroDivisionError: division by zero"
    assert run.json()["error"]["code"] == "internal_error"


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (StoreError("database is locked"), "store_error"),
        (PermissionDenied("read-only key"), "permission_denied"),
    ],
)
def test_store_and_permission_errors_exit_2_with_their_code(
    xm, demo_toml: Path, monkeypatch: pytest.MonkeyPatch, exc: Exception, code: str
) -> None:
    def refuse(*_: object) -> None:
        raise exc

    monkeypatch.setattr(core_commands, "load_market", refuse)
    run = xm("check", demo_toml, "--json")
    assert run.code == 2
    assert run.json()["error"]["code"] == code
    assert run.error_line == f"error: {exc}"


def test_an_interrupt_exits_130(xm, demo_toml: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(core_commands, "load_market", interrupt)
    run = xm("check", demo_toml)
    run.assert_clean()
    assert run.code == 130
    assert run.error_line == "error: interrupted"


def test_a_multi_line_message_is_printed_on_one_line(
    xm, demo_toml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object) -> None:
        raise StoreError("first line\nsecond line")

    monkeypatch.setattr(core_commands, "load_market", refuse)
    assert xm("check", demo_toml).error_line == "error: first line second line"


# -- the installed script, as a separate process ------------------------------------------
def test_the_script_runs_a_command_and_exits_0(xm_script, demo_toml: Path) -> None:
    run = xm_script("health", demo_toml, "--json")
    assert run.code == 0, run.err
    assert [row["account"] for row in run.json()["accounts"]] == ["alice", "bob", "carol", "dave"]


def test_the_script_reports_a_malformed_file_in_one_line_without_traceback(
    xm_script, tmp_path: Path
) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[market]\nquote = "USD"\n\n[assets.X]\nprice = 0\n')
    run = xm_script("check", path, "--json")
    run.assert_clean()
    assert run.code == 2
    assert "assets.X.price: must be > 0, was 0" in run.error_line
    assert "assets.X.collateral_factor: required" in run.json()["error"]["problems"]


def test_the_script_reports_a_refusal_with_exit_1(xm_script, demo_toml: Path) -> None:
    run = xm_script(
        "liquidate", demo_toml, "--account", "alice", "--debt", "USDC", "--collateral", "WETH",
        "--max",
    )  # fmt: skip
    run.assert_clean()
    assert run.code == 1
    assert run.out == ""
    assert "not liquidatable" in run.error_line


def test_the_script_reports_usage_errors_with_exit_2(xm_script, demo_toml: Path) -> None:
    for args in (["no-such-command"], ["health"], ["health", demo_toml, "--nope"]):
        run = xm_script(*args)
        run.assert_clean()
        assert run.code == 2
        run.error_line  # noqa: B018 - asserts exactly one error line


def test_the_script_stops_quietly_when_its_reader_goes_away(
    xmargin_exe: Path, demo_toml: Path
) -> None:
    proc = subprocess.Popen(
        [str(xmargin_exe), "stress", str(demo_toml), "--shock", "WETH=-30%", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the command writes
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=60)
    assert err == ""
    assert code == 141
