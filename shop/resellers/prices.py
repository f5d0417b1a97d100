"""Reseller prices: a window on the 'price' money model sells its picks at its own price.

The reseller sets, per picked product and per currency the product sells in (the
currencies of its price tiers), what the first tier costs through the window: at least
the factory's first-tier price, at most the programme's cap above it
(``program.cap_amount``). Every other tier scales by the same ratio (``scale_amount``),
rounded to the currency's minor unit, so volume still pays. A buyer marked for the window
(``shop.resellers.marking``) sees and pays that price on the window, the product page,
the listing, the cart and checkout; the order's lines keep the factory's price beside it
(``OrderLine.factory_unit_amount``). A saved price is read through ``effective_amount``:
if the factory's price or the cap moved since, it stays inside them.

Writes take the window's row lock (``picks``), so two saves of one window run one after
the other; the form's one-time key makes one press one save.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.audit.service import record
from shop.catalog import pricing
from shop.catalog.models import PriceTier, Product, ProductSortPrice
from shop.db import utcnow
from shop.exceptions import ShopError
from shop.pagination import Page, count_rows, paginate
from shop.resellers import picks
from shop.resellers.models import Reseller, ResellerPick, ResellerPrice
from shop.resellers.program import cap_amount, program, window_terms

PRICE_MODEL = "price"


class NotPriceModel(ShopError):
    message = "This window earns a commission on the factory's prices; it sets no prices."


class UnknownCurrency(ShopError):
    message = "The product does not sell in that currency."


@dataclass(frozen=True)
class PriceProblem:
    """One currency's price outside its limits: ``kind`` is ``"below"`` (the limit is the
    factory's price) or ``"above"`` (the limit is the cap)."""

    currency: str
    kind: str
    limit: int


class PricesRefused(ShopError):
    message = "A price is below the factory's price or above the cap."

    def __init__(self, problems: list[PriceProblem]):
        super().__init__("; ".join(f"{p.currency} {p.kind} {p.limit}" for p in problems))
        self.problems = problems


# --- the arithmetic ----------------------------------------------------------------------


def scale_amount(factory_amount: int, factory_base: int, reseller_base: int) -> int:
    """``factory_amount`` × ``reseller_base`` / ``factory_base``, rounded half up to the
    minor unit (integers throughout: ¥, which has no minor unit, rounds to the yen)."""
    if factory_base <= 0:
        return factory_amount
    return (2 * factory_amount * reseller_base + factory_base) // (2 * factory_base)


def scale_tiers(
    factory_tiers: Iterable[pricing.TierLike], reseller_base: int
) -> list[pricing.Tier]:
    """The window's tiers: the factory's, each scaled as its first tier is to
    ``reseller_base``."""
    ordered = pricing.sorted_tiers(factory_tiers)
    if not ordered:
        return []
    base = ordered[0].unit_amount
    return [
        pricing.Tier(tier.min_quantity, scale_amount(tier.unit_amount, base, reseller_base))
        for tier in ordered
    ]


def scale_ranges(ranges: list[pricing.TierRange], reseller_base: int) -> list[pricing.TierRange]:
    """A product page's tier table (``pricing.tier_ranges``, first tier first) scaled."""
    if not ranges:
        return ranges
    base = ranges[0].unit_amount
    return [
        replace(each, unit_amount=scale_amount(each.unit_amount, base, reseller_base))
        for each in ranges
    ]


def price_problem(
    amount: int, currency: str, factory_amount: int, cap_bps: int
) -> PriceProblem | None:
    """Why ``amount`` cannot be the window's price where the factory asks
    ``factory_amount``, or ``None``."""
    if amount < factory_amount:
        return PriceProblem(currency, "below", factory_amount)
    cap = cap_amount(factory_amount, cap_bps)
    if amount > cap:
        return PriceProblem(currency, "above", cap)
    return None


def effective_amount(saved: int, factory_amount: int, cap_bps: int) -> int:
    """A saved price kept inside today's limits (the factory's price or the cap moved)."""
    return min(max(saved, factory_amount), cap_amount(factory_amount, cap_bps))


# --- what buyers see ---------------------------------------------------------------------


@dataclass(frozen=True)
class PricingWindow:
    """A window whose prices a visitor sees: the 'price' model, approved, mark current."""

    reseller_id: int
    cap_bps: int


def _window_rows(window: PricingWindow, currency: str):
    return (
        sa.select(Product.id, Product.slug, ResellerPrice.unit_amount, ProductSortPrice.amount)
        .select_from(ResellerPrice)
        .join(
            ResellerPick,
            (ResellerPick.reseller_id == ResellerPrice.reseller_id)
            & (ResellerPick.product_id == ResellerPrice.product_id),
        )
        .join(Product, Product.id == ResellerPrice.product_id)
        .join(
            ProductSortPrice,
            (ProductSortPrice.product_id == ResellerPrice.product_id)
            & (ProductSortPrice.currency == ResellerPrice.currency),
        )
        .where(ResellerPrice.reseller_id == window.reseller_id, ResellerPrice.currency == currency)
    )


def prices_by_id(
    session: Session, window: PricingWindow, product_ids: Iterable[int], currency: str
) -> dict[int, int]:
    """``{product_id: the window's first-tier price}`` for those of ``product_ids`` it
    picks and prices in ``currency``."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    rows = session.execute(_window_rows(window, currency).where(Product.id.in_(ids)))
    return {row[0]: effective_amount(row[2], row[3], window.cap_bps) for row in rows}


def prices_by_slug(
    session: Session, window: PricingWindow, slugs: Iterable[str], currency: str
) -> dict[str, int]:
    """As ``prices_by_id``, by product slug (what a product card knows)."""
    wanted = sorted(set(slugs))
    if not wanted:
        return {}
    rows = session.execute(_window_rows(window, currency).where(Product.slug.in_(wanted)))
    return {row[1]: effective_amount(row[2], row[3], window.cap_bps) for row in rows}


def reprice_cards(cards: list, prices: Mapping[str, int]) -> list:
    """Product cards (``catalog.listing.ProductCard``) with the window's prices where it
    has one: the first tier's price and the lowest tier's, scaled alike."""
    if not prices:
        return cards
    repriced = []
    for card in cards:
        amount = prices.get(card.slug)
        if amount is None or card.price_amount is None:
            repriced.append(card)
            continue
        lowest = card.lowest_amount
        if lowest is not None:
            lowest = scale_amount(lowest, card.price_amount, amount)
        repriced.append(card._replace(price_amount=amount, lowest_amount=lowest))
    return repriced


# --- the reseller's form -----------------------------------------------------------------


@dataclass(frozen=True)
class CurrencyPrice:
    currency: str
    factory_amount: int
    cap_amount: int
    reseller_amount: int | None  # None: sold at the factory's price


@dataclass(frozen=True)
class PricedPick:
    product_id: int
    slug: str
    name: str
    name_zh: str | None
    name_ja: str | None
    currencies: list[CurrencyPrice]


def factory_bases(session: Session, product_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """``{product_id: {currency: first-tier price}}`` from the products' tiers."""
    ids = sorted(set(product_ids))
    bases: dict[int, dict[str, int]] = {}
    if not ids:
        return bases
    rows = session.execute(
        sa.select(PriceTier.product_id, PriceTier.currency, PriceTier.unit_amount)
        .where(PriceTier.product_id.in_(ids))
        .order_by(PriceTier.product_id, PriceTier.currency, PriceTier.min_quantity)
    )
    for product_id, currency, amount in rows:
        bases.setdefault(product_id, {}).setdefault(currency, amount)
    return bases


def list_priced_picks(
    session: Session, reseller: Reseller, page: int, per_page: int = picks.WINDOW_PAGE_SIZE
) -> tuple[Page, list[PricedPick]]:
    """A page of the window's picks, each with the factory's price, the cap and the
    reseller's price in every currency the product sells in."""
    query = (
        sa.select(Product.id, Product.slug, Product.name, Product.name_zh, Product.name_ja)
        .join(ResellerPick, ResellerPick.product_id == Product.id)
        .where(ResellerPick.reseller_id == reseller.id)
    )
    shown = paginate(count_rows(session, query), page, per_page)
    rows = session.execute(
        query.order_by(ResellerPick.position, ResellerPick.id)
        .offset(shown.offset)
        .limit(shown.per_page)
    ).all()
    ids = [row.id for row in rows]
    bases = factory_bases(session, ids)
    saved = {
        (product_id, currency): amount
        for product_id, currency, amount in session.execute(
            sa.select(
                ResellerPrice.product_id, ResellerPrice.currency, ResellerPrice.unit_amount
            ).where(ResellerPrice.reseller_id == reseller.id, ResellerPrice.product_id.in_(ids))
        )
    }
    cap_bps = program(session).price_cap_bps
    return shown, [
        PricedPick(
            row.id,
            row.slug,
            row.name,
            row.name_zh,
            row.name_ja,
            [
                CurrencyPrice(
                    currency,
                    factory,
                    cap_amount(factory, cap_bps),
                    saved.get((row.id, currency)),
                )
                for currency, factory in sorted(bases.get(row.id, {}).items())
            ],
        )
        for row in rows
    ]


def uses_prices(session: Session, reseller: Reseller) -> bool:
    return window_terms(session, reseller.id).money_model == PRICE_MODEL


def set_prices(
    session: Session,
    reseller: Reseller,
    product_id: int,
    amounts: Mapping[str, int | None],
    *,
    actor_user_id: int,
) -> None:
    """The window's prices for one picked product: ``{currency: amount}``, ``None`` to
    sell at the factory's price. All or nothing: raises ``NotApproved``, ``PickGone``,
    ``NotPriceModel``, ``UnknownCurrency`` or ``PricesRefused`` (every currency out of
    its limits, each with its limit) before writing anything."""
    picks.lock_window(session, reseller)
    picked = session.scalar(
        sa.select(ResellerPick.id).where(
            ResellerPick.reseller_id == reseller.id, ResellerPick.product_id == product_id
        )
    )
    if picked is None:
        raise picks.PickGone()
    terms = window_terms(session, reseller.id)
    if terms.money_model != PRICE_MODEL:
        raise NotPriceModel()
    bases = factory_bases(session, [product_id]).get(product_id, {})
    if any(currency not in bases for currency in amounts):
        raise UnknownCurrency()
    problems = [
        problem
        for currency, amount in sorted(amounts.items())
        if amount is not None
        and (problem := price_problem(amount, currency, bases[currency], terms.price_cap_bps))
    ]
    if problems:
        raise PricesRefused(problems)
    mine = (ResellerPrice.reseller_id == reseller.id) & (ResellerPrice.product_id == product_id)
    before = {
        currency: amount
        for currency, amount in session.execute(
            sa.select(ResellerPrice.currency, ResellerPrice.unit_amount).where(mine)
        )
    }
    session.execute(
        sa.delete(ResellerPrice)
        .where(mine, ResellerPrice.currency.in_(list(amounts)))
        .execution_options(synchronize_session=False)
    )
    now = utcnow()
    session.add_all(
        ResellerPrice(
            reseller_id=reseller.id,
            product_id=product_id,
            currency=currency,
            unit_amount=amount,
            updated_at=now,
        )
        for currency, amount in sorted(amounts.items())
        if amount is not None
    )
    after = {**before, **amounts}
    record(
        session,
        actor_user_id=actor_user_id,
        action="reseller.prices",
        target_type="reseller",
        target_id=reseller.id,
        before={"product_id": product_id, "prices": before},
        after={
            "product_id": product_id,
            "prices": {k: v for k, v in after.items() if v is not None},
        },
    )
    session.flush()
