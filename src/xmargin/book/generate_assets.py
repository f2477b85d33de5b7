"""The assets of generated books: a catalogue of Aave v3 Ethereum listings, then a long tail.

WETH, USDC, WBTC, wstETH, STG and 1INCH carry Aave v3 Ethereum's parameters and prices of
2023-10-31; USDT, DAI, LINK, AAVE, rETH and CRV resemble their listings, with
illustrative prices; beyond twelve, synthetic assets ``ASSET13``, ``ASSET14``, ... with
lower weights and prices, every fourth of them isolated (see
:func:`xmargin.book.generate.generate_book`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from xmargin.mathlib import fmt

__all__ = ["CATEGORY_WEIGHTS", "Asset", "assets_for", "category_table", "num"]

#: The ``eth-correlated`` category's (cf, lt, bonus): Aave v3 Ethereum's ETH efficiency mode.
CATEGORY_WEIGHTS = (Decimal("0.90"), Decimal("0.93"), Decimal("0.01"))


def num(d: Decimal) -> Decimal:
    """``d`` as a market file writes it (normalised)."""
    return Decimal(fmt(d) or "0")


def _limit(listed: int | None, total: float) -> int | None:
    """The listed limit, raised to 1.25 x the book's total (whole units) if that is larger."""
    if listed is None:
        return None
    return max(listed, math.ceil(total * 1.25))


@dataclass(frozen=True)
class Asset:
    """One asset of a generated market: its listing and how popular it is."""

    symbol: str
    price: Decimal
    decimals: int
    cf: Decimal
    lt: Decimal
    bonus: Decimal
    fee: Decimal
    supply_cap: int | None = None
    borrow_cap: int | None = None
    debt_ceiling: int | None = None
    in_isolation: bool = False  # borrowable_in_isolation
    borrowable: bool = True
    eth: bool = False  # member of the eth-correlated category
    collateral_pop: float = 1.0  # relative popularity as collateral
    debt_pop: float = 1.0  # relative popularity as debt

    def market_table(
        self, supplied: float, borrowed: float, isolation_debt: float
    ) -> dict[str, Any]:
        """The asset's ``[assets.X]`` table; caps and ceiling raised to fit the book."""
        t: dict[str, Any] = {
            "price": fmt(self.price),
            "decimals": self.decimals,
            "collateral_factor": num(self.cf),
            "liquidation_threshold": num(self.lt),
            "liquidation_bonus": num(self.bonus),
            "protocol_fee": num(self.fee),
        }
        sc = _limit(self.supply_cap, float(supplied))
        bc = _limit(self.borrow_cap, float(borrowed))
        dc = _limit(self.debt_ceiling, float(isolation_debt))
        if sc is not None:
            t["supply_cap"] = sc
        if bc is not None:
            t["borrow_cap"] = bc
        if not self.borrowable:
            t["borrowable"] = False
        if dc is not None:
            t["debt_ceiling"] = dc
        if self.in_isolation:
            t["borrowable_in_isolation"] = True
        return t


def _d(text: str) -> Decimal:
    return Decimal(text)


# Aave v3 Ethereum listings. WETH, USDC, WBTC, wstETH, STG and 1INCH: the 2023-10-31
# payload report (bgd-labs/aave-proposals-v3), as in the shared market file. USDT, DAI,
# LINK, AAVE, rETH, CRV: parameters resembling their listings, prices illustrative.
_CATALOGUE: tuple[Asset, ...] = (
    Asset("WETH", _d("1816.85499606"), 18, _d("0.805"), _d("0.83"), _d("0.05"), _d("0.10"),
           1_800_000, 1_400_000, eth=True, collateral_pop=10.0, debt_pop=3.0),
    Asset("USDC", _d("0.99997427"), 6, _d("0.77"), _d("0.80"), _d("0.045"), _d("0.20"),
           1_760_000_000, 1_580_000_000, in_isolation=True, collateral_pop=3.0, debt_pop=10.0),
    Asset("WBTC", _d("34814.14003279"), 8, _d("0.73"), _d("0.78"), _d("0.05"), _d("0.10"),
           43_000, 28_000, collateral_pop=5.0, debt_pop=0.8),
    Asset("wstETH", _d("2080.52489524"), 18, _d("0.785"), _d("0.81"), _d("0.06"), _d("0.10"),
           850_000, 24_000, eth=True, collateral_pop=6.0, debt_pop=0.3),
    Asset("USDT", _d("1.0001"), 6, _d("0.74"), _d("0.76"), _d("0.045"), _d("0.10"),
           1_000_000_000, 900_000_000, in_isolation=True, collateral_pop=1.0, debt_pop=6.0),
    Asset("DAI", _d("0.9999"), 18, _d("0.77"), _d("0.80"), _d("0.05"), _d("0.10"),
           400_000_000, 300_000_000, in_isolation=True, collateral_pop=1.0, debt_pop=4.0),
    Asset("STG", _d("0.46219404"), 18, _d("0.35"), _d("0.40"), _d("0.10"), _d("0.10"),
           10_000_000, 5_500_000, debt_ceiling=3_000_000, collateral_pop=0.5, debt_pop=0.1),
    Asset("LINK", _d("11.20"), 18, _d("0.53"), _d("0.68"), _d("0.07"), _d("0.10"),
           15_000_000, 1_000_000, collateral_pop=1.5, debt_pop=0.3),
    Asset("AAVE", _d("89.50"), 18, _d("0.66"), _d("0.73"), _d("0.075"), _d("0.10"),
           1_850_000, None, borrowable=False, collateral_pop=1.0, debt_pop=0.0),
    Asset("1INCH", _d("0.30948038"), 18, _d("0.57"), _d("0.67"), _d("0.075"), _d("0.10"),
           22_000_000, 720_000, debt_ceiling=4_500_000, collateral_pop=0.4, debt_pop=0.1),
    Asset("rETH", _d("1965.40"), 18, _d("0.67"), _d("0.74"), _d("0.075"), _d("0.15"),
           60_000, 2_400, eth=True, collateral_pop=2.0, debt_pop=0.1),
    Asset("CRV", _d("0.50"), 18, _d("0.35"), _d("0.41"), _d("0.083"), _d("0.10"),
           62_500_000, 7_700_000, collateral_pop=0.6, debt_pop=0.2),
)  # fmt: skip

_STEP = Decimal("0.005")


def _synthetic_assets(n: int, width: int, rng: np.random.Generator) -> list[Asset]:
    """``n`` long-tail assets ASSETnn: price 0.001 to 100, cf 0.20 to 0.60, lt cf+0.02..0.10."""
    first = len(_CATALOGUE) + 1
    price_exp = rng.integers(-3, 2, size=n)  # price = m * 10^(e-7), m of 8 digits
    price_man = rng.integers(10_000_000, 100_000_000, size=n)
    cf_steps = rng.integers(40, 121, size=n)  # x 0.005: 0.20 .. 0.60
    lt_gap = rng.integers(4, 21, size=n)  # x 0.005: 0.02 .. 0.10
    bonus_steps = rng.integers(15, 31, size=n)  # x 0.005: 0.075 .. 0.15
    pops = rng.uniform(0.05, 0.4, size=n)
    out: list[Asset] = []
    for i in range(n):
        iso = i % 4 == 3
        out.append(
            Asset(
                symbol=f"ASSET{first + i:0{width}d}",
                price=Decimal(int(price_man[i])).scaleb(int(price_exp[i]) - 7),
                decimals=18,
                cf=_STEP * int(cf_steps[i]),
                lt=_STEP * int(cf_steps[i] + lt_gap[i]),
                bonus=_STEP * int(bonus_steps[i]),
                fee=Decimal("0.10"),
                supply_cap=None,
                borrow_cap=None,
                debt_ceiling=1_000_000 if iso else None,
                collateral_pop=float(pops[i]),
                debt_pop=float(pops[i]) / 4,
            )
        )
    return out


def assets_for(n_assets: int, rng: np.random.Generator) -> list[Asset]:
    """The first ``n_assets`` of the catalogue, then synthetic long-tail assets."""
    real = list(_CATALOGUE[:n_assets])
    extra = n_assets - len(real)
    if extra <= 0:
        return real
    width = max(2, len(str(n_assets)))
    return real + _synthetic_assets(extra, width, rng)


def category_table(assets: list[Asset]) -> dict[str, Any]:
    """The ``eth-correlated`` category over the ETH assets of ``assets``."""
    cf, lt, bonus = CATEGORY_WEIGHTS
    return {
        "collateral_factor": num(cf),
        "liquidation_threshold": num(lt),
        "liquidation_bonus": num(bonus),
        "assets": [a.symbol for a in assets if a.eth],
    }
