"""Search text: what ``q`` is matched against, and how ``q`` is cut into terms.

Matching is a case-insensitive substring match of every term against one case-folded
column holding names and descriptions in every language plus every SKU. Substring
matching (not word splitting) is what makes Chinese and Japanese work: 校服 finds
"夏季校服短袖 polo 衫" without a word segmenter.

Two indexes answer the terms (see ``shop.catalog.listing.search_candidates``): the
trigram indexes of migration 0002 answer terms of ``TRIGRAM`` characters or more; a query
with a shorter term (衬衫, 裤, "xl") goes to the gram index of migration 0014, which holds
every character and every two-character substring of ``search_text`` as a token
(``gram_token`` spells one as the SQLite index stores it). PostgreSQL's GIN indexes find
every match before a search's cap can stop them, so there a one-term search first walks
the terms of the products' names (migration 0021, ``walk_term``), newest first, and stops
at the cap.

The shop's own words (issue 16):

- ``search_text`` also holds the names, in every language, of the product's category and
  the categories above it, so a product in 学生服 (校服, School uniforms) is found by each
  name. Renaming or moving a category refreshes its products (``refresh_category_products``).
- Each term is a *group* of alternatives (``Synonyms.expand``): the term, and the other
  words of its synonym group (``search_synonym``, edited by staff). A product matches a
  group when its text holds any of them; every group must match. Each process keeps the
  groups (``kept_synonyms``) and checks them against the version the search statement
  returns (migration 0021), so a search reads them only after they changed.
- A query that finds nothing is tried once more with its Latin words corrected
  (``corrections``): the words at edit distance 1 (a letter missing, extra, wrong or two
  swapped: "cottn", "shirst") that are in the vocabulary of indexed words (migration 0017).
  The candidates are generated here and looked up by equality, so the cost depends on the
  word's length, not on the catalogue.
- ``closest_categories`` picks the categories an empty result suggests.
"""

import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session

from shop.catalog.models import Category, Product
from shop.catalog.search_models import SynonymVersion

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
    # Control characters (NUL included) split terms, wherever ``q`` came from.
    printable = "".join(ch if ch.isprintable() else " " for ch in q[:max_length])
    for term in fold(printable).split():
        if term not in terms:
            terms.append(term)
    return terms[:MAX_TERMS]


def build_search_text(product: Product, category_names: Iterable[str] = ()) -> str:
    """``product``'s searchable text; ``category_names``: its category's and their
    parents' names in every language (``category_names``)."""
    fields = [
        product.name,
        product.name_zh,
        product.name_ja,
        product.description,
        product.description_zh,
        product.description_ja,
        *(variant.sku for variant in product.variants),
        *category_names,
    ]
    return fold("\n".join(field for field in fields if field))


# A category tree is two levels deep; this bounds a walk up a damaged one.
MAX_CATEGORY_DEPTH = 8


def category_names(session: Session, category_id: int | None) -> list[str]:
    """The names (every language) of the category ``category_id`` and those above it."""
    names: list[str] = []
    seen: set[int] = set()
    with session.no_autoflush:
        while category_id is not None and category_id not in seen:
            if len(seen) >= MAX_CATEGORY_DEPTH:
                break
            seen.add(category_id)
            category = session.get(Category, category_id)
            if category is None:
                break
            names.extend(
                name for name in (category.name, category.name_zh, category.name_ja) if name
            )
            category_id = category.parent_id
    return names


def _names_up_from(category: Category | None) -> list[str]:
    names: list[str] = []
    for _level in range(MAX_CATEGORY_DEPTH):
        if category is None:
            break
        names.extend(n for n in (category.name, category.name_zh, category.name_ja) if n)
        category = category.parent
    return names


def refresh_search_text(product: Product) -> None:
    """Call after changing a product's names, descriptions, SKUs or category."""
    session = object_session(product)
    if session is not None and product.category_id is not None:
        names = category_names(session, product.category_id)
    else:  # a new product whose category is given as an object, not flushed yet
        given = product.__dict__.get("category")
        if session is None:
            names = _names_up_from(given)
        else:
            with session.no_autoflush:
                names = _names_up_from(given)
    product.search_text = build_search_text(product, names)


def refresh_category_products(session: Session, category_ids: Iterable[int]) -> int:
    """Refresh ``search_text`` of every product in these categories (after one of them
    was renamed or moved: the names are in its products' text); how many changed."""
    from sqlalchemy.orm import selectinload

    ids = sorted(set(category_ids))
    if not ids:
        return 0
    products = session.scalars(
        sa.select(Product)
        .where(Product.category_id.in_(ids))
        .options(selectinload(Product.variants))
    ).all()
    changed = 0
    for product in products:
        before = product.search_text
        refresh_search_text(product)
        changed += product.search_text != before
    session.flush()
    return changed


def gram_token(term: str) -> str:
    """A one- or two-character term as SQLite's gram index stores it: its UTF-8 bytes in
    hex, so FTS5's ``ascii`` tokenizer keeps it whole whatever the characters are."""
    return term.encode("utf-8").hex()


def walk_term(term: str) -> str | None:
    """The term of PostgreSQL's name terms (``product_fts_terms``, migration 0021) under
    which every product whose names hold ``term`` as a whole Latin word, or anywhere for a
    term of other characters, is listed: a Latin word is itself, a term of two or more
    other characters (衬衫, ブレザー) its first two. ``None`` for the rest (one character,
    a mix, punctuation), which only the GIN indexes answer."""
    if term.isascii():
        return term if term.isalnum() and len(term) <= 60 else None
    if len(term) >= 2 and not any(character.isascii() for character in term):
        return term[:2]
    return None


def walk_check_term(term: str) -> str | None:
    """For a term of three or more non-Latin characters (ブレザー), its last two (ザー):
    every product whose names hold the term is listed under this one too, so a product
    listed under ``walk_term`` and not under this one cannot match, and is known so from
    the terms' index alone (ブレ alone also lists ブレスレット). ``None`` where
    ``walk_term`` is the whole term."""
    walked = walk_term(term)
    if walked is None or walked == term:
        return None
    return term[-2:]


def fts_phrase(text: str) -> str:
    """``text`` as one FTS5 phrase (a quoted string; quotes doubled), for ``MATCH``."""
    return '"' + text.replace('"', '""') + '"'


# --- synonyms --------------------------------------------------------------------------

# Alternatives a term may have (itself included): bounds a search's statement.
MAX_ALTERNATIVES = 8


# Synonyms change seldom and a search needs them before its statement: each process keeps
# every group (``Synonyms``) per database and reads them again only when the version that
# every write to ``search_synonym`` changes (migration 0021's triggers) is not the one it
# holds. The search statement returns that version beside its rows
# (``synonyms_version_column``), so a search whose terms have no synonyms runs no statement
# of its own for them, and one that ran with an old copy is run again: never stale.
_SYNONYMS_SQL = (
    "SELECT 0, version, NULL, NULL, NULL FROM search_synonym_version WHERE id = 1 "
    "UNION ALL "
    "SELECT 1, NULL, mine.word, other.word, other.position FROM search_synonym AS mine "
    "JOIN search_synonym AS other ON other.group_id = mine.group_id "
    "ORDER BY 1, 3, 5, 4"
)


@dataclass(frozen=True)
class Synonyms:
    """Every synonym group's words, by word (itself first, then the others in the group's
    order), as of ``version`` (``None``: the version row is missing)."""

    version: int | None
    groups: Mapping[str, tuple[str, ...]]

    def expand(self, terms: Sequence[str]) -> list[list[str]]:
        """Each term as a group of alternatives: itself and its synonyms (at most
        ``MAX_ALTERNATIVES``)."""
        return [list(self.groups.get(term, (term,)))[:MAX_ALTERNATIVES] for term in terms]


_KEPT_SYNONYMS: dict[str, Synonyms] = {}


def database_key(connection: sa.Connection) -> str:
    """Which database ``connection`` reads: the key of what this process keeps of one."""
    return str(connection.engine.url)


def read_synonyms(connection: sa.Connection) -> Synonyms:
    """Every synonym group as the database has it now (one statement), kept for
    ``kept_synonyms``."""
    version = None
    groups: dict[str, list[str]] = {}
    for part, row_version, word, other, _position in connection.exec_driver_sql(_SYNONYMS_SQL):
        if part == 0:
            version = row_version
            continue
        group = groups.setdefault(word, [word])
        if other not in group:
            group.append(other)
    synonyms = Synonyms(version, {word: tuple(group) for word, group in groups.items()})
    _KEPT_SYNONYMS[database_key(connection)] = synonyms
    return synonyms


def kept_synonyms(connection: sa.Connection) -> Synonyms:
    """This process's copy of the synonyms of the connection's database (read when there is
    none yet): check its ``version`` against ``synonyms_version_column`` of a statement."""
    return _KEPT_SYNONYMS.get(database_key(connection)) or read_synonyms(connection)


def synonyms_version_column() -> sa.ScalarSelect:
    """The synonyms' version as of a statement, for a column beside its rows."""
    return sa.select(SynonymVersion.version).where(SynonymVersion.id == 1).scalar_subquery()


def expand_terms(connection: sa.Connection, terms: Sequence[str]) -> list[list[str]]:
    """Each term as a group of alternatives: itself and its synonyms (at most
    ``MAX_ALTERNATIVES``), as the database has them now."""
    return read_synonyms(connection).expand(terms)


# --- typos -----------------------------------------------------------------------------

LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Latin words this long may be corrected: shorter ones have too many neighbours.
MIN_TYPO_LENGTH = 4
MAX_TYPO_LENGTH = 24
MAX_CORRECTIONS = 4


def may_correct(term: str) -> bool:
    return term.isascii() and term.isalpha() and MIN_TYPO_LENGTH <= len(term) <= MAX_TYPO_LENGTH


def edits(word: str) -> set[str]:
    """Every word at Damerau-Levenshtein distance 1 from ``word`` over a-z (deletions,
    swaps of neighbours, replacements, insertions): ~54 × its length."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in LETTERS}
    inserts = {a + c + b for a, b in splits for c in LETTERS}
    return (deletes | swaps | replaces | inserts) - {word}


# The vocabulary (migration 0017): a table of the indexed Latin words, looked up by its
# primary key (SQLite: the IN list is a set of equality lookups).
_WORDS_SQL = {
    "sqlite": "SELECT word FROM product_fts_words WHERE word IN (SELECT value FROM json_each(?))",
    "postgresql": "SELECT word FROM product_fts_words WHERE word = ANY(%s)",
}


def corrections(connection: sa.Connection, term: str) -> list[str]:
    """Indexed words one edit away from ``term`` (none when ``term`` itself is one):
    the closest in length first, at most ``MAX_CORRECTIONS``."""
    if not may_correct(term):
        return []
    wanted = sorted(edits(term) | {term})
    dialect = connection.dialect.name
    words = json.dumps(wanted) if dialect == "sqlite" else wanted
    found = [row[0] for row in connection.exec_driver_sql(_WORDS_SQL[dialect], (words,))]
    if term in found:
        return []
    found = [word for word in found if len(word) >= MIN_TYPO_LENGTH - 1]
    return sorted(found, key=lambda word: (abs(len(word) - len(term)), word))[:MAX_CORRECTIONS]


def corrected_groups(
    connection: sa.Connection, groups: Sequence[Sequence[str]]
) -> list[list[str]] | None:
    """``groups`` with each correctable term that is no indexed word replaced by its
    corrections; ``None`` when nothing was corrected."""
    changed = False
    result: list[list[str]] = []
    for group in groups:
        fixes = corrections(connection, group[0]) if len(group) == 1 else []
        if fixes:
            changed = True
            result.append(fixes)
        else:
            result.append(list(group))
    return result if changed else None


# --- suggestions for an empty result ---------------------------------------------------


class NamedCategory(Protocol):
    slug: str
    name: str
    name_zh: str | None
    name_ja: str | None


def _bigrams(text: str) -> set[str]:
    text = "".join(text.split())
    return {text[i : i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


def similarity(a: str, b: str) -> float:
    """Dice coefficient of two folded texts' character bigrams (0-1); 1 when one holds
    the other. Works alike for 校服 and "uniforms"."""
    if not a or not b:
        return 0.0
    if a in b or b in a:
        return 1.0
    x, y = _bigrams(a), _bigrams(b)
    return 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0


SUGGESTION_THRESHOLD = 0.3


def closest_categories(
    categories: Iterable[Any], words: Sequence[str], limit: int = 3
) -> list[Any]:
    """The ``limit`` categories whose names (any language) are most like any of
    ``words`` (a query's terms and their synonyms), best first; those below
    ``SUGGESTION_THRESHOLD`` are left out."""
    folded = [fold(word) for word in words if word]
    scored = []
    for position, category in enumerate(categories):
        names = [fold(n) for n in (category.name, category.name_zh, category.name_ja) if n]
        score = max((similarity(w, n) for w in folded for n in names), default=0.0)
        if score >= SUGGESTION_THRESHOLD:
            scored.append((-score, position, category))
    scored.sort(key=lambda item: item[:2])
    return [category for _score, _position, category in scored[:limit]]


def suggest_categories(
    connection: sa.Connection, q: str, categories: Iterable[Any], max_length: int, limit: int = 3
) -> list[Any]:
    """For a search that found nothing: the categories (``CategoryNode`` trees: the top
    level with ``children``) whose names are closest to the query's terms or their
    synonyms."""
    terms = search_terms(q, max_length)
    words = [word for group in expand_terms(connection, terms) for word in group]
    if len(terms) > 1:
        words.append(" ".join(terms))
    flat = [node for top in categories for node in (top, *top.children)]
    return closest_categories(flat, words, limit)
