"""Staff accounts and the audit log (``/admin/staff``, ``/admin/audit``; owner only,
``staff.manage``).

The rules live in ``shop.accounts.staff`` (an owner cannot demote or deactivate
themselves, and the shop never goes without an active owner) and
``shop.accounts.invitations``; the audit log is read with ``shop.audit.service``. The
views below only parse, call one rule, commit by returning a redirect, and turn a
refusal into a message on a 400 page. The invitation's set-password link is built here
(``set_password_link``), on ``SHOP_BASE_URL`` — never on the request's Host header.
"""

from datetime import date

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from shop.accounts import invitations
from shop.accounts import service as accounts
from shop.accounts.access import require_permission
from shop.accounts.forms import EmptyForm
from shop.accounts.models import User
from shop.accounts.permissions import STAFF_ROLES
from shop.accounts.staff import (
    LastOwner,
    NotStaff,
    SelfDemotion,
    change_role,
    deactivate_staff,
    invite_staff,
    list_staff,
)
from shop.admin.blueprint import bp
from shop.admin.staff_forms import ROLE_LABELS, InviteForm, RoleForm
from shop.audit.models import AuditEntry
from shop.audit.sentences import describe_entries
from shop.audit.service import audit_query
from shop.db import commits, get_session
from shop.exceptions import ShopError
from shop.i18n import shop_zone
from shop.inputs import parse_id
from shop.links import external_url
from shop.pagination import paginate, parse_page
from shop.templating import locale_name

AUDIT_PER_PAGE = 50


# --- the staff page ----------------------------------------------------------------------

REFUSALS = {
    SelfDemotion: _l("You cannot change your own role or deactivate yourself."),
    LastOwner: _l("The shop needs at least one active owner; make someone else owner first."),
    NotStaff: _l("That account is not a staff account."),
    accounts.UnknownRole: _l("There is no such role."),
    accounts.InvalidEmail: _l("That does not look like an email address."),
}


def _describe(error: ShopError) -> str:
    return str(REFUSALS.get(type(error), _l("That could not be done.")))


def _staff_page(invite_form=None, role_forms=None, status=200):
    db = get_session()
    staff = list_staff(db)
    role_forms = role_forms or {}
    for member in staff:
        if member.id not in role_forms:
            role_forms[member.id] = RoleForm(
                formdata=None, role=member.role, prefix=f"u{member.id}"
            )
    return (
        render_template(
            "admin/staff/list.html",
            staff=staff,
            invite_form=invite_form or InviteForm(formdata=None, role="service"),
            role_forms=role_forms,
            deactivate_form=EmptyForm(),
            role_labels=ROLE_LABELS,
        ),
        status,
    )


def _member_or_404(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None or user.role not in STAFF_ROLES:
        abort(404)
    return user


def set_password_link(user: User) -> str:
    """The absolute set-password link an invitation email carries (valid for an hour)."""
    token = accounts.reset_token(current_app.config["SECRET_KEY"], user)
    return external_url("accounts.reset_with_token", token=token)


@bp.get("/staff")
@require_permission("staff.manage")
def staff():
    return _staff_page()


@bp.post("/staff/invite")
@commits
@require_permission("staff.manage")
def staff_invite():
    db = get_session()
    form = InviteForm()
    if not form.validate():
        return _staff_page(invite_form=form, status=400)
    try:
        user, created = invite_staff(
            db,
            current_user,
            email=form.email.data,
            role=form.role.data,
            name=(form.name.data or "").strip(),
        )
    except accounts.InvalidEmail as error:
        db.rollback()
        form.email.errors = [_describe(error)]
        return _staff_page(invite_form=form, status=400)
    except ShopError as error:
        db.rollback()
        flash(_describe(error), "error")
        return _staff_page(invite_form=form, status=400)
    invitations.send_invitation(db, user, str(ROLE_LABELS[user.role]), link=set_password_link(user))
    if created:
        flash(_("Invited %(email)s; a set-password link is on its way.", email=user.email))
    else:
        flash(
            _(
                "%(email)s is now %(role)s; a set-password link is on its way.",
                email=user.email,
                role=ROLE_LABELS[user.role],
            )
        )
    return redirect(url_for("admin.staff"))


@bp.post("/staff/<int:user_id>/role")
@commits
@require_permission("staff.manage")
def staff_role(user_id: int):
    db = get_session()
    user = _member_or_404(user_id)
    form = RoleForm(prefix=f"u{user.id}")
    if not form.validate():
        flash(_("There is no such role."), "error")
        return _staff_page(role_forms={user.id: form}, status=400)
    try:
        changed = change_role(db, current_user, user, form.role.data)
    except ShopError as error:
        db.rollback()
        flash(_describe(error), "error")
        return _staff_page(status=400)
    if changed:
        flash(_("%(email)s is now %(role)s.", email=user.email, role=ROLE_LABELS[user.role]))
    else:
        flash(_("Nothing changed: that already was the role."))
    return redirect(url_for("admin.staff"))


@bp.post("/staff/<int:user_id>/deactivate")
@commits
@require_permission("staff.manage")
def staff_deactivate(user_id: int):
    db = get_session()
    user = _member_or_404(user_id)
    if not EmptyForm().validate():
        abort(400)
    try:
        changed = deactivate_staff(db, current_user, user)
    except ShopError as error:
        db.rollback()
        flash(_describe(error), "error")
        return _staff_page(status=400)
    if changed:
        flash(_("%(email)s can no longer sign in.", email=user.email))
    else:
        flash(_("Nothing changed: that account already was inactive."))
    return redirect(url_for("admin.staff"))


# --- the audit log -----------------------------------------------------------------------


def _parse_day(raw: str | None) -> date | None:
    try:
        day = date.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    return day if 1900 <= day.year <= 9000 else None


@bp.get("/audit")
@require_permission("staff.manage")
def audit():
    db = get_session()
    actor_id = parse_id(request.args.get("actor"))
    actions = list(db.scalars(sa.select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
    action = (request.args.get("action") or "").strip()
    action = action if action in actions else ""
    date_from = _parse_day(request.args.get("from"))
    date_to = _parse_day(request.args.get("to"))
    query = audit_query(
        actor_id=actor_id, action=action, date_from=date_from, date_to=date_to, zone=shop_zone()
    )
    total = db.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0
    page = paginate(total, parse_page(request.args.get("page")), AUDIT_PER_PAGE)
    entries = db.scalars(query.offset(page.offset).limit(AUDIT_PER_PAGE)).all()
    actor_ids = {entry.actor_user_id for entry in entries if entry.actor_user_id}
    actor_choices = db.execute(
        sa.select(User.id, User.email)
        .where(User.id.in_(sa.select(AuditEntry.actor_user_id).distinct()))
        .order_by(User.email)
    ).all()
    emails = {user_id: email for user_id, email in actor_choices if user_id in actor_ids}
    sentences = describe_entries(db, list(entries), locale_name(), _("system"))
    filters = {
        "actor": str(actor_id) if actor_id is not None else "",
        "action": action,
        "from": date_from.isoformat() if date_from else "",
        "to": date_to.isoformat() if date_to else "",
    }
    return render_template(
        "admin/audit/list.html",
        entries=entries,
        sentences=sentences,
        emails=emails,
        page=page,
        filters=filters,
        filter_args={name: value for name, value in filters.items() if value},
        actions=actions,
        actor_choices=actor_choices,
    )
