"""Cards from a listing's rows: read by position, yet named and described by the same
rules as everywhere else (``shop.locales.localized`` and ``image_alt``)."""

import itertools
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from shop.catalog.listing import (
    CARD_COLUMNS,
    _CardExtra,
    _CardProduct,
    build_cards,
    with_card_columns,
)
from shop.catalog.models import Product
from shop.locales import image_alt, localized


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_positions_read_are_the_columns_selected(dialect):
    assert _CardProduct._fields == tuple(column.key for column in CARD_COLUMNS)
    statement = with_card_columns(sa.select(Product.id), Product.id, dialect)
    labels = tuple(column.key for column in statement.selected_columns)[1:]
    assert labels == (
        "price_amount",
        "lowest_amount",
        "image_path",
        "image_alt",
        "image_alt_zh",
        "image_alt_ja",
    )
    assert len(_CardExtra._fields) == len(labels)


NAMES = [("Polo", None, None), ("Polo", "校服", "ポロ")]
ALTS = [(None, None, None), ("Front", None, None), ("Front", "正面", "正面図"), ("", "正面", None)]


@pytest.mark.parametrize(("names", "alts"), list(itertools.product(NAMES, ALTS)))
@pytest.mark.parametrize("locale", ["en", "en_GB", "zh_CN", "ja"])
def test_cards_follow_the_locale_rules(names, alts, locale):
    product_row = (7, "polo", *names, True, 14, 10)
    extra_row = (8900, 6900, "products/polo.png", *alts)
    browse_row = product_row + extra_row  # a page of browsing: one row per card
    search_extra = (7, *extra_row)  # a search: its candidates' extras by id

    product = SimpleNamespace(name=names[0], name_zh=names[1], name_ja=names[2])
    image = SimpleNamespace(alt_text=alts[0] or "", alt_text_zh=alts[1], alt_text_ja=alts[2])
    for pair in ((browse_row, browse_row), (product_row + (False, None), search_extra)):
        (card,) = build_cards([pair], "CNY", locale)
        assert card.name == localized(product, "name", locale)
        assert card.image_alt == image_alt(image, product, locale)
        assert (card.slug, card.image_path, card.price_amount, card.lowest_amount) == (
            "polo",
            "products/polo.png",
            8900,
            6900,
        )
        assert (card.made_to_order, card.lead_time_days, card.min_order_quantity) == (
            True,
            14,
            10,
        )
