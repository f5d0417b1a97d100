"""Search synonyms: groups of words staff declare to mean the same (制服, 学生服, 校服,
uniform). A query term that is one of a group's words also finds what the others find
(``shop.catalog.search.expand_terms``). A word is in one group at most: its primary key.

The typo vocabulary (migration 0017, ``product_fts_words``) and PostgreSQL's name terms
(migration 0021, ``product_fts_terms``) live outside the models."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.db import Base, utcnow

# The vocabulary of indexed Latin words, kept by triggers (migration 0017).
SEARCH_WORDS_TABLE = "product_fts_words"
# PostgreSQL: (term, product_id) of every product's names, kept by a trigger (migration
# 0021); ``shop.catalog.search.walk_term`` says which term a query term is looked up by.
SEARCH_TERMS_TABLE = "product_fts_terms"


class SynonymGroup(Base):
    __tablename__ = "search_synonym_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    synonyms: Mapped[list["Synonym"]] = relationship(
        back_populates="group",
        order_by=lambda: Synonym.position,
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def words(self) -> list[str]:
        return [synonym.word for synonym in self.synonyms]


class Synonym(Base):
    __tablename__ = "search_synonym"

    word: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("search_synonym_group.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)

    group: Mapped[SynonymGroup] = relationship(back_populates="synonyms")


class SynonymVersion(Base):
    """One row (``id`` 1) whose ``version`` every write to ``search_synonym`` changes (a
    trigger, migration 0021): what a process's copy of the synonyms is checked against
    (``shop.catalog.search.kept_synonyms``)."""

    __tablename__ = "search_synonym_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(sa.BigInteger)
