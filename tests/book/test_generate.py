"""Rule: ``generate_book`` writes a valid, reproducible book of a realistic shape.

Books here are small (2,000 accounts): each loads through the exact loader
(``xmargin.load_market``) in well under a second.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

import xmargin
from xmargin.book.generate import generate_book
from xmargin.model import Market

N = 2_000
K = 12  # the whole catalogue of real assets


def _classify(market: Market) -> Counter[str]:
    """Accounts by state: no_debt, healthy (> 1.1), at_risk, liquidatable, insolvent."""
    out: Counter[str] = Counter()
    for acc in market.accounts.values():
        h = xmargin.account_health(acc, market)
        if h.health_factor is None:
            out["no_debt"] += 1
        elif h.health_factor > Decimal("1.1"):
            out["healthy"] += 1
        elif not h.liquidatable:
            out["at_risk"] += 1
        elif h.debt_value > h.collateral_value:
            out["insolvent"] += 1
        else:
            out["liquidatable"] += 1
    return out


@pytest.fixture(name="book", scope="module")
def book_fixture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Market]:
    market_file, positions_file = generate_book(N, K, 7, tmp_path_factory.mktemp("book"))
    return market_file, positions_file, xmargin.load_market(market_file)


# -- reproducibility ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_the_same_seed_writes_byte_identical_files(tmp_path: Path, fmt: str) -> None:
    first = generate_book(N, K, 11, tmp_path / "a", fmt=fmt)
    second = generate_book(N, K, 11, tmp_path / "b", fmt=fmt)
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()


def test_another_seed_writes_another_book(tmp_path: Path) -> None:
    _, one = generate_book(N, K, 11, tmp_path / "a")
    _, two = generate_book(N, K, 12, tmp_path / "b")
    assert one.read_bytes() != two.read_bytes()


# -- the files are a valid contract book ------------------------------------------------


def test_the_market_file_names_its_positions_file_and_loads_every_account(
    book: tuple[Path, Path, Market],
) -> None:
    market_file, positions_file, market = book
    assert market_file.name == "market.toml"
    assert positions_file.name == "positions.parquet"
    assert market.params.accounts_file == "positions.parquet"
    assert len(market.accounts) == N
    assert len(market.assets) == K


def test_parquet_and_csv_books_of_one_seed_read_back_to_the_same_exact_balances(
    tmp_path: Path, book: tuple[Path, Path, Market]
) -> None:
    # Parquet holds float64, CSV decimal strings: both must load to the same Decimals.
    _, _, from_parquet = book
    market_file, positions_file = generate_book(N, K, 7, tmp_path, fmt="csv")
    assert positions_file.suffix == ".csv"
    from_csv = xmargin.load_market(market_file)
    assert list(from_csv.accounts) == list(from_parquet.accounts)
    assert all(from_csv.accounts[k] == from_parquet.accounts[k] for k in from_csv.accounts)


def test_every_amount_is_held_to_its_assets_decimals(book: tuple[Path, Path, Market]) -> None:
    _, _, market = book
    for acc in market.accounts.values():
        for side in (acc.supply, acc.borrow):
            for asset, units in side.items():
                places = -units.as_tuple().exponent  # type: ignore[operator]
                assert places <= market.assets[asset].decimals, (acc.id, asset, units)
                assert units > 0


# -- shape ------------------------------------------------------------------------------


def test_every_account_holds_one_to_six_assets(book: tuple[Path, Path, Market]) -> None:
    _, _, market = book
    held = Counter(len(set(a.supply) | set(a.borrow)) for a in market.accounts.values())
    assert set(held) <= set(range(1, 7))
    assert held[1] > 0 and held[2] > 0 and held[6] > 0


def test_most_accounts_are_healthy_and_a_tail_is_at_risk_liquidatable_or_insolvent(
    book: tuple[Path, Path, Market],
) -> None:
    _, _, market = book
    states = _classify(market)
    assert states["healthy"] + states["no_debt"] > N // 2
    assert states["healthy"] > states["at_risk"] > 0
    assert states["liquidatable"] > 0
    assert states["insolvent"] > 0
    assert states["liquidatable"] + states["insolvent"] < N // 10


def test_position_values_are_heavy_tailed(book: tuple[Path, Path, Market]) -> None:
    _, _, market = book
    values = sorted(
        xmargin.account_health(a, market).collateral_value for a in market.accounts.values()
    )
    median = values[len(values) // 2]
    top_1pct = values[-len(values) // 100]
    assert top_1pct > 30 * median  # log-normal with a wide spread: whales dominate


def test_some_accounts_use_the_eth_category_and_borrow_only_its_members(
    book: tuple[Path, Path, Market],
) -> None:
    _, _, market = book
    category = market.categories["eth-correlated"]
    members = [a for a in market.accounts.values() if a.category == "eth-correlated"]
    assert len(members) > N // 20
    assert any(a.borrow for a in members)
    for acc in members:
        assert all(category.allows_borrow(asset) for asset in acc.borrow), acc


def test_isolated_suppliers_hold_no_other_collateral_and_borrow_only_what_isolation_allows(
    book: tuple[Path, Path, Market],
) -> None:
    _, _, market = book
    isolated = [a for a in market.accounts.values() if market.isolated_collateral_of(a)]
    assert isolated
    for acc in isolated:
        assert len(acc.supply) == 1
        assert all(market.assets[b].borrowable_in_isolation for b in acc.borrow)


def test_isolation_debt_stands_within_every_debt_ceiling(book: tuple[Path, Path, Market]) -> None:
    _, _, market = book
    for asset, debt in market.isolation_debt.items():
        ceiling = market.assets[asset].debt_ceiling
        assert ceiling is not None and debt <= ceiling


def test_more_assets_than_the_catalogue_adds_long_tail_assets(tmp_path: Path) -> None:
    market_file, _ = generate_book(500, 20, 3, tmp_path)
    market = xmargin.load_market(market_file)
    synthetic = [s for s in market.assets if s.startswith("ASSET")]
    assert synthetic == [f"ASSET{i}" for i in range(13, 21)]
    weth = market.assets["WETH"]
    for s in synthetic:
        ap = market.assets[s]
        assert ap.liquidation_threshold < weth.liquidation_threshold
        assert ap.price < weth.price
    assert any(market.assets[s].debt_ceiling is not None for s in synthetic)
    assert len(market.accounts) == 500


@pytest.mark.parametrize("n_assets", [1, 2, 5])
def test_a_market_of_fewer_assets_than_positions_per_account_still_loads(
    tmp_path: Path, n_assets: int
) -> None:
    market_file, _ = generate_book(300, n_assets, 0, tmp_path)
    market = xmargin.load_market(market_file)
    assert next(iter(market.assets)) == "WETH"
    assert len(market.assets) == n_assets
    assert len(market.accounts) == 300


# -- bad arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_accounts": 0}, "accounts: must be from 1"),
        ({"n_assets": 0}, "assets: must be from 1"),
        ({"n_assets": 1_001}, "assets: must be from 1 to 1000"),
        ({"fmt": "xlsx"}, "format: must be 'parquet' or 'csv'"),
        ({"seed": -1}, "seed: must be a non-negative integer"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_error_and_nothing_is_written(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {"n_accounts": 10, "n_assets": 3, "seed": 1, "fmt": "parquet"}
    args.update(kwargs)
    out = tmp_path / "out"
    with pytest.raises(xmargin.InputError, match=message):
        generate_book(out_dir=out, **args)  # type: ignore[arg-type]
    assert not out.exists()


def test_positions_per_account_sets_how_many_positions_accounts_hold(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from xmargin.errors import InputError

    per: dict[float, float] = {}
    for mean in (1.5, 4.5):
        _, positions = generate_book(4_000, 20, 3, tmp_path / str(mean), positions_per_account=mean)
        per[mean] = pq.read_table(positions).num_rows / 4_000
    assert 1.3 < per[1.5] < 1.6 and 4.0 < per[4.5] <= 4.5
    with pytest.raises(InputError, match=r"positions per account: must be from 1 to 5\.5"):
        generate_book(10, 4, 1, tmp_path / "x", positions_per_account=7.0)
