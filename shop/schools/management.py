"""Managing a school (``/admin/schools``): its details, its logo and its uniform list.

Plain functions over the session: they take the acting staff member and plain values,
flush, never commit, and write the audit row in the same transaction as the change.
Money on a school (credit limit, school prices) is in minor units of the school's
currency. The access code lives in ``shop.schools.access``, delivery rounds in
``shop.schools.rounds`` and school admins in ``shop.schools.membership``.
"""

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from shop import positions
from shop.accounts.models import User
from shop.audit.service import record, record_changes, snapshot
from shop.catalog.models import Product
from shop.db import assign_fields, value_taken
from shop.exceptions import ShopError
from shop.locales import zone_for_country
from shop.schools.models import School, UniformItem

SCHOOL_FIELDS = (
    "slug",
    "name",
    "name_zh",
    "name_ja",
    "city",
    "city_zh",
    "city_ja",
    "country",
    "currency",
    "time_zone",
    "grades",
    "delivery_recipient",
    "delivery_phone",
    "delivery_region",
    "delivery_city",
    "delivery_line1",
    "delivery_line2",
    "delivery_postcode",
    "contact_name",
    "contact_email",
    "contact_phone",
    "verified",
    "invoice_terms_days",
    "credit_limit_amount",
    "active",
)
OPTIONAL_TEXT_FIELDS = ("name_zh", "name_ja", "city_zh", "city_ja")
ITEM_FIELDS = (
    "product_id",
    "required",
    "grades",
    "gender",
    "season",
    "quantity_per_child",
    "school_price_amount",
    "position",
)


class SlugTaken(ShopError):
    message = "Another school already uses this slug."


class CurrencyLocked(ShopError):
    message = "Remove the school prices from the uniform list before changing the currency."


class ProductNotForSchool(ShopError):
    message = "That product is only sold by another school."


# --- the school ------------------------------------------------------------------------


def _apply(school: School, values: dict[str, Any]) -> None:
    assign_fields(school, values, SCHOOL_FIELDS, OPTIONAL_TEXT_FIELDS)
    if not school.time_zone:  # left blank: the country's clock
        school.time_zone = zone_for_country(school.country)
    school.refresh_search_text()


def create_school(session: Session, actor: User, values: dict[str, Any]) -> School:
    """A new school from ``values`` (``SCHOOL_FIELDS``). Raises ``SlugTaken``."""
    if value_taken(session, School.slug, values["slug"], None):
        raise SlugTaken()
    school = School(slug=values["slug"], name=values["name"], grades=[])
    _apply(school, values)
    session.add(school)
    session.flush()
    record(
        session,
        actor_user_id=actor.id,
        action="school.create",
        target_type="school",
        target_id=school.id,
        after=snapshot(school, SCHOOL_FIELDS),
    )
    return school


def update_school(
    session: Session, actor: User, school: School, values: dict[str, Any]
) -> list[str]:
    """Save ``values`` on ``school``; returns the names of the fields that changed.
    Raises ``SlugTaken`` or ``CurrencyLocked`` (a currency change would misread the school
    prices already in minor units)."""
    if value_taken(session, School.slug, values["slug"], school.id):
        raise SlugTaken()
    if values.get("currency", school.currency) != school.currency and any(
        item.school_price_amount is not None for item in school.items
    ):
        raise CurrencyLocked()
    before = snapshot(school, SCHOOL_FIELDS)
    _apply(school, values)
    session.flush()
    return record_changes(
        session,
        actor_user_id=actor.id,
        action="school.update",
        target_type="school",
        target_id=school.id,
        before=before,
        after=snapshot(school, SCHOOL_FIELDS),
    )


def set_logo(session: Session, actor: User, school: School, path: str) -> str | None:
    """Point ``school`` at a stored logo; returns the previous path (its files are the
    caller's to remove once the change is committed)."""
    previous = school.logo_path
    school.logo_path = path
    session.flush()
    record(
        session,
        actor_user_id=actor.id,
        action="school.logo",
        target_type="school",
        target_id=school.id,
        before={"logo_path": previous},
        after={"logo_path": path},
    )
    return previous


# --- the uniform list ------------------------------------------------------------------


def _check_product(school: School, product: Product) -> None:
    if product.school_id is not None and product.school_id != school.id:
        raise ProductNotForSchool()


def _clean_grades(school: School, grades: Iterable[str] | None) -> list[str]:
    """The school's grades among ``grades``, in the school's order."""
    wanted = set(grades or ())
    return [grade for grade in school.grades or [] if grade in wanted]


def add_uniform_item(
    session: Session, actor: User, school: School, product: Product, values: dict[str, Any]
) -> UniformItem:
    """Put ``product`` at the end of ``school``'s list. ``values``: ``required``,
    ``grades`` (subset of the school's; empty: every grade), ``gender``, ``season``,
    ``quantity_per_child``, ``school_price_amount`` (minor units or ``None``).
    Raises ``ProductNotForSchool``."""
    _check_product(school, product)
    position = max((item.position for item in school.items), default=-1) + 1
    item = UniformItem(
        school=school,
        product=product,
        required=bool(values["required"]),
        grades=_clean_grades(school, values.get("grades")),
        gender=values["gender"],
        season=values["season"],
        quantity_per_child=values["quantity_per_child"],
        school_price_amount=values.get("school_price_amount"),
        position=position,
    )
    session.add(item)
    session.flush()
    record(
        session,
        actor_user_id=actor.id,
        action="school.item_add",
        target_type="uniform_item",
        target_id=item.id,
        after={"school_id": school.id, **snapshot(item, ITEM_FIELDS)},
    )
    return item


def update_uniform_item(
    session: Session, actor: User, item: UniformItem, product: Product, values: dict[str, Any]
) -> bool:
    """Save ``values`` (as for ``add_uniform_item``) on ``item``; ``False`` if nothing
    changed. Raises ``ProductNotForSchool``."""
    school = item.school
    _check_product(school, product)
    before = snapshot(item, ITEM_FIELDS)
    item.product = product
    item.required = bool(values["required"])
    item.grades = _clean_grades(school, values.get("grades"))
    item.gender = values["gender"]
    item.season = values["season"]
    item.quantity_per_child = values["quantity_per_child"]
    item.school_price_amount = values.get("school_price_amount")
    session.flush()
    changed = record_changes(
        session,
        actor_user_id=actor.id,
        action="school.item_update",
        target_type="uniform_item",
        target_id=item.id,
        before=before,
        after=snapshot(item, ITEM_FIELDS),
    )
    return bool(changed)


def remove_uniform_item(session: Session, actor: User, item: UniformItem) -> None:
    record(
        session,
        actor_user_id=actor.id,
        action="school.item_remove",
        target_type="uniform_item",
        target_id=item.id,
        before={"school_id": item.school_id, **snapshot(item, ITEM_FIELDS)},
    )
    school = item.school
    school.items.remove(item)
    session.flush()


def move_uniform_item(session: Session, actor: User, item: UniformItem, direction: str) -> bool:
    """Swap ``item`` with its neighbour above (``"up"``) or below; ``False`` at an end."""
    items = list(item.school.items)
    before = [each.id for each in items]
    if not positions.move(items, item, direction):
        return False
    session.flush()
    record(
        session,
        actor_user_id=actor.id,
        action="school.item_reorder",
        target_type="school",
        target_id=item.school_id,
        before={"order": before},
        after={"order": [each.id for each in items]},
    )
    return True
