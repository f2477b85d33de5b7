"""CLI: ``xmargin simulate compare`` (contract 8.6), and the README's comparison table.

The table never wraps at 80 columns; ``--json`` is one document of decimal strings;
``--plot`` writes an image; bad input exits 2 with one ``error:`` line, no traceback;
the README's example runs and prints exactly what the README shows.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.cli.conftest import Run, run_in_process

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DESIGNS_TOML = Path(__file__).parent / "files" / "designs.toml"
SHOCK = ["--shock", "ETH=-30%", "--shock", "WBTC=-25%", "--steps", "3"]


@pytest.fixture(name="xm")
def xm_fixture(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def run(*args: str | Path) -> Run:
        return run_in_process(capsys, *args)

    return run


def test_the_table_has_a_row_per_design_and_fits_80_columns(xm: Callable[..., Run]) -> None:
    run = xm("simulate", "compare", DESIGNS_TOML, *SHOCK)
    assert (run.code, run.err) == (0, "")
    lines = [line.rstrip() for line in run.out.splitlines()]
    assert max(len(line) for line in lines) <= 80
    rows = [line.split()[0] for line in lines if re.match(r"^ \w+ +[\d.]+[kM]? ", line)]
    assert rows == ["fixed", "threshold", "health", "target", "auction", "storefront"]


def test_json_has_every_figure_as_decimal_strings(xm: Callable[..., Run]) -> None:
    run = xm(
        "simulate", "compare", DESIGNS_TOML, *SHOCK, "--liquidation", "target,auction",
        "--paths", "3", "--vol", "ETH=0.5", "--json",
    )  # fmt: skip
    assert (run.code, run.err) == (0, "")
    doc = run.json()
    assert (doc["quote"], doc["paths"], doc["steps"], doc["liquidity_models"]) == (
        "USD",
        3,
        24,
        True,
    )
    assert list(doc["designs"]) == ["target", "auction"]
    keys = {
        "bad_debt", "bad_debt_p99", "liquidated_volume", "liquidator_profit", "borrower_loss",
        "insurance_fund_drawdown", "protocol_revenue", "time_to_clear_hours", "cleared_share",
        "liquidations",
    }  # fmt: skip
    for figures in doc["designs"].values():
        assert set(figures) == keys
        assert Decimal(figures["liquidated_volume"]) > 0
        assert Decimal(figures["insurance_fund_drawdown"]) <= 25_000


def test_the_same_seed_gives_the_same_numbers(xm: Callable[..., Run]) -> None:
    args = ("simulate", "compare", DESIGNS_TOML, *SHOCK, "--paths", "4", "--vol", "ETH=0.8")
    first = xm(*args, "--seed", "3", "--json").json()
    assert xm(*args, "--seed", "3", "--json").json() == first
    assert xm(*args, "--seed", "4", "--json").json() != first


def test_plot_writes_an_image(xm: Callable[..., Run], tmp_path: Path) -> None:
    out = tmp_path / "designs.png"
    run = xm("simulate", "compare", DESIGNS_TOML, *SHOCK, "--plot", out)
    assert (run.code, run.err) == (0, "")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--liquidation", "fixed,dutch"], "unknown design 'dutch'"),
        (["--step", "ten"], "--step"),
        (["--horizon", "0h"], "--horizon"),
        (["--paths", "0"], "--paths"),
        (["--steps", "99"], "--steps"),
        (["--gas", "-1"], "--gas"),
        (["--vol", "DOGE=0.5"], "DOGE"),
        (["--plot", "out.gif"], "--plot"),
    ],
)
def test_bad_input_exits_2_with_the_option_named(
    xm: Callable[..., Run], tmp_path: Path, extra: list[str], message: str
) -> None:
    args = [a if a != "out.gif" else str(tmp_path / a) for a in extra]
    run = xm("simulate", "compare", DESIGNS_TOML, *SHOCK, *args)
    assert run.code == 2, run.out
    assert message in run.err and "Traceback" not in run.err


def test_an_unknown_shocked_asset_exits_2(xm: Callable[..., Run]) -> None:
    run = xm("simulate", "compare", DESIGNS_TOML, "--shock", "DOGE=-30%")
    assert run.code == 2 and "DOGE" in run.err


def _readme_example() -> tuple[str, str]:
    text = README.read_text(encoding="utf-8")
    block = text[text.index("$ xmargin simulate compare") :]
    block = block[: block.index("```")]
    lines = block.splitlines()
    cmd = lines[0][2:]
    i = 1
    while cmd.endswith("\\"):
        cmd = cmd[:-1] + " " + lines[i].strip()
        i += 1
    return cmd, "\n".join(lines[i:])


def test_the_readme_comparison_runs_and_prints_what_it_shows(
    xm: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    cmd, shown = _readme_example()
    args = shlex.split(cmd)
    assert args[:3] == ["xmargin", "simulate", "compare"]
    run = xm(*args[1:])
    assert run.code == 0, run.err
    got = "\n".join(line.rstrip() for line in run.out.rstrip("\n").splitlines())
    assert got.rstrip() == shown.rstrip()


def test_simulate_cascade_runs_one_design(xm: Callable[..., Run]) -> None:
    docs = {}
    for design in ("fixed", "auction"):
        run = xm("simulate", "cascade", DESIGNS_TOML, *SHOCK, "--liquidation", design, "--json")
        assert (run.code, run.err) == (0, "")
        assert run.json()["liquidation"] == design
        docs[design] = run.json()["variants"]["none"]["totals"]
    assert docs["fixed"] != docs["auction"]
    # Without --liquidation, the market's own: the close factor under its bonus policy.
    run = xm("simulate", "cascade", DESIGNS_TOML, *SHOCK, "--json")
    assert run.json()["liquidation"] == "fixed"
    assert run.json()["variants"]["none"]["totals"] == docs["fixed"]
    table = xm("simulate", "cascade", DESIGNS_TOML, *SHOCK, "--liquidation", "auction")
    assert "liquidation design: auction" in table.out
    run = xm("simulate", "cascade", DESIGNS_TOML, *SHOCK, "--liquidation", "fixed,target")
    assert run.code == 2 and "simulate compare runs several" in run.err
