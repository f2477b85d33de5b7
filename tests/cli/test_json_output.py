"""JSON output: one document, every decimal a plain string that parses back exactly.

JSON-1: for any valid market, ``health --json`` and ``stress --json`` print decimal
strings that parse back to Decimals equal to the library's figures, never with an
exponent; booleans are booleans, counts are integers, undefined figures are null.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xmargin.analytics.stress import stress
from xmargin.cli.app import main
from xmargin.cli.render import dumps
from xmargin.errors import RuleViolation
from xmargin.io import load_market
from xmargin.mathlib import fmt
from xmargin.risk.health import AccountHealth, account_health
from xmargin.risk.liquidation import quote_liquidation
from xmargin.risk.liquidation_price import liquidation_price

PLAIN_DECIMAL = re.compile(r"^-?\d+(\.\d*[1-9])?$")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0E-18"), "0"),
        (Decimal("-0"), "0"),
        (Decimal("1.500000000000000000"), "1.5"),
        (Decimal("1E+3"), "1000"),
        (Decimal("1E-30"), "0.000000000000000000000000000001"),
        (
            Decimal("123456789012345678901234.000000000000000001"),
            "123456789012345678901234.000000000000000001",
        ),
        (Decimal("-2.2419236830"), "-2.241923683"),
    ],
)
def test_every_decimal_is_written_as_a_plain_string(value: Decimal, text: str) -> None:
    assert json.loads(dumps({"x": value})) == {"x": text}


def test_booleans_counts_and_nulls_keep_their_json_types() -> None:
    doc = json.loads(dumps({"b": True, "n": 3, "none": None, "d": Decimal(2)}))
    assert doc == {"b": True, "n": 3, "none": None, "d": "2"}


def test_a_value_of_unknown_type_is_refused_rather_than_guessed() -> None:
    with pytest.raises(TypeError):
        dumps({"x": object()})


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code
    assert isinstance(code, int)
    return code, out.getvalue(), err.getvalue()


def _assert_decimal(text: Any, value: Decimal | None) -> None:
    """``text`` is the JSON form of ``value``: null, or a plain string equal to it."""
    if value is None:
        assert text is None
    else:
        assert isinstance(text, str) and PLAIN_DECIMAL.match(text), text
        assert Decimal(text) == value


def _assert_row_equals(row: dict[str, Any], health: AccountHealth) -> None:
    for field, value in health._asdict().items():
        if isinstance(value, bool):
            assert row[field] is value
        else:
            _assert_decimal(row[field], value)


def _decimal(places: int, low: str, high: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=Decimal(low), max_value=Decimal(high), places=places, allow_nan=False
    )


@st.composite
def markets(draw: st.DrawFn) -> str:
    """A two-asset market file (TOML) with a few random accounts."""
    lines = ['[market]\nquote = "USD"\n']
    for asset in ("AAA", "BBB"):
        cf, lt = sorted([draw(_decimal(4, "0", "1")), draw(_decimal(4, "0", "1"))])
        price = draw(_decimal(draw(st.integers(0, 18)), "0.000000000000000001", "1000000"))
        # lt x (1 + bonus) <= 1: a larger bonus makes liquidation lower health (refused)
        bonus = "0.05" if lt * Decimal("1.05") <= 1 else "0"
        lines.append(
            f'[assets.{asset}]\nprice = "{fmt(price)}"\ncollateral_factor = "{fmt(cf)}"\n'
            f'liquidation_threshold = "{fmt(lt)}"\nliquidation_bonus = {bonus}\n'
        )
    for i in range(draw(st.integers(1, 4))):
        amounts = [draw(_decimal(draw(st.integers(0, 18)), "0", "1000000000")) for _ in range(4)]
        lines.append(
            f"[accounts.a{i}]\n"
            f'supply = {{ AAA = "{fmt(amounts[0])}", BBB = "{fmt(amounts[1])}" }}\n'
            f'borrow = {{ AAA = "{fmt(amounts[2])}", BBB = "{fmt(amounts[3])}" }}\n'
        )
    return "\n".join(lines)


@settings(max_examples=40, deadline=None)
@given(text=markets(), shock=st.integers(-99, 300))
def test_json_1_decimals_round_trip_exactly_and_never_use_an_exponent(
    tmp_path_factory: pytest.TempPathFactory, text: str, shock: int
) -> None:
    path = tmp_path_factory.mktemp("json1") / "m.toml"
    path.write_text(text)
    market = load_market(path)

    code, out, err = _run("health", str(path), "--json")
    assert (code, err) == (0, "")
    for row in json.loads(out)["accounts"]:
        _assert_row_equals(row, account_health(market.account(row["account"]), market))

    code, out, err = _run("stress", str(path), "--shock", f"AAA={shock}%", "--json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    expected = stress(market, {"AAA": Decimal(shock) / 100})
    for row, (_, health) in zip(doc["accounts"], expected.accounts, strict=True):
        _assert_row_equals(row, health)
    for field, value in expected.summary._asdict().items():
        if isinstance(value, int):
            assert doc["summary"][field] == value
        else:
            _assert_decimal(doc["summary"][field], value)
    _assert_decimal(doc["prices"]["AAA"], expected.prices["AAA"])

    for account in market.accounts:
        code, out, err = _run(
            "liquidation-price", str(path), "--account", account, "--asset", "AAA", "--json"
        )
        assert (code, err) == (0, "")
        lp = liquidation_price(market, account, "AAA")
        for field in ("current_price", "price", "change"):
            _assert_decimal(json.loads(out)[field], getattr(lp, field))

        argv = ["liquidate", str(path), "--account", account, "--debt", "BBB"]
        code, out, _ = _run(*argv, "--collateral", "AAA", "--max", "--json")
        try:
            quote = quote_liquidation(market, account, "BBB", "AAA", "max")
        except RuleViolation as exc:
            assert code == 1
            assert json.loads(out)["error"]["code"] == exc.code
            continue
        assert code == 0
        doc = json.loads(out)
        for field in ("repaid", "seized", "liquidator_receives", "protocol_fee", "bonus"):
            _assert_decimal(doc[field], getattr(quote, field))
        _assert_decimal(doc["health_factor_before"], quote.health_factor_before)
        _assert_decimal(doc["health_factor_after"], quote.health_factor_after)
        assert set(doc["bad_debt"]) == set(quote.bad_debt)
        for asset, units in quote.bad_debt.items():
            _assert_decimal(doc["bad_debt"][asset], units)


def test_json_output_is_one_document_and_nothing_else(xm, demo_toml: Path) -> None:
    for args in (
        ["check"],
        ["health"],
        ["liquidation-price", "--account", "alice", "--asset", "WETH"],
        ["stress", "--shock", "WETH=-30%"],
        ["liquidate", "--account", "bob", "--debt", "USDC", "--collateral", "WETH", "--max"],
    ):
        run = xm(args[0], demo_toml, *args[1:], "--json")
        assert run.code == 0
        assert run.err == ""
        decoder = json.JSONDecoder()
        _, end = decoder.raw_decode(run.out)
        assert run.out[end:] == "\n"
