"""CLI: ``xmargin simulate scenario|cascade|replay|montecarlo``.

JSON output is one document whose numbers are decimal strings, as the contract's are;
``--report`` writes one self-contained HTML page; bad input exits 2 with one ``error:``
line and no traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.cli.conftest import Run, run_in_process

FILES = Path(__file__).parent / "files"
SPIRAL = FILES / "spiral.toml"
SCENARIOS = FILES / "scenarios.toml"


@pytest.fixture(name="xm")
def xm_fixture(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def run(*args: str | Path) -> Run:
        return run_in_process(capsys, *args)

    return run


def _dec(x: str) -> Decimal:
    assert isinstance(x, str) and "e" not in x.lower(), x
    return Decimal(x)


def test_simulate_and_its_commands_have_help(xm: Callable[..., Run]) -> None:
    run = xm("simulate", "--help")
    assert run.code == 0
    for name in ("scenario", "cascade", "replay", "montecarlo"):
        assert name in run.out
        sub = xm("simulate", name, "--help")
        assert sub.code == 0 and "Usage" in sub.out, name


def test_scenario_json_reports_each_scenario_with_decimal_strings(xm: Callable[..., Run]) -> None:
    run = xm("simulate", "scenario", SPIRAL, SCENARIOS, "--json")
    run.assert_clean()
    assert run.code == 0, run.err
    doc = run.json()
    names = [s["name"] for s in doc["scenarios"]]
    assert names == ["crash", "spiral"]
    crash, spiral = doc["scenarios"]
    assert _dec(crash["prices_after"]["ETH"]) == Decimal(1400)
    assert _dec(crash["totals"]["bad_debt"]) > 0
    assert spiral["cascade"] is True and spiral["liquidity_models"] is True
    assert len(spiral["rounds"]) >= 3  # the start, and rounds in each of two steps
    assert _dec(spiral["prices_after"]["ETH"]) < Decimal(2000) * Decimal("0.88")


def test_scenario_name_selects_and_unknown_names_exit_2(xm: Callable[..., Run]) -> None:
    run = xm("simulate", "scenario", SPIRAL, SCENARIOS, "--name", "crash", "--json")
    assert [s["name"] for s in run.json()["scenarios"]] == ["crash"]
    bad = xm("simulate", "scenario", SPIRAL, SCENARIOS, "--name", "nope")
    assert bad.code == 2
    assert "nope" in bad.error_line


def test_a_bad_scenario_file_exits_2_with_every_problem(
    xm: Callable[..., Run], tmp_path: Path
) -> None:
    f = tmp_path / "bad.toml"
    f.write_text('[scenarios.x]\nshocks = { ETH = "-200%" }\n', encoding="utf-8")
    run = xm("simulate", "scenario", SPIRAL, f, "--json")
    assert run.code == 2
    err = run.json()["error"]
    assert err["code"] == "invalid_scenario_file"
    assert err["problems"] == ["scenarios.x.shocks.ETH: must be above -100% so the price stays > 0"]
    run.assert_clean()


def test_cascade_compares_the_breakers_given(xm: Callable[..., Run]) -> None:
    run = xm(
        "simulate",
        "cascade",
        SPIRAL,
        "--shock",
        "ETH=-12%",
        "--cap",
        "20000",
        "--pause-drop",
        "30%",
        "--json",
    )
    assert run.code == 0, run.err
    variants = run.json()["variants"]
    assert list(variants) == ["none", "cap", "pause", "cap+pause"]
    none, capped = variants["none"], variants["cap"]
    assert int(none["totals"]["liquidations"]) > 0
    assert all(_dec(r["repaid_value"]) <= 20000 for r in capped["rounds"])
    assert int(capped["totals"]["refused_capped"]) > 0


def test_cascade_refuses_an_unknown_asset_with_exit_2(xm: Callable[..., Run]) -> None:
    run = xm("simulate", "cascade", SPIRAL, "--shock", "DOGE=-10%")
    assert run.code == 2
    assert "DOGE" in run.error_line


def test_montecarlo_json_is_reproducible_for_a_seed(xm: Callable[..., Run]) -> None:
    args = (
        "simulate",
        "montecarlo",
        SPIRAL,
        "--model",
        "gbm",
        "--vol",
        "ETH=1.2",
        "--static",
        "USD",
        "--paths",
        "3000",
        "--seed",
        "4",
        "--no-liquidity",
        "--json",
    )
    a = xm(*args)
    assert a.code == 0, a.err
    b = xm(*args)
    assert a.out == b.out
    figures = a.json()["figures"]
    for key in (
        "var_95",
        "es_95",
        "var_99",
        "es_99",
        "liquidations_at_risk",
        "borrowing_power",
        "borrow_usage",
    ):
        assert _dec(figures[key]["value"]) >= 0, key
        assert _dec(figures[key]["std_error"]) >= 0, key
    assert _dec(figures["es_99"]["value"]) >= _dec(figures["var_99"]["value"])


def test_montecarlo_without_a_model_source_exits_2(xm: Callable[..., Run]) -> None:
    run = xm("simulate", "montecarlo", SPIRAL, "--model", "gbm")
    assert run.code == 2
    assert "--prices" in run.error_line or "--vol" in run.error_line


def test_a_report_is_one_self_contained_html_page(xm: Callable[..., Run], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    run = xm(
        "simulate",
        "montecarlo",
        SPIRAL,
        "--model",
        "gbm",
        "--vol",
        "ETH=1.5",
        "--static",
        "USD",
        "--paths",
        "2000",
        "--steps",
        "4",
        "--gas",
        "1",
        "--report",
        out,
    )
    assert run.code == 0, run.err
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") >= 3
    assert "VaR 99%" in page
    # Nothing is fetched: no external script, stylesheet, image or font.
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", page)
    sc = tmp_path / "scenarios.html"
    run = xm("simulate", "scenario", SPIRAL, SCENARIOS, "--report", sc)
    assert run.code == 0, run.err
    assert sc.read_text(encoding="utf-8").count("<svg") >= 4


def test_replay_needs_price_files_that_exist(xm: Callable[..., Run], tmp_path: Path) -> None:
    run = xm(
        "simulate",
        "replay",
        SPIRAL,
        "--prices",
        tmp_path / "none",
        "--start",
        "2022-05-07",
        "--end",
        "2022-05-14",
    )
    assert run.code == 2
    assert "no such price file" in run.error_line


def test_replay_runs_on_a_packaged_price_slice(xm: Callable[..., Run]) -> None:
    from xmargin.data import data_path

    run = xm(
        "simulate",
        "replay",
        SPIRAL,
        "--prices",
        data_path("eth_crash_2021-01-11.csv"),
        "--map",
        "ETH=WETH",
        "--static",
        "USD",
        "--start",
        "2021-01-11T02:00Z",
        "--end",
        "2021-01-11T06:00Z",
        "--step",
        "5m",
        "--json",
    )
    assert run.code == 0, run.err
    (doc,) = run.json()["scenarios"]
    assert doc["kind"] == "replay"
    # The slice falls about 15% at its low: the whale (health 1.10) is liquidated.
    assert int(doc["totals"]["liquidations"]) > 0


def test_simulations_carry_perp_positions_and_say_so_when_they_cannot(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A market whose accounts hold perps: the cascade runs them (perp liquidations in its
    totals, no left-out warning, ``--funding-rate`` accepted); a book read without them
    still gets the note naming how many are left out."""
    import warnings

    import xmargin
    from xmargin.analytics.simbook import SimBook, perps_left_out
    from xmargin.data import data_path

    demo = xmargin.load_market(data_path("demo.toml"))
    note = perps_left_out(demo)
    assert note is not None and note.startswith("7 accounts hold perp positions")
    book = SimBook.from_market(demo)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        book.warn_perps_left_out(carried=True)
    bare = SimBook(book.pack, book.account_ids, book.indptr, book.col, book.s, book.b,
                   book.cat, book.perp_accounts)  # fmt: skip
    with pytest.warns(UserWarning, match="7 accounts hold perp positions"):
        bare.warn_perps_left_out(carried=True)
    args = ["simulate", "cascade", str(data_path("demo.toml")), "--shock", "WETH=-30%", "--json"]
    run = run_in_process(capsys, *args, "--funding-rate", "ETH-PERP=0.01%/h")
    assert run.code == 0, run.err
    assert "warning" not in run.err, run.err
    totals = run.json()["variants"]["none"]["totals"]
    assert totals["perp_liquidations"] > 0 and float(totals["perp_insurance_fees"]) > 0
    bad = run_in_process(capsys, *args, "--funding-rate", "SOL-PERP=1%/h")
    assert bad.code == 2 and bad.err.startswith("error: --funding-rate"), bad.err
    assert "SOL-PERP" in bad.err
