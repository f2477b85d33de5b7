"""Rule: a price update that is stale, out of order, non-finite, non-positive, not a
number, for an unknown asset, or that moves more than the asset's max deviation in one
step is rejected with its reason and leaves the book unchanged (all or nothing)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest

from tests.builders import make_market
from xmargin.book import RiskBook

T0 = 1_610_330_400.0  # 2021-01-11T02:00:00Z


def book() -> RiskBook:
    return RiskBook.from_market(
        make_market(
            assets={
                "ETH": {
                    "price": "1200",
                    "collateral_factor": "0.8",
                    "liquidation_threshold": "0.85",
                    "liquidation_bonus": "0.05",
                    "max_price_age_seconds": 60,
                    "max_price_deviation": "0.1",
                },
                "USDC": {
                    "price": "1",
                    "collateral_factor": "0.85",
                    "liquidation_threshold": "0.9",
                    "liquidation_bonus": "0.04",
                    "decimals": 6,
                },
            },
            accounts={"a": {"supply": {"ETH": "1"}, "borrow": {"USDC": "900"}}},
        )
    )


def reject_reason(b: RiskBook, prices: dict[str, object], **kw: object) -> list[str]:
    before_prices, before_status = b.prices, b.statuses().copy()
    update = b.apply_prices(prices, **kw)  # type: ignore[arg-type]
    assert not update.ok and not update.accepted and not update.events
    assert b.prices == before_prices
    assert np.array_equal(b.statuses(), before_status)
    return [r.code for r in update.rejected]


@pytest.mark.parametrize(
    ("price", "code"),
    [
        ("nan", "invalid_price"),
        ("Infinity", "invalid_price"),
        ("0", "invalid_price"),
        ("-5", "invalid_price"),
        ("a lot", "invalid_price"),
        ("1e-200", "invalid_price"),
    ],
)
def test_a_price_that_is_not_a_positive_number_is_rejected(price: str, code: str) -> None:
    assert reject_reason(book(), {"USDC": price}) == [code]


def test_a_move_beyond_the_max_deviation_is_rejected_with_both_prices() -> None:
    b = book()
    update = b.apply_prices({"ETH": "1080"}, timestamp=T0)  # -10%: allowed
    assert update.ok
    assert reject_reason(b, {"ETH": "971"}, timestamp=T0 + 1) == ["price_deviation"]
    msg = b.apply_prices({"ETH": "971"}, timestamp=T0 + 1).rejected[0].message
    assert "1080" in msg and "971" in msg and "0.1" in msg


def test_a_price_older_than_the_max_age_is_stale() -> None:
    b = book()
    assert b.apply_prices({"ETH": "1210"}, timestamp=T0).ok
    # now the book's clock reads T0 + 100: a price stamped T0 + 30 is 70 s old
    assert b.apply_prices({"USDC": "1"}, timestamp=T0 + 100).ok
    assert reject_reason(b, {"ETH": "1200"}, timestamp=T0 + 30) == ["stale_price"]
    # an explicit "now" judges it too
    assert reject_reason(b, {"ETH": "1200"}, timestamp=T0 + 101, now=T0 + 200) == ["stale_price"]


def test_a_price_observed_before_the_last_accepted_one_is_refused() -> None:
    b = book()
    assert b.apply_prices({"ETH": "1210"}, timestamp=T0 + 10).ok
    assert reject_reason(b, {"ETH": "1205"}, timestamp=T0 + 5) == ["price_out_of_order"]


def test_an_asset_with_a_max_age_needs_a_timestamp() -> None:
    assert reject_reason(book(), {"ETH": "1200"}) == ["invalid_price"]


def test_timestamps_may_be_datetimes() -> None:
    b = book()
    at = datetime(2021, 1, 11, 2, 0, tzinfo=UTC)
    assert b.apply_prices({"ETH": "1201"}, timestamp=at).ok


def test_an_unknown_asset_is_rejected() -> None:
    assert reject_reason(book(), {"DOGE": "1"}) == ["unknown_asset"]


def test_one_bad_price_rejects_the_whole_update() -> None:
    b = book()
    codes = reject_reason(b, {"USDC": "0.99", "ETH": "2000"}, timestamp=T0)
    assert codes == ["price_deviation"]
    assert b.prices["USDC"] == Decimal("1")


def test_hypothetical_prices_skip_the_guards_but_not_the_number_checks() -> None:
    b = book()
    assert b.apply_prices({"ETH": "100"}, guard=False).ok  # -92%, no timestamp
    assert reject_reason(b, {"ETH": "-1"}, guard=False) == ["invalid_price"]


def test_a_rejection_reads_as_json() -> None:
    r = book().apply_prices({"USDC": "0"}).rejected[0]
    assert r.to_dict() == {
        "asset": "USDC",
        "price": "0",
        "code": "invalid_price",
        "message": "price of USDC: must be > 0, was 0",
    }
