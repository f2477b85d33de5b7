"""Contract 8.2, Dutch auctions: tests/vectors/maker_clipper.toml (Maker's Clipper shape)
and tests/vectors/derive_auction.toml (Derive's two-speed curve and fraction rule)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import D, load_vector
from xmargin.errors import (
    AuctionCannotReset,
    AuctionNeedsReset,
    InvalidTime,
    LiquidationDesignMismatch,
    NotLiquidatable,
    PriceAboveMax,
    UnknownAuction,
    WouldLeaveDust,
)
from xmargin.io import dump_market, load_market
from xmargin.ledger.actions import execute_liquidate
from xmargin.ledger.auctions import (
    execute_auction_reset,
    execute_auction_start,
    execute_auction_take,
)
from xmargin.model import Market
from xmargin.model.liquidation_params import parse_time
from xmargin.risk.auction import quote_auction_take
from xmargin.risk.auction_curves import (
    auction_status,
    buffer_margin,
    linear_decrease,
    max_fraction,
    stairstep_exponential_decrease,
    two_speed_decrease,
)
from xmargin.risk.health import account_health

T0 = parse_time("2024-06-01T08:00:00Z")


@pytest.fixture()
def m() -> Market:
    return load_vector("maker_clipper.toml")


# -- curves -------------------------------------------------------------------------------
def test_linear_decrease_reaches_zero_at_tau_and_stays_there() -> None:
    assert linear_decrease(D(0), D(3600)) == 1
    assert linear_decrease(D(1800), D(3600)) == D("0.5")
    assert linear_decrease(D(3600), D(3600)) == 0
    assert linear_decrease(D(9000), D(3600)) == 0


def test_stairstep_exponential_steps_every_step_seconds() -> None:
    cut = D("0.99")
    assert stairstep_exponential_decrease(D(89), D(90), cut) == 1
    assert stairstep_exponential_decrease(D(90), D(90), cut) == cut
    assert stairstep_exponential_decrease(D(1800), D(90), cut) == cut**20


def test_derives_two_speed_curve_is_1_to_0_8_in_ten_minutes_then_0_in_two_hours() -> None:
    f, fast, slow = D("0.8"), D(600), D(7200)
    assert two_speed_decrease(D(0), f, fast, slow) == 1
    assert two_speed_decrease(D(300), f, fast, slow) == D("0.9")
    assert two_speed_decrease(D(600), f, fast, slow) == D("0.8")
    assert two_speed_decrease(D(600 + 3600), f, fast, slow) == D("0.4")
    assert two_speed_decrease(D(600 + 7200), f, fast, slow) == 0


# -- Derive's fraction rule -----------------------------------------------------------------
def test_derives_fraction_rule_vector() -> None:
    bm = buffer_margin(D(-100), D(300), D("0.1"))
    assert bm == D(-140)
    assert max_fraction(bm, D(300)) == D("0.318181818181818181")  # 0.3182 at t = 0
    assert max_fraction(bm, D(270)) == D("0.341463414634146341")  # 0.3415 at 5 minutes


def test_the_fraction_rule_restores_the_buffer_margin_to_zero() -> None:
    bm, bid = D(-140), D(270)
    f = max_fraction(bm, bid)
    assert abs((1 - f) * bm + f * bid) < D("1e-15")


def test_no_fraction_is_for_sale_above_the_buffer_and_all_of_it_when_the_bid_is_below() -> None:
    assert max_fraction(D(10), D(300)) == 0
    assert max_fraction(D(-140), D(-200)) == 1


def test_the_derive_vector_through_the_account_figures_and_an_auction() -> None:
    m = load_vector("derive_auction.toml")
    h = account_health(m.accounts["portfolio"], m)
    mm = h.maintenance_collateral - h.maintenance_debt
    mtm = h.collateral_value - h.debt_value
    assert (mm, mtm) == (D(-100), D(300))
    bm = buffer_margin(mm, mtm, D("0.1"))
    bid_5min = mtm * two_speed_decrease(D(300), D("0.8"), D(600), D(7200))
    assert bid_5min == D(270)
    assert max_fraction(bm, bid_5min) == D("0.341463414634146341")
    q = execute_auction_start(m, "portfolio", "USDC", "ETH", "max")
    assert (q.auction.top, q.auction.lot, q.auction.tab) == (D(1000), D(1), D(700))
    _, rows = auction_status(m, "+5m")
    assert rows[0].price == D(900)


# -- start ----------------------------------------------------------------------------------
def test_start_moves_the_pair_into_an_auction_and_pays_the_keeper_from_the_fund(
    m: Market,
) -> None:
    q = execute_auction_start(m, "short", "USDC", "WETH")
    a = q.auction
    assert (a.id, a.debt, a.tab, a.lot, a.top, a.tic) == (
        1,
        D(10000),
        D(11300),  # 10,000 x 1.13
        D(6),
        D(2400),  # 2,000 x 1.2
        T0,
    )
    assert q.keeper_incentive == D("21.3")  # 10 + 11,300 x 0.001
    assert q.insurance_fund_used == {"USDC": D("21.3")}
    assert m.insurance_fund == {"USDC": D("78.7")}
    assert m.accounts["short"].supply == m.accounts["short"].borrow == {}
    assert m.total_supply["WETH"] == D(17)  # 23 - 6 (ample 7, healthy 10 remain)
    assert m.total_borrow["USDC"] == D(13000)  # 23,000 - 10,000
    assert m.auctions == {1: a} and m.auction_count == 1


def test_the_keeper_incentive_beyond_the_fund_is_new_bad_debt(m: Market) -> None:
    m.insurance_fund = {"USDC": D(5)}
    q = execute_auction_start(m, "short", "USDC", "WETH")
    assert q.insurance_fund_used == {"USDC": D(5)}
    assert q.deficit_added == {"USDC": D("16.3")}
    assert m.deficit == {"USDC": D("16.3")} and m.insurance_fund == {}


def test_liquidate_on_an_auction_market_is_not_the_close_factor_rule(m: Market) -> None:
    with pytest.raises(LiquidationDesignMismatch):
        execute_liquidate(m, "short", "USDC", "WETH", "max")


def test_a_healthy_account_cannot_be_auctioned(m: Market) -> None:
    with pytest.raises(NotLiquidatable):
        execute_auction_start(m, "healthy", "USDC", "WETH")


def test_a_partial_start_takes_the_collateral_pro_rata(m: Market) -> None:
    q = execute_auction_start(m, "short", "USDC", "WETH", "5000")
    assert (q.auction.debt, q.auction.lot) == (D(5000), D(3))  # 6 x 5,000 / 10,000
    assert m.accounts["short"].supply == {"WETH": D(3)}


# -- take -----------------------------------------------------------------------------------
def test_take_at_thirty_minutes_pays_the_stepped_price(m: Market) -> None:
    execute_auction_start(m, "short", "USDC", "WETH")
    q = execute_auction_take(m, 1, "2", at="+30m")
    assert q.price == D("1962.976650233354090135")  # 2,400 x 0.99^20, up
    assert (q.bought, q.paid, q.principal, q.penalty) == (
        D(2),
        D("3925.953301"),
        D("3925.953301"),
        D(0),
    )
    assert q.auction_after is not None
    assert (q.auction_after.lot, q.auction_after.tab) == (D(4), D("7374.046699"))
    assert m.params.time == parse_time("2024-06-01T08:30:00Z")  # the clock moved


def test_take_stops_at_the_tab_and_returns_the_rest_of_the_lot(m: Market) -> None:
    execute_auction_start(m, "ample", "USDC", "WETH")
    fund = m.insurance_fund["USDC"]  # 100 - 23.56
    q = execute_auction_take(m, 1, "max")
    assert (q.price, q.paid, q.bought) == (D(2400), D(13560), D("5.65"))
    assert (q.principal, q.penalty, q.returned) == (D(12000), D(1560), D("1.35"))
    assert q.auction_after is None and m.auctions == {}
    assert m.accounts["ample"].supply == {"WETH": D("1.35")}
    assert m.insurance_fund["USDC"] == fund + 1560


def test_when_the_lot_runs_out_the_unpaid_debt_is_written_off_fund_first(m: Market) -> None:
    execute_auction_start(m, "short", "USDC", "WETH")  # fund 78.7
    # at 7,110 s (79 steps) the price is 2,400 x 0.99^79 = 1,084.9.. >= 0.45 x top
    q = execute_auction_take(m, 1, "max", at="+7110s")
    assert q.bought == D(6) and q.auction_after is None
    unpaid = D(10000) - q.paid
    assert q.insurance_fund_used == {"USDC": D("78.7")}
    assert q.bad_debt == {"USDC": unpaid - D("78.7")}
    assert m.deficit == {"USDC": unpaid - D("78.7")}


def test_take_refuses_a_price_above_the_takers_limit(m: Market) -> None:
    execute_auction_start(m, "short", "USDC", "WETH")
    with pytest.raises(PriceAboveMax):
        quote_auction_take(m, 1, "1", max_price="2399")


def test_an_auction_past_its_cusp_or_tail_needs_a_reset(m: Market) -> None:
    execute_auction_start(m, "short", "USDC", "WETH")
    quote_auction_take(m, 1, "1", at="+7199s")  # 79 steps: 0.452.. of top
    with pytest.raises(AuctionNeedsReset, match="cusp"):
        quote_auction_take(m, 1, "1", at="+7200s")  # 80 steps: 0.4475..
    with pytest.raises(AuctionNeedsReset, match="tail"):
        quote_auction_take(m, 1, "1", at="+8401s")


def test_a_partial_take_may_not_leave_a_tab_below_dust(m: Market) -> None:
    m.params = m.params.model_copy(update={"min_leftover_value": D(1000)})
    execute_auction_start(m, "ample", "USDC", "WETH")
    # at 2,400 the tab 13,560 needs 5.65 WETH; 5.5 WETH would leave 360 < 1,000: the
    # take is cut to leave exactly the dust, 12,560 paid for 5.2333.. WETH
    q = quote_auction_take(m, 1, "5.5")
    assert q.paid == D(12560)
    assert q.bought == D("5.233333333333333333")


def test_a_tab_below_dust_must_be_bought_whole(m: Market) -> None:
    m.params = m.params.model_copy(update={"min_leftover_value": D(20000)})
    execute_auction_start(m, "ample", "USDC", "WETH")
    with pytest.raises(WouldLeaveDust):
        quote_auction_take(m, 1, "1")
    assert quote_auction_take(m, 1, "max").paid == D(13560)


def test_unknown_auctions_and_times_before_the_clock_are_bad_input(m: Market) -> None:
    with pytest.raises(UnknownAuction):
        quote_auction_take(m, 7)
    execute_auction_start(m, "short", "USDC", "WETH", at="2024-06-01T09:00:00Z")
    with pytest.raises(InvalidTime):
        quote_auction_take(m, 1, at="2024-06-01T08:59:59Z")


# -- reset ----------------------------------------------------------------------------------
def test_reset_restarts_from_the_oracle_and_pays_the_keeper_again(m: Market) -> None:
    execute_auction_start(m, "short", "USDC", "WETH")
    with pytest.raises(AuctionCannotReset):
        execute_auction_reset(m, 1, at="+1h")
    m.assets["WETH"] = m.assets["WETH"].model_copy(update={"price": D(1500)})
    q = execute_auction_reset(m, 1, at="+2h20m1s")  # 8,401 s > tail
    assert q.auction_after.top == D(1800)  # 1,500 x 1.2
    assert q.auction_after.tic == parse_time("2024-06-01T10:20:01Z")
    assert q.keeper_incentive == D("21.3")
    assert m.insurance_fund == {"USDC": D("57.4")}  # 100 - 21.3 - 21.3


# -- state ----------------------------------------------------------------------------------
def test_auctions_and_the_clock_round_trip_through_a_written_market(
    m: Market, tmp_path: Path
) -> None:
    execute_auction_start(m, "short", "USDC", "WETH")
    execute_auction_take(m, 1, "2", at="+30m")
    for name in ("after.toml", "after.json"):
        out = tmp_path / name
        dump_market(m, out)
        again = load_market(out)
        assert again.state_equals(m)
        assert again.params.time == parse_time("2024-06-01T08:30:00Z")
        assert again.auctions[1].lot == D(4)


def test_at_offsets_and_their_errors() -> None:
    from xmargin.risk.market_clock import parse_at

    assert parse_at("+2h30m", T0) == parse_time("2024-06-01T10:30:00Z")
    assert parse_at("+1.5", T0) == parse_time("2024-06-01T08:00:01.500000Z")
    assert parse_at("+1d", T0) == parse_time("2024-06-02T08:00:00Z")
    for bad in ("+", "+5x", "+m5", "+1e-9", "+-5", "+99999999999", "yesterday"):
        with pytest.raises(InvalidTime):
            parse_at(bad, T0)
    with pytest.raises(InvalidTime, match="no time"):
        parse_at("+5m", None)
    late = parse_time("9999-12-31T00:00:00Z")
    with pytest.raises(InvalidTime, match="9999"):
        parse_at("+2d", late)
