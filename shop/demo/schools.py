"""Demo schools (``data/schools.json``): one in China, one in Japan, one in Singapore
(private, with a code), their uniform lists, delivery rounds, school admins, and school
orders (parents' kits, a class roster on invoice, an overdue invoice), so a new user can
walk the schools as a parent, a bursar and factory staff.

Built directly like the demo orders (``shop.demo.orders``): no Stripe calls, no stock
moves. Idempotent: a school is found by slug; one that exists is left alone with its list,
rounds and orders, one that is missing is added with all of them. Needs the demo
catalogue; without it nothing is added. Flushes, the caller commits.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from shop.accounts.models import User
from shop.accounts.passwords import hash_password
from shop.accounts.service import get_user_by_email
from shop.catalog.models import Category, PriceTier, Product, Variant
from shop.catalog.pricing import tier_for, unit_amount
from shop.catalog.search import refresh_search_text
from shop.db import utcnow
from shop.demo.accounts import add_demo_user, demo_email, seed_demo_accounts
from shop.demo.catalogue import (
    IMAGE_SIZE,
    ProductSpec,
    add_images,
    add_tiers,
    add_variants,
    convert_price,
    new_product,
    product_spec,
)
from shop.demo.files import read_json
from shop.demo.orders import DemoOrder, build_demo_order, demo_line
from shop.orders.models import Order
from shop.schools.access import normalise_code
from shop.schools.invoices import new_invoice, record_payment
from shop.schools.models import (
    DeliveryRound,
    Invoice,
    School,
    SchoolMember,
    UniformItem,
)
from shop.schools.rounds import next_round
from shop.storage import Storage


@dataclass(frozen=True)
class Item:
    """A line of a demo uniform list (``product``: a catalogue slug)."""

    product: str
    season: str
    required: bool = True
    gender: str = "any"
    grades: tuple[str, ...] = ()
    per_child: int = 1
    school_price: int | None = None


@dataclass(frozen=True)
class Student:
    name: str
    class_name: str
    grade: str
    gender: str  # boys | girls


@dataclass(frozen=True)
class SchoolOrder:
    """A demo order for the school: parents' kits, or a class roster paid on invoice."""

    spec: DemoOrder
    students: tuple[Student, ...]
    email: str  # the parent's or the school admin's
    recipient: str  # empty: the parent's account name
    phone: str
    po_number: str = ""
    invoice_paid: int = 0  # percent of the invoice already paid
    round_days: int | None = None  # the round it goes on: days from now (None: the next)
    roster: bool = False  # whole classes, as a school admin orders them


@dataclass(frozen=True)
class DemoSchool:
    columns: dict[str, Any]  # the school's own columns, as stored
    admin: tuple[str, str]  # email, name
    items: tuple[Item, ...]
    rounds_in_days: tuple[int, ...]
    access_code: str | None = None
    school_product: ProductSpec | None = None
    orders: tuple[SchoolOrder, ...] = field(default=())

    @property
    def slug(self) -> str:
        return self.columns["slug"]


def _school_order(data: dict[str, Any], classes: dict[str, Any]) -> SchoolOrder:
    """An order as the data writes it: its ``students``, or whole ``classes``."""
    data = dict(data)
    spec = DemoOrder(**{name: data.pop(name) for name in ("days_ago", "payment", "fulfilment")})
    if "classes" in data:
        students = tuple(
            Student(name, class_name, classes[class_name]["grade"], gender)
            for class_name in data.pop("classes")
            for name, gender in classes[class_name]["students"]
        )
        data["roster"] = True
    else:
        students = tuple(
            Student(s["name"], s["class"], s["grade"], s["gender"]) for s in data.pop("students")
        )
    return SchoolOrder(spec, students, **data)


def _demo_school(data: dict[str, Any]) -> DemoSchool:
    classes = data.get("classes", {})
    product = data.get("school_product")
    return DemoSchool(
        columns=data["school"],
        admin=(data["admin"]["email"], data["admin"]["name"]),
        items=tuple(
            Item(**item | {"grades": tuple(item.get("grades", ()))}) for item in data["items"]
        ),
        rounds_in_days=tuple(data["rounds_in_days"]),
        access_code=data.get("access_code"),
        school_product=product_spec(product) if product else None,
        orders=tuple(_school_order(order, classes) for order in data["orders"]),
    )


_DATA = read_json("schools.json")
SCHOOLS = tuple(_demo_school(school) for school in _DATA["schools"])
# A child's usual height (cm) by grade, before each child's own variation.
GRADE_SIZES: dict[str, int] = _DATA["grade_sizes"]


def seed_demo_schools(
    session: Session, storage: Storage, *, image_size: int = IMAGE_SIZE, now: datetime | None = None
) -> str:
    """Add the demo schools that are missing; returns a one-line report."""
    slugs = [spec.slug for spec in SCHOOLS]
    existing = set(session.scalars(sa.select(School.slug).where(School.slug.in_(slugs))))
    missing = [spec for spec in SCHOOLS if spec.slug not in existing]
    if not missing:
        return "Demo schools: already there."
    wanted = {item.product for spec in SCHOOLS for item in spec.items}
    wanted -= {spec.school_product.slug for spec in SCHOOLS if spec.school_product}
    products = _products(session, wanted)
    if set(products) != wanted:
        return "Demo schools: skipped (load the demo catalogue first)."
    now = now or utcnow()
    seed_demo_accounts(session)  # the demo customer and school_admin, if not there yet
    customer = get_user_by_email(session, demo_email("customer"))
    assert customer is not None  # seeded just above
    order_count = 0
    for spec in missing:
        school = _add_school(session, spec, now)
        if spec.school_product is not None:
            products[spec.school_product.slug] = _school_product(
                session, spec.school_product, school, storage, image_size, now
            )
        _add_items(session, school, spec, products)
        admin_email, admin_name = spec.admin
        admin = add_demo_user(session, email=admin_email, name=admin_name, role="school_admin")
        session.add(SchoolMember(school=school, user=admin))
        session.flush()
        for order_spec in spec.orders:
            _add_order(session, school, order_spec, customer, now)
            order_count += 1
    session.flush()
    codes = ", ".join(repr(spec.access_code) for spec in SCHOOLS if spec.access_code)
    return (
        f"Demo schools: {len(SCHOOLS)} (added {len(missing)}, with {order_count} school "
        f"orders); {codes} opens the private one."
    )


def _products(session: Session, slugs: set[str]) -> dict[str, Product]:
    return {
        product.slug: product
        for product in session.scalars(
            sa.select(Product)
            .where(Product.slug.in_(slugs))
            .options(selectinload(Product.variants), selectinload(Product.price_tiers))
        )
    }


def _add_school(session: Session, spec: DemoSchool, now: datetime) -> School:
    school = School(**spec.columns)
    if spec.access_code is not None:
        school.access_code_hash = hash_password(normalise_code(spec.access_code))
    for days in spec.rounds_in_days:
        school.rounds.append(
            DeliveryRound(
                delivery_date=(now + timedelta(days=days)).date(),
                cutoff_at=now + timedelta(days=days - 3),
            )
        )
    school.refresh_search_text()
    session.add(school)
    session.flush()
    return school


def _add_items(
    session: Session, school: School, spec: DemoSchool, products: dict[str, Product]
) -> None:
    """The school's uniform list, each item priced in the school's currency."""
    for position, item in enumerate(spec.items):
        product = products[item.product]
        _ensure_tiers(product, school.currency)
        session.add(
            UniformItem(
                school=school,
                product=product,
                required=item.required,
                grades=list(item.grades),
                gender=item.gender,
                season=item.season,
                quantity_per_child=item.per_child,
                school_price_amount=item.school_price,
                position=position,
            )
        )


def _school_product(
    session: Session,
    spec: ProductSpec,
    school: School,
    storage: Storage,
    image_size: int,
    now: datetime,
) -> Product:
    """A school-only product (found by slug, else made like the demo catalogue's)."""
    product = session.scalars(sa.select(Product).where(Product.slug == spec.slug)).first()
    if product is None:
        category = session.scalars(sa.select(Category).where(Category.slug == spec.category))
        product = new_product(spec, category.one(), now)
        product.school_id = school.id
        session.add(product)
        add_variants(product, spec, set(session.scalars(sa.select(Variant.sku))))
        refresh_search_text(product)
        add_tiers(product, spec)
        add_images(product, spec, storage, image_size)
        session.flush()
    return product


def _ensure_tiers(product: Product, currency: str) -> None:
    """A school's items are priced in its currency: convert the yuan tiers if missing."""
    if any(tier.currency == currency for tier in product.price_tiers):
        return
    for tier in [tier for tier in product.price_tiers if tier.currency == "CNY"]:
        product.price_tiers.append(
            PriceTier(
                currency=currency,
                min_quantity=tier.min_quantity,
                unit_amount=convert_price(tier.unit_amount, currency),
            )
        )


def _add_order(
    session: Session, school: School, spec: SchoolOrder, customer: User, now: datetime
) -> Order:
    picks = [
        (student, item, student_variant(item.product, student))
        for student in spec.students
        for item in school.items
        if item.required and item.applies_to(student.grade, student.gender)
    ]
    totals: dict[int, int] = {}
    for _, item, _ in picks:
        totals[item.product_id] = totals.get(item.product_id, 0) + item.quantity_per_child
    lines = [
        demo_line(
            (variant, _unit_amount(item, school.currency, totals[item.product_id])),
            item.quantity_per_child,
            student_name=student.name,
            class_name=student.class_name,
        )
        for student, item, variant in picks
    ]
    delivery_round = _round(school, spec.round_days, now)
    parent = get_user_by_email(session, spec.email)
    order = build_demo_order(
        spec.spec,
        (picks[0][2], lines[0].unit_amount),
        customer,
        lines=lines,
        currency=school.currency,
        shipping_amount=0,
        user_id=parent.id if parent is not None else None,
        email=spec.email,
        recipient=spec.recipient or (parent.name if parent else ""),
        phone=spec.phone,
        delivery_method="school",
        country=school.country,
        region=school.delivery_region,
        city=school.delivery_city,
        line1=school.delivery_line1,
        line2=school.delivery_line2,
        postcode=school.delivery_postcode,
        school_id=school.id,
        delivery_round_id=delivery_round.id if delivery_round else None,
        po_number=spec.po_number,
    )
    session.add(order)
    session.flush()
    if spec.spec.payment == "awaiting_invoice":
        _add_invoice(session, school, order, spec.invoice_paid)
    return order


def student_variant(product: Product, student: Student) -> Variant:
    """The child's size (by grade, one size up or down for some), in the first colour."""
    usual = GRADE_SIZES.get(student.grade, 130) + random.Random(student.name).choice(
        (-10, 0, 0, 0, 10)
    )
    colour = product.variants[0].colour
    shades = [variant for variant in product.variants if variant.colour == colour]
    return min(shades, key=lambda variant: abs(_height(variant.size) - usual))


def _height(size: str) -> int:
    return int(size) if size.isdigit() else 0


def _unit_amount(item: UniformItem, currency: str, quantity: int) -> int:
    tiers = [tier for tier in item.product.price_tiers if tier.currency == currency]
    amount = unit_amount(tier_for(tiers, quantity), item.school_price_amount)
    if amount is None:
        raise ValueError(f"demo school item {item.product.slug}: no price in {currency}")
    return amount


def _round(school: School, days: int | None, now: datetime) -> DeliveryRound | None:
    """The round ``days`` from now, or the next one whose cut-off is still ahead."""
    if days is None:
        return next_round(school, now)
    wanted = (now + timedelta(days=days)).date()
    return next((r for r in school.rounds if r.delivery_date == wanted), None)


def _add_invoice(session: Session, school: School, order: Order, paid_percent: int) -> Invoice:
    """The invoice, dated when the order was placed (the order is built in its state
    already, so no transition and no stock to sell), and part of it paid if asked."""
    issued = order.created_at + timedelta(minutes=4)
    invoice = new_invoice(session, order, school, issued_at=issued)
    if paid_percent:
        record_payment(
            session,
            invoice,
            amount=order.total_amount * paid_percent // 100,
            reference=f"Bank transfer, {order.po_number} part 1",
            user=None,
            now=issued + timedelta(days=10),
        )
    return invoice
