"""Checkout: price the cart with delivery, and place the order.

``place_order`` re-prices from the catalogue, creates the Stripe PaymentIntent for that
amount (idempotency key from the new order number), then in one transaction (the caller
commits) allocates stock and writes the order in ``pending payment`` with a snapshot of
every line. The Stripe call comes before the first write on purpose: no stock row (and on
SQLite no database write lock) is held while waiting for Stripe. Any failure raises and
the caller rolls back; an intent whose order did not happen is cancelled. Nothing posted
by the browser except the buyer's details reaches this module: no price, total, currency
or variant. The window the buyer came through (``shop.resellers``) comes from the
caller, read from the buyer's signed mark: its prices, and the window the order belongs to.
"""

from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from shop.cart.models import Cart
from shop.cart.pricing import CartPricing, price_cart
from shop.checkout import delivery
from shop.db import utcnow
from shop.exceptions import ShopError
from shop.money import MIN_CARD_AMOUNTS
from shop.orders.lifecycle import StockRanOut, find_placed, write_order
from shop.orders.models import Order
from shop.orders.numbers import new_order_number
from shop.payments.stripe_gateway import StripeGateway
from shop.resellers.attribution import attribute_order
from shop.resellers.prices import PricingWindow
from shop.schools.models import School
from shop.schools.rounds import next_round


class CartNotReady(ShopError):
    message = "Your cart has items that cannot be ordered yet."


class BelowCardMinimum(ShopError):
    def __init__(self, minimum: int, currency: str):
        super().__init__(f"card payments start at {minimum} {currency}")
        self.minimum = minimum
        self.currency = currency


class NoSchoolDelivery(ShopError):
    message = "The school has no delivery round open for orders now."


class TotalChanged(ShopError):
    message = "Prices or currency changed since you reviewed the order."


@dataclass(frozen=True)
class CheckoutDetails:
    """What the buyer tells us; kept in the session between the form and the review."""

    email: str
    delivery_method: str
    recipient: str = ""
    phone: str = ""
    country: str = ""
    region: str = ""
    city: str = ""
    line1: str = ""
    line2: str = ""
    postcode: str = ""
    notes: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "CheckoutDetails | None":
        if not data:
            return None
        try:
            return cls(**{name: str(data[name]) for name in cls.__dataclass_fields__})
        except KeyError:
            return None


@dataclass(frozen=True)
class CheckoutSummary:
    pricing: CartPricing
    shipping_amount: int
    total_amount: int

    @property
    def currency(self) -> str:
        return self.pricing.currency

    @property
    def minimum_amount(self) -> int:
        return MIN_CARD_AMOUNTS[self.currency]

    @property
    def below_minimum(self) -> bool:
        return self.total_amount < self.minimum_amount


def summarise(
    session: Session,
    cart: Cart | None,
    details: CheckoutDetails | None,
    currency: str,
    locale: str,
    window: PricingWindow | None = None,
) -> CheckoutSummary:
    pricing = price_cart(session, cart, currency, locale, window)
    shipping = 0
    if details is not None and pricing.groups:
        shipping = delivery.quote(
            details.delivery_method,
            country=details.country,
            pieces=pricing.item_count,
            currency=currency,
        ).amount
    return CheckoutSummary(pricing, shipping, pricing.total_amount + shipping)


def refuse_short_stock(pricing: CartPricing) -> None:
    """``StockRanOut`` for the first line asking for more than is left."""
    for group in pricing.groups:
        for line in group.lines:
            for problem in line.problems:
                if problem.code == "short_stock":
                    raise StockRanOut(line.sku, problem.values["available"])


def place_order(
    session: Session,
    cart: Cart,
    details: CheckoutDetails,
    *,
    currency: str,
    locale: str,
    user_id: int | None,
    expected_total: int | None,
    gateway: StripeGateway,
    reservation_minutes: int,
    request_key: str | None = None,
    now: datetime | None = None,
    window: PricingWindow | None = None,
    reseller_id: int | None = None,
) -> Order:
    """Place the cart as an order. ``request_key`` is the review form's one-time key: the
    same form sent again, even at the same moment, gives back the one order it placed.
    ``window``: the prices of the window the buyer is marked for; ``reseller_id``: that
    window (any money model), which the order joins (``attribution.attribute_order``).

    Sent again after that order was placed, the form finds the cart emptied by it (or, at
    the same moment, the key taken: the caller's ``IntegrityError``), so the key is only
    looked up when the cart cannot be placed, not on every order."""
    now = now or utcnow()
    summary = summarise(session, cart, details, currency, locale, window)
    try:
        check_placeable(summary, expected_total)
        school, delivery_round = _school_delivery(session, summary, details, now)
    except ShopError:
        if request_key and (placed := find_placed(session, request_key)) is not None:
            return placed
        raise

    number = new_order_number()
    with card_intent(
        gateway, number=number, amount=summary.total_amount, currency=currency
    ) as intent:
        cart.lines.clear()  # deleted in the order's flush
        order = write_order(
            session,
            summary.pricing,
            details,
            number=number,
            shipping_amount=summary.shipping_amount,
            user_id=user_id,
            locale=locale,
            now=now,
            school_id=school.id if school is not None else None,
            delivery_round_id=delivery_round.id if delivery_round is not None else None,
            request_key=request_key,
            reserved_until=now + timedelta(minutes=reservation_minutes),
            intent=intent,
        )
        attribute_order(session, order, reseller_id)
    return order


def check_placeable(summary: CheckoutSummary, expected_total: int | None) -> None:
    """Raise the first reason the summarised cart cannot be placed as it is."""
    refuse_short_stock(summary.pricing)
    if not summary.pricing.can_checkout:
        raise CartNotReady()
    if expected_total is not None and expected_total != summary.total_amount:
        raise TotalChanged()
    if summary.below_minimum:
        raise BelowCardMinimum(summary.minimum_amount, summary.currency)


@contextmanager
def card_intent(gateway: StripeGateway, *, number: str, amount: int, currency: str):
    """The PaymentIntent for a new order, created before the order is written (no lock
    is held while Stripe answers) and cancelled if writing the order fails."""
    intent = gateway.create_intent(order_number=number, attempt=1, amount=amount, currency=currency)
    try:
        yield intent
    except BaseException:
        gateway.cancel(intent.id)
        raise


def cart_school(session: Session, pricing: CartPricing) -> School | None:
    """The school the cart's children's lines are for, when there is exactly one."""
    school_ids = {
        line.school_id for group in pricing.groups for line in group.lines if line.school_id
    }
    if len(school_ids) != 1:
        return None
    return session.get(School, school_ids.pop())


def school_delivery_option(session: Session, pricing: CartPricing, now: datetime):
    """``(school, round)`` when the cart can go with its school's next delivery round:
    every line is a child's kit for one school (a retail item goes by courier or pick-up)."""
    if any(not line.school_id for group in pricing.groups for line in group.lines):
        return None
    school = cart_school(session, pricing)
    delivery_round = next_round(school, now) if school is not None else None
    return (school, delivery_round) if delivery_round is not None else None


def _school_delivery(session, summary, details, now):
    """The school an order is for and, when it goes with the school's delivery, the round."""
    if details.delivery_method != "school":
        return cart_school(session, summary.pricing), None
    option = school_delivery_option(session, summary.pricing, now)
    if option is None:
        raise NoSchoolDelivery()
    return option
