"""Paying resellers (``/admin/resellers/payouts``), for roles with ``resellers.manage``:
each window's approved balance per currency above the payout minimum, the same as CSV for
the bank (no buyer detail: the window, its handle, the amount and how many ledger lines
it covers), a form per balance to record the transfer with the bank's reference, and the
recent payouts. The rules are ``shop.resellers.ledger``'s: a payout moves exactly the
approved lines it covers, once (``pay_out``), and is written to the audit log."""

import csv
import io
from datetime import datetime

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from shop.accounts.access import require_permission
from shop.admin.blueprint import bp
from shop.db import commits, get_session
from shop.downloads import attachment
from shop.i18n import shop_zone
from shop.inputs import parse_id
from shop.money import format_money, to_decimal
from shop.request_keys import new_request_key
from shop.resellers import ledger
from shop.resellers.payout_forms import PayoutForm
from shop.spreadsheet import BOM, safe_cell
from shop.templating import locale_name

CSV_COLUMNS = ("display_name", "handle", "currency", "amount", "amount_minor", "lines")
RECENT_PAYOUTS = 50


def _form_for(row: ledger.PayableBalance) -> PayoutForm:
    return PayoutForm(
        formdata=None,
        reseller_id=str(row.reseller_id),
        currency=row.currency,
        expected_amount=str(row.amount),
        request_key=new_request_key(),
    )


@bp.get("/resellers/payouts")
@require_permission("resellers.manage")
def reseller_payouts():
    db = get_session()
    rows = ledger.payable(db)
    return render_template(
        "admin/resellers/payouts.html",
        rows=[(row, _form_for(row)) for row in rows],
        payouts=ledger.list_payouts(db, limit=RECENT_PAYOUTS),
        minimums=sorted(ledger.payout_minimums(db).items()),
    )


@bp.get("/resellers/payouts.csv")
@require_permission("resellers.manage")
def reseller_payouts_csv():
    out = io.StringIO()
    out.write(BOM)  # Excel then reads UTF-8 (Chinese and Japanese names)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in ledger.payable(get_session()):
        writer.writerow(
            (
                safe_cell(row.display_name),
                row.handle,
                row.currency,
                str(to_decimal(row.amount, row.currency)),
                row.amount,
                row.line_count,
            )
        )
    stamp = datetime.now(shop_zone()).strftime("%Y%m%d-%H%M")
    return attachment(out.getvalue().encode("utf-8"), f"reseller-payouts-{stamp}.csv", "text/csv")


REFUSALS = {
    ledger.NothingToPay: _l("There is nothing approved to pay out any more."),
    ledger.PayoutAlreadyRecorded: _l("This payout was recorded already."),
    ledger.MissingReference: _l("Write the bank's reference for this transfer."),
}


@bp.post("/resellers/payouts")
@commits
@require_permission("resellers.manage")
def reseller_payout_submit():
    db = get_session()
    back = url_for("admin.reseller_payouts")
    form = PayoutForm()
    reseller_id = parse_id(form.reseller_id.data)
    if not form.validate_on_submit() or reseller_id is None:
        flash(_("Check the form and try again."), "error")
        return redirect(back)
    try:
        payout = ledger.pay_out(
            db,
            reseller_id,
            form.currency.data,
            reference=form.reference.data,
            request_key=form.request_key.data,
            actor_id=current_user.id,
            expected_amount=int(form.expected_amount.data),
        )
    except ledger.BalanceChanged as changed:
        db.rollback()
        flash(
            _(
                "The approved balance changed to %(amount)s while you looked: nothing was "
                "paid. Check the new amount and record the transfer again.",
                amount=format_money(changed.amount, form.currency.data, locale_name()),
            ),
            "error",
        )
    except (ledger.NothingToPay, ledger.PayoutAlreadyRecorded, ledger.MissingReference) as error:
        db.rollback()
        flash(str(REFUSALS[type(error)]), "error")
    else:
        flash(
            _(
                "Payout of %(amount)s recorded with reference %(reference)s.",
                amount=format_money(payout.amount, payout.currency, locale_name()),
                reference=payout.reference,
            ),
            "success",
        )
    return redirect(back)
