"""Contract 8.4, socialised loss after the insurance fund:
tests/vectors/drift_socialized_loss.toml (issue 15's numbers) and Drift's own unit test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import D, load_vector
from xmargin.errors import InvalidAmount, NothingToSocialize
from xmargin.io import dump_market, load_market
from xmargin.ledger.loss_waterfall import (
    execute_socialize_perp_loss,
    execute_socialize_spot_loss,
)
from xmargin.ledger.perps import execute_settle
from xmargin.model import Market
from xmargin.risk.health import account_health
from xmargin.risk.socialized_loss import (
    funding_delta_to_resolve_bankruptcy,
    quote_socialize_perp_loss,
    quote_socialize_spot_loss,
    supply_index_after_loss,
)


@pytest.fixture()
def m() -> Market:
    return load_vector("drift_socialized_loss.toml")


def test_the_funding_delta_of_the_issue_is_9_0909091() -> None:
    # loss 100, OI long 7, short -4, rounded up to 7 places
    assert funding_delta_to_resolve_bankruptcy(D(100), D(7), D(-4), 7) == D("9.0909091")


def test_drifts_own_vector_at_its_quote_precision() -> None:
    # Drift calculate_funding_rate_deltas_to_resolve_bankruptcy: 9,090,910,000 at 1e-9,
    # i.e. 9.09091 (rounded up at its 1e-6 quote precision)
    assert funding_delta_to_resolve_bankruptcy(D(100), D(7), D(-4), 6) == D("9.09091")


def test_socialising_a_perp_loss_moves_every_positions_funding_snapshot(m: Market) -> None:
    q = execute_socialize_perp_loss(m, "ETH-PERP")
    assert (q.loss, q.open_interest_long, q.open_interest_short) == (D(100), D(7), D(4))
    assert q.funding_delta == D("9.0909091")
    assert q.charged_value == D("100.0000001")  # 9.0909091 x 11 >= 100
    assert m.accounts["long3"].perps["ETH-PERP"].funding_index == D("-9.0909091")
    assert m.accounts["long4"].perps["ETH-PERP"].funding_index == D("-9.0909091")
    assert m.accounts["short4"].perps["ETH-PERP"].funding_index == D("9.0909091")
    assert "USDC" not in m.deficit and m.deficit == {"DAI": D(11)}


def test_every_position_then_owes_its_share_as_unsettled_funding(m: Market) -> None:
    before = {a: account_health(m.accounts[a], m).unrealized_pnl for a in ("long3", "short4")}
    execute_socialize_perp_loss(m, "ETH-PERP")
    after = {a: account_health(m.accounts[a], m).unrealized_pnl for a in ("long3", "short4")}
    assert after["long3"] - before["long3"] == D("-27.2727273")  # 3 x 9.0909091
    assert after["short4"] - before["short4"] == D("-36.3636364")  # 4 x 9.0909091
    q = execute_settle(m, "long3", "ETH-PERP")
    assert q.funding_paid == D("27.2727273")
    assert m.accounts["long3"].supply == {"USDC": D("9972.7272727")}


def test_a_part_of_the_deficit_may_be_socialised(m: Market) -> None:
    q = execute_socialize_perp_loss(m, "ETH-PERP", "44")
    assert q.funding_delta == D(4)  # 44 / 11
    assert m.deficit["USDC"] == D(56)
    with pytest.raises(InvalidAmount):
        quote_socialize_perp_loss(m, "ETH-PERP", "57")


def test_there_is_nothing_to_socialise_without_a_deficit_or_open_interest(m: Market) -> None:
    m.deficit.pop("USDC")
    with pytest.raises(NothingToSocialize, match="deficit"):
        quote_socialize_perp_loss(m, "ETH-PERP")
    m.deficit["USDC"] = D(1)
    m.open_interest = {}
    with pytest.raises(NothingToSocialize, match="nobody"):
        quote_socialize_perp_loss(m, "ETH-PERP")


def test_the_supply_index_of_the_issue() -> None:
    assert supply_index_after_loss(D(1), D(11), D(120)) == D("0.908333333333333333")


def test_socialising_a_spot_loss_scales_every_deposit(m: Market) -> None:
    q = execute_socialize_spot_loss(m, "DAI")
    assert (q.loss, q.total_supply) == (D(11), D(120))
    assert (q.index_before, q.index_after) == (D(1), D("0.908333333333333333"))
    assert m.accounts["saver100"].supply == {"DAI": D("90.833333")}  # 100 x 109/120, down
    assert m.accounts["saver20"].supply == {"DAI": D("18.166666")}  # 20 x 109/120, down
    assert q.taken == D("11.000001")  # >= 11: rounding takes from the depositors
    assert m.total_supply["DAI"] == D("108.999999")
    assert m.supply_index == {"DAI": D("0.908333333333333333")}
    assert "DAI" not in m.deficit


def test_a_second_loss_compounds_the_index(m: Market) -> None:
    execute_socialize_spot_loss(m, "DAI")
    m.deficit["DAI"] = D("10.899999")  # about a tenth of the 108.999999 left
    q = execute_socialize_spot_loss(m, "DAI")
    # 0.908333333333333333 x (108.999999 - 10.899999) / 108.999999 = 0.81750000750000006..
    assert q.index_after == D("0.817500007500000068")


def test_a_loss_above_all_deposits_takes_them_all_and_leaves_the_rest(m: Market) -> None:
    m.deficit["DAI"] = D(500)
    q = execute_socialize_spot_loss(m, "DAI")
    assert (q.loss, q.index_after) == (D(120), D(0))
    assert m.deficit["DAI"] == D(380)
    assert m.accounts["saver100"].supply == {}


def test_nobody_to_bear_a_spot_loss(m: Market) -> None:
    with pytest.raises(NothingToSocialize, match="nobody supplies"):
        m.deficit["ETH"] = D(1)
        quote_socialize_spot_loss(m, "ETH")


def test_the_supply_index_round_trips_even_at_zero(m: Market, tmp_path: Path) -> None:
    execute_socialize_spot_loss(m, "DAI")
    execute_socialize_perp_loss(m, "ETH-PERP")
    out = tmp_path / "after.toml"
    dump_market(m, out)
    again = load_market(out)
    assert again.state_equals(m)
    m.deficit["DAI"] = D(500)
    execute_socialize_spot_loss(m, "DAI")
    dump_market(m, out)
    assert load_market(out).supply_index == {"DAI": D(0)}
