"""Rows that other parts of the small windows write (attribution's visits and orders,
the ledger's commission lines), put straight into the database for tests of what reads
them: the dashboard, the packing slip, the desk's fraud signals."""

import itertools
from datetime import date, timedelta

from shop.db import utcnow
from shop.resellers.models import CommissionLine, ResellerVisit
from tests.order_factories import make_order

_keys = itertools.count(1)


def window_order(session, reseller, *, days_ago=0, products=(), **fields):
    """An order placed through ``reseller``'s window ``days_ago`` days ago; ``products``
    are ``(product, quantity)`` pairs, one line each (else the factory's default line)."""
    if products:
        fields["lines"] = [
            (f"SKU-{product.slug}", quantity, 8900) for product, quantity in products
        ]
    overrides = {
        name: fields.pop(name) for name in ("recipient", "delivery_method") if name in fields
    }
    order = make_order(
        session,
        reseller_id=reseller.id,
        reseller_model="referral",
        reseller_earns=True,
        created_at=utcnow() - timedelta(days=days_ago),
        **fields,
    )
    for name, value in overrides.items():  # make_order sets these itself
        setattr(order, name, value)
    for line, (product, _quantity) in zip(order.lines, products, strict=False):
        line.product_id = product.id
    session.flush()
    return order


def commission(session, reseller, order, amount, *, state="pending", kind=None, **fields):
    line = CommissionLine(
        key=f"test:{next(_keys)}",
        reseller_id=reseller.id,
        order_id=order.id,
        currency=fields.pop("currency", order.currency),
        amount=amount,
        kind=kind or ("commission" if amount > 0 else "reversal"),
        state=state,
        **fields,
    )
    session.add(line)
    session.flush()
    return line


def visits(session, reseller, count: int, *, day: date):
    session.add(ResellerVisit(reseller_id=reseller.id, day=day, visits=count))
    session.flush()
