"""The reseller programme's settings (``/admin/resellers/program``) and one window's
overrides (on ``/admin/resellers/<id>``), for roles with ``resellers.manage``.

The views parse a form, call one rule of ``shop.resellers.settings`` (which checks the
values again and writes the audit row), and redirect; a form with mistakes is shown again
with each field's reason and status 400. Every form carries a one-time key, claimed in
the same transaction as the change: the same form sent twice — or five times at once —
changes and audits once.
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shop import request_keys
from shop.accounts.access import require_permission
from shop.admin.blueprint import bp
from shop.admin.reseller_program_forms import (
    CategoryRateForm,
    ProgramForm,
    TermsForm,
    new_program_form,
)
from shop.db import commits, get_session
from shop.locales import localized
from shop.money import SUPPORTED_CURRENCIES
from shop.request_keys import new_request_key
from shop.resellers import settings
from shop.resellers.models import Reseller
from shop.resellers.program import read_program
from shop.templating import locale_name


def _program_page(db: Session, form: ProgramForm, status: int = 200):
    rates = [
        {
            "category": category,
            "name": localized(category, "name", locale_name()),
            "percent": settings.percent_text(bps),
            "form": CategoryRateForm(
                formdata=None, rate=settings.percent_text(bps), request_key=new_request_key()
            ),
        }
        for category, bps in settings.list_category_rates(db)
    ]
    return render_template(
        "admin/resellers/program.html",
        form=form,
        currencies=SUPPORTED_CURRENCIES,
        rates=rates,
    ), status


@bp.get("/resellers/program")
@require_permission("resellers.manage")
def reseller_program():
    db = get_session()
    return _program_page(db, new_program_form(read_program(db)))


@bp.post("/resellers/program")
@commits
@require_permission("resellers.manage")
def reseller_program_submit():
    db = get_session()
    form = ProgramForm()
    if not form.validate_on_submit():
        return _program_page(db, form, 400)
    try:
        if request_keys.claim(db, "reseller_program", form.request_key.data):
            settings.update_program(db, current_user, form.values())
    except IntegrityError:  # the same form at the same moment: the other one saved it
        db.rollback()
    flash(_("The reseller programme is saved."), "success")
    return redirect(url_for("admin.reseller_program"))


@bp.post("/resellers/program/categories/<int:category_id>")
@commits
@require_permission("resellers.manage")
def reseller_category_rate(category_id: int):
    db = get_session()
    back = url_for("admin.reseller_program") + "#categories"
    form = CategoryRateForm()
    if not form.validate_on_submit():
        reasons = " ".join(str(error) for field in form for error in field.errors)
        flash(_("The commission was not saved: %(reasons)s", reasons=reasons), "error")
        return redirect(back)
    try:
        if request_keys.claim(db, f"category_rate:{category_id}", form.request_key.data):
            settings.set_category_rate(db, current_user, category_id, form.bps())
    except settings.CategoryGone:
        db.rollback()
        flash(_("That category no longer exists."), "error")
        return redirect(back)
    except IntegrityError:  # the same form at the same moment: the other one saved it
        db.rollback()
    flash(_("The category's commission is saved."), "success")
    return redirect(back)


@bp.post("/resellers/<int:reseller_id>/terms")
@commits
@require_permission("resellers.manage")
def reseller_terms(reseller_id: int):
    db = get_session()
    reseller = db.get(Reseller, reseller_id)
    if reseller is None:
        abort(404)
    back = url_for("admin.reseller_detail", reseller_id=reseller.id) + "#terms"
    form = TermsForm()
    if not form.validate_on_submit():
        reasons = " ".join(str(error) for field in form for error in field.errors)
        flash(_("The window's terms were not saved: %(reasons)s", reasons=reasons), "error")
        return redirect(back)
    try:
        if request_keys.claim(db, f"reseller_terms:{reseller.id}", form.request_key.data):
            settings.set_reseller_terms(db, current_user, reseller, **form.overrides())
    except IntegrityError:  # the same form at the same moment: the other one saved it
        db.rollback()
    flash(_("The window's terms are saved."), "success")
    return redirect(back)
