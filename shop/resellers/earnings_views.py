"""The reseller's money pages, on the ``resellers`` blueprint: ``/account/window/earnings``
(the balances per currency, every ledger line of their window, their payouts) and the
monthly statement ``/account/window/statement/<YYYY-MM>.csv`` / ``.pdf``.

Only the window's owner sees them (``views._own_window``: staff 403, no window 404). No
buyer detail is shown or exported: the order's number and what was bought, never the
buyer's name, email, phone or address. GET only; the rules are ``shop.resellers.ledger``.
"""

from flask import abort, current_app, render_template

from shop.accounts.access import require_login
from shop.db import get_session, utcnow
from shop.downloads import attachment
from shop.orders.receipt import Factory
from shop.resellers import ledger, statement
from shop.resellers.ledger_labels import KIND_LABELS, STATE_LABELS
from shop.resellers.ledger_rules import parse_month, recent_months
from shop.resellers.views import _own_window, bp
from shop.templating import factory_text, locale_name

LINES_SHOWN = 200
MONTHS_LISTED = 12


@bp.get("/account/window/earnings")
@require_login
def earnings():
    db = get_session()
    reseller = _own_window(db)
    return render_template(
        "resellers/earnings.html",
        reseller=reseller,
        balances=list(ledger.balances(db, reseller.id).values()),
        lines=ledger.list_lines(db, reseller.id, limit=LINES_SHOWN),
        lines_shown=LINES_SHOWN,
        payouts=ledger.list_payouts(db, reseller_id=reseller.id, limit=None),
        # The months the window has been open (at most a year): no empty statements.
        months=[
            month
            for month in recent_months(utcnow().date(), MONTHS_LISTED)
            if month >= reseller.created_at.strftime("%Y-%m")
        ],
        kind_labels=KIND_LABELS,
        state_labels=STATE_LABELS,
    )


def _statement(month: str) -> statement.Statement:
    db = get_session()
    reseller = _own_window(db)
    period = parse_month(month)
    if period is None:
        abort(404)
    start, end = period
    return statement.Statement(
        reseller=reseller,
        month=month,
        lines=ledger.list_lines(db, reseller.id, start=start, end=end),
        payouts=ledger.list_payouts(db, reseller_id=reseller.id, start=start, end=end, limit=None),
    )


@bp.get("/account/window/statement/<month>.csv")
@require_login
def statement_csv(month: str):
    found = _statement(month)
    return attachment(
        statement.render_csv(found), f"statement-{found.reseller.handle}-{month}.csv", "text/csv"
    )


@bp.get("/account/window/statement/<month>.pdf")
@require_login
def statement_pdf(month: str):
    found = _statement(month)
    factory = Factory(
        name=factory_text("FACTORY_NAME"),
        address=factory_text("FACTORY_ADDRESS"),
        tax_id=current_app.config["FACTORY_TAX_ID"] or "",
    )
    pdf = statement.render_pdf(found, factory=factory, locale=locale_name())
    return attachment(pdf, f"statement-{found.reseller.handle}-{month}.pdf", "application/pdf")
