"""Liquidation, one function per step of contract section 3, and a pure quote.

``quote_liquidation`` returns exactly what execution does (balances after, bad debt,
protocol fee) without changing the market; the ledger applies a quote.

Rounding (see docs/rounding.md): the close-factor limit rounds down, seized collateral
rounds down, repaid debt recomputed from a capped seizure rounds up, the protocol fee
rounds up; each in favour of the protocol and the borrower against the liquidator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, NamedTuple

from xmargin.errors import (
    LiquidationDesignMismatch,
    NothingToLiquidate,
    NotLiquidatable,
    WouldLeaveDust,
)
from xmargin.mathlib import (
    CTX,
    HF_DECIMALS,
    ONE,
    ZERO,
    div_down,
    div_up,
    exact,
    mul_div_down,
    quantize_down,
    quantize_up,
)
from xmargin.model.account import Account
from xmargin.model.liquidation_params import LiquidationDesign
from xmargin.model.market import Market
from xmargin.model.params import AssetParams, BonusPolicy, MarketParams
from xmargin.risk.health import AccountHealth, account_health, health_factor, weighted_sums
from xmargin.risk.insurance import bad_debt_after, has_collateral, write_off_bad_debt
from xmargin.risk.validation import parse_amount
from xmargin.risk.weights import EffectiveWeights, effective_weights

__all__ = [
    "THRESHOLD_A",
    "THRESHOLD_B",
    "LiquidationQuote",
    "LiquidationStart",
    "bad_debt_after",
    "has_collateral",
    "leaves_dust",
    "liquidation_bonus",
    "liquidation_start",
    "max_repayable",
    "protocol_fee",
    "quote_liquidation",
    "seize",
]

#: Contract 3.3 ``threshold`` policy: beta = min(max_bonus, 1 / (A lt + B) - 1).
THRESHOLD_A = Decimal("0.3")
THRESHOLD_B = Decimal("0.7")


@dataclass(frozen=True)
class LiquidationQuote:
    """What a liquidation does (contract 4 ``liquidate`` JSON fields, plus the state after)."""

    account: str
    debt_asset: str
    collateral_asset: str
    repaid: Decimal
    seized: Decimal
    liquidator_receives: Decimal
    protocol_fee: Decimal
    health_factor_before: Decimal | None
    health_factor_after: Decimal | None
    bad_debt: dict[str, Decimal]
    bonus: Decimal
    #: units of written-off debt the insurance fund covered, per asset (contract 5.5);
    #: ``bad_debt`` is the uncovered rest
    insurance_fund_used: dict[str, Decimal]
    #: the account's balances after the liquidation and any write-off
    account_after: Account = field(repr=False, compare=False)


def max_repayable(
    params: MarketParams,
    hf: Decimal,
    d: Decimal,
    c: Decimal,
    total_debt_value: Decimal,
    p_debt: Decimal,
    p_coll: Decimal,
    debt_decimals: int,
) -> Decimal:
    """The most of the debt asset that may be repaid now, in units (contract 3.2).

    Notes
    -----
    All of ``d`` if hf <= full_liquidation_health, or if d·p_debt or c·p_coll is below
    small_position_value; otherwise min(d, close_factor·D/p_debt), rounded down.
    """
    spv = params.small_position_value
    if hf <= params.full_liquidation_health or d * p_debt < spv or c * p_coll < spv:
        return d
    # quote / (quote/unit) = units; rounds down: the limit binds the liquidator.
    limit = mul_div_down(params.close_factor, total_debt_value, p_debt, debt_decimals)
    return min(d, limit)


def liquidation_bonus(params: MarketParams, bonus: Decimal, lt: Decimal, hf: Decimal) -> Decimal:
    """The bonus β of the collateral asset under the market's policy (contract 3.3).

    Notes
    -----
    fixed: β = bonus (after the category rule);
    threshold: β = min(max_bonus, 1/(0.3·lt + 0.7) − 1), lt before any size haircut;
    health: β = 1/max(hf, 1 − max_bonus) − 1.
    Rounded down to 1e-18: a smaller incentive never favours the liquidator.
    """
    policy = params.bonus_policy
    if policy is BonusPolicy.FIXED:
        return bonus
    if policy is BonusPolicy.THRESHOLD:
        factor = div_down(ONE, CTX.add(CTX.multiply(THRESHOLD_A, lt), THRESHOLD_B), HF_DECIMALS)
        return min(params.max_bonus, factor - ONE)
    floor = ONE - params.max_bonus
    return div_down(ONE, max(hf, floor), HF_DECIMALS) - ONE


def seize(
    repaid: Decimal,
    p_debt: Decimal,
    p_coll: Decimal,
    beta: Decimal,
    c: Decimal,
    debt_decimals: int,
    coll_decimals: int,
) -> tuple[Decimal, Decimal]:
    """(seized, repaid) in units of collateral and debt (contract 3.4).

    Notes
    -----
    seized = repaid·p_debt·(1+β)/p_coll, rounded down. If that exceeds c, seized = c and
    repaid = c·p_coll/(p_debt·(1+β)), rounded up.
    """
    one_beta = ONE + beta
    raw = CTX.divide(CTX.multiply(CTX.multiply(repaid, p_debt), one_beta), p_coll)
    if raw > c:
        repaid_capped = quantize_up(
            CTX.divide(CTX.multiply(c, p_coll), CTX.multiply(p_debt, one_beta)), debt_decimals
        )
        return c, min(repaid, repaid_capped)
    return quantize_down(raw, coll_decimals), repaid


def protocol_fee(seized: Decimal, beta: Decimal, fee: Decimal, coll_decimals: int) -> Decimal:
    """(seized − seized/(1+β))·fee, rounded up, in collateral units (contract 3.5)."""
    bonus_part = CTX.subtract(seized, CTX.divide(seized, ONE + beta))
    return min(seized, quantize_up(CTX.multiply(bonus_part, fee), coll_decimals))


def leaves_dust(
    min_leftover_value: Decimal,
    repaid: Decimal,
    d: Decimal,
    seized: Decimal,
    c: Decimal,
    p_debt: Decimal,
    p_coll: Decimal,
) -> tuple[bool, Decimal] | None:
    """The side a liquidation would leave as dust, and the value left (contract 3.6).

    Notes
    -----
    A liquidation that clears neither side (repaid < d and seized < c) must leave both
    worth at least min_leftover_value: returns ``(True, (d - repaid)·p_debt)`` for the
    debt, ``(False, (c - seized)·p_coll)`` for the collateral, ``None`` when neither.
    """
    if min_leftover_value <= ZERO or repaid >= d or seized >= c:
        return None
    left_debt = (d - repaid) * p_debt
    if left_debt < min_leftover_value:
        return True, left_debt
    left_coll = (c - seized) * p_coll
    if left_coll < min_leftover_value:
        return False, left_coll
    return None


class LiquidationStart(NamedTuple):
    """What every liquidation design reads and checks first (contract 3, step 1)."""

    account: Account
    debt: AssetParams
    collateral: AssetParams
    #: units of debt asked for; ``None`` for ``max``
    want: Decimal | None
    before: AccountHealth
    #: the health factor as the rules read it: rounded up, so a tie at a level resolves
    #: against the liquidator, who acts
    hf_rules: Decimal
    #: units owed of the debt asset, supplied of the collateral asset
    d: Decimal
    c: Decimal
    #: the collateral position's effective weights
    w: EffectiveWeights

    def quote(
        self, market: Market, repaid: Decimal, seized: Decimal, fee: Decimal, beta: Decimal
    ) -> LiquidationQuote:
        """The liquidation that repays ``repaid`` and seizes ``seized`` (``fee`` of it to
        the protocol, bonus ``beta``), applied to a copy of the account, then step 7: bad
        debt written off, the insurance fund first (contract 5.5)."""
        debt_asset, collateral_asset = self.debt.symbol, self.collateral.symbol
        after = self.account.copy()
        after.set_borrow(debt_asset, self.d - repaid)
        after.set_supply(collateral_asset, self.c - seized)
        used, bad = write_off_bad_debt(after, market)
        sums = weighted_sums(after, market)
        return LiquidationQuote(
            account=self.account.id,
            debt_asset=debt_asset,
            collateral_asset=collateral_asset,
            repaid=repaid,
            seized=seized,
            liquidator_receives=seized - fee,
            protocol_fee=fee,
            health_factor_before=self.before.health_factor,
            health_factor_after=health_factor(sums.maintenance_collateral, sums.maintenance_debt),
            bad_debt=bad,
            bonus=beta,
            insurance_fund_used=used,
            account_after=after,
        )


@exact
def liquidation_start(
    market: Market,
    account_id: str,
    debt_asset: str,
    collateral_asset: str,
    amount: Decimal | Literal["max"] | str,
) -> LiquidationStart:
    """Step 1 of every design (close factor, target health, auction): the account is
    liquidatable, owes the debt asset and holds the collateral with an effective lt > 0.

    Raises
    ------
    UnknownAccount, UnknownAsset, InvalidAmount
        Bad input.
    NotLiquidatable, NothingToLiquidate
        Refused by the rule.
    """
    account = market.account(account_id)
    debt_p = market.asset(debt_asset)
    coll_p = market.asset(collateral_asset)
    want = None if amount == "max" else parse_amount(amount, debt_p.decimals, "amount")
    before = account_health(account, market)
    if not before.liquidatable:
        raise NotLiquidatable(account_id, before.health_factor)
    hf_rules = div_up(before.maintenance_collateral, before.maintenance_debt, HF_DECIMALS)
    d = account.borrowed(debt_asset)
    c = account.supplied(collateral_asset)
    if not d:
        raise NothingToLiquidate(account_id, f"owes no {debt_asset}")
    w = effective_weights(coll_p, market.category_of(account), c, ZERO)
    if not c or w.liquidation_threshold <= ZERO:
        raise NothingToLiquidate(account_id, f"holds no {collateral_asset} as collateral")
    return LiquidationStart(account, debt_p, coll_p, want, before, hf_rules, d, c, w)


@exact
def quote_liquidation(
    market: Market,
    account_id: str,
    debt_asset: str,
    collateral_asset: str,
    amount: Decimal | Literal["max"] | str,
) -> LiquidationQuote:
    """Exactly what ``liquidate`` would do, without changing ``market`` (contract 3).

    Raises
    ------
    UnknownAccount, UnknownAsset, InvalidAmount
        Bad input.
    NotLiquidatable, NothingToLiquidate, WouldLeaveDust
        Refused by a rule.
    LiquidationDesignMismatch
        The market liquidates by auction or storefront (contract 8), not by this rule.
    """
    params = market.params
    if params.liquidation != LiquidationDesign.CLOSE_FACTOR:  # contract 8
        from xmargin.risk.target_health import quote_target_liquidation

        if params.liquidation == LiquidationDesign.TARGET:
            return quote_target_liquidation(
                market, account_id, debt_asset, collateral_asset, amount
            )
        needed = "'close_factor' or 'target' (use the design's own commands)"
        raise LiquidationDesignMismatch("liquidate", needed, params.liquidation)
    # 1. liquidatable, owes the debt asset, holds collateral with effective lt > 0.
    start = liquidation_start(market, account_id, debt_asset, collateral_asset, amount)
    _, debt_p, coll_p, want, before, hf_rules, d, c, w = start

    # 2. how much may be repaid.
    p_debt, p_coll = debt_p.price, coll_p.price
    limit = max_repayable(
        params, hf_rules, d, c, before.debt_value, p_debt, p_coll, debt_p.decimals
    )
    repaid = limit if want is None else min(want, limit)

    # 3-5. bonus, seizure, protocol fee.
    beta = liquidation_bonus(params, w.liquidation_bonus, w.base_liquidation_threshold, hf_rules)
    seized, repaid = seize(repaid, p_debt, p_coll, beta, c, debt_p.decimals, coll_p.decimals)
    if not repaid or not seized:
        raise NothingToLiquidate(account_id, "the amount rounds to nothing at the assets' decimals")
    fee = protocol_fee(seized, beta, coll_p.protocol_fee, coll_p.decimals)

    # 6. dust.
    mlv = params.min_leftover_value
    dust = leaves_dust(mlv, repaid, d, seized, c, p_debt, p_coll)
    if dust is not None:
        on_debt, left = dust
        raise WouldLeaveDust(account_id, debt_asset if on_debt else collateral_asset, left, mlv)

    # Apply to a copy, then 7. bad debt, the insurance fund first (5.5).
    return start.quote(market, repaid, seized, fee, beta)
