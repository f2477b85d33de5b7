"""Issue 9, items 1, 2, 3, 6 and 7: what a person reads and types (regression tests).

Each test is named after its item; each failed on the code before the fix.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

import xmargin
from tests.cli.conftest import Run

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "src" / "xmargin" / "data"
DEMO = DATA / "demo.toml"
CRASH = DATA / "eth_crash_2021-01-11.csv"
SCENARIOS = DATA / "demo-scenarios.toml"
OPTIONS = ROOT / "tests" / "vectors" / "option_book.toml"
VOLS = ("--vol", "WETH=0.8", "--vol", "WBTC=0.6", "--vol", "wstETH=0.85", "--vol", "STG=1.2")

# -- item 1 --------------------------------------------------------------------------------


def test_item1_no_price_series_error_names_the_flag_the_key_and_the_scenario_file(
    xm: Callable[..., Run], tmp_path: Path
) -> None:
    window = ("--start", "2021-01-11T02:00:00Z", "--end", "2021-01-11T06:00:00Z", "--step", "5m")
    run = xm("simulate", "replay", DEMO, "--prices", CRASH, *window)
    assert run.code == 2
    line = run.error_line
    assert "no price series for WBTC" in line
    assert "--map WBTC=SERIES" in line and "--static WBTC" in line
    assert "map = {" in line and "static = [" in line
    scen = tmp_path / "s.toml"
    scen.write_text(
        f'[defaults]\nprices = "{CRASH}"\n[scenarios.crash]\n'
        'replay = { start = "2021-01-11T02:00:00Z", end = "2021-01-11T06:00:00Z", step = "5m" }\n'
    )
    run = xm("simulate", "scenario", DEMO, scen)
    assert run.code == 2
    assert run.error_line.startswith(f"error: {scen}: scenarios.crash: no price series for")


def test_item1_the_shipped_scenario_file_runs_on_the_shipped_data(xm: Callable[..., Run]) -> None:
    run = xm("simulate", "scenario", DEMO, SCENARIOS, "--json")
    assert run.code == 0, run.err
    names = [s["name"] for s in run.json()["scenarios"]]
    assert names == ["eth-crash", "broad-downturn", "steth-discount", "eth-crash-2021"]


# -- item 2 --------------------------------------------------------------------------------


@pytest.mark.parametrize("shock", [Decimal("-0.3"), "-0.3", "-30%", -0.3])
def test_item2_stress_accepts_decimal_str_and_float_shocks(shock: object) -> None:
    m = xmargin.load_market(DEMO)
    want = xmargin.stress(m, {"WETH": Decimal("-0.3")})
    got = xmargin.stress(m, {"WETH": shock})  # type: ignore[dict-item]
    assert got.summary == want.summary and got.prices == want.prices


@pytest.mark.parametrize("amount", [100, "100", Decimal("100"), 100.0])
def test_item2_actions_accept_int_str_decimal_and_float_amounts(amount: object) -> None:
    m = xmargin.load_market(DEMO)
    ev = xmargin.execute_borrow(m, "eth-levered", "USDC", amount)  # type: ignore[arg-type]
    assert ev.amount == Decimal(100)
    q = xmargin.quote_liquidation(m, "eth-underwater", "USDC", "WETH", amount)  # type: ignore[arg-type]
    assert q.repaid == Decimal(100)


def test_item2_a_bad_shock_is_an_xmargin_error_not_a_type_error() -> None:
    m = xmargin.load_market(DEMO)
    with pytest.raises(xmargin.InputError, match="WETH"):
        xmargin.stress(m, {"WETH": "a lot"})  # type: ignore[dict-item]


# -- item 3 --------------------------------------------------------------------------------

_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?%?")

TABLE_COMMANDS: list[tuple[str, ...]] = [
    ("health", str(DEMO), "--account", "eth-underwater", "--account", "eth-levered"),
    ("health", str(OPTIONS), "--account", "strangle-standard", "--account", "strangle"),
    ("stress", str(DEMO), "--shock", "WETH=-30%"),
    ("stress", str(DEMO), "--shock", "WETH=-30%", "--summary"),
    (
        "liquidate",
        str(DEMO),
        "--account",
        "eth-underwater",
        "--debt",
        "USDC",
        "--collateral",
        "WETH",
        "--max",
    ),
    ("liquidation-price", str(DEMO), "--account", "eth-levered", "--asset", "WETH"),
    ("greeks", str(OPTIONS)),
    ("health", str(ROOT / "tests" / "vectors" / "perp_trading.toml")),
    ("network", str(DEMO), "--shock", "WETH=-30%"),
    ("calibrate", str(DEMO), *VOLS, "--vol", "USDC=0.02", "--vol", "USDT=0.03"),
    ("simulate", "scenario", str(DEMO), str(SCENARIOS)),
    (
        "simulate",
        "montecarlo",
        str(DEMO),
        "--model",
        "gbm",
        *VOLS,
        "--static",
        "USDC",
        "--static",
        "USDT",
        "--paths",
        "200",
    ),
]


def _at(xm: Callable[..., Run], mp: pytest.MonkeyPatch, width: int, args: tuple[str, ...]) -> str:
    mp.setenv("COLUMNS", str(width))
    run = xm(*args)
    assert run.code == 0, (args, run.err)
    return run.out


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("args", TABLE_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_item3_tables_never_wrap_numbers_at_80_columns(
    xm: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, width: int, args: tuple[str, ...]
) -> None:
    """At ``COLUMNS`` 80 and 120 no line is wider than the screen and every number the
    wide layout prints is printed whole (a number folded mid-digit would be two)."""
    wide = _at(xm, monkeypatch, 400, args)
    narrow = _at(xm, monkeypatch, width, args)
    assert max(len(line) for line in narrow.splitlines()) <= width
    assert set(_NUMBER.findall(narrow)) == set(_NUMBER.findall(wide))


def test_item3_a_wide_table_turns_vertical_rather_than_folding(
    xm: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _at(xm, monkeypatch, 80, ("health", str(DEMO), "--account", "eth-underwater"))
    assert re.search(r"^ collateral +109,011\.30 $", out, flags=re.M), out


# -- item 6 --------------------------------------------------------------------------------


def _on_a_terminal(args: list[str]) -> tuple[str, str]:
    """Run the installed script with stderr on a pseudo-terminal: (stdout, terminal)."""
    exe = Path(sys.executable).with_name("xmargin")
    main, other = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    with subprocess.Popen(
        [str(exe), *args], stdout=subprocess.PIPE, stderr=other, env=env, text=True
    ) as proc:
        os.close(other)
        chunks: list[bytes] = []
        while True:
            try:
                data = os.read(main, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        out = proc.stdout.read() if proc.stdout else ""
        assert proc.wait(timeout=120) == 0
    os.close(main)
    return out, b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize(
    "args",
    [
        ["simulate", "scenario", str(DEMO), str(SCENARIOS), "--json"],
        [
            "simulate",
            "montecarlo",
            str(DEMO),
            "--model",
            "gbm",
            *VOLS,
            "--static",
            "USDC",
            "--static",
            "USDT",
            "--paths",
            "200",
            "--json",
        ],
    ],
    ids=["scenario", "montecarlo"],
)
def test_item6_progress_bars_render_without_markup_on_a_terminal(args: list[str]) -> None:
    out, terminal = _on_a_terminal(args)
    json.loads(out)  # stdout is the document alone
    assert "[progress" not in terminal and "[/" not in terminal
    assert re.search(r"(scenarios|paths) .*\d+/\d+", terminal), terminal


@pytest.mark.parametrize(
    "args",
    [
        ("check", str(DEMO)),
        ("health", str(DEMO)),
        ("stress", str(DEMO), "--shock", "WETH=-30%"),
        ("simulate", "scenario", str(DEMO), str(SCENARIOS)),
        ("simulate", "cascade", str(DEMO), "--shock", "WETH=-30%"),
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_item6_long_commands_take_progress_and_draw_nothing_off_a_terminal(
    xm: Callable[..., Run], args: tuple[str, ...]
) -> None:
    run = xm(*args)
    assert run.code == 0, run.err
    assert "progress" not in run.err and "━" not in run.err
    assert xm(*args, "--no-progress").code == 0


def test_item6_generate_book_and_watch_draw_no_bar_off_a_terminal(
    xm: Callable[..., Run], tmp_path: Path
) -> None:
    run = xm("generate-book", "--accounts", "50", "--assets", "4", "--out", tmp_path / "b")
    assert run.code == 0 and run.err == ""
    run = xm("watch", tmp_path / "b" / "market.toml", "--prices", CRASH, "--rebase")
    assert run.code == 0
    assert run.err.startswith("replayed 240 updates") and "━" not in run.err


# -- item 7 --------------------------------------------------------------------------------


def test_item7_version_and_short_help(xm: Callable[..., Run]) -> None:
    run = xm("--version")
    assert run.code == 0 and run.out == f"xmargin {xmargin.__version__}\n"
    short, long = xm("health", "-h"), xm("health", "--help")
    assert short.code == long.code == 0 and short.out == long.out
    assert xm("simulate", "montecarlo", "-h").out.startswith("Usage: xmargin simulate montecarlo")


def test_item7_shell_completion(xmargin_exe: Path) -> None:
    env = {**os.environ, "_XMARGIN_COMPLETE": "complete_bash", "COMP_WORDS": "xmargin simulate mon",
           "COMP_CWORD": "2"}  # fmt: skip
    done = subprocess.run([str(xmargin_exe)], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.split() == ["montecarlo"]
    # The script `--show-completion` prints under bash (it detects the shell from the
    # parent process, which under `make` is sh), asked for by name.
    env = {**os.environ, "_XMARGIN_COMPLETE": "source_bash"}
    shown = subprocess.run([str(xmargin_exe)], env=env, capture_output=True, text=True, check=False)
    assert shown.returncode == 0 and "_XMARGIN_COMPLETE=complete_bash" in shown.stdout


def _all_commands(xm: Callable[..., Run]) -> list[tuple[str, ...]]:
    names = re.findall(r"^  ([a-z][a-z-]+)  ", xm("--help").out, flags=re.M)
    out: list[tuple[str, ...]] = [()]
    for n in names:
        out.append((n,))
        sub = xm(n, "--help").out
        if "Commands:" in sub:
            tail = sub[sub.index("Commands:") :]
            out.extend((n, s) for s in re.findall(r"^  ([a-z][a-z-]+)  ", tail, flags=re.M))
    return out


def test_item7_help_reads_at_80_columns(
    xm: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command's help fits 80 columns, shows every option whole, and carries no
    Rich box drawing or markup."""
    monkeypatch.setenv("COLUMNS", "80")
    commands = _all_commands(xm)
    assert ("simulate", "montecarlo") in commands and ("keys", "revoke") in commands
    for cmd in commands:
        run = xm(*cmd, "--help")
        assert run.code == 0, cmd
        assert max(len(line) for line in run.out.splitlines()) <= 80, cmd
        assert "╭" not in run.out and "…" not in run.out, cmd
        assert "-h, --help" in run.out, cmd


def test_item7_stress_summary_prints_only_the_summary_alike_on_both_engines(
    xm: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ("stress", str(DEMO), "--shock", "WETH=-30%", "--summary")
    monkeypatch.setenv("XMARGIN_ENGINE", "exact")
    exact_table, exact_json = xm(*args).out, xm(*args, "--json").json()
    monkeypatch.setenv("XMARGIN_ENGINE", "book")
    book_table, book_json = xm(*args).out, xm(*args, "--json").json()
    assert exact_table == book_table
    assert exact_table.startswith("Stress summary (values in USD)")
    assert "eth-" not in exact_table and "queue" not in exact_table
    assert list(exact_json) == list(book_json) == ["summary", "prices"]
    assert exact_json["prices"] == book_json["prices"]


def test_item7_watch_reads_the_price_formats_and_folders_simulate_reads(
    xm: Callable[..., Run], tmp_path: Path
) -> None:
    assert xm("generate-book", "--accounts", "200", "--assets", "4", "--out", tmp_path).code == 0
    market = tmp_path / "market.toml"
    native = xm("watch", market, "--prices", CRASH, "--rebase")
    folder = tmp_path / "prices"
    folder.mkdir()
    rows = CRASH.read_text().splitlines()[1:]
    from datetime import datetime

    with (folder / "eth.csv").open("w") as f:  # Risk DAO's own layout: ms timestamps
        f.write("symbol,timestamp,USD_price\n")
        for r in rows:
            t, asset, price = r.split(",")
            ms = int(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000)
            f.write(f"{asset},{ms},{price}\n")
    other = xm("watch", market, "--prices", folder, "--rebase")
    assert native.code == other.code == 0, other.err
    assert native.out == other.out and native.err == other.err


def test_item7_settle_has_one_default_for_scenario_and_montecarlo(xm: Callable[..., Run]) -> None:
    scen = xm("simulate", "scenario", DEMO, SCENARIOS, "--name", "eth-crash", "--json").json()
    mc_args = ("--model", "gbm", *VOLS, "--static", "USDC", "--static", "USDT", "--paths", "50")
    mc = xm("simulate", "montecarlo", DEMO, *mc_args, "--json").json()
    assert scen["scenarios"][0]["initial"] and mc["initial"]
    assert scen["scenarios"][0]["initial"]["bad_debt"] == mc["initial"]["bad_debt"]
    off = xm(
        "simulate", "scenario", DEMO, SCENARIOS, "--name", "eth-crash", "--no-settle", "--json"
    )
    assert off.json()["scenarios"][0]["initial"] == {}
    assert xm("simulate", "montecarlo", DEMO, *mc_args, "--no-settle", "--json").json()[
        "initial"
    ] in ({}, None)


def test_item7_json_keeps_non_ascii_names_readable(xm: Callable[..., Run], tmp_path: Path) -> None:
    text = DEMO.read_text(encoding="utf-8").replace("[accounts.eth-levered]", '[accounts."jürgen"]')
    market = tmp_path / "m.toml"
    market.write_text(text, encoding="utf-8")
    run = xm("health", market, "--account", "jürgen", "--json")
    assert run.code == 0, run.err
    assert '"account": "jürgen"' in run.out
    bad = xm("health", market, "--account", "jürgen-nobody", "--json")
    assert "jürgen-nobody" in bad.out


# -- item 8 --------------------------------------------------------------------------------


def test_item8_check_reads_a_large_book_through_the_columnar_loader(
    xm: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A book routed to the risk book is checked without building an Account per row:
    the exact loader is never called, yet the counts and a bad row's location match it."""
    from xmargin.book import loading
    from xmargin.cli import core_commands

    assert xm("generate-book", "--accounts", "300", "--assets", "4", "--format", "csv",
              "--out", tmp_path).code == 0  # fmt: skip
    market = tmp_path / "market.toml"
    exact = xm("check", market, "--json").json()
    monkeypatch.setenv("XMARGIN_ENGINE", "book")

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the exact loader was used")

    monkeypatch.setattr(core_commands, "load_market", refuse)
    monkeypatch.setattr(loading, "load_market", refuse)
    run = xm("check", market, "--json")
    assert run.code == 0, run.err
    assert run.json() == exact
    monkeypatch.undo()
    rows = (tmp_path / "positions.csv").read_text().splitlines()
    rows[3] = rows[3].rsplit(",", 1)[0] + ",nope"
    (tmp_path / "positions.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.setenv("XMARGIN_ENGINE", "book")
    bad = xm("check", market)
    monkeypatch.setenv("XMARGIN_ENGINE", "exact")
    assert bad.code == 2 and bad.err == xm("check", market).err
    assert "positions.csv:row 4.category" in bad.err
