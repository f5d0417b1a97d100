"""A window's monthly statement: every ledger line written in the month and the payouts
sent in it, as CSV and as an A4 PDF set up like the receipt's (``shop.orders.receipt``:
built-in CJK fonts picked per piece of text). No buyer detail: the order's number and
what was bought, never who bought it or where it went.

Like the receipt's ``render_pdf``, these are view helpers: they word and format in the
request's language with Flask-Babel. Months are calendar months in UTC.
"""

import csv
import io
from dataclasses import dataclass

from flask_babel import format_date
from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from shop.db import as_utc
from shop.money import to_decimal
from shop.orders.receipt import Factory, Writer, new_document, pdf_table, seller_header
from shop.resellers.ledger import LedgerRow, PayoutRow
from shop.resellers.ledger_labels import KIND_LABELS, STATE_LABELS
from shop.resellers.models import Reseller
from shop.spreadsheet import BOM, safe_cell

CSV_COLUMNS = ("date", "order", "product", "kind", "state", "currency", "amount", "amount_minor")


@dataclass(frozen=True)
class Statement:
    reseller: Reseller
    month: str  # "2026-03"
    lines: list[LedgerRow]
    payouts: list[PayoutRow]

    def totals(self) -> list[tuple[str, int]]:
        """The month's ledger lines added up, per currency."""
        sums: dict[str, int] = {}
        for line in self.lines:
            sums[line.currency] = sums.get(line.currency, 0) + line.amount
        return sorted(sums.items())


def render_csv(statement: Statement) -> bytes:
    out = io.StringIO()
    out.write(BOM)  # Excel then reads UTF-8 (Chinese and Japanese product names)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in reversed(statement.lines):  # oldest first, as a statement reads
        writer.writerow(
            (
                as_utc(line.created_at).date().isoformat(),
                line.order_number,
                safe_cell(line.product_name),
                line.kind,
                line.state,
                line.currency,
                str(to_decimal(line.amount, line.currency)),
                line.amount,
            )
        )
    for row in reversed(statement.payouts):
        payout = row.payout
        writer.writerow(
            (
                as_utc(payout.created_at).date().isoformat(),
                "",
                safe_cell(payout.reference),
                "payout",
                "paid",
                payout.currency,
                str(to_decimal(payout.amount, payout.currency)),
                payout.amount,
            )
        )
    return out.getvalue().encode("utf-8")


def render_pdf(statement: Statement, *, factory: Factory, locale: str) -> bytes:
    write = Writer(locale)
    title = _("Statement %(month)s", month=statement.month)
    buffer = io.BytesIO()
    document = new_document(
        buffer,
        title=title,
        subject=f"{statement.reseller.handle} {statement.month}",
        author=factory.name,
    )
    width = document.width
    story = seller_header(write, factory)
    story += [
        Spacer(0, 6 * mm),
        write(title, size=18, bold=True),
        write(f"{statement.reseller.display_name} · /w/{statement.reseller.handle}", size=10),
        Spacer(0, 4 * mm),
    ]
    rows = [
        [
            write(_("Date"), bold=True),
            write(_("Order"), bold=True),
            write(_("Product"), bold=True),
            write(_("State"), bold=True),
            write(_("Amount"), bold=True, right=True),
        ]
    ]
    for line in reversed(statement.lines):
        rows.append(
            [
                write(format_date(as_utc(line.created_at).date(), "short")),
                write(line.order_number, size=8.5),
                write(line.product_name),
                write(f"{KIND_LABELS[line.kind]} · {STATE_LABELS[line.state]}", size=8.5),
                write.money(line.amount, line.currency),
            ]
        )
    if len(rows) == 1:
        rows.append([write(_("No ledger lines this month.")), "", "", "", ""])
    story += [
        pdf_table(rows, [22 * mm, 34 * mm, width - 122 * mm, 36 * mm, 30 * mm], header=True),
        Spacer(0, 4 * mm),
    ]
    for currency, total in statement.totals():
        story.append(write(_("Total %(currency)s", currency=currency), bold=True))
        story.append(write.money(total, currency, bold=True))
    if statement.payouts:
        story += [Spacer(0, 6 * mm), write(_("Payouts"), size=13, bold=True)]
        payout_rows = [
            [
                write(_("Date"), bold=True),
                write(_("Bank reference"), bold=True),
                write(_("Amount"), bold=True, right=True),
            ]
        ]
        for row in reversed(statement.payouts):
            payout_rows.append(
                [
                    write(format_date(as_utc(row.payout.created_at).date(), "short")),
                    write(row.payout.reference),
                    write.money(row.payout.amount, row.payout.currency),
                ]
            )
        story.append(pdf_table(payout_rows, [30 * mm, width - 70 * mm, 40 * mm], header=True))
    document.build(story)
    return buffer.getvalue()
