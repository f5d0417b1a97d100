"""The receipt of a paid order: what it shows (``build_receipt``, shared by the printable
page and the PDF) and the PDF itself (``render_pdf``, with reportlab).

The PDF needs no font files: Latin text is set in the PDF's built-in Helvetica, Chinese
and Japanese in reportlab's built-in CID fonts (``STSong-Light``, ``HeiseiKakuGo-W5``),
which every PDF reader supplies. Each piece of text picks its font by what it contains,
so a Chinese product name on an English receipt still shows.

``build_receipt`` and ``included_tax`` are plain functions. ``render_pdf`` is a view
helper, like a template: it words and formats in the request's language with Flask-Babel.
"""

import functools
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from flask_babel import format_date as _format_date
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from shop.catalog.colours import colour_name
from shop.db import as_utc
from shop.money import format_money
from shop.orders import lifecycle
from shop.orders.models import Order

RECEIPT_STATUSES = ("paid", "partially_refunded", "refunded")

LATIN, LATIN_BOLD = "Helvetica", "Helvetica-Bold"
CHINESE, JAPANESE = "STSong-Light", "HeiseiKakuGo-W5"


@dataclass(frozen=True)
class Factory:
    """Who sells: printed at the top of every receipt (``FACTORY_*`` settings)."""

    name: str
    address: str
    tax_id: str = ""


@dataclass(frozen=True)
class RefundLine:
    created_at: datetime
    amount: int


@dataclass(frozen=True)
class Receipt:
    order: Order
    factory: Factory
    tax_rate_percent: Decimal | None  # None: no tax line
    tax_amount: int  # included in the total
    paid_at: datetime | None
    paid_by_card: bool
    refunds: list[RefundLine]
    refunded_amount: int
    net_amount: int  # what the buyer paid, less refunds

    @property
    def tax_rate_label(self) -> str:
        """``13`` for 13 %, ``8.5`` for 8.50 %."""
        return _rate(self.tax_rate_percent) if self.tax_rate_percent is not None else ""


def has_receipt(order: Order) -> bool:
    return order.payment_status in RECEIPT_STATUSES


def included_tax(total: int, rate_percent: Decimal | int | str) -> int:
    """The tax inside a tax-inclusive ``total`` (minor units) at ``rate_percent``:
    ``total × r / (100 + r)``, rounded half up, in exact integer arithmetic.

    ``included_tax(11300, 13)`` → 1300; ``included_tax(5000, 10)`` → 455 (¥454.5…).
    """
    rate = Fraction(str(rate_percent))
    if rate <= 0 or total <= 0:
        return 0
    numerator = total * rate.numerator
    denominator = 100 * rate.denominator + rate.numerator
    return (2 * numerator + denominator) // (2 * denominator)


def build_receipt(
    order: Order, factory: Factory, tax_rate_percent: Decimal | int | str | None
) -> Receipt:
    rate = Decimal(str(tax_rate_percent)) if tax_rate_percent else None
    if rate is not None and rate <= 0:
        rate = None
    refunded = lifecycle.refunded_so_far(order)
    return Receipt(
        order=order,
        factory=factory,
        tax_rate_percent=rate,
        tax_amount=included_tax(order.total_amount, rate) if rate is not None else 0,
        paid_at=order.paid_at,
        paid_by_card=lifecycle.paid_payment(order) is not None,
        refunds=[
            RefundLine(refund.created_at, refund.amount)
            for refund in order.refunds
            if refund.status == "succeeded"
        ],
        refunded_amount=refunded,
        net_amount=max(order.total_amount - refunded, 0),
    )


# --- the PDF -----------------------------------------------------------------------------


@functools.cache
def register_fonts() -> None:
    for name in (CHINESE, JAPANESE):
        pdfmetrics.registerFont(UnicodeCIDFont(name))


def _is_latin(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _has_kana(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" or "\uff66" <= ch <= "\uff9f" for ch in text)


def font_for(text: str, locale: str, *, bold: bool = False) -> str:
    """Helvetica for Latin text; otherwise the Japanese font for kana or a Japanese
    reader, the Chinese one for the rest."""
    if _is_latin(text):
        return LATIN_BOLD if bold else LATIN
    if _has_kana(text) or locale.startswith("ja"):
        return JAPANESE
    return CHINESE


class Writer:
    """Paragraphs in the right font, for one locale."""

    def __init__(self, locale: str):
        self.locale = locale

    def __call__(self, text, *, size=9.5, bold=False, right=False, leading=None) -> Paragraph:
        text = str(text)
        font = font_for(text, self.locale, bold=bold)
        style = ParagraphStyle(
            f"{font}-{size}-{bold}-{right}",
            fontName=font,
            fontSize=size,
            leading=leading or size * 1.35,
            alignment=TA_RIGHT if right else 0,
            wordWrap=None if font in (LATIN, LATIN_BOLD) else "CJK",
        )
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    def money(self, amount: int, currency: str, **kwargs) -> Paragraph:
        return self(format_money(amount, currency, self.locale), right=True, **kwargs)


GRID = colors.HexColor("#d8dde3")


def pdf_table(rows, widths, *, header=False) -> Table:
    table = Table(rows, colWidths=widths, hAlign="LEFT")
    commands: list[tuple] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        commands += [
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
            ("LINEBELOW", (0, 1), (-1, -1), 0.4, GRID),
        ]
    table.setStyle(TableStyle(commands))
    return table


def totals_table(rows) -> Table:
    """The right-aligned totals under a document's lines, a rule above the third row (the
    total, after items and delivery)."""
    table = Table(rows, colWidths=[60 * mm, 36 * mm], hAlign="RIGHT")
    table.setStyle(
        TableStyle(
            [("LINEABOVE", (0, 2), (-1, 2), 0.8, colors.black), ("TOPPADDING", (0, 0), (-1, -1), 1)]
        )
    )
    return table


def _address_lines(order: Order, countries: dict[str, str]) -> list[str]:
    if order.delivery_method == "pickup":
        return [order.recipient, _("Picked up at the factory")]
    lines = [order.recipient, order.line1]
    if order.line2:
        lines.append(order.line2)
    lines.append(" ".join(p for p in (order.postcode, order.city, order.region) if p))
    lines.append(str(countries.get(order.country, order.country)))
    return [line for line in lines if line]


def new_document(buffer, *, title: str, subject: str, author: str) -> SimpleDocTemplate:
    """An A4 document with the receipt's margins (receipts and invoices alike)."""
    register_fonts()
    return SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=title,
        subject=subject,
        author=author,
        creator="Sourcefront",
    )


def seller_header(write: Writer, factory: Factory) -> list:
    """The factory's name, address and tax id at the top of the page."""
    story = [write(factory.name, size=15, bold=True), write(factory.address, size=9)]
    if factory.tax_id:
        story.append(write(_("Tax ID: %(tax_id)s", tax_id=factory.tax_id), size=9))
    return story


def _day(moment: datetime, zone: str | None) -> datetime | date:
    """The day ``moment`` falls on in ``zone``; None: the moment, for Flask-Babel to read
    on the factory's clock."""
    if zone is None:
        return moment
    return as_utc(moment).astimezone(ZoneInfo(zone)).date()


def render_pdf(
    receipt: Receipt, *, locale: str, countries: dict[str, str], zone: str | None = None
) -> bytes:
    """The receipt as an A4 PDF, worded in ``locale`` (the request's language), its dates
    the days in the order's time ``zone`` (``order|time_zone``; None: the factory's)."""
    order, factory = receipt.order, receipt.factory

    def format_date(moment: datetime, width: str) -> str:
        return _format_date(_day(moment, zone), width)

    write = Writer(locale)
    title = _("Receipt")
    buffer = io.BytesIO()
    document = new_document(
        buffer, title=f"{title} {order.number}", subject=order.number, author=factory.name
    )
    width = document.width
    story = seller_header(write, factory)
    story += [Spacer(0, 6 * mm), write(title, size=18, bold=True), Spacer(0, 3 * mm)]

    details = [
        [write(_("Order number"), bold=True), write(order.number, bold=True)],
        [write(_("Order date"), bold=True), write(format_date(order.created_at, "long"))],
    ]
    if receipt.paid_at is not None:
        details.append(
            [write(_("Paid on"), bold=True), write(format_date(receipt.paid_at, "long"))]
        )
    details.append(
        [
            write(_("Customer"), bold=True),
            write("\n".join([*_address_lines(order, countries), order.email])),
        ]
    )
    story += [pdf_table(details, [38 * mm, width - 38 * mm]), Spacer(0, 6 * mm)]

    currency = order.currency
    rows = [
        [
            write(_("Item"), bold=True),
            write(_("SKU"), bold=True),
            write(_("Quantity"), bold=True, right=True),
            write(_("Unit price"), bold=True, right=True),
            write(_("Amount"), bold=True, right=True),
        ]
    ]
    for line in order.lines:
        variant = " · ".join(p for p in (line.size, colour_name(line.colour)) if p)
        rows.append(
            [
                write(f"{line.product_name}\n{variant}" if variant else line.product_name),
                write(line.sku, size=8.5),
                write(str(line.quantity), right=True),
                write.money(line.unit_amount, currency),
                write.money(line.line_amount, currency),
            ]
        )
    story += [
        pdf_table(rows, [width - 118 * mm, 36 * mm, 18 * mm, 32 * mm, 32 * mm], header=True),
        Spacer(0, 4 * mm),
    ]

    totals = [
        [write(_("Items")), write.money(order.subtotal_amount, currency)],
        [write(_("Delivery charge")), write.money(order.shipping_amount, currency)],
        [write(_("Total"), bold=True), write.money(order.total_amount, currency, bold=True)],
    ]
    if receipt.tax_rate_percent is not None:
        totals.append(
            [
                write(_("Includes tax at %(rate)s%%", rate=receipt.tax_rate_label)),
                write.money(receipt.tax_amount, currency),
            ]
        )
    if receipt.refunded_amount:
        totals += [
            [write(_("Refunded")), write.money(-receipt.refunded_amount, currency)],
            [
                write(_("Paid after refunds"), bold=True),
                write.money(receipt.net_amount, currency, bold=True),
            ],
        ]
    story += [totals_table(totals), Spacer(0, 6 * mm), write(_("Payment"), size=12, bold=True)]

    payments = []
    if receipt.paid_at is not None:
        how = _("Card payment") if receipt.paid_by_card else _("Payment received")
        payments.append(
            [
                write(format_date(receipt.paid_at, "medium")),
                write(how),
                write.money(order.total_amount, currency),
            ]
        )
    for refund in receipt.refunds:
        payments.append(
            [
                write(format_date(refund.created_at, "medium")),
                write(_("Refund to your card")),
                write.money(-refund.amount, currency),
            ]
        )
    if payments:
        story.append(pdf_table(payments, [36 * mm, width - 72 * mm, 36 * mm]))
    story += [
        Spacer(0, 8 * mm),
        write(_("Thank you for buying directly from the factory."), size=9),
    ]
    document.build(story)
    return buffer.getvalue()


def _rate(rate: Decimal) -> str:
    """``Decimal("13")`` → ``"13"``, ``Decimal("8.50")`` → ``"8.5"``."""
    return format(rate.normalize(), "f")
