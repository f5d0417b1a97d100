"""The demo window ``/w/demo``: an approved reseller (``reseller@demo.sourcefront.test``,
the demo password) with a dozen picks, a "Back to school" collection, prices under the
factory's cap, a month of visits and attributed orders in every ledger state, so the
window, the reseller's dashboard, earnings and statement and the staff's payouts page are
never empty. Built through the shop's own functions; idempotent (nothing is added once the
window exists).
"""

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.accounts.service import get_user_by_email
from shop.catalog import pricing
from shop.catalog.models import PriceTier, Product, Variant
from shop.db import utcnow
from shop.demo.accounts import add_demo_user, demo_email
from shop.demo.orders import DemoOrder, build_demo_order, demo_line
from shop.resellers import ledger, picks, service
from shop.resellers.models import Reseller, ResellerPrice, ResellerTerms, ResellerVisit
from shop.resellers.prices import scale_amount
from shop.resellers.program import cap_amount, program

DEMO_RESELLER_EMAIL = "reseller@demo.sourcefront.test"
DEMO_HANDLE = "demo"
PICKS = 12
COLLECTION_PICKS = 5
MARKUP_BPS = 1500  # the demo window asks 15 % above the factory (the cap is 30 %)
# The window's orders, oldest first, and what becomes of each commission: paid out,
# approved (waiting for the next payout), approved then partly refunded (a negative
# line), pending (not delivered yet, or inside the return window), cancelled (reversed).
WINDOW_ORDERS = (
    (DemoOrder(days_ago=45, payment="paid", fulfilment="delivered", pieces=30), "paid"),
    (DemoOrder(days_ago=40, payment="paid", fulfilment="delivered", pieces=24), "paid"),
    (DemoOrder(days_ago=28, payment="paid", fulfilment="delivered", pieces=36), "approved"),
    (
        DemoOrder(
            days_ago=26,
            payment="partially_refunded",
            fulfilment="delivered",
            pieces=20,
            refunded=25,
        ),
        "refunded",
    ),
    (DemoOrder(days_ago=9, payment="paid", fulfilment="delivered", pieces=12), "pending"),
    (DemoOrder(days_ago=4, payment="paid", fulfilment="shipped", pieces=18), "pending"),
    (DemoOrder(days_ago=1, payment="paid", fulfilment="unfulfilled", pieces=6), "pending"),
    (
        DemoOrder(
            days_ago=6,
            payment="refunded",
            fulfilment="unfulfilled",
            state="cancelled",
            pieces=10,
            refunded=100,
        ),
        "cancelled",
    ),
)
PAYOUT_REFERENCE = "DBS-DEMO-0001"
NOTES = (
    "Washes well, keeps its colour.",
    "My kids' favourite for PE.",
    "Order a size up for growing room.",
)


def seed_demo_window(session: Session) -> str:
    if session.scalar(sa.select(Reseller.id).where(Reseller.handle == DEMO_HANDLE)):
        return "Demo window: already there."
    products = list(
        session.scalars(
            sa.select(Product)
            .where(Product.active.is_(True), Product.school_id.is_(None))
            .order_by(Product.id)
            .limit(PICKS)
        )
    )
    if not products:
        return "Demo window: skipped (load the demo catalogue first)."
    user = add_demo_user(session, email=DEMO_RESELLER_EMAIL, name="Mei Lin", role="customer")
    reseller = service.apply_for_window(
        session,
        user,
        service.Application(
            handle=DEMO_HANDLE,
            display_name="Mei's school picks",
            bio="A parent of two in Singapore: the uniforms and basics I buy for my own kids.",
            social_links=["https://www.instagram.com/meis.picks"],
        ),
        terms_version="2026-12",
        auto_approve=True,
    )
    session.add(ResellerTerms(reseller_id=reseller.id, money_model="price"))
    collection = picks.create_collection(session, reseller, "Back to school", "back-to-school")
    for index, product in enumerate(products):
        pick = picks.add_pick(session, reseller, product.slug)
        if index < len(NOTES):
            picks.set_pick_note(session, reseller, pick.id, NOTES[index])
        if index < COLLECTION_PICKS:
            picks.add_to_collection(session, reseller, collection.id, pick.id)
    priced = _add_prices(session, reseller, products)
    _add_visits(session, reseller)
    session.flush()
    orders = _add_orders(session, reseller, products)
    return (
        f"Demo window: /w/{DEMO_HANDLE} with {len(products)} picks, {priced} reseller prices,"
        f" {orders} orders through it in every ledger state."
    )


def _window_line(session: Session, reseller: Reseller, product: Product, pieces: int):
    """``pieces`` of the product's first variant at the window's price for that many
    pieces, with the factory's price beside it (the margin): ``(priced, line)``."""
    variant = session.scalar(
        sa.select(Variant).where(Variant.product_id == product.id).order_by(Variant.position)
    )
    tiers = session.scalars(
        sa.select(PriceTier).where(PriceTier.product_id == product.id, PriceTier.currency == "CNY")
    ).all()
    own = session.get(ResellerPrice, (reseller.id, product.id, "CNY"))
    base = pricing.base_tier(tiers)
    tier = pricing.tier_for(tiers, pieces)
    if variant is None or own is None or base is None or tier is None:
        return None
    priced = (variant, scale_amount(tier.unit_amount, base.unit_amount, own.unit_amount))
    return priced, demo_line(priced, pieces, factory_unit_amount=tier.unit_amount)


def _add_orders(session: Session, reseller: Reseller, products: list[Product]) -> int:
    """The window's orders through the ledger's own functions, so the demo's ledger is
    one the shop could have written: commissions at payment, approval after the return
    window, a payout of the oldest, reversals for the refund and the cancellation."""
    buyer = get_user_by_email(session, demo_email("customer"))
    if buyer is None:
        return 0
    now = utcnow()
    placed = 0
    for phase in ("paid", "later"):  # the payout covers only the first phase's orders
        orders = []
        for index, (spec, fate) in enumerate(WINDOW_ORDERS):
            made = _window_line(session, reseller, products[index % len(products)], spec.pieces)
            if made is None or (fate == "paid") != (phase == "paid"):
                continue
            priced, line = made
            order = build_demo_order(
                spec,
                priced,
                buyer,
                lines=[line],
                reseller_id=reseller.id,
                reseller_model="price",
                reseller_earns=True,
            )
            session.add(order)
            session.flush()
            ledger.record_commission(session, order, now=order.paid_at)
            orders.append(order)
        ledger.approve_due(session, now=now)
        if phase == "paid" and orders:
            ledger.pay_out(
                session,
                reseller.id,
                "CNY",
                reference=PAYOUT_REFERENCE,
                request_key=None,
                actor_id=None,
                now=now,
            )
        for order in orders:
            ledger.reverse_commission(session, order, now=now)
        placed += len(orders)
    session.flush()
    return placed


def _add_prices(session: Session, reseller: Reseller, products: list[Product]) -> int:
    """15 % above the factory's first tier in every currency the product sells in."""
    cap_bps = program(session).price_cap_bps
    tiers = session.scalars(
        sa.select(PriceTier).where(PriceTier.product_id.in_([product.id for product in products]))
    ).all()
    bases: dict[tuple[int, str], PriceTier] = {}
    for tier in tiers:
        key = (tier.product_id, tier.currency)
        if key not in bases or tier.min_quantity < bases[key].min_quantity:
            bases[key] = tier
    for (product_id, currency), base in bases.items():
        factory = base.unit_amount
        amount = min(cap_amount(factory, MARKUP_BPS), cap_amount(factory, cap_bps))
        session.add(
            ResellerPrice(
                reseller_id=reseller.id,
                product_id=product_id,
                currency=currency,
                unit_amount=amount,
            )
        )
    return len(bases)


def _add_visits(session: Session, reseller: Reseller) -> None:
    today = utcnow().date()
    for days_ago in range(30):
        day: date = today - timedelta(days=days_ago)
        visits = 12 + (days_ago * 7) % 23 + (10 if day.weekday() >= 5 else 0)
        session.add(ResellerVisit(reseller_id=reseller.id, day=day, visits=visits))
