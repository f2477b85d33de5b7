"""Aave v4's liquidation to a target health factor (contract 8.1), one function per rule.

No close factor: a liquidator repays what brings the account back to the target health
factor THF, capped by the debt, the collateral and the dust rules; the bonus grows as
health falls (Aave v4 ``LiquidationLogic``: ``calculateLiquidationBonus``,
``_calculateDebtToTargetHealthFactor``, ``_calculateDebtToLiquidate``).

Rounding (docs/rounding.md): the bonus rounds down (it never favours the liquidator); the
debt to target rounds up, as Aave v4's ``mulDivUp``, so that a liquidation that is not
capped reaches the target; seizure, the capped repayment and the protocol fee round as
in section 3.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from xmargin.errors import NothingToLiquidate, WouldLeaveDust
from xmargin.mathlib import CTX, HF_DECIMALS, ONE, ZERO, div_down, div_up, exact, quantize_up
from xmargin.model.liquidation_params import TargetHealthParams
from xmargin.model.market import Market
from xmargin.risk.liquidation import LiquidationQuote, liquidation_start, protocol_fee, seize
from xmargin.risk.weights import effective_weights

__all__ = [
    "debt_to_liquidate",
    "debt_to_target",
    "quote_target_liquidation",
    "variable_liquidation_bonus",
]


def variable_liquidation_bonus(
    max_bonus: Decimal, hf: Decimal, hf_for_max_bonus: Decimal, bonus_factor: Decimal
) -> Decimal:
    """The liquidation bonus lb = 1 + β at health ``hf`` (contract 8.1, Aave v4).

    Notes
    -----
    maxLB = 1 + max_bonus; minLB = (maxLB − 1)·bonus_factor + 1;
    lb = maxLB if hf <= hf_for_max_bonus, else
    minLB + (maxLB − minLB)·(1 − hf)/(1 − hf_for_max_bonus), rounded down to 1e-18.

    >>> variable_liquidation_bonus(Decimal("0.05"), Decimal("0.95"), Decimal("0.85"),
    ...                            Decimal("0.8"))
    Decimal('1.043333333333333333')
    """
    max_lb = ONE + max_bonus
    if hf <= hf_for_max_bonus:
        return max_lb
    min_lb = CTX.add(CTX.multiply(max_bonus, bonus_factor), ONE)
    # Rounds down: a smaller bonus never favours the liquidator.
    span = div_down(
        CTX.multiply(CTX.subtract(max_lb, min_lb), CTX.subtract(ONE, hf)),
        CTX.subtract(ONE, hf_for_max_bonus),
        HF_DECIMALS,
    )
    return min(max_lb, min_lb + span)


def debt_to_target(
    mc: Decimal,
    md: Decimal,
    thf: Decimal,
    lb: Decimal,
    lt: Decimal,
    w: Decimal,
    p_debt: Decimal,
    debt_decimals: int,
) -> Decimal | None:
    """Units of the debt asset whose repayment brings health to ``thf`` (contract 8.1).

    Notes
    -----
    Repaying l (quote) of a debt of maintenance weight w and seizing l·lb of a collateral
    of threshold lt moves mc to mc − l·lb·lt and md to md − l·w, so
    l = (THF·md − mc)/(THF·w − lb·lt), which is Aave v4's D·(THF − HF)/(THF − lb·cf)
    when w = 1 and md = D. Rounded up to the debt asset's decimals (units = l / p_debt).
    ``None`` when THF·w <= lb·lt: no repayment of this pair reaches the target.

    >>> debt_to_target(Decimal(9600), Decimal(10000), Decimal("1.05"),
    ...                Decimal("1.042666666666666666"), Decimal("0.8"), Decimal(1),
    ...                Decimal(1), 6)
    Decimal('4169.240272')
    """
    denominator = CTX.subtract(CTX.multiply(thf, w), CTX.multiply(lb, lt))
    if denominator <= ZERO:
        return None
    value = CTX.divide(CTX.subtract(CTX.multiply(thf, md), mc), denominator)
    # quote / (quote/unit) = units; rounds up (Aave v4 mulDivUp): the target is reached.
    return div_up(max(value, ZERO), p_debt, debt_decimals)


def debt_to_liquidate(
    requested: Decimal | None,
    d: Decimal,
    to_target: Decimal | None,
    p_debt: Decimal,
    min_leftover_value: Decimal,
) -> Decimal:
    """Units of debt to repay before the collateral cap (contract 8.1, Aave v4 dust rule).

    Notes
    -----
    x = min(requested, d, debt to target); if 0 < (d − x)·p_debt < min_leftover_value,
    x = d: the target is passed rather than leave debt dust. Exact.
    """
    x = d
    if requested is not None:
        x = min(x, requested)
    if to_target is not None:
        x = min(x, to_target)
    if x < d and (d - x) * p_debt < min_leftover_value:
        return d
    return x


@exact
def quote_target_liquidation(
    market: Market,
    account_id: str,
    debt_asset: str,
    collateral_asset: str,
    amount: Decimal | Literal["max"] | str,
) -> LiquidationQuote:
    """Exactly what ``liquidate`` does under ``liquidation = "target"`` (contract 8.1),
    without changing ``market``.

    Raises
    ------
    UnknownAccount, UnknownAsset, InvalidAmount
        Bad input.
    NotLiquidatable, NothingToLiquidate, WouldLeaveDust
        Refused by a rule (an amount below what the dust rules require is refused, as
        Aave v4's ``MustNotLeaveDust``).
    """
    params = market.params
    rules = params.target_health or TargetHealthParams()
    start = liquidation_start(market, account_id, debt_asset, collateral_asset, amount)
    account, debt_p, coll_p, want, before, hf_rules, d, c, w = start

    p_debt, p_coll = debt_p.price, coll_p.price
    lb = variable_liquidation_bonus(
        w.liquidation_bonus,
        hf_rules,
        rules.health_factor_for_max_bonus,
        rules.liquidation_bonus_factor,
    )
    beta = lb - ONE
    mbw = effective_weights(debt_p, market.category_of(account), ZERO, d).maintenance_borrow_weight
    to_target = debt_to_target(
        before.maintenance_collateral,
        before.maintenance_debt,
        rules.target_health_factor,
        lb,
        w.liquidation_threshold,
        mbw,
        p_debt,
        debt_p.decimals,
    )
    mlv = params.min_leftover_value
    x = debt_to_liquidate(want, d, to_target, p_debt, mlv)
    seized, repaid = seize(x, p_debt, p_coll, beta, c, debt_p.decimals, coll_p.decimals)
    if seized < c and repaid < d and (c - seized) * p_coll < mlv:
        # Collateral dust: take all of it and repay its value (Aave v4); the debt rule
        # above keeps this within d (exactly; the cap guards the rounding up).
        seized = c
        repaid = min(d, quantize_up(CTX.divide(c * p_coll, p_debt * lb), debt_p.decimals))
    if want is not None and want < repaid:
        # The dust rules need more than the liquidator offered (Aave v4 MustNotLeaveDust).
        if (d - want) * p_debt < mlv:
            raise WouldLeaveDust(account_id, debt_asset, (d - want) * p_debt, mlv)
        left, _ = seize(want, p_debt, p_coll, beta, c, debt_p.decimals, coll_p.decimals)
        raise WouldLeaveDust(account_id, collateral_asset, (c - left) * p_coll, mlv)
    if not repaid or not seized:
        raise NothingToLiquidate(account_id, "the amount rounds to nothing at the assets' decimals")
    fee = protocol_fee(seized, beta, coll_p.protocol_fee, coll_p.decimals)

    return start.quote(market, repaid, seized, fee, beta)
