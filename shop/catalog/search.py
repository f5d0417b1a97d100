"""Search text: what ``q`` is matched against, and how ``q`` is cut into terms.

Matching is a case-insensitive substring match of every term against one case-folded
column holding names and descriptions in every language plus every SKU. Substring
matching (not word splitting) is what makes Chinese and Japanese work: 校服 finds
"夏季校服短袖 polo 衫" without a word segmenter.
"""

import unicodedata

from shop.catalog.models import Product

MAX_TERMS = 8


def clean_text(value: str | None, max_length: int) -> str:
    """User input made safe to match: control characters (NUL included) dropped,
    whitespace collapsed, cut to ``max_length``."""
    if not value:
        return ""
    printable = "".join(ch if ch.isprintable() else " " for ch in value[: max_length * 2])
    return " ".join(printable.split())[:max_length]


def fold(text: str) -> str:
    """NFKC (full-width Ｐｏｌｏ → Polo) then casefold."""
    return unicodedata.normalize("NFKC", text).casefold()


def search_terms(q: str, max_length: int) -> list[str]:
    """The distinct folded terms of a query, at most ``MAX_TERMS`` of them."""
    terms: list[str] = []
    for term in fold(q[:max_length]).split():
        if term not in terms:
            terms.append(term)
    return terms[:MAX_TERMS]


def build_search_text(product: Product) -> str:
    fields = [
        product.name,
        product.name_zh,
        product.name_ja,
        product.description,
        product.description_zh,
        product.description_ja,
        *(variant.sku for variant in product.variants),
    ]
    return fold("\n".join(field for field in fields if field))


def refresh_search_text(product: Product) -> None:
    """Call after changing a product's names, descriptions or SKUs."""
    product.search_text = build_search_text(product)
