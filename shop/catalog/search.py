"""Search text: what ``q`` is matched against, and how ``q`` is cut into terms.

Matching is a case-insensitive substring match of every term against one case-folded
column holding names and descriptions in every language plus every SKU. Substring
matching (not word splitting) is what makes Chinese and Japanese work: 校服 finds
"夏季校服短袖 polo 衫" without a word segmenter.

Two indexes answer the terms (see ``shop.catalog.listing.search_candidates``): the
trigram indexes of migration 0002 answer terms of ``TRIGRAM`` characters or more; a query
with a shorter term (衬衫, 裤, "xl") goes to the gram index of migration 0014, which holds
every character and every two-character substring of ``search_text`` as a token
(``gram_token`` spells one as the SQLite index stores it).
"""

import unicodedata

from shop.catalog.models import Product

MAX_TERMS = 8
# Terms this long or longer use the trigram indexes; shorter ones the gram index.
TRIGRAM = 3


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


def gram_token(term: str) -> str:
    """A one- or two-character term as SQLite's gram index stores it: its UTF-8 bytes in
    hex, so FTS5's ``ascii`` tokenizer keeps it whole whatever the characters are."""
    return term.encode("utf-8").hex()


def fts_phrase(text: str) -> str:
    """``text`` as one FTS5 phrase (a quoted string; quotes doubled), for ``MATCH``."""
    return '"' + text.replace('"', '""') + '"'
