"""Staff accounts and the audit log (``/admin/staff``, ``/admin/audit``; owner only,
``staff.manage``).

The rules are the plain functions at the top (``invite_staff``, ``change_role``,
``deactivate_staff``): they take the session and the acting staff member, flush, never
commit, and write the audit row in the same transaction as the change. An owner cannot
demote or deactivate themselves, and the shop never goes without an active owner. The
views below only parse, call one rule, commit by returning a redirect, and turn a
refusal into a message on a 400 page.

An invitation goes through ``shop.accounts.service.save_staff`` (the same call as the
``create-staff`` command): a new account gets an unusable password and the email carries
a set-password link, valid for an hour, built on ``SHOP_BASE_URL`` — never on the
request's Host header. Inviting a deactivated member again reactivates them.
"""

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Session

from shop.accounts import service as accounts
from shop.accounts.access import require_permission
from shop.accounts.forms import EmptyForm
from shop.accounts.models import User
from shop.accounts.permissions import STAFF_ROLES
from shop.admin.staff_forms import ROLE_LABELS, InviteForm, RoleForm
from shop.admin.views import bp
from shop.audit.models import AuditEntry
from shop.audit.service import record, snapshot
from shop.db import commits, get_session
from shop.exceptions import ShopError
from shop.i18n import shop_zone
from shop.inputs import parse_id
from shop.links import external_url
from shop.mail import send_after_commit
from shop.pagination import paginate, parse_page

STAFF_FIELDS = ("email", "name", "role", "active")
AUDIT_PER_PAGE = 50


# --- the rules ---------------------------------------------------------------------------


class SelfDemotion(ShopError):
    message = "You cannot change your own role or deactivate yourself."


class LastOwner(ShopError):
    message = "The shop needs at least one active owner."


class NotStaff(ShopError):
    message = "That account is not a staff account."


def _other_active_owners(session: Session, user: User) -> int:
    return session.scalar(
        sa.select(sa.func.count(User.id)).where(
            User.role == "owner", User.active.is_(True), User.id != user.id
        )
    )


def _check_removal(session: Session, actor: User, user: User, new_role: str, active: bool):
    """Refuse a change that takes ``user`` out of the owners (or out of the shop) if it
    is the actor themselves or the last active owner."""
    losing_owner = user.role == "owner" and user.active and (new_role != "owner" or not active)
    if user.id == actor.id and (new_role != user.role or not active):
        raise SelfDemotion()
    if losing_owner and _other_active_owners(session, user) == 0:
        raise LastOwner()


def list_staff(session: Session) -> list[User]:
    return list(
        session.scalars(
            sa.select(User)
            .where(User.role.in_(STAFF_ROLES))
            .order_by(User.active.desc(), User.email)
        )
    )


def invite_staff(session: Session, actor: User, *, email: str, role: str, name: str = ""):
    """Create a staff account (or make an existing account staff with ``role``, active
    again). Returns ``(user, created)``. Raises ``InvalidEmail``, ``UnknownRole``,
    ``SelfDemotion`` or ``LastOwner``; nothing is changed then."""
    if role not in STAFF_ROLES:
        raise accounts.UnknownRole()
    existing = accounts.get_user_by_email(session, accounts.normalise_email(email))
    before = None
    if existing is not None:
        _check_removal(session, actor, existing, role, True)
        before = snapshot(existing, STAFF_FIELDS)
    user, created = accounts.save_staff(session, email=email, role=role, name=name)
    if created is False and not user.name and name:
        user.name = name
    record(
        session,
        actor_user_id=actor.id,
        action="staff.invite",
        target_type="user",
        target_id=user.id,
        before=before,
        after=snapshot(user, STAFF_FIELDS),
    )
    return user, created


def change_role(session: Session, actor: User, user: User, role: str) -> bool:
    """Give staff member ``user`` another role. ``False`` when it already was theirs."""
    if role not in STAFF_ROLES:
        raise accounts.UnknownRole()
    if user.role not in STAFF_ROLES:
        raise NotStaff()
    if role == user.role:
        return False
    _check_removal(session, actor, user, role, user.active)
    before = snapshot(user, STAFF_FIELDS)
    user.role = role
    session.flush()
    record(
        session,
        actor_user_id=actor.id,
        action="staff.role",
        target_type="user",
        target_id=user.id,
        before=before,
        after=snapshot(user, STAFF_FIELDS),
    )
    return True


def deactivate_staff(session: Session, actor: User, user: User) -> bool:
    """Close a staff member's access (the account stays, for the audit log's sake).
    ``False`` when it already was inactive."""
    if user.role not in STAFF_ROLES:
        raise NotStaff()
    if not user.active:
        return False
    _check_removal(session, actor, user, user.role, False)
    before = snapshot(user, STAFF_FIELDS)
    user.active = False
    session.flush()
    record(
        session,
        actor_user_id=actor.id,
        action="staff.deactivate",
        target_type="user",
        target_id=user.id,
        before=before,
        after=snapshot(user, STAFF_FIELDS),
    )
    return True


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


def _set_password_link(user: User) -> str:
    token = accounts.reset_token(current_app.config["SECRET_KEY"], user)
    return external_url("accounts.reset_with_token", token=token)


def send_invitation(
    user: User,
    role: str,
    *,
    subject=None,
    template: str = "account_staff_invite",
    **context,
) -> None:
    """Email ``user`` the set-password link of an invitation (``role``: its label) once
    the request's session commits (never if it rolls back). The staff page sends the staff
    email; other areas (school admins) pass their own subject and ``email/`` template,
    which get ``user``, ``role``, ``link`` and ``context``."""
    send_after_commit(
        get_session(),
        user.email,
        subject or _l("Your Sourcefront staff account"),
        template,
        user=user,
        role=role,
        link=_set_password_link(user),
        **context,
    )


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
    send_invitation(user, str(ROLE_LABELS[user.role]))
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


def audit_query(*, actor_id: int | None, action: str, date_from, date_to, zone) -> sa.Select:
    """The audit entries matching the filters, newest first."""
    query = sa.select(AuditEntry)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_user_id == actor_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if date_from:
        start = datetime.combine(date_from, time.min, tzinfo=zone).astimezone(UTC)
        query = query.where(AuditEntry.created_at >= start)
    if date_to:
        end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone)
        query = query.where(AuditEntry.created_at < end.astimezone(UTC))
    return query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())


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
    total = db.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    page = paginate(total, parse_page(request.args.get("page")), AUDIT_PER_PAGE)
    entries = db.scalars(query.offset(page.offset).limit(AUDIT_PER_PAGE)).all()
    actor_ids = {entry.actor_user_id for entry in entries if entry.actor_user_id}
    actor_choices = db.execute(
        sa.select(User.id, User.email)
        .where(User.id.in_(sa.select(AuditEntry.actor_user_id).distinct()))
        .order_by(User.email)
    ).all()
    emails = {user_id: email for user_id, email in actor_choices if user_id in actor_ids}
    filters = {
        "actor": str(actor_id) if actor_id is not None else "",
        "action": action,
        "from": date_from.isoformat() if date_from else "",
        "to": date_to.isoformat() if date_to else "",
    }
    return render_template(
        "admin/audit/list.html",
        entries=entries,
        emails=emails,
        page=page,
        filters=filters,
        filter_args={name: value for name, value in filters.items() if value},
        actions=actions,
        actor_choices=actor_choices,
    )
