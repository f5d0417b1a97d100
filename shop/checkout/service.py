"""Checkout: price the cart with delivery, and place the order.

``place_order`` re-prices from the catalogue, creates the Stripe PaymentIntent for that
amount (idempotency key from the new order number), then in one transaction (the caller
commits) allocates stock and writes the order in ``pending payment`` with a snapshot of
every line. The Stripe call comes before the first write on purpose: no stock row (and on
SQLite no database write lock) is held while waiting for Stripe. Any failure raises and
the caller rolls back; an intent whose order did not happen is cancelled. Nothing posted
by the browser except the buyer's details reaches this module: no price, total, currency
or variant.
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
from shop.orders import transitions
from shop.orders.models import Order, OrderLine
from shop.orders.numbers import new_order_number
from shop.payments.service import add_card_payment
from shop.payments.stripe_gateway import StripeGateway
from shop.schools.models import School
from shop.schools.rounds import next_round
from shop.stock.allocation import NotEnoughStock, allocate


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


class StockRanOut(ShopError):
    def __init__(self, sku: str, available: int):
        super().__init__(f"only {available} of {sku} left")
        self.sku = sku
        self.available = available


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
    session: Session, cart: Cart | None, details: CheckoutDetails | None, currency: str, locale: str
) -> CheckoutSummary:
    pricing = price_cart(session, cart, currency, locale)
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
    now: datetime | None = None,
) -> Order:
    now = now or utcnow()
    summary = summarise(session, cart, details, currency, locale)
    refuse_short_stock(summary.pricing)
    if not summary.pricing.can_checkout:
        raise CartNotReady()
    if expected_total is not None and expected_total != summary.total_amount:
        raise TotalChanged()
    if summary.below_minimum:
        raise BelowCardMinimum(summary.minimum_amount, currency)

    school, delivery_round = _school_delivery(session, summary, details, now)
    number = new_order_number()
    with card_intent(
        gateway, number=number, amount=summary.total_amount, currency=currency
    ) as intent:
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
        )
        add_card_payment(session, order, intent)
        cart.lines.clear()
        session.flush()
    order.reserved_until = now + timedelta(minutes=reservation_minutes)
    return order


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
    """``(school, round)`` when the cart can go with its school's next delivery round."""
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


def write_order(
    session: Session,
    pricing: CartPricing,
    details: CheckoutDetails,
    *,
    number: str,
    shipping_amount: int,
    user_id: int | None,
    locale: str,
    now: datetime,
    school_id: int | None = None,
    delivery_round_id: int | None = None,
    po_number: str = "",
    request_key: str | None = None,
) -> Order:
    """Allocate the stock and write the order with a snapshot of every line, in
    ``pending payment``; the caller adds how it is paid. Raises ``StockRanOut``."""
    # Stock first: the conditional UPDATEs are the race, and losing it should cost nothing.
    # One UPDATE per variant, however many children's lines share it (a roster of 2,000
    # students is a few dozen variants, not 8,000 lines).
    wanted: dict[int, int] = {}
    skus: dict[int, str] = {}
    for group in pricing.groups:
        if group.made_to_order:
            continue
        for line in group.lines:
            wanted[line.variant_id] = wanted.get(line.variant_id, 0) + line.quantity
            skus[line.variant_id] = line.sku
    for variant_id, quantity in wanted.items():
        try:
            allocate(session, variant_id, quantity, reference=number)
        except NotEnoughStock as error:
            raise StockRanOut(skus[variant_id], error.available) from None

    order = Order(
        number=number,
        user_id=user_id,
        currency=pricing.currency,
        locale=locale,
        subtotal_amount=pricing.total_amount,
        shipping_amount=shipping_amount,
        total_amount=pricing.total_amount + shipping_amount,
        created_at=now,
        school_id=school_id,
        delivery_round_id=delivery_round_id,
        po_number=po_number,
        request_key=request_key,
        **details.to_dict(),
    )
    if details.delivery_method == "pickup":
        order.country = order.region = order.city = order.line1 = order.line2 = ""
        order.postcode = ""
    if details.delivery_method == "school" and school_id is not None:
        _deliver_to_school(order, session.get(School, school_id))
    for group in pricing.groups:
        for line in group.lines:
            order.lines.append(
                OrderLine(
                    variant_id=line.variant_id,
                    product_id=group.product_id,
                    sku=line.sku,
                    product_name=group.name,
                    size=line.size,
                    colour=line.colour,
                    unit_amount=line.unit_amount,
                    quantity=line.quantity,
                    line_amount=line.line_amount,
                    made_to_order=group.made_to_order,
                    lead_time_days=group.lead_time_days,
                    allocated=not group.made_to_order,
                    student_name=line.student_name,
                    class_name=line.class_name,
                )
            )
    session.add(order)
    session.flush()
    transitions.record(session, order, "placed", now=now)
    return order


def _deliver_to_school(order: Order, school: School) -> None:
    """The parcel goes to the school's delivery address; who ordered stays the contact."""
    order.country = school.country
    order.region = school.delivery_region
    order.city = school.delivery_city
    order.line1 = school.delivery_line1
    order.line2 = school.delivery_line2
    order.postcode = school.delivery_postcode
