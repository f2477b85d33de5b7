"""EXACT-1: a caller's low-precision decimal context never rounds the exact path."""

from __future__ import annotations

from decimal import Decimal, localcontext

from xmargin import (
    account_health,
    execute_borrow,
    execute_deposit,
    liquidation_price,
    parse_market,
    quote_liquidation,
    stress,
)

DOC = {
    "market": {"quote": "USD"},
    "assets": {
        "WETH": {
            "price": "1234.567890123456789",
            "collateral_factor": "0.8",
            "liquidation_threshold": "0.85",
            "liquidation_bonus": "0.05",
        },
        "USDC": {
            "price": "0.999912345678",
            "collateral_factor": "0.75",
            "liquidation_threshold": "0.8",
            "liquidation_bonus": "0.04",
            "decimals": 6,
        },
    },
    "accounts": {
        "a": {"supply": {"WETH": "12.345678901234567891"}, "borrow": {"USDC": "12000.123456"}},
    },
}


def _everything() -> list[object]:
    m = parse_market(DOC)
    out: list[object] = [account_health(m.accounts["a"], m)]
    out.append(liquidation_price(m, "a", "WETH"))
    out.append(stress(m, {"WETH": Decimal("-0.3")}).summary)
    q = quote_liquidation(
        m.with_prices({"WETH": Decimal("900.123456789")}), "a", "USDC", "WETH", "max"
    )
    out.append((q.repaid, q.seized, q.protocol_fee, q.health_factor_after))
    execute_deposit(m, "a", "WETH", "0.000000000000000001")
    execute_borrow(m, "a", "USDC", "1.000001")
    out.append(account_health(m.accounts["a"], m))
    out.append(dict(m.total_supply))
    return out


def test_results_are_the_same_under_a_five_digit_caller_context() -> None:
    reference = _everything()
    with localcontext() as ctx:
        ctx.prec = 5
        low = _everything()
    assert low == reference
