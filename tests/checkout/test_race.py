"""Twenty buyers race through the real checkout for a variant with five in stock.

Each buyer has its own client (cookie, session, cart) and gets as far as the review page
while all five are still there; then all twenty press "Place order" at the same moment.
Exactly five orders get stock; the other fifteen go back to the cart with "Only 0 of
<SKU> left"; on-hand never moves (placing only allocates) and never goes negative.
Threads share one app on whatever database the suite uses; on PostgreSQL, separate
processes each build their own app as well.
"""

import multiprocessing
import queue
import threading
import time
import traceback
from collections import Counter

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.catalog.models import Variant
from shop.db import make_engine
from shop.orders.models import Order
from shop.stock.models import StockMovement
from tests.checkout.race_buyer import place, prepare, run_buyer
from tests.factories import make_product

BUYERS = 20
STOCK = 5
PLACED = "placed"
# Everything a worker process needs to build the same app as ``race_app``.
WORKER_SETTINGS = (
    "TESTING",
    "SECRET_KEY",
    "WTF_CSRF_ENABLED",
    "SERVER_NAME",
    "DATABASE_URL",
    "UPLOAD_FOLDER",
    "MAIL_OUTBOX",
)


@pytest.fixture
def race_app(make_app, stripe_settings):
    """The shop on localstripe: placing creates a PaymentIntent; no webhook is needed."""
    return make_app(**stripe_settings)


@pytest.fixture
def variant(race_app):
    with Session(race_app.extensions["sa_engine"], expire_on_commit=False) as session:
        product = make_product(session, slug="race-polo", on_hand=STOCK)
        session.commit()
        return product.variants[0]


@pytest.fixture
def postgres_url(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip(
            "separate processes race on PostgreSQL only (set DATABASE_URL); "
            "on SQLite the threads race covers checkout"
        )
    return database_url


class StockWatch:
    """Reads the variant's stock columns again and again on a connection of its own while
    the race runs, so the test sees every committed state, not just the last one."""

    def __init__(self, url: str, variant_id: int):
        self.engine = make_engine(url)
        self.query = sa.select(Variant.on_hand, Variant.allocated).where(Variant.id == variant_id)
        self.samples: list[tuple[int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.engine.connect() as connection:
            while True:
                stopping = self._stop.is_set()
                self.samples.append(tuple(connection.execute(self.query).one()))
                connection.rollback()
                if stopping:
                    return
                time.sleep(0.002)

    def __enter__(self) -> "StockWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self.engine.dispose()


def describe(outcome: dict) -> str:
    """``"placed"``; the one message a refused buyer is sent back to the cart with; or,
    for anything else, all there is to know about the answer."""
    if "error" in outcome:
        return f"error: {outcome['error']}"
    status, location, flashes = outcome["status"], outcome["location"], outcome["flashes"]
    if status == 303 and "/checkout/pay/" in location and not flashes:
        return PLACED
    if status == 303 and location.endswith("/cart") and len(flashes) == 1:
        category, message = flashes[0]
        if category == "error":
            return message
    return f"{status} -> {location!r} {flashes!r}"


def settle(engine, variant, outcomes: list[dict], samples: list[tuple[int, int]]) -> None:
    refusal = (
        f"Only 0 of {variant.sku} left: someone bought the rest. "
        "Lower the quantity and check out again."
    )
    assert Counter(map(describe, outcomes)) == {PLACED: STOCK, refusal: BUYERS - STOCK}
    numbers = {
        outcome["location"].rsplit("/", 1)[-1]
        for outcome in outcomes
        if describe(outcome) == PLACED
    }
    assert len(numbers) == STOCK

    with Session(engine) as session:
        orders = session.scalars(sa.select(Order)).all()
        assert {order.number for order in orders} == numbers
        for order in orders:
            lines = [(line.variant_id, line.quantity, line.allocated) for line in order.lines]
            assert lines == [(variant.id, 1, True)], order.number
            assert (order.state, order.payment_status) == ("open", "unpaid")
            assert len(order.payments) == 1, order.number
        row = session.get(Variant, variant.id)
        assert (row.on_hand, row.allocated) == (STOCK, STOCK)
        moves = session.execute(
            sa.select(
                StockMovement.reason,
                StockMovement.on_hand_delta,
                StockMovement.allocated_delta,
                StockMovement.reference,
            ).where(StockMovement.variant_id == variant.id)
        ).all()
        assert sorted(tuple(move) for move in moves) == sorted(
            ("allocated", 0, 1, number) for number in numbers
        )

    # Every state anyone could read during the race: on-hand untouched, never oversold.
    seen = sorted(set(samples))
    assert seen
    assert all(on_hand == STOCK and 0 <= allocated <= on_hand for on_hand, allocated in seen), seen
    allocated_seen = [allocated for _on_hand, allocated in samples]
    assert allocated_seen == sorted(allocated_seen)


def test_twenty_threads_race_through_checkout_for_five_units(race_app, variant, database_url):
    clients = [race_app.test_client() for _ in range(BUYERS)]
    for client in clients:
        prepare(client, variant.id)
    start = threading.Barrier(BUYERS, timeout=60)
    outcomes: list[dict] = [{"error": "never finished"} for _ in range(BUYERS)]

    def buy(buyer: int) -> None:
        try:
            start.wait()
            outcomes[buyer] = place(clients[buyer])
        except Exception:
            outcomes[buyer] = {"error": traceback.format_exc()}

    with StockWatch(database_url, variant.id) as watch:
        threads = [threading.Thread(target=buy, args=(buyer,)) for buyer in range(BUYERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    settle(race_app.extensions["sa_engine"], variant, outcomes, watch.samples)


def collect(events, kind: str, deadline: float) -> dict[int, tuple]:
    """``{buyer: rest of the event}`` once every buyer has reported ``kind``; fails at
    the first worker error, an unexpected event, or the deadline."""
    reports: dict[int, tuple] = {}
    while len(reports) < BUYERS:
        try:
            event = events.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            pytest.fail(f"{len(reports)} of {BUYERS} buyers {kind} in time")
        if event[0] == "error":
            pytest.fail(f"buyer {event[1]} failed:\n{event[2]}")
        assert event[0] == kind, event
        reports[event[1]] = event[2:]
    return reports


def test_twenty_processes_race_through_checkout_for_five_units(
    postgres_url, race_app, stripe_settings, variant
):
    settings = {key: race_app.config[key] for key in WORKER_SETTINGS}
    settings.update(DATABASE_URL=postgres_url, **stripe_settings)
    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    go = context.Event()
    start_at = context.Value("d", 0.0)
    workers = [
        context.Process(
            target=run_buyer,
            args=(settings, variant.id, buyer, events, go, start_at),
            daemon=True,
        )
        for buyer in range(BUYERS)
    ]
    for worker in workers:
        worker.start()
    try:
        # Every worker imports the shop, builds its app and gets to the review page first.
        collect(events, "ready", deadline=time.monotonic() + 180)
        with StockWatch(postgres_url, variant.id) as watch:
            start_at.value = time.time() + 0.5
            go.set()
            done = collect(events, "done", deadline=time.monotonic() + 120)
    finally:
        deadline = time.monotonic() + 10
        for worker in workers:
            worker.join(timeout=max(deadline - time.monotonic(), 0))
            if worker.is_alive():
                worker.terminate()
                worker.join()
    outcomes = [outcome for (outcome,) in done.values()]
    settle(race_app.extensions["sa_engine"], variant, outcomes, watch.samples)
