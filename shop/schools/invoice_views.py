"""A school's invoices: the printable page and the PDF, for the school's own admins and
factory staff who see orders. Everyone else gets a 404, so an invoice number alone
reveals nothing. The document is built in ``shop.schools.invoice_pdf``."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, current_app, render_template
from flask_babel import force_locale
from flask_login import current_user
from sqlalchemy.orm import selectinload

from shop.accounts.forms import COUNTRIES
from shop.accounts.permissions import has_permission
from shop.catalog.translations import line_names
from shop.db import get_session
from shop.downloads import attachment
from shop.i18n import shop_zone
from shop.locales import factory_setting, localized
from shop.orders.models import Order
from shop.orders.receipt import Factory
from shop.schools import invoice_pdf as documents
from shop.schools.access import get_school
from shop.schools.blueprint import bp
from shop.schools.membership import can_manage_school
from shop.schools.models import Invoice
from shop.templating import render_document


def factory_from(config, locale: str = "en") -> Factory:
    """The seller as the invoice names it, in ``locale``'s language."""
    return Factory(
        name=factory_setting(config, "FACTORY_NAME", locale),
        address=factory_setting(config, "FACTORY_ADDRESS", locale),
        tax_id=config["FACTORY_TAX_ID"] or "",
    )


def invoice_document(invoice: Invoice) -> documents.InvoiceDocument:
    """The document of ``invoice`` as of today, dated on the school's own calendar (its
    time zone), in the school's language (``School.locale``), whoever reads it."""
    zone = ZoneInfo(invoice.school.time_zone) if invoice.school.time_zone else shop_zone()
    config = current_app.config
    locale = invoice.school.locale
    return documents.build_document(
        invoice,
        factory_from(config, locale),
        config["FACTORY_BANK_DETAILS"],
        datetime.now(UTC).astimezone(zone).date(),
        zone,
        item_names=line_names(get_session(), invoice.order.lines, locale),
    )


def _visible_invoice(slug: str, number: str) -> Invoice:
    db = get_session()
    school = get_school(db, slug)
    if school is None:
        abort(404)
    if not (
        can_manage_school(current_user, school, db) or has_permission(current_user, "orders.view")
    ):
        abort(404)
    invoice = db.scalars(
        sa.select(Invoice)
        .where(Invoice.number == number, Invoice.school_id == school.id)
        .options(
            selectinload(Invoice.order).selectinload(Order.lines),
            selectinload(Invoice.school),
        )
    ).first()
    if invoice is None:
        abort(404)
    return invoice


@bp.get("/<slug>/admin/invoices/<number>")
def invoice_page(slug: str, number: str):
    document = invoice_document(_visible_invoice(slug, number))
    invoice = render_document(
        document.school.locale,
        "schools/_invoice_doc.html",
        doc=document,
        countries=dict(COUNTRIES),
    )
    return render_template("schools/invoice.html", doc=document, invoice_html=invoice, slug=slug)


@bp.get("/<slug>/admin/invoices/<number>.pdf")
def invoice_pdf(slug: str, number: str):
    document = invoice_document(_visible_invoice(slug, number))
    locale = document.school.locale
    with force_locale(locale):  # the school's language, whoever downloads it
        pdf = documents.render_pdf(
            document,
            locale=locale,
            school_name=localized(document.school, "name", locale),
            countries=dict(COUNTRIES),
        )
    return attachment(pdf, f"invoice-{document.invoice.number}.pdf", "application/pdf")
