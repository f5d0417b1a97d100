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
from shop.orders.models import Order, OrderLine, Payment
from shop.orders.numbers import new_order_number
from shop.payments.stripe_gateway import StripeGateway
from shop.stock.allocation import NotEnoughStock, allocate


class CartNotReady(ShopError):
    message = "Your cart has items that cannot be ordered yet."


class BelowCardMinimum(ShopError):
    def __init__(self, minimum: int, currency: str):
        super().__init__(f"card payments start at {minimum} {currency}")
        self.minimum = minimum
        self.currency = currency


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
    for group in summary.pricing.groups:
        for line in group.lines:
            for problem in line.problems:
                if problem.code == "short_stock":
                    raise StockRanOut(line.sku, problem.values["available"])
    if not summary.pricing.can_checkout:
        raise CartNotReady()
    if expected_total is not None and expected_total != summary.total_amount:
        raise TotalChanged()
    if summary.below_minimum:
        raise BelowCardMinimum(summary.minimum_amount, currency)

    number = new_order_number()
    intent = gateway.create_intent(
        order_number=number, attempt=1, amount=summary.total_amount, currency=currency
    )
    try:
        order = _write_order(
            session, cart, details, summary, number, intent, user_id=user_id, locale=locale, now=now
        )
    except BaseException:
        gateway.cancel(intent.id)
        raise
    order.reserved_until = now + timedelta(minutes=reservation_minutes)
    return order


def _write_order(session, cart, details, summary, number, intent, *, user_id, locale, now):
    # Stock first: the conditional UPDATEs are the race, and losing it should cost nothing.
    for group in summary.pricing.groups:
        if group.made_to_order:
            continue
        for line in group.lines:
            try:
                allocate(session, line.variant_id, line.quantity, reference=number)
            except NotEnoughStock as error:
                raise StockRanOut(line.sku, error.available) from None

    order = Order(
        number=number,
        user_id=user_id,
        currency=summary.currency,
        locale=locale,
        subtotal_amount=summary.pricing.total_amount,
        shipping_amount=summary.shipping_amount,
        total_amount=summary.total_amount,
        created_at=now,
        **details.to_dict(),
    )
    if details.delivery_method == "pickup":
        order.country = order.region = order.city = order.line1 = order.line2 = ""
        order.postcode = ""
    for group in summary.pricing.groups:
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
                )
            )
    session.add(order)
    session.flush()
    transitions.record(session, order, "placed", now=now)
    order.payments.append(
        Payment(
            attempt=1,
            intent_id=intent.id,
            amount=intent.amount,
            currency=intent.currency,
            status=intent.status,
        )
    )
    cart.lines.clear()
    session.flush()
    return order
