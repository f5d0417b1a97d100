"""The reseller's dashboard (``/account/window/dashboard``) and their packing-slip choice
(``POST /account/window/slip``), on the windows' blueprint.

Only the window's own reseller opens these (``views._own_window``: staff get a 403, an
account without a window a 404). The figures come from ``shop.resellers.dashboard``,
which never reads a buyer's details; the chart's geometry is the admin's
(``shop.admin.chart``).
"""

from datetime import UTC, datetime

from flask import flash, redirect, render_template, request
from flask_babel import format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from shop import request_keys
from shop.accounts.access import require_login
from shop.admin.chart import bar_chart
from shop.db import commits, get_session
from shop.i18n import shop_zone
from shop.pagination import parse_page
from shop.resellers import dashboard, service, settings
from shop.resellers.slip_forms import SlipForm
from shop.resellers.views import _errors, _home, _own_window, _refused, bp

STAGE_LABELS = {
    "placed": _l("Placed"),
    "paid": _l("Paid"),
    "shipped": _l("Shipped"),
    "delivered": _l("Delivered"),
    "refunded": _l("Refunded"),
    "cancelled": _l("Cancelled"),
}


@bp.get("/account/window/dashboard")
@require_login
def window_dashboard():
    db = get_session()
    reseller = _own_window(db)
    summary = dashboard.summarise(db, reseller.id, datetime.now(UTC), shop_zone())
    page, orders = dashboard.list_referred_orders(
        db, reseller.id, parse_page(request.args.get("page"))
    )
    conversion = summary.conversion_percent
    return render_template(
        "resellers/dashboard.html",
        reseller=reseller,
        summary=summary,
        conversion=None if conversion is None else format_percent(conversion / 100, "#,##0.0%"),
        charts=[
            bar_chart(currency, summary.days, amounts)
            for currency, amounts in summary.daily.items()
        ],
        page=page,
        orders=orders,
        stage_labels=STAGE_LABELS,
    )


@bp.post("/account/window/slip")
@commits
@require_login
def slip_submit():
    db = get_session()
    reseller = _own_window(db)
    back = _home("#slip")
    form = SlipForm()
    if not form.validate_on_submit():
        flash(_("Check the form and try again: %(reasons)s", reasons=_errors(form)), "error")
        return redirect(back)
    if reseller.status not in service.EDITABLE:
        return _refused(db, service.NotEditable(), back)
    try:
        if request_keys.claim(db, f"slip:{reseller.id}", form.request_key.data):
            settings.set_packing_slip(
                db,
                current_user,
                reseller,
                blind=form.blind_slip.data,
                message=form.slip_message.data or "",
            )
    except IntegrityError:  # the same form at the same moment: the other one saved it
        db.rollback()
    flash(_("Your packing slip is saved."), "success")
    return redirect(back)
