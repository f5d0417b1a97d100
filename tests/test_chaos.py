"""Chaos on PostgreSQL: 40 buyers check out and pay through gunicorn while its workers are
killed at random; after one ``reconcile-payments`` (and the reservations of abandoned
orders running out) the money and the stock add up exactly.

gunicorn runs the repository's deploy/gunicorn.conf.py (threaded workers) on a loopback
port, against localstripe, whose signed webhook — sent once, never again — is the only thing
that marks an order paid. A killer thread SIGKILLs one random worker every 0.3–1.0 s, so
requests and webhooks die mid-flight (a PaymentIntent created but its order never
written, a card confirmed but the answer lost, a webhook lost for good); gunicorn starts
a new worker each time (gunicorn runs with ``--preload``, so a new worker is a fork of
the loaded app, ready in milliseconds). The buyers (tests/chaos_buyer.py) reload a
failed step a few times, with the same one-time key for "Place order", and give up after
that; one in five first types a card that is declined, then a good one (a second
attempt: a second PaymentIntent for the order).

Then, after a moment for webhooks under way, ``reconcile-payments --minutes 0`` runs once
and ``expire-reservations`` cancels what the buyers who gave up left unpaid. Checked on
the database and on localstripe's own PaymentIntents:

- every PaymentIntent that succeeded belongs to a paid order (or to one refunded in full);
- no order has two succeeded PaymentIntents or two "paid" events;
- every variant's on-hand is its start minus the pieces of paid orders, none is held,
  and the stock ledger says the same;
- every order not paid is cancelled, and none of its PaymentIntents took money; every
  PaymentIntent that belongs to no order is cancelled;
- no buyer ever got an HTTP 500 (a kill is a connection error, never a 500).

SQLite has its own at-once tests (threads over one app); this one needs PostgreSQL.
``pytest tests/test_chaos.py -s`` prints a summary and where the full report is (every
order's timeline, payments and PaymentIntents, every buyer's requests, every kill);
``CHAOS_SEED`` changes the buyers' choices and the killer's timing.

localstripe ignores ``Idempotency-Key``: a request killed after creating a PaymentIntent,
retried, creates another one where Stripe would return the first. The shop must cope
with that too: a PaymentIntent it lost track of is cancelled or, if it took money,
applied or refunded.
"""

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from shop.catalog.models import Variant
from shop.orders.models import Order
from shop.stock.models import StockMovement
from tests.factories import make_product
from tests.localstripe_server import free_port, register_webhook
from tests.processes import stop

requests = pytest.importorskip("requests")
gunicorn_package = pytest.importorskip("gunicorn")

from tests.chaos_buyer import Buyer  # noqa: E402 - needs requests

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
# gunicorn 27's control socket is one path per user (~/.gunicorn/gunicorn.ctl): this
# test's gunicorn leaves it to any other that is running.
CONTROL_SOCKET = ("--no-control-socket",) if gunicorn_package.version_info >= (27,) else ()
SEED = int(os.environ.get("CHAOS_SEED", "20240611"))
BUYERS = 40
PRODUCTS = 3
STOCK = 10  # per product: 30 pieces for 40 buyers wanting 1–2 each
WORKERS = 3
THREADS = 4
KILL_EVERY = (0.3, 1.0)  # seconds between kills
CHAOS_LIMIT = 120  # seconds: the killer stops by then whatever happens
BUYERS_LIMIT = 100  # seconds to wait for the buyers
SETTLE = 3  # seconds for webhooks under way after the last kill
PAID = ("paid", "partially_refunded", "refunded")
TAKEN = ("succeeded", "processing", "requires_capture")


@pytest.fixture
def postgres_url(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip(
            "the chaos test needs PostgreSQL (set DATABASE_URL): gunicorn's worker processes "
            "share one database; on SQLite the threads-based at-once tests cover the races"
        )
    return database_url


@pytest.fixture
def chaos_app(postgres_url, make_app, stripe_settings):
    """The app the test reads with and runs the CLI commands through (its tables are
    emptied after the test by ``make_app``)."""
    return make_app(**stripe_settings, RESERVATION_MINUTES=30)


@pytest.fixture
def variants(chaos_app) -> dict[int, int]:
    """Three stocked products; → {variant id: pieces on hand at the start}."""
    with Session(chaos_app.extensions["sa_engine"]) as session:
        products = [
            make_product(session, slug=f"chaos-polo-{n}", name=f"Chaos polo {n}", on_hand=STOCK)
            for n in range(PRODUCTS)
        ]
        session.commit()
        return {product.variants[0].id: STOCK for product in products}


@pytest.fixture
def shop_server(tmp_path, postgres_url, stripe_settings, localstripe, variants):
    """gunicorn serving the shop on a free loopback port, its webhook registered at
    localstripe; → (base URL, master process, error log, access log). Always stopped."""
    instance = tmp_path / "instance"
    instance.mkdir()
    # CSRF off for the buyers' plain HTTP client; SHOP_ENV stays development.
    (instance / "config.py").write_text("WTF_CSRF_ENABLED = False\n")
    error_log = tmp_path / "gunicorn-error.log"
    access_log = tmp_path / "gunicorn-access.log"
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SHOP_INSTANCE_PATH": str(instance),
        "DATABASE_URL": postgres_url,
        "SECRET_KEY": "chaos-test-secret",
        "RESERVATION_MINUTES": "30",
        "MAIL_OUTBOX": str(tmp_path / "outbox"),
        **{name: value for name, value in stripe_settings.items()},
    }
    with open(tmp_path / "gunicorn.out", "w") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG)),
                *("--chdir", str(ROOT), "--bind", f"127.0.0.1:{port}"),
                *("--workers", str(WORKERS), "--threads", str(THREADS)),
                # The app is loaded once and each new worker is a fork of it: a restart
                # takes milliseconds, where importing the app takes seconds on a small,
                # busy machine (kills every 0.3-1.0 s would then leave no worker up).
                "--preload",
                *("--error-logfile", str(error_log), "--access-logfile", str(access_log)),
                *CONTROL_SOCKET,
                "wsgi:app",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        if not wait_until_serving(base, process, timeout=30):
            pytest.fail(f"gunicorn did not start:\n{tail(error_log)}")
        register_webhook(localstripe, f"{base}/stripe/webhook")
        yield base, process, error_log, access_log
    finally:
        stop(process)
        print(f"\ngunicorn logs: {error_log} {access_log}")


def wait_until_serving(base: str, process: subprocess.Popen, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"{base}/products/chaos-polo-0", timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.1)
    return False


def tail(path: Path, size: int = 6000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return ""


def workers_of(master: int) -> list[tuple[int, int]]:
    """The live child processes of gunicorn's master (its workers), from /proc, each with
    its thread count: a gthread worker has one thread until it takes its first request."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)"
            state, parent, threads = fields[0], int(fields[1]), int(fields[17])
        except (OSError, IndexError, ValueError):
            continue
        if parent == master and state != "Z":
            found.append((int(entry.name), threads))
    return sorted(found)


class Killer(threading.Thread):
    """Every 0.3–1.0 s, SIGKILLs one random worker that is serving (it has taken requests:
    more than one thread), until told to stop or ``CHAOS_LIMIT``. A worker still booting
    holds no request, and on a small machine booting takes seconds: killing those too
    would only keep the shop down, not cut requests in half."""

    def __init__(self, master: int, rng: random.Random):
        super().__init__(daemon=True)
        self.master = master
        self.rng = rng
        self.halt = threading.Event()
        self.kills: list[tuple[float, int]] = []  # (Unix time, pid)

    def run(self) -> None:
        deadline = time.monotonic() + CHAOS_LIMIT
        while not self.halt.wait(self.rng.uniform(*KILL_EVERY)) and time.monotonic() < deadline:
            serving = [pid for pid, threads in workers_of(self.master) if threads > 1]
            if not serving:
                continue
            victim = self.rng.choice(serving)
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                continue
            self.kills.append((time.time(), victim))


def stripe_intents(app, since: int, numbers: set[str]) -> list:
    """localstripe's PaymentIntents of this test: created since it started, or naming one
    of its orders (localstripe keeps those of earlier tests)."""
    from tests.localstripe_server import payment_intents

    return [i for i in payment_intents(app) if i.created >= since or order_number_of(i) in numbers]


def refunded_at_stripe(app, intent_id: str) -> int:
    from shop.payments.stripe_gateway import gateway

    with app.app_context():
        listed = gateway().client.v1.refunds.list(params={"payment_intent": intent_id})
    return sum(refund.amount for refund in listed.data)


def order_number_of(intent) -> str:
    return metadata_of(intent, "order_number")


def metadata_of(intent, key: str) -> str:
    metadata = getattr(intent, "metadata", None)  # a StripeObject, not a dict
    return str(metadata[key]) if metadata and key in metadata else ""


def run_cli(app, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_killed_workers_lose_no_money_and_no_stock(
    chaos_app, variants, shop_server, stripe_settings, tmp_path
):
    base, master, error_log, access_log = shop_server
    engine = chaos_app.extensions["sa_engine"]
    rng = random.Random(SEED)
    started = int(time.time()) - 1
    variant_ids = sorted(variants)
    buyers = [
        Buyer(
            index,
            base,
            stripe_settings,
            wanted=(rng.choice(variant_ids), rng.choice((1, 2))),
            seed=rng.randrange(2**32),
        )
        for index in range(BUYERS)
    ]
    outcomes = [None] * BUYERS

    def run(index: int) -> None:
        outcomes[index] = buyers[index].run()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(BUYERS)]
    killer = Killer(master.pid, random.Random(rng.randrange(2**32)))
    began = time.monotonic()
    killer.start()
    try:
        for thread in threads:
            thread.start()
            time.sleep(rng.uniform(0, 0.05))  # buyers arrive over a moment, not at once
        for thread in threads:
            thread.join(timeout=max(BUYERS_LIMIT - (time.monotonic() - began), 1))
    finally:
        killer.halt.set()
        killer.join(timeout=5)
    shopping_took = time.monotonic() - began
    assert not any(thread.is_alive() for thread in threads), "buyers still running"

    # The last webhooks: gunicorn is serving again, and each had a moment to arrive.
    assert wait_until_serving(base, master, timeout=30), tail(error_log)
    time.sleep(SETTLE)
    stop(master)  # nothing moves while the books are checked

    reconciled = run_cli(chaos_app, "reconcile-payments", "--minutes", "0")
    # Buyers who gave up after a killed request left orders unpaid, holding stock for
    # RESERVATION_MINUTES; their reservations running out is how such orders normally
    # end. Make them be over, and let expire-reservations cancel them.
    with engine.begin() as connection:
        connection.execute(
            sa.update(Order)
            .where(Order.payment_status == "unpaid", Order.state == "open")
            .values(reserved_until=sa.func.now() - sa.text("interval '1 minute'"))
        )
    expired = run_cli(chaos_app, "expire-reservations")

    with Session(engine) as session:
        orders = session.scalars(
            sa.select(Order)
            .options(
                selectinload(Order.lines),
                selectinload(Order.events),
                selectinload(Order.payments),
                selectinload(Order.refunds),
            )
            .order_by(Order.id)
        ).all()
        stock = {
            v.id: (v.on_hand, v.allocated)
            for v in session.scalars(sa.select(Variant).where(Variant.id.in_(variant_ids)))
        }
        ledger = dict(
            session.execute(
                sa.select(StockMovement.variant_id, sa.func.sum(StockMovement.on_hand_delta))
                .where(StockMovement.variant_id.in_(variant_ids))
                .group_by(StockMovement.variant_id)
            ).all()
        )
    by_number = {order.number: order for order in orders}
    intents = stripe_intents(chaos_app, started, set(by_number))
    intents_of: dict[str, list] = defaultdict(list)
    for intent in intents:
        intents_of[order_number_of(intent)].append(intent)
    buyer_of = {outcome.number: outcome for outcome in outcomes if outcome.number}

    def evidence(number: str) -> str:
        """Everything known of one order: its timeline, its payments, localstripe's
        PaymentIntents for it, and what its buyer sent and got (Unix times)."""
        order = by_number.get(number)
        lines = [f"order {number}"]
        if order is not None:
            lines[0] += (
                f": state {order.state}, payment {order.payment_status}, total "
                f"{order.total_amount}, refunded {order.refunded_amount}"
            )
            lines += [
                f"  event {e.created_at.timestamp():.2f} {e.kind} {e.note}" for e in order.events
            ]
            lines += [
                f"  payment #{p.attempt} {p.intent_id} {p.status} "
                f"{p.created_at.timestamp():.2f} {p.last_error}"
                for p in order.payments
            ]
        lines += [
            f"  stripe {i.id} {i.status} {i.amount} attempt {metadata_of(i, 'attempt')} "
            f"created {i.created}"
            for i in intents_of.get(number, [])
        ]
        if number in buyer_of:
            lines += [
                f"  buyer {buyer_of[number].buyer}: {step}" for step in buyer_of[number].trail
            ]
        return "\n".join(lines)

    ends = Counter(outcome.end for outcome in outcomes)
    gave_up_at = Counter(outcome.step for outcome in outcomes if outcome.end == "gave_up")
    paid_orders = [o for o in orders if o.state == "open" and o.payment_status == "paid"]
    never_written = [n for n in intents_of if n and n not in by_number]
    server_errors = [e for outcome in outcomes for e in outcome.server_errors]
    logged_500s = [line for line in tail(access_log, 10**8).splitlines() if '" 500 ' in line]
    summary = (
        f"chaos (seed {SEED}): {BUYERS} buyers in {shopping_took:.1f} s, "
        f"{len(killer.kills)} workers killed; {sum(o.retries for o in outcomes)} retries, "
        f"{sum(o.connection_errors for o in outcomes)} connection errors\n"
        f"  buyers: {dict(ends)}; gave up at {dict(gave_up_at)}; "
        f"saw 'paid': {sum(o.paid_seen for o in outcomes)}\n"
        f"  orders: {len(orders)} placed, {len(paid_orders)} paid, "
        f"{sum(o.state == 'cancelled' for o in orders)} cancelled, "
        f"{sum(o.payment_status == 'refunded' for o in orders)} refunded; "
        f"refused for stock: {sum(o.end == 'refused' for o in outcomes)}\n"
        f"  PaymentIntents: {dict(Counter(i.status for i in intents))}; "
        f"{sum(len(intents_of[n]) for n in never_written)} of orders never written\n"
        f"  stock (on hand, held): {stock}\n"
        f"  reconcile-payments: {first_line(reconciled)}; expire-reservations: "
        f"{first_line(expired)}"
    )
    print("\n" + summary)
    report = tmp_path / "chaos-report.txt"
    report.write_text(
        "\n\n".join(
            [
                summary,
                "kills (Unix time, pid):\n" + "\n".join(f"  {t:.2f} {p}" for t, p in killer.kills),
                reconciled,
                expired,
                *(evidence(n) for n in sorted(set(by_number) | set(never_written))),
                *(
                    f"buyer {o.buyer} {o.end} {o.step} {o.detail}\n  " + "\n  ".join(o.trail)
                    for o in outcomes
                ),
            ]
        )
    )
    print(f"chaos report: {report}")

    unexpected = [(o.buyer, o.step, o.detail) for o in outcomes if o.end == "unexpected"]
    assert not unexpected, unexpected
    assert not server_errors, "\n\n".join(server_errors[:3]) + "\n" + tail(error_log)
    assert not logged_500s, logged_500s[:5]
    assert killer.kills, "the killer killed nothing"
    assert all(outcome.end != "running" for outcome in outcomes)

    # Every PaymentIntent that took money ends in a paid order, or one refunded in full.
    for intent in intents:
        if intent.status not in TAKEN:
            continue
        number = order_number_of(intent)
        order = by_number.get(number)
        assert order is not None, f"{intent.id} took money for no order\n{evidence(number)}"
        assert intent.status == "succeeded", evidence(number)
        assert order.payment_status in PAID, f"{intent.id} succeeded\n{evidence(number)}"
        assert intent.amount == order.total_amount, evidence(number)
        if order.state == "cancelled":  # paid after it was cancelled: the money went back
            assert order.payment_status == "refunded", evidence(number)
            assert order.refunded_amount == order.total_amount, evidence(number)

    for order in orders:
        kinds = [event.kind for event in order.events]
        succeeded = [i.id for i in intents_of[order.number] if i.status == "succeeded"]
        # A second charge (an attempt charged while its request died, then retried) is
        # given back in full at once and the desk is told; the order keeps one payment.
        given_back = {p.intent_id for p in order.payments if p.status == "refunded"}
        for intent_id in given_back:
            assert refunded_at_stripe(chaos_app, intent_id) == order.total_amount, evidence(
                order.number
            )
            assert "duplicate_payment" in kinds, evidence(order.number)
        kept = [intent_id for intent_id in succeeded if intent_id not in given_back]
        assert len(kept) <= 1, f"charged twice\n{evidence(order.number)}"
        assert kinds.count("paid") <= 1, f"paid twice\n{evidence(order.number)}"
        assert not any(line.allocated for line in order.lines), evidence(order.number)
        if order.payment_status in PAID:
            assert kept == [order.paid_intent_id], evidence(order.number)
            assert (order.state == "open") == (order.payment_status == "paid"), evidence(
                order.number
            )
        else:
            # Not paid: cancelled, and none of its PaymentIntents can still take money
            # (each was cancelled, or was declined and its attempt is over).
            assert (order.state, order.payment_status) == ("cancelled", "unpaid"), evidence(
                order.number
            )
            declined = {p.intent_id for p in order.payments if p.status == "declined"}
            for intent in intents_of[order.number]:
                assert intent.status == "canceled" or (
                    intent.id in declined and intent.status == "requires_payment_method"
                ), evidence(order.number)

    # PaymentIntents whose order was never written (a kill between Stripe and the commit)
    # were all cancelled by reconcile-payments.
    for number in never_written:
        assert {i.status for i in intents_of[number]} == {"canceled"}, evidence(number)

    # Stock: sold exactly what was paid for, nothing held, never below zero, and the
    # stock ledger says the same.
    sold = Counter()
    for order in paid_orders:
        for line in order.lines:
            sold[line.variant_id] += line.quantity
    for variant_id, start in variants.items():
        on_hand, allocated = stock[variant_id]
        assert (on_hand, allocated) == (start - sold[variant_id], 0), (variant_id, stock, sold)
        assert on_hand >= 0
        assert ledger.get(variant_id, 0) == on_hand - start, (variant_id, ledger)

    # A buyer whose payment went through has a paid order; no two buyers share an order.
    for outcome in outcomes:
        if outcome.end == "submitted":
            assert by_number[outcome.number].payment_status == "paid", evidence(outcome.number)
    assert len(buyer_of) == sum(1 for outcome in outcomes if outcome.number)


def first_line(output: str) -> str:
    return output.strip().splitlines()[0] if output.strip() else ""
