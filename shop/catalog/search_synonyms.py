"""Synonym groups for search, as staff edit them: words that mean the same to a buyer
(制服, 学生服, 校服, uniform). Each change is audited; a word belongs to one group only.

Searching with one of a group's words finds what any of them finds
(``shop.catalog.search.expand_terms``); a change bumps the catalogue's page version
(``shop.pagecache.changes``), so no cached search page is stale, and the synonyms' own
version (a trigger, migration 0021), so no process searches with its old copy of them
(``shop.catalog.search.kept_synonyms``)."""

import re

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from shop.accounts.models import User
from shop.audit.service import record
from shop.catalog.search import MAX_ALTERNATIVES, fold
from shop.catalog.search_models import Synonym, SynonymGroup
from shop.db import utcnow
from shop.exceptions import ShopError

MAX_WORD_LENGTH = 60
MIN_WORDS = 2
# Commas (also Chinese and Japanese ones), semicolons and new lines separate the words.
SEPARATORS = re.compile(r"[,，、;；\n\r]+")


class SynonymWordsInvalid(ShopError):
    message = "Enter two or more words, separated by commas."

    def __init__(self, problem: str, words: tuple[str, ...] = ()):
        super().__init__(problem)
        self.problem = problem  # "too_few", "too_many", "spaces", "too_long"
        self.words = words


class SynonymWordTaken(ShopError):
    message = "A word is in another group already."

    def __init__(self, words: tuple[str, ...]):
        super().__init__(", ".join(words))
        self.words = words


def parse_words(text: str) -> list[str]:
    """The distinct folded words of ``text``, in order. Raises ``SynonymWordsInvalid``:
    fewer than two, more than ``MAX_ALTERNATIVES``, a word holding a space (a query term
    never does, so it could never be looked up) or longer than ``MAX_WORD_LENGTH``."""
    words: list[str] = []
    for part in SEPARATORS.split(text or ""):
        word = fold("".join(ch for ch in part if ch.isprintable())).strip()
        if word and word not in words:
            words.append(word)
    if any(len(word.split()) > 1 for word in words):
        raise SynonymWordsInvalid("spaces", tuple(w for w in words if len(w.split()) > 1))
    if any(len(word) > MAX_WORD_LENGTH for word in words):
        raise SynonymWordsInvalid("too_long")
    if len(words) < MIN_WORDS:
        raise SynonymWordsInvalid("too_few")
    if len(words) > MAX_ALTERNATIVES:
        raise SynonymWordsInvalid("too_many")
    return words


def list_groups(session: Session) -> list[SynonymGroup]:
    return list(
        session.scalars(
            sa.select(SynonymGroup)
            .options(selectinload(SynonymGroup.synonyms))
            .order_by(SynonymGroup.id)
        )
    )


def get_group(session: Session, group_id: int) -> SynonymGroup | None:
    return session.get(SynonymGroup, group_id)


def _taken(session: Session, words: list[str], group_id: int | None) -> tuple[str, ...]:
    query = sa.select(Synonym.word).where(Synonym.word.in_(words))
    if group_id is not None:
        query = query.where(Synonym.group_id != group_id)
    return tuple(sorted(session.scalars(query)))


def _set_words(session: Session, group: SynonymGroup, words: list[str]) -> None:
    keep = {synonym.word: synonym for synonym in group.synonyms if synonym.word in words}
    for synonym in list(group.synonyms):
        if synonym.word not in keep:
            group.synonyms.remove(synonym)
    session.flush()  # a word moved within the group is deleted before it is added again
    for position, word in enumerate(words):
        kept = keep.get(word)
        if kept is None:
            group.synonyms.append(Synonym(word=word, position=position))
        else:
            kept.position = position
    session.flush()


def create_group(session: Session, actor: User, words: list[str]) -> SynonymGroup:
    """A new group of ``words`` (``parse_words``' result). Raises ``SynonymWordTaken``
    when a word is in a group already (nothing changes)."""
    taken = _taken(session, words, None)
    if taken:
        raise SynonymWordTaken(taken)
    group = SynonymGroup()
    session.add(group)
    session.flush()
    _set_words(session, group, words)
    record(
        session,
        actor_user_id=actor.id,
        action="search_synonyms.create",
        target_type="search_synonym_group",
        target_id=group.id,
        after={"words": words},
    )
    return group


def update_group(session: Session, actor: User, group: SynonymGroup, words: list[str]) -> bool:
    """Give ``group`` these ``words``; ``False`` when they are its words already. Raises
    ``SynonymWordTaken`` when a word is in another group (nothing changes)."""
    before = group.words
    if before == words:
        return False
    taken = _taken(session, words, group.id)
    if taken:
        raise SynonymWordTaken(taken)
    _set_words(session, group, words)
    group.updated_at = utcnow()
    session.flush()
    record(
        session,
        actor_user_id=actor.id,
        action="search_synonyms.update",
        target_type="search_synonym_group",
        target_id=group.id,
        before={"words": before},
        after={"words": words},
    )
    return True


def delete_group(session: Session, actor: User, group: SynonymGroup) -> None:
    record(
        session,
        actor_user_id=actor.id,
        action="search_synonyms.delete",
        target_type="search_synonym_group",
        target_id=group.id,
        before={"words": group.words},
    )
    session.delete(group)
    session.flush()
