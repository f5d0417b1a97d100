"""Demo schools: one in China, one in Japan, one in Singapore (private, with a code), their
uniform lists, delivery rounds, school admins, and school orders (parents' kits, a class
roster on invoice, an overdue invoice), so a new user can walk the schools as a parent,
a bursar and factory staff.

Built directly like the demo orders (``shop.orders.demo``): no Stripe calls, no stock
moves. Idempotent: a school is found by slug; one that exists is left alone with its list,
rounds and orders, one that is missing is added with all of them. Needs the demo
catalogue; without it nothing is added. Flushes, the caller commits.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import generate_password_hash

from shop.accounts.demo import DEMO_PASSWORD, demo_email, seed_demo_accounts
from shop.accounts.models import User
from shop.accounts.passwords import hash_password
from shop.accounts.service import get_user_by_email
from shop.catalog.models import Category, PriceTier, Product, Variant
from shop.catalog.pricing import tier_for, unit_amount
from shop.catalog.search import refresh_search_text
from shop.catalog.seed import (
    IMAGE_SIZE,
    KIDS,
    ProductSpec,
    _add_images,
    _add_tiers,
    _add_variants,
    _new_product,
    convert_price,
)
from shop.db import utcnow
from shop.orders.demo import DemoOrder, build_demo_order, demo_line
from shop.orders.models import Order
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

ACCESS_CODE = "MARINA2026"  # the private demo school's code, printed in the README


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
    """A demo order for the school: parents' kits, or a roster paid on invoice."""

    spec: DemoOrder
    students: tuple[Student, ...]
    email: str  # the parent's or the school admin's
    recipient: str
    phone: str
    po_number: str = ""
    invoice_paid: int = 0  # percent of the invoice already paid
    round_days: int | None = None  # the round it goes on: days from now (None: the next)


@dataclass(frozen=True)
class DemoSchool:
    slug: str
    names: tuple[str, str, str]  # English, Chinese, Japanese
    cities: tuple[str, str, str]
    country: str
    currency: str
    grades: tuple[str, ...]
    address: dict
    contact: tuple[str, str, str]  # name, email, phone
    admin: tuple[str, str]  # email, name
    items: tuple[Item, ...]
    rounds_in_days: tuple[int, ...]
    verified: bool = False
    terms_days: int = 0
    credit_limit: int = 0
    access_code: str | None = None
    school_product: ProductSpec | None = None
    orders: tuple[SchoolOrder, ...] = field(default=())


def _class(names: str, class_name: str, grade: str) -> tuple[Student, ...]:
    """Students from ``"Name/g, Name/b, ..."`` (g: girl, b: boy)."""
    students = []
    for entry in names.split(","):
        name, gender = entry.strip().rsplit("/", 1)
        students.append(Student(name, class_name, grade, "girls" if gender == "g" else "boys"))
    return tuple(students)


XIXI_POLO = ProductSpec(
    "xixi-primary-logo-polo",
    "XIXI-POLO",
    "polos-shirts",
    "polo",
    KIDS[:6],
    ("white",),
    ((1, 59), (30, 55), (100, 52)),
    "Xixi Primary logo polo",
    "西溪小学校徽Polo衫",
    "西渓小学校ロゴ入りポロシャツ",
    "Hangzhou Xixi Primary School's summer polo: our 200 g/m² cotton-rich piqué with the "
    "school's badge embroidered on the chest. Made to order for the school; sold only in "
    "the school's shop.\n\nMachine wash at 40 °C.",
    "杭州西溪小学夏季校服Polo衫：200克高棉珠地面料，胸前刺绣校徽。按学校订单生产，仅在学校"
    "专区销售。\n\n可40°C机洗。",
    "杭州西渓小学校の夏用ポロシャツ。200g/m²の鹿の子素材に校章刺繍入り。学校専用の受注生産品です。",
    chart="kids_top",
    lead_time=14,
)

CLASS_3A = _class(
    "Li Ming/b, Zhang Yutong/g, Wang Hao/b, Liu Xinyi/g, Chen Zihan/g, Yang Jiahao/b, "
    "Zhao Yichen/b, Huang Sihan/g, Zhou Junjie/b, Wu Yuxuan/g",
    "3A",
    "3",
)
CLASS_3B = _class(
    "Xu Haoran/b, Sun Mengqi/g, Ma Tianyi/b, Zhu Ruoxi/g, Hu Zimo/b, Guo Keke/g, "
    "He Yifan/b, Lin Shiyu/g, Gao Boyu/b, Luo Anqi/g",
    "3B",
    "3",
)
MARINA_4A = _class(
    "Ethan Tan/b, Chloe Lim/g, Aarav Nair/b, Sophia Wong/g, Lucas Goh/b, Mei Ling Chua/g, "
    "Ryan Lee/b, Nur Aisyah/g",
    "4A",
    "P4",
)

CN_PARENT = {"recipient": "李娟", "phone": "+86 138 0571 2233"}

SCHOOLS = (
    DemoSchool(
        slug="hangzhou-xixi-primary",
        names=("Hangzhou Xixi Primary School", "杭州西溪小学", "杭州西渓小学"),
        cities=("Hangzhou", "杭州", "杭州"),
        country="CN",
        currency="CNY",
        grades=("1", "2", "3", "4", "5", "6"),
        address={
            "delivery_recipient": "陈静（总务处）",
            "delivery_phone": "+86 571 8888 1234",
            "delivery_region": "浙江省",
            "delivery_city": "杭州市",
            "delivery_line1": "西湖区文二西路 199 号",
            "delivery_postcode": "310012",
        },
        contact=("Chen Jing", "bursar@demo.sourcefront.test", "+86 571 8888 1234"),
        admin=("bursar@demo.sourcefront.test", "Chen Jing (bursar)"),
        items=(
            Item("xixi-primary-logo-polo", "summer", per_child=2),
            Item("summer-school-shorts", "summer", gender="boys", per_child=2),
            Item("a-line-school-skirt", "summer", gender="girls", per_child=2),
            Item("school-tracksuit-set", "pe", school_price=13900),
            Item("quick-dry-pe-t-shirt", "pe", required=False, grades=("4", "5", "6")),
            Item("padded-winter-school-coat", "winter", school_price=23900),
            Item("fleece-lined-winter-trousers", "winter", required=False),
            Item("pull-on-trousers-junior", "winter", required=False, grades=("1", "2")),
        ),
        rounds_in_days=(9, 23, 37),
        verified=True,
        terms_days=30,
        credit_limit=5_000_000,
        school_product=XIXI_POLO,
        orders=(
            SchoolOrder(
                DemoOrder(2, "paid", "unfulfilled"),
                (
                    Student("Li Ming", "3A", "3", "boys"),
                    Student("Li Na", "1B", "1", "girls"),
                ),
                demo_email("customer"),
                "",  # the demo customer's own name
                "+86 138 0571 2233",
            ),
            SchoolOrder(
                DemoOrder(5, "paid", "in_production"),
                (Student("Wang Xiaoyu", "5C", "5", "girls"),),
                "wang.parent@demo.sourcefront.test",
                "王丽",
                "+86 139 5710 6677",
            ),
            SchoolOrder(
                DemoOrder(1, "paid", "unfulfilled"),
                (Student("Zhang Hao", "2A", "2", "boys"),),
                "zhang.parent@demo.sourcefront.test",
                "张伟",
                "+86 137 5710 4455",
            ),
            SchoolOrder(
                DemoOrder(3, "awaiting_invoice", "unfulfilled"),
                CLASS_3A + CLASS_3B,
                "bursar@demo.sourcefront.test",
                "陈静（总务处）",
                "+86 571 8888 1234",
                po_number="XX-PO-2026-0117",
            ),
        ),
    ),
    DemoSchool(
        slug="sakura-junior-high",
        names=("Sakura Junior High School", "樱花初级中学", "桜中学校"),
        cities=("Yokohama", "横滨", "横浜"),
        country="JP",
        currency="JPY",
        grades=("中1", "中2", "中3"),
        address={
            "delivery_recipient": "事務室 佐藤",
            "delivery_phone": "+81 45 123 4567",
            "delivery_region": "神奈川県",
            "delivery_city": "横浜市西区",
            "delivery_line1": "みなとみらい 3-5-1",
            "delivery_postcode": "220-0012",
        },
        contact=("Sato Yumi", "school_admin@demo.sourcefront.test", "+81 45 123 4567"),
        admin=("school_admin@demo.sourcefront.test", "Sato Yumi (office)"),
        items=(
            Item("school-blazer", "winter", school_price=4500),
            Item("school-shirt-long-sleeve", "winter", per_child=2),
            Item("school-shirt-short-sleeve", "summer", per_child=2),
            Item("school-trousers-regular-fit", "winter", gender="boys"),
            Item("pleated-tartan-skirt", "winter", gender="girls"),
            Item("pe-kit-t-shirt-and-shorts", "pe"),
            Item("tracksuit-jacket", "pe", required=False),
            Item("knitted-sweater-vest", "winter", required=False, grades=("中2", "中3")),
        ),
        rounds_in_days=(12, 33),
        orders=(
            SchoolOrder(
                DemoOrder(4, "paid", "unfulfilled"),
                (Student("Sato Haruto", "1-A", "中1", "boys"),),
                "sato.parent@demo.sourcefront.test",
                "佐藤 美香",
                "+81 90 1234 5678",
            ),
        ),
    ),
    DemoSchool(
        slug="marina-bay-international",
        names=("Marina Bay International School", "滨海湾国际学校", "マリーナベイ国際学校"),
        cities=("Singapore", "新加坡", "シンガポール"),
        country="SG",
        currency="SGD",
        grades=("P1", "P2", "P3", "P4", "P5", "P6"),
        address={
            "delivery_recipient": "School office (Ms Tan)",
            "delivery_phone": "+65 6123 4567",
            "delivery_region": "",
            "delivery_city": "Singapore",
            "delivery_line1": "21 Marina Gardens Drive",
            "delivery_postcode": "018953",
        },
        contact=("Rachel Tan", "bursar.marina@demo.sourcefront.test", "+65 6123 4567"),
        admin=("bursar.marina@demo.sourcefront.test", "Rachel Tan (bursar)"),
        items=(
            Item("school-polo-short-sleeve", "summer", per_child=3, school_price=850),
            Item("summer-school-shorts", "summer", gender="boys", per_child=2),
            Item("pleated-tartan-skirt", "summer", gender="girls", per_child=2),
            Item("quick-dry-pe-t-shirt", "pe", per_child=2),
            Item("pe-shorts", "pe"),
            Item("tracksuit-jacket", "pe", required=False, grades=("P4", "P5", "P6")),
        ),
        rounds_in_days=(-35, 11, 25),
        verified=True,
        terms_days=14,
        credit_limit=2_000_000,
        access_code=ACCESS_CODE,
        orders=(
            SchoolOrder(
                DemoOrder(48, "awaiting_invoice", "delivered"),
                MARINA_4A,
                "bursar.marina@demo.sourcefront.test",
                "School office (Ms Tan)",
                "+65 6123 4567",
                po_number="MBIS-PO-0912",
                invoice_paid=40,
                round_days=-35,
            ),
            SchoolOrder(
                DemoOrder(1, "paid", "unfulfilled"),
                (Student("Olivia Ng", "2B", "P2", "girls"),),
                "ng.parent@demo.sourcefront.test",
                "Grace Ng",
                "+65 9123 4567",
            ),
        ),
    ),
)

# A child's usual size by grade (height in cm), before each child's own variation.
GRADE_SIZES = {"1": 120, "2": 120, "3": 130, "4": 140, "5": 140, "6": 150}
GRADE_SIZES |= {"P" + grade: size for grade, size in GRADE_SIZES.items()}
GRADE_SIZES |= {"中1": 160, "中2": 160, "中3": 170}


def seed_demo_schools(
    session: Session, storage: Storage, *, image_size: int = IMAGE_SIZE, now=None
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
    order_count = 0
    for spec in missing:
        school = _add_school(session, spec, now)
        if spec.school_product is not None:
            products[spec.school_product.slug] = _school_product(
                session, spec.school_product, school, storage, image_size, now
            )
        for position, item in enumerate(spec.items):
            product = products[item.product]
            _ensure_tiers(product, spec.currency)
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
        admin = _school_admin(session, *spec.admin)
        session.add(SchoolMember(school=school, user=admin))
        session.flush()
        for order_spec in spec.orders:
            _add_order(session, school, order_spec, customer, now)
            order_count += 1
    session.flush()
    return (
        f"Demo schools: {len(SCHOOLS)} (added {len(missing)}, with {order_count} school "
        f"orders); {ACCESS_CODE!r} opens the private one."
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
    school = School(
        slug=spec.slug,
        name=spec.names[0],
        name_zh=spec.names[1],
        name_ja=spec.names[2],
        city=spec.cities[0],
        city_zh=spec.cities[1],
        city_ja=spec.cities[2],
        country=spec.country,
        currency=spec.currency,
        grades=list(spec.grades),
        contact_name=spec.contact[0],
        contact_email=spec.contact[1],
        contact_phone=spec.contact[2],
        verified=spec.verified,
        invoice_terms_days=spec.terms_days,
        credit_limit_amount=spec.credit_limit,
        **spec.address,
    )
    if spec.access_code is not None:
        school.access_code_hash = generate_password_hash(spec.access_code, method="scrypt")
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
        product = _new_product(spec, category.one(), now)
        product.school_id = school.id
        session.add(product)
        _add_variants(product, spec, set(session.scalars(sa.select(Variant.sku))))
        refresh_search_text(product)
        _add_tiers(product, spec)
        _add_images(product, spec, storage, image_size)
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


def _school_admin(session: Session, email: str, name: str) -> User:
    user = get_user_by_email(session, email)
    if user is None:
        user = User(
            email=email,
            name=name,
            role="school_admin",
            password_hash=hash_password(DEMO_PASSWORD),
            email_confirmed_at=utcnow(),
        )
        session.add(user)
        session.flush()
    return user


def _add_order(session, school, spec: SchoolOrder, customer, now) -> Order:
    picks = [
        (student, item, _variant(item.product, student))
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


def _variant(product: Product, student: Student) -> Variant:
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
    return unit_amount(tier_for(tiers, quantity), item.school_price_amount)


def _round(school: School, days: int | None, now: datetime) -> DeliveryRound | None:
    """The round ``days`` from now, or the next one whose cut-off is still ahead."""
    if days is None:
        return next_round(school, now)
    wanted = (now + timedelta(days=days)).date()
    return next((r for r in school.rounds if r.delivery_date == wanted), None)


def _add_invoice(session, school: School, order: Order, paid_percent: int) -> Invoice:
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
