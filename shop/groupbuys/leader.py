"""Opening a campaign, as its leader does it, and what the leader sees of it afterwards.

Plain functions over the session (no ``flask``): ``check_draft`` holds the rules a
campaign must meet (a closing time in the future and within ``rules.LONGEST_CAMPAIGN``, a
maximum not below the minimum, a pick-up point that says where and when, a ladder of its
own that starts at one piece and never gets dearer); ``create_campaign`` checks them again
with the database (products the leader may choose, each with tiers in the campaign's
currency), then writes the campaign under a short, unguessable code, retried on the rare
collision. The caller claims the form's one-time key in the same transaction, so the same
form sent twice opens one campaign.

The leader sees participants' first names, bag numbers and pieces, never their emails,
phones, addresses or cards: ``leader_participants`` returns only those.
"""

import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from shop.accounts.permissions import has_permission
from shop.catalog.models import PriceTier, Product, Variant
from shop.db import as_utc, utcnow
from shop.exceptions import ShopError
from shop.groupbuys import rules
from shop.groupbuys.models import (
    DELIVERIES,
    Campaign,
    CampaignProduct,
    CampaignTier,
    Participant,
    ParticipantLine,
)
from shop.groupbuys.program import read_program
from shop.groupbuys.service import ladders
from shop.inputs import MAX_ID
from shop.locales import localized
from shop.money import MAX_AMOUNT, SUPPORTED_CURRENCIES, exponent
from shop.resellers.models import Reseller
from shop.schools.models import School, SchoolMember, UniformItem

# Codes: no 0/O or 1/I, so a code read aloud or typed from paper is the code.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8  # 32**8 ≈ 10**12: not guessable, short enough to say
CODE_TRIES = 5
TITLE_MAX, NOTE_MAX = 120, 500
PICKUP_NAME_MAX, PICKUP_ADDRESS_MAX, PICKUP_HOURS_MAX = 120, 300, 200
MAX_PRODUCTS = 20
MAX_PIECES = 100_000
MAX_STEPS = 10
LADDER_MAX = 4000  # characters of the ladder as typed
CHOICES_SHOWN = 200
# A leader's participants as the leader may see them; the rest are gone or never joined.
SHOWN_STATES = ("held", "charged", "captured", "payment_due")
# Those whose goods are packed at the close.
PACKED_STATES = ("held", "charged", "captured", "payment_due")


class CampaignRefused(ShopError):
    """The draft breaks rules; ``problems`` maps a form field to why (a code the form
    words), ``details`` holds what the words name (product names, a ladder's line)."""

    def __init__(self, problems: Mapping[str, str], details: Mapping[str, str] | None = None):
        super().__init__("the campaign breaks rules: " + ", ".join(sorted(problems)))
        self.problems = dict(problems)
        self.details = dict(details or {})


@dataclass(frozen=True)
class LadderStep:
    product_slug: str
    min_quantity: int
    unit_amount: int


@dataclass(frozen=True)
class Draft:
    """A campaign as the form gave it (already trimmed and typed)."""

    title: str
    currency: str
    closes_at: datetime  # aware, any zone
    min_pieces: int
    product_ids: tuple[int, ...]
    note: str = ""
    max_pieces: int | None = None
    delivery: str = "pickup"
    pickup_name: str = ""
    pickup_address: str = ""
    pickup_hours: str = ""
    ladder: tuple[LadderStep, ...] = ()
    locale: str = "en"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


# --- the rules ---------------------------------------------------------------------------


def check_draft(draft: Draft, now: datetime) -> dict[str, str]:
    """What is wrong with ``draft`` without asking the database: ``{field: code}``."""
    problems: dict[str, str] = {}
    if not draft.title.strip() or len(draft.title) > TITLE_MAX:
        problems["title"] = "title"
    if len(draft.note) > NOTE_MAX:
        problems["note"] = "too_long"
    if draft.currency not in SUPPORTED_CURRENCIES:
        problems["currency"] = "currency"
    closes_at = as_utc(draft.closes_at)
    if closes_at <= now:
        problems["closes_at"] = "closes_past"
    elif closes_at - now > rules.LONGEST_CAMPAIGN:
        problems["closes_at"] = "closes_too_late"
    problems.update(_check_pieces(draft.min_pieces, draft.max_pieces))
    if not draft.product_ids:
        problems["products"] = "no_products"
    elif len(set(draft.product_ids)) > MAX_PRODUCTS:
        problems["products"] = "too_many_products"
    problems.update(_check_delivery(draft))
    return problems


def _check_pieces(min_pieces: int, max_pieces: int | None) -> dict[str, str]:
    problems = {}
    if not 1 <= min_pieces <= MAX_PIECES:
        problems["min_pieces"] = "pieces"
    if max_pieces is not None:
        if not 1 <= max_pieces <= MAX_PIECES:
            problems["max_pieces"] = "pieces"
        elif max_pieces < min_pieces:
            problems["max_pieces"] = "max_below_min"
    return problems


def _check_delivery(draft: Draft) -> dict[str, str]:
    """A pick-up point needs a name, an address and opening hours."""
    if draft.delivery not in DELIVERIES:
        return {"delivery": "delivery"}
    problems = {}
    if draft.delivery == "pickup":
        for name, limit in (
            ("pickup_name", PICKUP_NAME_MAX),
            ("pickup_address", PICKUP_ADDRESS_MAX),
            ("pickup_hours", PICKUP_HOURS_MAX),
        ):
            value = getattr(draft, name)
            if not value.strip():
                problems[name] = "pickup_missing"
            elif len(value) > limit:
                problems[name] = "too_long"
    return problems


def check_ladder(steps: Iterable[LadderStep], slugs: Iterable[str]) -> str | None:
    """A campaign's own ladder, if it has one: steps for every chosen product (and only
    those), each product's starting at one piece, never dearer as pieces grow, at most
    ``MAX_STEPS`` steps each. The problem's code, or ``None``."""
    by_product: dict[str, dict[int, int]] = defaultdict(dict)
    for step in steps:
        if step.min_quantity in by_product[step.product_slug]:
            return "ladder_repeated"
        by_product[step.product_slug][step.min_quantity] = step.unit_amount
    if not by_product:
        return None
    if set(by_product) != set(slugs):
        return "ladder_products"
    for ladder in by_product.values():
        if len(ladder) > MAX_STEPS:
            return "ladder_steps"
        quantities = sorted(ladder)
        if quantities[0] != 1:
            return "ladder_start"
        units = [ladder[quantity] for quantity in quantities]
        if any(later > earlier for earlier, later in zip(units, units[1:], strict=False)):
            return "ladder_dearer"
    return None


LADDER_LINE = re.compile(r"^\s*(\S+)\s+(\d{1,6})\s+(\S{1,16})\s*$")


def parse_ladder(text: str, currency: str) -> tuple[LadderStep, ...]:
    """The ladder as the leader types it, one step a line: ``<product code> <pieces>
    <unit price>`` (``polo-navy 50 39.00``). ``ValueError`` naming the line otherwise."""
    if len(text) > LADDER_MAX:
        raise ValueError("too long")
    steps = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        found = LADDER_LINE.match(line)
        if found is None:
            raise ValueError(str(number))
        slug, quantity, price = found.groups()
        try:
            value = Decimal(price)
        except InvalidOperation:
            raise ValueError(str(number)) from None
        if not value.is_finite() or value <= 0 or value.adjusted() > 9:
            raise ValueError(str(number))
        scaled = value.scaleb(exponent(currency)) if currency in SUPPORTED_CURRENCIES else value
        if scaled != scaled.to_integral_value() or not 0 < scaled <= MAX_AMOUNT:
            raise ValueError(str(number))
        if not 1 <= int(quantity) <= MAX_PIECES:
            raise ValueError(str(number))
        steps.append(LadderStep(slug.lower(), int(quantity), int(scaled)))
    return tuple(steps)


# --- which products a leader may choose --------------------------------------------------


@dataclass(frozen=True)
class ProductChoice:
    id: int
    slug: str
    name: str
    currencies: tuple[str, ...]  # the currencies it has tiers in
    school: str = ""  # the leader's school whose uniform list has it ("": the catalogue)


def _leader_schools(session: Session, user) -> dict[int, School]:
    rows = session.scalars(
        sa.select(School)
        .join(SchoolMember, SchoolMember.school_id == School.id)
        .where(SchoolMember.user_id == user.id, School.active.is_(True))
        .order_by(School.name, School.id)
    )
    return {school.id: school for school in rows}


def _school_products(session: Session, school_ids: Iterable[int]) -> dict[int, int]:
    """Product id → the first of the schools whose uniform list has it."""
    ids = list(school_ids)
    if not ids:
        return {}
    rows = session.execute(
        sa.select(UniformItem.product_id, UniformItem.school_id)
        .where(UniformItem.school_id.in_(ids))
        .order_by(UniformItem.school_id, UniformItem.position, UniformItem.id)
    )
    found: dict[int, int] = {}
    for product_id, school_id in rows:
        found.setdefault(product_id, school_id)
    return found


def _with_tiers() -> sa.ColumnElement[bool]:
    return sa.exists().where(PriceTier.product_id == Product.id)


def _currencies(session: Session, product_ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    ids = list(product_ids)
    found: dict[int, set[str]] = defaultdict(set)
    if ids:
        rows = session.execute(
            sa.select(PriceTier.product_id, PriceTier.currency)
            .where(PriceTier.product_id.in_(ids))
            .distinct()
        )
        for product_id, currency in rows:
            found[product_id].add(currency)
    return {product_id: tuple(sorted(found[product_id])) for product_id in ids}


def list_choices(session: Session, user, locale: str, query: str = "") -> list[ProductChoice]:
    """What ``user`` may put in a campaign: their schools' uniform-list products first (a
    school admin's), then active catalogue products with tiers (not another school's own
    products), by name; at most ``CHOICES_SHOWN`` of the catalogue, narrowed by ``query``."""
    schools = _leader_schools(session, user)
    on_lists = _school_products(session, schools)
    school_rows = []
    if on_lists:
        school_rows = list(
            session.scalars(
                sa.select(Product)
                .where(Product.id.in_(on_lists), Product.active.is_(True), _with_tiers())
                .order_by(Product.name, Product.id)
            )
        )
    catalogue = sa.select(Product).where(
        Product.active.is_(True), Product.school_id.is_(None), _with_tiers()
    )
    words = query.strip()[:100]
    if words:
        like = f"%{words.replace('%', '').replace('_', '')}%"
        catalogue = catalogue.where(sa.or_(Product.name.ilike(like), Product.slug.ilike(like)))
    catalogue_rows = [
        product
        for product in session.scalars(
            catalogue.order_by(Product.name, Product.id).limit(CHOICES_SHOWN + len(on_lists))
        )
        if product.id not in on_lists
    ][:CHOICES_SHOWN]
    currencies = _currencies(session, [p.id for p in school_rows + catalogue_rows])
    choices = [
        ProductChoice(
            p.id,
            p.slug,
            localized(p, "name", locale),
            currencies[p.id],
            localized(schools[on_lists[p.id]], "name", locale),
        )
        for p in school_rows
    ]
    choices += [
        ProductChoice(p.id, p.slug, localized(p, "name", locale), currencies[p.id])
        for p in catalogue_rows
    ]
    return choices


def _allowed(
    session: Session, user, product_ids: Iterable[int]
) -> tuple[dict[int, Product], int | None]:
    """The chosen products ``user`` may sell in a campaign, and the school whose list
    they came from (``None``: catalogue products only)."""
    ids = sorted({i for i in product_ids if 1 <= i <= MAX_ID})  # others: no such product
    on_lists = _school_products(session, _leader_schools(session, user))
    products = {
        product.id: product
        for product in session.scalars(
            sa.select(Product).where(
                Product.id.in_(ids),
                Product.active.is_(True),
                sa.or_(Product.school_id.is_(None), Product.id.in_(list(on_lists) or [0])),
            )
        )
    }
    school_id = next((on_lists[i] for i in ids if i in on_lists), None)
    return products, school_id


# --- opening a campaign ------------------------------------------------------------------


def _approved_window(session: Session, user_id: int) -> int | None:
    return session.scalar(
        sa.select(Reseller.id).where(Reseller.user_id == user_id, Reseller.status == "approved")
    )


def create_campaign(
    session: Session, leader, draft: Draft, *, now: datetime | None = None
) -> Campaign:
    """Open ``draft`` as ``leader``'s campaign (``pending_approval`` when the programme
    wants staff to approve campaigns first). Raises ``CampaignRefused``."""
    now = now or utcnow()
    problems = check_draft(draft, now)
    details: dict[str, str] = {}
    products, school_id = _allowed(session, leader, draft.product_ids)
    if "products" not in problems and "currency" not in problems:
        if set(products) != set(draft.product_ids):
            problems["products"] = "product_unavailable"
        else:
            currencies = _currencies(session, products)
            without = [p for p in products.values() if draft.currency not in currencies[p.id]]
            if without:
                problems["products"] = "no_tiers"
                details["products"] = ", ".join(p.name for p in without)
    slugs = {product.slug: product.id for product in products.values()}
    if draft.ladder and "products" not in problems:
        ladder_problem = check_ladder(draft.ladder, slugs)
        if ladder_problem:
            problems["ladder"] = ladder_problem
    if problems:
        raise CampaignRefused(problems, details)
    terms = read_program(session)
    closes_at = as_utc(draft.closes_at).astimezone(UTC)  # SQLite keeps the clock, not the zone
    campaign = Campaign(
        leader_id=leader.id,
        title=draft.title.strip(),
        note=draft.note.strip(),
        currency=draft.currency,
        locale=draft.locale,
        school_id=school_id,
        state="pending_approval" if terms.require_approval else "open",
        payment_mode=rules.payment_mode(now, closes_at),
        opens_at=now,
        closes_at=closes_at,
        min_pieces=draft.min_pieces,
        max_pieces=draft.max_pieces,
        delivery=draft.delivery,
        own_ladder=bool(draft.ladder),
        leader_reward=terms.leader_reward,
        reseller_id=_approved_window(session, leader.id),
        created_at=now,
    )
    if draft.delivery == "pickup":
        campaign.pickup_name = draft.pickup_name.strip()
        campaign.pickup_address = draft.pickup_address.strip()
        campaign.pickup_hours = draft.pickup_hours.strip()
    for position, product_id in enumerate(dict.fromkeys(draft.product_ids)):
        campaign.products.append(CampaignProduct(product_id=product_id, position=position))
    for step in draft.ladder:
        campaign.tiers.append(
            CampaignTier(
                product_id=slugs[step.product_slug],
                min_quantity=step.min_quantity,
                unit_amount=step.unit_amount,
            )
        )
    return _insert_with_code(session, campaign)


def _insert_with_code(session: Session, campaign: Campaign) -> Campaign:
    """Write ``campaign`` under a new code; another one on a collision (a savepoint, so
    the rest of the transaction stays)."""
    for _ in range(CODE_TRIES):
        campaign.code = new_code()
        try:
            with session.begin_nested():
                session.add(campaign)
                session.flush()
        except IntegrityError:
            taken = session.scalar(sa.select(Campaign.id).where(Campaign.code == campaign.code))
            if taken is None:
                raise
            continue
        return campaign
    raise RuntimeError("no free campaign code")


# --- the leader's pages ------------------------------------------------------------------


def list_led(session: Session, leader_id: int) -> list[Campaign]:
    """The leader's campaigns, newest first."""
    return list(
        session.scalars(
            sa.select(Campaign)
            .where(Campaign.leader_id == leader_id)
            .order_by(Campaign.created_at.desc(), Campaign.id.desc())
        )
    )


def may_lead_page(user, campaign: Campaign) -> bool:
    """The leader's page: its leader, and staff who manage campaigns."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return campaign.leader_id == user.id or has_permission(user, "campaigns.manage")


def may_see_packing(user, campaign: Campaign) -> bool:
    """The packing list: the leader's page's readers, and the staff who pack."""
    return may_lead_page(user, campaign) or has_permission(user, "shipping.manage")


@dataclass(frozen=True)
class ProductProgress:
    product_id: int
    name: str
    pieces: int
    unit_amount: int | None  # the price reached at ``pieces``
    final_unit_amount: int | None
    next_pieces: int | None  # how many more reach the next tier
    next_unit_amount: int | None


def progress(session: Session, campaign: Campaign, locale: str) -> list[ProductProgress]:
    """Each product's pieces and the price reached (the approved ladder, else its tiers)."""
    tiers = ladders(session, campaign)
    names = _names(session, [item.product_id for item in campaign.products], locale)
    found = []
    for item in campaign.products:
        ladder = tiers.get(item.product_id, [])
        step = rules.next_step(ladder, item.pieces)
        found.append(
            ProductProgress(
                product_id=item.product_id,
                name=names.get(item.product_id, ""),
                pieces=item.pieces,
                unit_amount=rules.unit_at(ladder, item.pieces),
                final_unit_amount=item.final_unit_amount,
                next_pieces=step.pieces_needed if step is not None else None,
                next_unit_amount=step.tier.unit_amount if step is not None else None,
            )
        )
    return found


def _names(session: Session, product_ids: list[int], locale: str) -> dict[int, str]:
    if not product_ids:
        return {}
    rows = session.execute(
        sa.select(Product.id, Product.name, Product.name_zh, Product.name_ja).where(
            Product.id.in_(product_ids)
        )
    )
    return {row.id: localized(row, "name", locale) for row in rows}


@dataclass(frozen=True)
class PackedLine:
    product: str
    size: str
    colour: str
    quantity: int


@dataclass(frozen=True)
class LeaderParticipant:
    """What the leader sees of one participant: never an email, phone, address or card."""

    bag_number: int
    first_name: str
    state: str
    pieces: int
    lines: list[PackedLine] = field(default_factory=list)


def leader_participants(
    session: Session, campaign: Campaign, locale: str, states: tuple[str, ...] = SHOWN_STATES
) -> list[LeaderParticipant]:
    """The campaign's participants in ``states`` by bag number, with their pieces per
    size and colour, in a fixed number of queries."""
    rows = session.scalars(
        sa.select(Participant)
        .where(Participant.campaign_id == campaign.id, Participant.state.in_(states))
        .order_by(Participant.bag_number, Participant.id)
        .options(selectinload(Participant.lines))
    ).all()
    variant_ids = {line.variant_id for row in rows for line in row.lines}
    variants = {}
    if variant_ids:
        variants = {
            v.id: v
            for v in session.execute(
                sa.select(Variant.id, Variant.product_id, Variant.size, Variant.colour).where(
                    Variant.id.in_(variant_ids)
                )
            )
        }
    names = _names(session, sorted({v.product_id for v in variants.values()}), locale)
    return [
        LeaderParticipant(
            bag_number=row.bag_number,
            first_name=row.first_name,
            state=row.state,
            pieces=row.pieces,
            lines=[_packed(line, variants, names) for line in row.lines],
        )
        for row in rows
    ]


def _packed(line: ParticipantLine, variants: Mapping, names: Mapping[int, str]) -> PackedLine:
    variant = variants.get(line.variant_id)
    if variant is None:
        return PackedLine(names.get(line.product_id, ""), "", "", line.quantity)
    return PackedLine(
        names.get(variant.product_id, ""), variant.size, variant.colour, line.quantity
    )
