"""Stock moves in two stages, each an atomic conditional update with a ledger row; and
20 buyers racing for 5 units never oversell."""

import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor

import pytest
import sqlalchemy as sa

from shop.catalog.models import Variant
from shop.stock import allocation
from shop.stock.models import StockMovement
from tests.factories import make_product
from tests.stock.race import buy_one


@pytest.fixture
def variant(session):
    product = make_product(session, slug="polo", on_hand=5)
    session.commit()
    return product.variants[0]


def state(session, variant_id):
    session.expire_all()
    row = session.get(Variant, variant_id)
    moves = session.execute(
        sa.select(
            StockMovement.reason, StockMovement.on_hand_delta, StockMovement.allocated_delta
        ).order_by(StockMovement.id)
    ).all()
    return (row.on_hand, row.allocated), [tuple(move) for move in moves]


def test_allocate_then_sell(session, variant):
    allocation.allocate(session, variant.id, 3, reference="SF-1")
    allocation.sell(session, variant.id, 3, reference="SF-1")
    session.commit()
    assert state(session, variant.id) == ((2, 0), [("allocated", 0, 3), ("sold", -3, -3)])


def test_allocate_then_release(session, variant):
    allocation.allocate(session, variant.id, 2, reference="SF-2")
    allocation.release(session, variant.id, 2, reference="SF-2")
    session.commit()
    assert state(session, variant.id) == ((5, 0), [("allocated", 0, 2), ("released", 0, -2)])


def test_allocating_more_than_available_changes_nothing(session, variant):
    allocation.allocate(session, variant.id, 4, reference="SF-3")
    with pytest.raises(allocation.NotEnoughStock) as refused:
        allocation.allocate(session, variant.id, 2, reference="SF-4")
    assert refused.value.available == 1
    session.commit()
    assert state(session, variant.id) == ((5, 4), [("allocated", 0, 4)])


@pytest.mark.parametrize("quantity", [0, -1])
def test_non_positive_quantities_are_refused(session, variant, quantity):
    with pytest.raises(allocation.InvalidStockChange):
        allocation.allocate(session, variant.id, quantity, reference="x")
    assert state(session, variant.id) == ((5, 0), [])


def test_cannot_release_or_sell_what_was_not_allocated(session, variant):
    with pytest.raises(allocation.InvalidStockChange):
        allocation.release(session, variant.id, 1, reference="x")
    with pytest.raises(allocation.InvalidStockChange):
        allocation.sell(session, variant.id, 1, reference="x")
    assert state(session, variant.id) == ((5, 0), [])


def test_adjustments_never_go_below_what_is_allocated(session, variant):
    allocation.allocate(session, variant.id, 3, reference="SF-5")
    allocation.adjust(session, variant.id, 10, reason="received", note="batch 7")
    with pytest.raises(allocation.InvalidStockChange):
        allocation.adjust(session, variant.id, -13, reason="damaged")
    allocation.adjust(session, variant.id, -12, reason="counted")
    session.commit()
    assert state(session, variant.id) == (
        (3, 3),
        [("allocated", 0, 3), ("received", 10, 0), ("counted", -12, 0)],
    )


def test_unknown_adjustment_reason_is_refused(session, variant):
    with pytest.raises(allocation.InvalidStockChange):
        allocation.adjust(session, variant.id, 1, reason="found it")


def settle(session, variant_id, outcomes):
    sold = outcomes.count("ok")
    (on_hand, allocated), moves = state(session, variant_id)
    assert sold == 5
    assert sorted(set(outcomes) - {"ok"}) == ["only 0 left"]
    assert (on_hand, allocated) == (5, 5)
    assert len(moves) == 5


def test_twenty_threads_race_for_five_units(database_url, session, variant):
    start_at = time.time() + 0.5
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(buyer):
        outcome = buy_one(database_url, variant.id, buyer, start_at)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(buyer,)) for buyer in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 20
    settle(session, variant.id, outcomes)


@pytest.mark.slow
def test_twenty_processes_race_for_five_units(database_url, session, variant):
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=20, mp_context=context) as pool:
        start_at = time.time() + 6  # time for every worker to start and import
        futures = [
            pool.submit(buy_one, database_url, variant.id, buyer, start_at) for buyer in range(20)
        ]
        outcomes = [future.result(timeout=120) for future in futures]
    settle(session, variant.id, outcomes)


def test_a_count_sets_on_hand_and_records_only_a_change(session, variant):
    on_hand = variant.on_hand
    assert allocation.count(session, variant.id, on_hand + 3, staff_user_id=None) == 3
    assert allocation.count(session, variant.id, on_hand + 3, staff_user_id=None) == 0
    with pytest.raises(allocation.InvalidStockChange):
        allocation.count(session, variant.id, -1)
    session.expire_all()
    assert session.get(Variant, variant.id).on_hand == on_hand + 3
    reasons = session.scalars(
        sa.select(StockMovement.reason).where(StockMovement.variant_id == variant.id)
    ).all()
    assert reasons.count("counted") == 1
