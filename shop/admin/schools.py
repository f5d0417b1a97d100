"""Schools (``/admin/schools``): a school's details, access code and logo, its uniform
list, delivery rounds and school admins — for roles with ``schools.manage``.

The rules live in the schools domain: ``shop.schools.management`` (details, logo, uniform
list), ``shop.schools.access`` (the access code), ``shop.schools.rounds`` (delivery
rounds) and ``shop.schools.membership`` (school admins). The views below parse a form,
call one rule, and redirect; bad input re-renders the school's page with the reasons and
status 400.

Money on a school (credit limit, school prices) is typed as a decimal in the school's
currency and kept in minor units. The access code is hashed like a password and never
shown back. Delivery cut-offs are typed in the factory's time zone and stored in UTC.
A school admin is invited like a staff member (``shop.accounts.invitations``), with the
set-password link the staff page builds (``shop.admin.staff.set_password_link``).
"""

from datetime import datetime

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Session, selectinload
from wtforms.fields.choices import SelectChoice

from shop import images as image_store
from shop import limits, request_keys
from shop.accounts import invitations
from shop.accounts import service as accounts
from shop.accounts.access import require_permission
from shop.accounts.forms import EmptyForm
from shop.admin import staff as staff_area  # the module: it may still be importing
from shop.admin.blueprint import bp
from shop.admin.school_forms import (
    AccessCodeForm,
    DeliveryRoundForm,
    LogoForm,
    SchoolAdminInviteForm,
    SchoolForm,
    UniformItemForm,
)
from shop.catalog.models import Product
from shop.catalog.pricing import base_tier
from shop.catalog.search import clean_text, fold
from shop.db import as_utc, commits, get_session
from shop.exceptions import ShopError
from shop.i18n import shop_zone
from shop.money import to_decimal
from shop.pagination import paginate, parse_page
from shop.position_forms import MoveForm
from shop.schools import access as school_access
from shop.schools.access import clear_access_code, set_access_code
from shop.schools.labels import GENDER_LABELS, SEASON_LABELS
from shop.schools.management import (
    SCHOOL_FIELDS,
    CurrencyLocked,
    ProductNotForSchool,
    SlugTaken,
    add_uniform_item,
    create_school,
    move_uniform_item,
    remove_uniform_item,
    set_logo,
    update_school,
    update_uniform_item,
)
from shop.schools.membership import (
    NotInvitable,
    invite_school_admin,
    list_members,
    remove_school_admin,
)
from shop.schools.models import DeliveryRound, School, SchoolMember, UniformItem
from shop.schools.rounds import (
    CutoffNotBeforeDelivery,
    RoundDateTaken,
    RoundInUse,
    add_delivery_round,
    delete_delivery_round,
)
from shop.storage import StorageError, get_storage

PER_PAGE = 50
SEARCH_MAX_LENGTH = 100
LOGO_FOLDER = "schools"
INVITE_PREFIX = "invite"  # the page's school form has a ``name`` field too


# --- helpers of the pages ----------------------------------------------------------------

REFUSALS = {
    SlugTaken: _l("Another school already uses this slug."),
    CurrencyLocked: _l(
        "Remove the school prices from the uniform list before changing the currency."
    ),
    ProductNotForSchool: _l("That product is only sold by another school."),
    CutoffNotBeforeDelivery: _l("The order cut-off must be before the delivery date."),
    RoundDateTaken: _l("The school already has a delivery round on that date."),
    RoundInUse: _l("Orders are booked on this delivery round; it cannot be deleted."),
    NotInvitable: _l("That email belongs to a staff account; it cannot become a school admin."),
    accounts.InvalidEmail: _l("That does not look like an email address."),
}


def _describe(error: ShopError) -> str:
    return str(REFUSALS.get(type(error), _l("That could not be done.")))


def _school_or_404(db: Session, school_id: int) -> School:
    school = db.get(School, school_id)
    if school is None:
        abort(404)
    return school


def _item_or_404(db: Session, school: School, item_id: int) -> UniformItem:
    item = db.get(UniformItem, item_id)
    if item is None or item.school_id != school.id:
        abort(404)
    return item


def _back(school: School, anchor: str = "") -> str:
    return url_for("admin.school_edit", school_id=school.id) + anchor


def product_choices(db: Session, school: School | None) -> list[SelectChoice]:
    """Active products for a uniform list: the catalogue's and this school's own."""
    query = sa.select(Product.id, Product.name, Product.slug).where(Product.active.is_(True))
    if school is None:
        query = query.where(Product.school_id.is_(None))
    else:
        query = query.where(sa.or_(Product.school_id.is_(None), Product.school_id == school.id))
    rows = db.execute(query.order_by(Product.name, Product.id)).all()
    return [SelectChoice(0, _("— choose —"))] + [
        SelectChoice(pid, f"{name} ({slug})") for pid, name, slug in rows
    ]


def _item_form(db: Session, school: School, item: UniformItem | None = None, read_body=True):
    if read_body:
        form = UniformItemForm(obj=item) if item else UniformItemForm()
    else:
        form = UniformItemForm(formdata=None, obj=item)
    form.product_id.choices = product_choices(db, school)
    form.grades.choices = [SelectChoice(grade) for grade in school.grades or []]
    if item is not None and request.method == "GET":
        form.required.data = "yes" if item.required else "no"
        form.grades.data = list(item.grades or [])
        form.product_slug.data = ""
        form.product_id.data = item.product_id
        if item.product_id not in {choice.value for choice in form.product_id.choices}:
            form.product_slug.data = item.product.slug
        if item.school_price_amount is not None:
            form.school_price.data = str(to_decimal(item.school_price_amount, school.currency))
    return form


def _parse_item(db: Session, school: School, form: UniformItemForm):
    """``(product, values)`` from a validated item form, or ``None`` with the reasons on
    the form."""
    product = None
    if form.product_slug.data:
        product = db.scalar(sa.select(Product).where(Product.slug == form.product_slug.data))
        if product is None:
            form.product_slug.errors = [_("There is no product with that slug.")]
            return None
    elif form.product_id.data:
        product = db.get(Product, form.product_id.data)
    if product is None:
        form.product_id.errors = [_("Choose a product, or type its slug.")]
        return None
    try:
        price = form.school_price_amount(school.currency)
    except ValueError:
        return None
    values = {
        "required": form.required.data == "yes",
        "grades": form.grades.data or [],
        "gender": form.gender.data,
        "season": form.season.data,
        "quantity_per_child": form.quantity_per_child.data,
        "school_price_amount": price,
    }
    return product, values


def _form_values(form: SchoolForm) -> dict:
    """The school's columns from a validated form."""
    parsed = ("grades", "credit_limit_amount", "invoice_terms_days", "verified", "active")
    values = {name: getattr(form, name).data or "" for name in SCHOOL_FIELDS if name not in parsed}
    values.update(
        grades=form.grades,
        credit_limit_amount=form.credit_limit_amount,
        invoice_terms_days=form.invoice_terms_days.data,
        verified=bool(form.verified.data),
        active=bool(form.active.data),
    )
    return values


def _school_form(school: School | None = None, read_body=True) -> SchoolForm:
    form = SchoolForm(obj=school) if read_body else SchoolForm(formdata=None, obj=school)
    if school is not None and (request.method == "GET" or not read_body):
        form.grades_text.data = "\n".join(school.grades or [])
        form.credit_limit.data = str(to_decimal(school.credit_limit_amount, school.currency))
    return form


def _base_prices(school: School) -> dict[int, int | None]:
    """Each item's catalogue unit price for one piece, in the school's currency."""
    prices: dict[int, int | None] = {}
    for item in school.items:
        tier = base_tier(t for t in item.product.price_tiers if t.currency == school.currency)
        prices[item.id] = tier.unit_amount if tier else None
    return prices


def _render_school(
    db: Session,
    school: School,
    *,
    form=None,
    code_form=None,
    logo_form=None,
    logo_error=None,
    item_form=None,
    round_form=None,
    invite_form=None,
    status=200,
):
    rounds = [(each, as_utc(each.cutoff_at)) for each in school.rounds]
    return (
        render_template(
            "admin/schools/edit.html",
            school=school,
            form=form or _school_form(school, read_body=False),
            code_form=code_form or AccessCodeForm(formdata=None),
            logo_form=logo_form or LogoForm(formdata=None),
            logo_error=logo_error,
            item_form=item_form or _item_form(db, school, read_body=False),
            round_form=round_form or DeliveryRoundForm(formdata=None),
            invite_form=invite_form or SchoolAdminInviteForm(formdata=None, prefix=INVITE_PREFIX),
            base_prices=_base_prices(school),
            rounds=rounds,
            members=list_members(db, school),
            gender_labels=GENDER_LABELS,
            season_labels=SEASON_LABELS,
            thumb=image_store.thumbnail_path,
            zone_name=str(shop_zone()),
            empty_form=EmptyForm(formdata=None),
            move_key=request_keys.new_request_key(),
            code_locked_until=_code_locked_until(school),
        ),
        status,
    )


def _code_locked_until(school: School) -> datetime | None:
    """When parents may try the access code again, if wrong tries from every address
    together used up ``RATE_LIMIT_SCHOOL_CODE_TOTAL``; ``None`` when it is open."""
    if not school.private:
        return None
    return limits.exhausted_until(
        current_app.config["RATE_LIMIT_SCHOOL_CODE_TOTAL"],
        school_access.code_tries_key(school.slug),
        school_access.UNLOCK_ENDPOINT,
    )


def _load_school(db: Session, school_id: int) -> School:
    school = db.scalar(
        sa.select(School)
        .where(School.id == school_id)
        .options(
            selectinload(School.items)
            .selectinload(UniformItem.product)
            .selectinload(Product.price_tiers),
            selectinload(School.rounds),
        )
    )
    if school is None:
        abort(404)
    return school


# --- the list ----------------------------------------------------------------------------


@bp.get("/schools")
@require_permission("schools.manage")
def school_list():
    db = get_session()
    q = clean_text(request.args.get("q"), SEARCH_MAX_LENGTH)
    query = sa.select(School)
    for term in fold(q).split()[:8]:
        query = query.where(
            sa.or_(
                School.search_text.contains(term, autoescape=True),
                School.slug.contains(term, autoescape=True),
            )
        )
    total = db.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    page = paginate(total, parse_page(request.args.get("page")), PER_PAGE)
    schools = db.scalars(
        query.order_by(School.name, School.id).limit(page.per_page).offset(page.offset)
    ).all()
    return render_template(
        "admin/schools/list.html",
        schools=schools,
        page=page,
        q=q,
        args={"q": q} if q else {},
    )


# --- create and edit ---------------------------------------------------------------------


@bp.route("/schools/new", methods=["GET", "POST"])
@commits
@require_permission("schools.manage")
def school_new():
    db = get_session()
    form = _school_form()
    if form.validate_on_submit():
        try:
            school = create_school(db, current_user, _form_values(form))
        except SlugTaken as error:
            db.rollback()
            form.slug.errors = [_describe(error)]
        else:
            flash(_("School created. Now add its uniform list."), "success")
            return redirect(_back(school))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/schools/new.html", form=form), status


@bp.route("/schools/<int:school_id>", methods=["GET", "POST"])
@commits
@require_permission("schools.manage")
def school_edit(school_id: int):
    db = get_session()
    school = _load_school(db, school_id)
    form = _school_form(school)
    if request.method == "GET":
        return _render_school(db, school, form=form)
    if form.validate_on_submit():
        try:
            update_school(db, current_user, school, _form_values(form))
        except SlugTaken as error:
            db.rollback()
            school = _load_school(db, school_id)
            form.slug.errors = [_describe(error)]
        except CurrencyLocked as error:
            db.rollback()
            school = _load_school(db, school_id)
            form.currency.errors = [_describe(error)]
        else:
            flash(_("School saved."), "success")
            return redirect(_back(school))
    return _render_school(db, school, form=form, status=400)


# --- access code and logo ----------------------------------------------------------------


@bp.post("/schools/<int:school_id>/code")
@commits
@require_permission("schools.manage")
def school_code_set(school_id: int):
    db = get_session()
    school = _load_school(db, school_id)
    form = AccessCodeForm()
    if not form.validate_on_submit():
        return _render_school(db, school, code_form=form, status=400)
    set_access_code(db, current_user, school, form.code.data)
    flash(_("New access code saved; parents need it to open the school's shop."), "success")
    return redirect(_back(school, "#access"))


@bp.post("/schools/<int:school_id>/code/clear")
@commits
@require_permission("schools.manage")
def school_code_clear(school_id: int):
    db = get_session()
    school = _school_or_404(db, school_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if clear_access_code(db, current_user, school):
        flash(_("The access code is removed: the school's shop is open to everyone."), "success")
    else:
        flash(_("Nothing changed: the school had no access code."))
    return redirect(_back(school, "#access"))


@bp.post("/schools/<int:school_id>/logo")
@require_permission("schools.manage")
def school_logo(school_id: int):
    db = get_session()
    school = _load_school(db, school_id)
    form = LogoForm()
    storage, status = get_storage(), 400
    if not form.validate_on_submit():
        error = _("Check the form and try again.")
    elif not form.logo.data or not getattr(form.logo.data, "filename", ""):
        error = _("Choose an image file.")
    else:
        try:
            stored = image_store.store_upload(form.logo.data.stream, storage, LOGO_FOLDER)
        except image_store.ImageRefused as refused:
            error = str(refused)
        except StorageError as failure:
            current_app.logger.error("school logo: the store failed: %s", failure)
            error, status = _("The image could not be stored just now; try again shortly."), 503
        else:
            previous = set_logo(db, current_user, school, stored.path)
            image_store.queue_derived_sizes(db, stored.path)
            db.commit()  # the new row first: an orphan file is harmless, a missing one not
            if previous:
                image_store.remove_files(db, storage, previous, LOGO_FOLDER)
            flash(_("Logo saved."), "success")
            return redirect(_back(school, "#logo"))
    return _render_school(db, school, logo_form=form, logo_error=error, status=status)


# --- the uniform list --------------------------------------------------------------------


@bp.post("/schools/<int:school_id>/items")
@commits
@require_permission("schools.manage")
def school_item_add(school_id: int):
    db = get_session()
    school = _load_school(db, school_id)
    form = _item_form(db, school)
    if form.validate_on_submit():
        parsed = _parse_item(db, school, form)
        if parsed is not None:
            product, values = parsed
            try:
                add_uniform_item(db, current_user, school, product, values)
            except ProductNotForSchool as error:
                db.rollback()
                school = _load_school(db, school_id)
                form.product_id.errors = [_describe(error)]
            else:
                flash(_("%(name)s added to the uniform list.", name=product.name), "success")
                return redirect(_back(school, "#items"))
    return _render_school(db, school, item_form=form, status=400)


@bp.route("/schools/<int:school_id>/items/<int:item_id>", methods=["GET", "POST"])
@commits
@require_permission("schools.manage")
def school_item_edit(school_id: int, item_id: int):
    db = get_session()
    school = _load_school(db, school_id)
    item = _item_or_404(db, school, item_id)
    form = _item_form(db, school, item)
    if request.method == "POST" and form.validate_on_submit():
        parsed = _parse_item(db, school, form)
        if parsed is not None:
            product, values = parsed
            try:
                changed = update_uniform_item(db, current_user, item, product, values)
            except ProductNotForSchool as error:
                db.rollback()
                school = _load_school(db, school_id)
                item = _item_or_404(db, school, item_id)
                form.product_id.errors = [_describe(error)]
            else:
                flash(
                    _("Uniform item saved.") if changed else _("Nothing changed."),
                    "success",
                )
                return redirect(_back(school, "#items"))
    status = 400 if request.method == "POST" else 200
    return (
        render_template(
            "admin/schools/item.html",
            school=school,
            item=item,
            item_form=form,
            base_price=_base_prices(school).get(item.id),
        ),
        status,
    )


@bp.post("/schools/<int:school_id>/items/<int:item_id>/delete")
@commits
@require_permission("schools.manage")
def school_item_remove(school_id: int, item_id: int):
    db = get_session()
    school = _load_school(db, school_id)
    item = _item_or_404(db, school, item_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    name = item.product.name
    remove_uniform_item(db, current_user, item)
    flash(_("%(name)s removed from the uniform list.", name=name), "success")
    return redirect(_back(school, "#items"))


@bp.post("/schools/<int:school_id>/items/<int:item_id>/move")
@commits
@require_permission("schools.manage")
def school_item_move(school_id: int, item_id: int):
    db = get_session()
    school = _load_school(db, school_id)
    item = _item_or_404(db, school, item_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if request_keys.claim(db, f"school-item-move:{item.id}", form.request_key.data):
            move_uniform_item(db, current_user, item, form.direction.data)
    except sa.exc.IntegrityError:  # the same button at the same moment: the other moved it
        db.rollback()
    return redirect(_back(school, "#items"))


# --- delivery rounds ---------------------------------------------------------------------


@bp.post("/schools/<int:school_id>/rounds")
@commits
@require_permission("schools.manage")
def school_round_add(school_id: int):
    db = get_session()
    school = _load_school(db, school_id)
    form = DeliveryRoundForm()
    if form.validate_on_submit():
        try:
            add_delivery_round(
                db,
                current_user,
                school,
                delivery_date=form.delivery_date.data,
                cutoff_local=form.cutoff_at.data,
                zone=shop_zone(),
            )
        except CutoffNotBeforeDelivery as error:
            db.rollback()
            school = _load_school(db, school_id)
            form.cutoff_at.errors = [_describe(error)]
        except RoundDateTaken as error:
            db.rollback()
            school = _load_school(db, school_id)
            form.delivery_date.errors = [_describe(error)]
        else:
            flash(_("Delivery round added."), "success")
            return redirect(_back(school, "#rounds"))
    return _render_school(db, school, round_form=form, status=400)


@bp.post("/schools/<int:school_id>/rounds/<int:round_id>/delete")
@commits
@require_permission("schools.manage")
def school_round_delete(school_id: int, round_id: int):
    db = get_session()
    school = _load_school(db, school_id)
    delivery_round = db.get(DeliveryRound, round_id)
    if delivery_round is None or delivery_round.school_id != school.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        delete_delivery_round(db, current_user, delivery_round)
    except RoundInUse as error:
        db.rollback()
        flash(_describe(error), "error")
        return _render_school(db, _load_school(db, school_id), status=400)
    flash(_("Delivery round deleted."), "success")
    return redirect(_back(school, "#rounds"))


# --- school admins -----------------------------------------------------------------------


@bp.post("/schools/<int:school_id>/admins")
@commits
@require_permission("schools.manage")
def school_admin_invite(school_id: int):
    db = get_session()
    school = _load_school(db, school_id)
    form = SchoolAdminInviteForm(prefix=INVITE_PREFIX)
    if not form.validate_on_submit():
        return _render_school(db, school, invite_form=form, status=400)
    try:
        user, created, joined = invite_school_admin(
            db, current_user, school, email=form.email.data, name=form.name.data or ""
        )
    except (accounts.InvalidEmail, NotInvitable) as error:
        db.rollback()
        form.email.errors = [_describe(error)]
        return _render_school(db, _load_school(db, school_id), invite_form=form, status=400)
    invitations.send_invitation(
        db,
        user,
        _("School admin"),
        link=staff_area.set_password_link(user),
        subject=_l("Your Sourcefront school admin account"),
        template="account_school_admin_invite",
        school_name=school.name,
    )
    if not joined:
        flash(
            _(
                "%(email)s already is an admin of this school; a new set-password link is on "
                "its way.",
                email=user.email,
            )
        )
    elif created:
        flash(_("Invited %(email)s; a set-password link is on its way.", email=user.email))
    else:
        flash(
            _(
                "%(email)s is now an admin of this school; a set-password link is on its way.",
                email=user.email,
            )
        )
    return redirect(_back(school, "#admins"))


@bp.post("/schools/<int:school_id>/admins/<int:member_id>/delete")
@commits
@require_permission("schools.manage")
def school_admin_remove(school_id: int, member_id: int):
    db = get_session()
    school = _school_or_404(db, school_id)
    member = db.get(SchoolMember, member_id)
    if member is None or member.school_id != school.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    email = member.user.email
    remove_school_admin(db, current_user, member)
    flash(_("%(email)s is no longer an admin of this school.", email=email), "success")
    return redirect(_back(school, "#admins"))
