"""The price and name sorts walk their indexes, and give the order the listing always
gave: base price (the lowest-quantity tier) then id, products without a price in the
currency last by id; the localized name then id. Pages joined end to end equal the
order computed from every product at once."""

import sqlalchemy as sa

from shop.catalog.listing import ListingQuery, list_products
from shop.catalog.models import PriceTier, Product, ProductSortPrice
from tests.factories import make_category, make_product


def every_page(session, *, sort, currency="CNY", locale="en", category=None, per_page=4):
    return [
        card.slug
        for card in every_card(
            session,
            sort=sort,
            currency=currency,
            locale=locale,
            category=category,
            per_page=per_page,
        )
    ]


def every_card(session, *, sort, currency="CNY", locale="en", category=None, per_page=4):
    cards, number = [], 1
    while True:
        result = list_products(
            session,
            ListingQuery(sort=sort, page=number, category=category),
            currency=currency,
            locale=locale,
            per_page=per_page,
        )
        cards.extend(result.cards)
        if not result.page.has_next:
            return cards
        number += 1


def catalogue(session):
    """Products with ties, missing prices and names, and some that are never listed."""
    shirts = make_category(session, slug="shirts")
    other = make_category(session, slug="other")
    amounts = [500, 300, 300, 900, 100, 300, 700, 500, 200, 800, 300, 600]
    for number, amount in enumerate(amounts):
        make_product(
            session,
            slug=f"p-{number:02d}",
            name=f"{'BCA'[number % 3]} product {number}",
            name_zh="衬衫" if number % 4 == 0 else None,
            name_ja=f"シャツ{number % 5}" if number % 2 else None,
            category=shirts if number % 2 else other,
            tiers=((50, amount // 2), (1, amount)),
            age_days=number,
        )
    for number in range(3):  # no CNY price: last in a price sort
        make_product(
            session,
            slug=f"jpy-{number}",
            name=f"A yen {number}",
            category=shirts,
            currency="JPY",
            tiers=((1, 1000 + number),),
        )
    make_product(session, slug="inactive", active=False, category=shirts)
    session.commit()


def expected_by_price(session, *, descending: bool, category_slug=None) -> list[str]:
    products = session.scalars(
        sa.select(Product).where(Product.active.is_(True), Product.school_id.is_(None))
    ).all()
    if category_slug:
        products = [p for p in products if p.category.slug == category_slug]

    def base(product):
        tiers = sorted(
            (t for t in product.price_tiers if t.currency == "CNY"), key=lambda t: t.min_quantity
        )
        return tiers[0].unit_amount if tiers else None

    priced = [p for p in products if base(p) is not None]
    unpriced = sorted((p for p in products if base(p) is None), key=lambda p: p.id)
    sign = -1 if descending else 1
    priced.sort(key=lambda p: (sign * base(p), p.id))
    return [p.slug for p in priced + unpriced]


def test_price_sorts_equal_the_order_of_every_product(session):
    catalogue(session)

    for sort, descending in (("price_asc", False), ("price_desc", True)):
        for per_page in (4, 5, 24):
            assert every_page(session, sort=sort, per_page=per_page) == expected_by_price(
                session, descending=descending
            ), (sort, per_page)
        assert every_page(session, sort=sort, category="shirts") == expected_by_price(
            session, descending=descending, category_slug="shirts"
        )


def test_a_price_sorts_cards_are_the_listings(session):
    """Pages that priced products fill, and those that unpriced ones end, show the cards
    the listing shows (their prices and pictures read with the page, or after it)."""
    catalogue(session)
    listed = {card.slug: card for card in every_card(session, sort="relevance", per_page=24)}

    for sort in ("price_asc", "price_desc"):
        for per_page in (4, 5):
            cards = every_card(session, sort=sort, per_page=per_page)
            assert cards == [listed[card.slug] for card in cards], (sort, per_page)
            assert len(cards) == len(listed)


def test_name_sorts_equal_the_order_of_every_product(session):
    catalogue(session)

    for locale, column in (("en", None), ("zh_CN", Product.name_zh), ("ja", Product.name_ja)):
        name = Product.name if column is None else sa.func.coalesce(column, Product.name)
        expected = session.scalars(
            sa.select(Product.slug)
            .where(Product.active.is_(True), Product.school_id.is_(None))
            .order_by(name, Product.id)
        ).all()
        assert every_page(session, sort="name", locale=locale) == expected, locale


def test_the_sort_price_follows_every_write_of_the_tiers(session):
    product = make_product(session, slug="p", tiers=((1, 900), (10, 800)))
    session.commit()

    def sort_price(currency="CNY"):
        return session.scalar(
            sa.select(ProductSortPrice.amount).where(
                ProductSortPrice.product_id == product.id, ProductSortPrice.currency == currency
            )
        )

    assert sort_price() == 900
    session.execute(sa.update(PriceTier).where(PriceTier.min_quantity == 1).values(unit_amount=950))
    assert sort_price() == 950
    session.execute(sa.delete(PriceTier).where(PriceTier.min_quantity == 1))
    assert sort_price() == 800
    product = session.get(Product, product.id)
    session.refresh(product)
    product.price_tiers.append(PriceTier(currency="USD", min_quantity=5, unit_amount=120))
    session.flush()
    assert (sort_price(), sort_price("USD")) == (800, 120)
    session.execute(sa.update(PriceTier).where(PriceTier.currency == "USD").values(currency="SGD"))
    assert (sort_price("USD"), sort_price("SGD")) == (None, 120)
    session.delete(product)
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(ProductSortPrice)) == 0
