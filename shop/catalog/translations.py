"""What of the catalogue is not yet translated. No Flask here.

A product misses a language when its name, or (when it has an English one) its
description, has no text in that language. The condition is the one of the partial
indexes ``ix_product_missing_zh``/``ix_product_missing_ja`` (migration 0020), word for
word, so the admin's filter reads only the products it lists.
"""

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.catalog.models import MISSING_TRANSLATION, Product
from shop.locales import column_language

TRANSLATED_LANGUAGES = tuple(MISSING_TRANSLATION)  # ("zh", "ja")


def missing_translation(language: str) -> sa.TextClause:
    """The ``WHERE`` condition on ``product`` of "has no ``language`` translation"."""
    return sa.text(MISSING_TRANSLATION[language])


def product_names(
    session: Session, product_ids: Iterable[int | None], locale: str
) -> dict[int, str]:
    """``{product id: name in the locale's language}`` of the products that have one, in
    one query (English: every product's name). A caller falls back to what it had (an
    order line's own name)."""
    ids = {product_id for product_id in product_ids if product_id is not None}
    if not ids:
        return {}
    language = column_language(locale)
    column = Product.name if language == "en" else getattr(Product, f"name_{language}")
    rows = session.execute(
        sa.select(Product.id, column).where(Product.id.in_(ids), column.is_not(None), column != "")
    )
    return {product_id: name for product_id, name in rows}


def line_names(session: Session, lines: Iterable, locale: str) -> dict[int, str]:
    """``{order line id: item name for a reader of locale}``, in one query. A line keeps
    the name it was ordered under (its snapshot) when it was ordered in the reader's
    language; otherwise the product's name in that language, where the product is still
    there and has one; else the snapshot. Each line has ``id``, ``product_id``,
    ``product_name`` and ``order.locale``."""
    lines = list(lines)
    language = column_language(locale)
    foreign = [line for line in lines if column_language(line.order.locale) != language]
    names = product_names(session, (line.product_id for line in foreign), locale)
    result = {line.id: line.product_name for line in lines}
    for line in foreign:
        result[line.id] = names.get(line.product_id) or line.product_name
    return result
