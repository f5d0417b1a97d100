"""Parents' pages: the school finder, a school's uniform shop (behind its access code
when private), the size finder and ordering a child's kit into the cart."""

from dataclasses import dataclass, field

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from shop.accounts.forms import COUNTRIES
from shop.cart import service as cart_service
from shop.cart.views import CART_ERRORS, cart_id_to_fill, error_message, remember_count
from shop.catalog.search import clean_text
from shop.db import as_utc, commits, get_session, utcnow
from shop.extensions import limiter
from shop.images import thumbnail_path
from shop.pagecache.changes import CATALOGUE, school_stock_name
from shop.pagecache.pages import cached_page
from shop.pagecache.stores import PAGE_TTL_SECONDS
from shop.pagination import parse_page
from shop.schools import access, finder, sizing, uniform_list
from shop.schools.blueprint import bp
from shop.schools.labels import GENDER_LABELS, SEASON_LABELS
from shop.schools.models import School
from shop.schools.rounds import next_round

# The gender filter offers boys or girls; its empty choice means everyone.
FILTER_GENDERS = {key: GENDER_LABELS[key] for key in ("boys", "girls")}


class AccessCodeForm(FlaskForm):
    code = PasswordField(_l("Access code"), validators=[DataRequired(), Length(max=100)])


class KitForm(FlaskForm):
    student_name = StringField(_l("Student’s name"), validators=[DataRequired(), Length(max=120)])
    class_name = StringField(_l("Class"), validators=[DataRequired(), Length(max=40)])
    without_missing = BooleanField(_l("Order without these items"))


@dataclass
class Filters:
    """Who the list is for (grade, gender) and the size finder's measurements."""

    grade: str | None = None
    gender: str | None = None
    height_cm: float | None = None
    chest_cm: float | None = None
    allowance_cm: int = sizing.DEFAULT_ALLOWANCE_CM
    raw: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def parse_filters(values, school: School) -> Filters:
    raw = {
        name: (values.get(name) or "").strip()[:10]
        for name in ("grade", "gender", "height", "chest", "allowance")
    }
    filters = Filters(
        grade=uniform_list.parse_grade(values.get("grade"), school),
        gender=uniform_list.parse_gender(values.get("gender")),
        height_cm=sizing.parse_cm(raw["height"], sizing.HEIGHT_LIMITS_CM),
        chest_cm=sizing.parse_cm(raw["chest"], sizing.CHEST_LIMITS_CM),
        allowance_cm=sizing.parse_allowance(raw["allowance"]),
        raw=raw,
    )
    if raw["height"] and filters.height_cm is None:
        low, high = sizing.HEIGHT_LIMITS_CM
        filters.errors.append(_("Enter a height from %(low)d to %(high)d cm.", low=low, high=high))
    if raw["chest"] and filters.chest_cm is None:
        low, high = sizing.CHEST_LIMITS_CM
        filters.errors.append(_("Enter a chest from %(low)d to %(high)d cm.", low=low, high=high))
    return filters


# --- the finder --------------------------------------------------------------------------


@bp.get("")
def school_list():
    q = clean_text(request.args.get("q"), finder.MAX_Q_LENGTH)
    results = finder.search_schools(get_session(), q, parse_page(request.args.get("page")))
    return render_template(
        "schools/school_list.html", results=results, q=q, countries=dict(COUNTRIES)
    )


# --- a school's shop ---------------------------------------------------------------------


def _school(slug: str) -> School:
    if len(slug) > 80:
        abort(404)
    school = access.get_school(get_session(), slug)
    if school is None:
        abort(404)
    return school


def _can_see(school: School) -> bool:
    return access.can_see_shop(get_session(), school, user=current_user, flask_session=session)


def _render_locked(school: School, form: AccessCodeForm, status: int = 200):
    return render_template(
        "schools/school_shop.html",
        school=school,
        locked=True,
        code_form=form,
        countries=dict(COUNTRIES),
    ), status


def _render_shop(
    school: School,
    filters: Filters,
    form: KitForm,
    *,
    kit: uniform_list.KitChoice | None = None,
    missing=(),
    errors=(),
    status: int = 200,
):
    locale = str(get_locale())
    items = uniform_list.load_items(get_session(), school)
    shown = uniform_list.filter_items(items, filters.grade, filters.gender)
    rows = uniform_list.build_rows(
        shown,
        currency=school.currency,
        locale=locale,
        height_cm=filters.height_cm,
        chest_cm=filters.chest_cm,
        allowance_cm=filters.allowance_cm,
    )
    picks = {row.item.id: _colour_pick(row) for row in rows}
    if kit is None:
        selected = {row.item.id: _default_variant(row, picks[row.item.id]) for row in rows}
        quantities = {row.item.id: str(row.default_quantity) for row in rows}
    else:
        selected, quantities = kit.selected, kit.quantities
    missing_ids = {item.id for item in missing}
    return render_template(
        "schools/school_shop.html",
        school=school,
        locked=False,
        sees_private=school.private,
        filters=filters,
        groups=uniform_list.group_by_season(rows),
        has_items=bool(rows),
        selected=selected,
        quantities=quantities,
        colour_picks=picks,
        thumb=thumbnail_path,
        missing=[row for row in rows if row.item.id in missing_ids],
        errors=list(errors),
        form=form,
        delivery_round=next_round(school, utcnow()),
        allowances=sizing.ALLOWANCES_CM,
        season_labels=SEASON_LABELS,
        gender_labels=FILTER_GENDERS,
        countries=dict(COUNTRIES),
        added=request.args.get("added") == "1",
    ), status


def _colour_pick(row: uniform_list.ItemRow) -> sizing.ColourPick | None:
    size = row.advice.size if row.advice is not None else None
    return sizing.pick_colour(row.choices, size)


def _default_variant(row: uniform_list.ItemRow, pick: sizing.ColourPick | None) -> int | None:
    """The recommended size in the school's colour; nothing when that colour cannot be
    had (the page says so and the parent chooses); a lone orderable variant."""
    if pick is not None:
        return pick.variant_id
    recommended = row.recommended_variant_id
    if recommended is not None:
        return recommended
    orderable = [choice for choice in row.choices if choice.orderable]
    return orderable[0].variant_id if len(orderable) == 1 else None


@bp.get("/<slug>")
def school_shop(slug: str):
    school = _school(slug)
    if not _can_see(school):
        return _render_locked(school, AccessCodeForm(formdata=None))
    filters = parse_filters(request.args, school)

    def render() -> tuple[str, float]:
        html, _status = _render_shop(school, filters, KitForm(formdata=None))
        return html, _seconds_until_next_cutoff(school)

    return cached_page([CATALOGUE, school_stock_name(school.slug)], render)


def _seconds_until_next_cutoff(school: School) -> float:
    """How long the shop page's "order by" line holds: until the next round's cut-off."""
    now = utcnow()
    delivery_round = next_round(school, now)
    if delivery_round is None:
        return PAGE_TTL_SECONDS
    return (as_utc(delivery_round.cutoff_at) - now).total_seconds()


# --- the access code ---------------------------------------------------------------------


def _code_limit() -> str:
    return current_app.config["RATE_LIMIT_SCHOOL_CODE"]


def _code_limit_key() -> str:
    slug = (request.view_args or {}).get("slug", "")[:80]
    return f"school-code:{get_remote_address()}:{slug}"


def _code_total_limit() -> str:
    return current_app.config["RATE_LIMIT_SCHOOL_CODE_TOTAL"]


def _code_total_key() -> str:
    """Wrong codes for one school from every address together: many addresses do not
    buy many guesses. Staff see the lockout on the school's admin page."""
    return access.code_tries_key((request.view_args or {}).get("slug", "")[:80])


def _code_refused(response) -> bool:
    return g.get("school_code_refused", False)


@bp.post("/<slug>/unlock")
@commits
@limiter.limit(_code_limit, key_func=_code_limit_key, deduct_when=_code_refused)
@limiter.limit(_code_total_limit, key_func=_code_total_key, deduct_when=_code_refused)
def school_unlock(slug: str):
    school = _school(slug)
    form = AccessCodeForm()
    if _can_see(school):
        return redirect(url_for("schools.school_shop", slug=school.slug), code=303)
    if not form.validate_on_submit() or not access.unlock(get_session(), school, form.code.data):
        g.school_code_refused = True
        # One message whatever was wrong: a guess learns nothing.
        form.code.errors = [_("That code is not right.")]
        return _render_locked(school, form, status=400)
    access.remember_unlocked(session, school.id)
    flash(_("Welcome to %(name)s’s uniform shop.", name=school.name), "success")
    return redirect(url_for("schools.school_shop", slug=school.slug), code=303)


# --- a child's kit -----------------------------------------------------------------------


def _problem_message(problem: uniform_list.KitProblem) -> str:
    item = problem.row.name if problem.row is not None else ""
    if problem.code == "bad_quantity":
        return _("%(item)s: enter a whole number of pieces from 0 to 9,999.", item=item)
    if problem.code == "no_size":
        return _("%(item)s: choose a size.", item=item)
    return _("Choose at least one item for this child.")


@bp.post("/<slug>/kit")
@commits
def school_kit(slug: str):
    school = _school(slug)
    if not _can_see(school):
        return redirect(url_for("schools.school_shop", slug=school.slug), code=303)
    db = get_session()
    filters = parse_filters(request.form, school)
    form = KitForm()
    items = uniform_list.load_items(db, school)
    shown = uniform_list.filter_items(items, filters.grade, filters.gender)
    rows = uniform_list.build_rows(shown, currency=school.currency, locale=str(get_locale()))
    kit = uniform_list.parse_kit(rows, request.form)
    form_ok = form.validate_on_submit()
    errors = [_problem_message(problem) for problem in kit.problems]
    if not form_ok or errors:
        if not errors:
            errors = [_("Check the child’s details below.")]
        return _render_shop(school, filters, form, kit=kit, errors=errors, status=400)

    missing = uniform_list.missing_required(
        shown, filters.grade, filters.gender, kit.chosen_product_ids
    )
    if missing and not form.without_missing.data:
        return _render_shop(school, filters, form, kit=kit, missing=missing, status=400)

    student_name = " ".join(form.student_name.data.split())
    class_name = " ".join(form.class_name.data.split())
    try:
        cart_id = cart_id_to_fill()
        cart_service.add_to_cart(
            db,
            cart_id,
            kit.additions,
            school_id=school.id,
            student_name=student_name,
            class_name=class_name,
        )
    except CART_ERRORS as error:
        db.rollback()
        return _render_shop(
            school, filters, form, kit=kit, errors=[error_message(error)], status=400
        )
    remember_count(cart_service.count_pieces(db, cart_id))
    # The school's prices are in its currency: the cart and checkout follow it.
    session["currency"] = school.currency
    flash(_("Added %(name)s’s kit", name=student_name), "success")
    return redirect(url_for("schools.school_shop", slug=school.slug, added=1), code=303)
