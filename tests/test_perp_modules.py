"""EXACT-1 for the perp entry points (their modules' docstring examples and exports:
:mod:`tests.test_feature_modules`)."""

from __future__ import annotations


def _perp_results() -> list[object]:
    from decimal import Decimal

    from tests.builders import load_vector
    from xmargin import (
        account_health,
        execute_liquidate_perp,
        execute_settle,
        execute_trade,
        liquidation_price,
        set_funding_index,
    )

    m = load_vector("drift_composite.toml")
    m = m.with_prices({"SOL": Decimal("97.123456789"), "ETH": Decimal("3001.987654321")})
    out: list[object] = [account_health(m.accounts["composite"], m)]
    out.append(liquidation_price(m, "composite", "SOL"))
    set_funding_index(m, "SOL-PERP", "1.234567891234")
    out.append(execute_trade(m, "composite", "SOL-PERP", "3.123456789", "97.987654321").entry_price)
    out.append(execute_settle(m, "composite", "SOL-PERP").funding_paid)
    out.append(dict(m.accounts["composite"].supply))
    crash = m.with_prices({"SOL": Decimal("61.987654321")})
    q = execute_liquidate_perp(crash, "composite", "SOL-PERP", "max")
    out.append((q.closed, q.realized_pnl, q.health_factor_after))
    return out


def test_EXACT_1_perp_entry_points_ignore_a_five_digit_caller_context() -> None:
    """EXACT-1 for perps: trade, settle, funding, perp liquidation, health and the
    liquidation price give the same results under a caller's 5-digit decimal context."""
    from decimal import localcontext

    reference = _perp_results()
    with localcontext() as ctx:
        ctx.prec = 5
        assert _perp_results() == reference
