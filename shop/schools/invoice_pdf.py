"""A school invoice as a document: what it shows (``build_document``, shared by the
printable page and the PDF) and the PDF itself (``render_pdf``).

The PDF is set up exactly as the receipt's (``shop.orders.receipt``: A4, the factory at
the top, built-in CJK fonts picked per piece of text). Like that module, ``render_pdf`` is
a view helper: it words and formats in the request's language with Flask-Babel.
"""

import io
from dataclasses import dataclass, field
from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from shop.catalog.colours import colour_name
from shop.orders.models import Order, OrderLine
from shop.orders.receipt import (
    Factory,
    Writer,
    new_document,
    pdf_table,
    seller_header,
    totals_table,
)
from shop.schools.invoices import factory_day, is_overdue
from shop.schools.models import Invoice, School


@dataclass
class StudentLines:
    """The lines of one student (or of nobody in particular: ``student_name`` "")."""

    student_name: str
    class_name: str
    lines: list[OrderLine] = field(default_factory=list)

    @property
    def amount(self) -> int:
        return sum(line.line_amount for line in self.lines)


@dataclass(frozen=True)
class InvoiceDocument:
    invoice: Invoice
    order: Order
    school: School
    factory: Factory
    bank_details: str
    issued_on: date
    students: list[StudentLines]
    overdue: bool
    # What each line is called on the invoice (``{line id: name}``), in the school's
    # language (``shop.catalog.translations.line_names``); a line not in it: its own name.
    item_names: dict[int, str] = field(default_factory=dict)

    def item_name(self, line: OrderLine) -> str:
        return self.item_names.get(line.id) or line.product_name

    @property
    def outstanding_amount(self) -> int:
        return self.invoice.outstanding_amount


def group_by_student(lines: list[OrderLine]) -> list[StudentLines]:
    """Lines per student, in class and name order, each student's lines in order."""
    groups: dict[tuple[str, str], StudentLines] = {}
    for line in sorted(lines, key=lambda line: line.id):
        key = (line.class_name, line.student_name)
        if key not in groups:
            groups[key] = StudentLines(line.student_name, line.class_name)
        groups[key].lines.append(line)
    return [groups[key] for key in sorted(groups)]


def build_document(
    invoice: Invoice,
    factory: Factory,
    bank_details: str,
    today: date,
    zone=None,
    item_names: dict[int, str] | None = None,
) -> InvoiceDocument:
    return InvoiceDocument(
        invoice=invoice,
        order=invoice.order,
        school=invoice.school,
        factory=factory,
        bank_details=bank_details or "",
        issued_on=factory_day(invoice.issued_at, zone),
        students=group_by_student(invoice.order.lines),
        overdue=is_overdue(invoice, today),
        item_names=item_names or {},
    )


def school_address(school: School, countries: dict[str, str]) -> list[str]:
    lines = [school.delivery_recipient, school.delivery_line1, school.delivery_line2]
    lines.append(
        " ".join(
            p for p in (school.delivery_postcode, school.delivery_city, school.delivery_region) if p
        )
    )
    lines.append(str(countries.get(school.country, school.country)))
    return [line for line in lines if line]


def render_pdf(
    document_data: InvoiceDocument, *, locale: str, school_name: str, countries: dict[str, str]
) -> bytes:
    """The invoice as an A4 PDF, worded in ``locale``: the caller renders it inside
    ``force_locale(locale)`` (the school's language)."""
    doc = document_data
    invoice, order, factory = doc.invoice, doc.order, doc.factory
    write = Writer(locale)
    title = _("Invoice")
    buffer = io.BytesIO()
    document = new_document(
        buffer, title=f"{title} {invoice.number}", subject=invoice.number, author=factory.name
    )
    width = document.width
    story = seller_header(write, factory)
    heading = f"{title} {invoice.number}"
    story += [Spacer(0, 6 * mm), write(heading, size=18, bold=True)]
    if doc.overdue:
        story.append(write(_("Overdue"), size=12, bold=True))
    story.append(Spacer(0, 3 * mm))

    details = [
        [write(_("Invoice number"), bold=True), write(invoice.number, bold=True)],
        [write(_("Issue date"), bold=True), write(format_date(doc.issued_on, "long"))],
        [write(_("Due date"), bold=True), write(format_date(invoice.due_date, "long"))],
        [write(_("Order number"), bold=True), write(order.number)],
    ]
    if order.po_number:
        details.append([write(_("Purchase order"), bold=True), write(order.po_number)])
    details.append(
        [
            write(_("Bill to"), bold=True),
            write("\n".join([school_name, *school_address(doc.school, countries)])),
        ]
    )
    story += [pdf_table(details, [38 * mm, width - 38 * mm]), Spacer(0, 6 * mm)]

    currency = invoice.currency
    rows = [
        [
            write(_("Item"), bold=True),
            write(_("Size"), bold=True),
            write(_("Quantity"), bold=True, right=True),
            write(_("Unit price"), bold=True, right=True),
            write(_("Amount"), bold=True, right=True),
        ]
    ]
    for student in doc.students:
        if student.student_name or student.class_name:
            who = " · ".join(p for p in (student.student_name, student.class_name) if p)
            rows.append([write(who, bold=True), "", "", "", ""])
        for line in student.lines:
            size = " · ".join(p for p in (line.size, colour_name(line.colour)) if p)
            rows.append(
                [
                    write(doc.item_name(line)),
                    write(size, size=8.5),
                    write(str(line.quantity), right=True),
                    write.money(line.unit_amount, currency),
                    write.money(line.line_amount, currency),
                ]
            )
    story += [
        pdf_table(rows, [width - 110 * mm, 28 * mm, 18 * mm, 32 * mm, 32 * mm], header=True),
        Spacer(0, 4 * mm),
    ]

    totals = [
        [write(_("Items")), write.money(order.subtotal_amount, currency)],
        [write(_("Delivery charge")), write.money(order.shipping_amount, currency)],
        [write(_("Total"), bold=True), write.money(invoice.amount, currency, bold=True)],
        [write(_("Paid")), write.money(invoice.paid_amount, currency)],
        [
            write(_("Outstanding"), bold=True),
            write.money(invoice.outstanding_amount, currency, bold=True),
        ],
    ]
    story += [totals_table(totals), Spacer(0, 6 * mm), write(_("How to pay"), size=12, bold=True)]
    story.append(
        write(
            _(
                "Please pay by %(date)s by bank transfer, quoting the invoice number %(number)s.",
                date=format_date(invoice.due_date, "long"),
                number=invoice.number,
            ),
            size=9,
        )
    )
    if doc.bank_details:
        story += [Spacer(0, 2 * mm), write(doc.bank_details, size=9)]
    document.build(story)
    return buffer.getvalue()
