"""Placing a confirmed roster as a job: ``place_roster`` (queued by the confirm page with
``enqueue_after_commit``, keyed by ``job_key(request_key)``, and watched on the progress
page through ``shop.jobs.job_status``).

The job is the boundary: it reads the roster again, places the order with
``ordering.place_roster_order`` and commits it, with the invoice and its emails, in one
transaction. It is safe to run again - an RQ retry, a worker killed half-way and its job
run once more, two copies at the same moment: the preview's one-time key is unique on the
order, so a run that finds (or collides with) the order another run committed returns
that order instead of placing a second, and a run that died committed nothing.

A refusal (credit limit, stock, card service...) is not an error to retry: the job
returns it as data (``refusal``), with what the bursar typed, so the progress page can say
it in the bursar's words and send them back to the roster with their text.
"""

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload

from shop.accounts.models import User
from shop.catalog.models import Variant
from shop.checkout.service import BelowCardMinimum, NoSchoolDelivery
from shop.db import get_session, utcnow
from shop.exceptions import ShopError
from shop.i18n import shop_zone
from shop.jobs import report_progress
from shop.links import external_url
from shop.locales import localized
from shop.mail import send_after_commit
from shop.orders.lifecycle import StockRanOut, find_placed
from shop.orders.models import Order
from shop.payments.stripe_gateway import PaymentServiceUnavailable, gateway
from shop.schools import invoices, ordering, roster
from shop.schools.models import Invoice, School

PLACED = "placed"
REFUSED = "refused"


def job_key(request_key: str) -> str:
    """The job's key: one placement per preview, however often it is confirmed."""
    return f"roster-order:{request_key}"


def place_roster(
    school_id: int,
    user_id: int | None,
    roster_text: str,
    payment: str,
    po_number: str,
    locale: str,
    request_key: str,
    choices: dict[str, str] | None = None,
    notes: str = "",
    round_id: int | None = None,
) -> dict[str, Any]:
    """The job: place the roster order for ``request_key`` once; its outcome as data.
    ``choices`` are the bursar's for what was short when they confirmed; with stock gone
    since, the order is refused (never placed other than the preview showed)."""
    session = get_session()
    placed = find_placed(session, request_key)
    typed = Typed(roster_text, payment, po_number, choices or {}, notes, round_id)
    if placed is not None:
        return _outcome_of(session, school_id, placed)
    school = session.get(School, school_id)
    if school is None:
        return refused(school_id, ordering.RosterNotReady(), typed)
    user = session.get(User, user_id) if user_id is not None else None
    preview = roster.build_preview(
        session, school, roster_text, locale=locale, choices=typed.choices
    )
    students = len(preview.students)
    report_progress(0, students)
    try:
        order = ordering.place_roster_order(
            session,
            school,
            preview,
            user=user,
            payment=payment,
            po_number=po_number,
            locale=locale,
            gateway=gateway() if payment == "card" else None,
            now=utcnow(),
            reservation_minutes=current_app.config["RESERVATION_MINUTES"],
            invoice_production=current_app.config["INVOICE_ORDERS_TO_PRODUCTION"],
            zone=shop_zone(),
            request_key=request_key,
            progress=lambda done: report_progress(done, students),
            notes=notes,
            round_id=round_id,
        )
        invoice = invoices.invoice_for_order(session, order.id)
        if invoice is not None:
            _email_invoice(session, school, order, invoice, user, locale)
        session.commit()
    except (sa.exc.IntegrityError, ShopError) as error:
        # Another run placed it a moment ago: its key stopped this one at the database, or
        # its stock and credit are already gone. Either way, the order is that one.
        session.rollback()
        placed = find_placed(session, request_key)
        if placed is not None:
            return _outcome_of(session, school_id, placed)
        if isinstance(error, sa.exc.IntegrityError):
            raise
        return refused(school_id, error, typed, session=session, locale=locale)
    return _outcome_of(session, school_id, order, invoice)


def _outcome_of(session, school_id: int, order: Order, invoice: Invoice | None = None) -> dict:
    if order.school_id != school_id:  # a key of another school's order: not this one's
        return refused(school_id, ShopError(), Typed())
    invoice = invoice or invoices.invoice_for_order(session, order.id)
    return {
        "outcome": PLACED,
        "school_id": school_id,
        "order_number": order.number,
        "invoice_number": invoice.number if invoice is not None else None,
    }


@dataclass(frozen=True)
class Typed:
    """What the bursar typed and chose, given back with a refusal."""

    roster: str = ""
    payment: str = ""
    po_number: str = ""
    choices: dict[str, str] = field(default_factory=dict)
    notes: str = ""
    round_id: int | None = None


def refused(
    school_id: int,
    error: Exception,
    typed: Typed,
    *,
    session: Session | None = None,
    locale: str = "en",
):
    """A refusal as data: what went wrong (``refusal``) and what the bursar had typed."""
    return {
        "outcome": REFUSED,
        "school_id": school_id,
        "refusal": refusal(error, session, locale),
        "roster": typed.roster,
        "payment": typed.payment,
        "po_number": typed.po_number,
        "choices": dict(typed.choices),
        "notes": typed.notes,
        "round_id": typed.round_id,
    }


def _variant_named(session: Session | None, sku: str, locale: str) -> dict[str, str]:
    """An item's name (in ``locale``), size and colour key for a refusal about its SKU."""
    variant = (
        session.scalars(
            sa.select(Variant).where(Variant.sku == sku).options(selectinload(Variant.product))
        ).first()
        if session is not None
        else None
    )
    if variant is None:
        return {"item": sku, "size": "", "colour": ""}
    return {
        "item": localized(variant.product, "name", locale),
        "size": variant.size,
        "colour": variant.colour,
    }


def refusal(error: Exception, session: Session | None = None, locale: str = "en") -> dict[str, Any]:
    """``{"kind": ..., <what its message needs>}`` for each refusal a placement may raise
    (the page turns it into a sentence in the reader's language). With ``session``, a
    stock refusal names the item, size and colour (not only the SKU)."""
    if isinstance(error, invoices.CreditLimitExceeded):
        return {
            "kind": "credit_limit",
            "total": error.total,
            "available": error.available,
            "currency": error.currency,
        }
    if isinstance(error, StockRanOut):
        return {
            "kind": "stock",
            "sku": error.sku,
            "available": error.available,
            **_variant_named(session, error.sku, locale),
        }
    if isinstance(error, BelowCardMinimum):
        return {"kind": "card_minimum", "minimum": error.minimum, "currency": error.currency}
    kinds = (
        (PaymentServiceUnavailable, "card_service"),
        (invoices.InvoiceNotAllowed, "invoice_not_allowed"),
        (ordering.PurchaseOrderRequired, "po_number"),
        (ordering.UnknownPayment, "payment"),
        (ordering.RosterNotReady, "roster"),
        (NoSchoolDelivery, "delivery"),
        (ordering.RoundClosed, "round_closed"),
        (ordering.NotesTooLong, "notes"),
    )
    for error_type, kind in kinds:
        if isinstance(error, error_type):
            return {"kind": kind}
    return {"kind": "other"}


def _email_invoice(session, school: School, order: Order, invoice: Invoice, user, locale: str):
    """The invoice goes to whoever ordered and to the school's contact (once the order is
    committed), in the language the bursar ordered in."""
    link = external_url("schools.invoice_page", slug=school.slug, number=invoice.number)
    recipients = dict.fromkeys(
        address for address in (getattr(user, "email", None), school.contact_email) if address
    )
    for address in recipients:
        send_after_commit(
            session,
            address,
            _l("Invoice %(number)s for %(school)s", number=invoice.number, school=school.name),
            "school_invoice",
            locale=locale,
            school_name=localized(school, "name", locale),
            order=order,
            invoice=invoice,
            link=link,
        )
