"""The school finder: active schools whose names or city (any language) hold every term.

``School.search_text`` is a case-folded copy of the names and cities in English, Chinese
and Japanese, so a search is a substring ``LIKE`` per term, as the product search is.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.catalog.search import search_terms
from shop.pagination import Page, paginate
from shop.schools.models import School

PER_PAGE = 20
MAX_Q_LENGTH = 100


@dataclass(frozen=True)
class SchoolResults:
    q: str
    page: Page
    schools: list[School]


def search_schools(
    session: Session, q: str, page: int, *, per_page: int = PER_PAGE
) -> SchoolResults:
    """A page of active schools matching every term of ``q`` (all of them for a blank
    ``q``), by name."""
    conditions: list[sa.ColumnElement[bool]] = [School.active.is_(True)]
    conditions.extend(
        School.search_text.contains(term, autoescape=True) for term in search_terms(q, MAX_Q_LENGTH)
    )
    total = session.scalar(sa.select(sa.func.count(School.id)).where(*conditions)) or 0
    current = paginate(total, page, per_page)
    schools = []
    if total:
        schools = list(
            session.scalars(
                sa.select(School)
                .where(*conditions)
                .order_by(School.name, School.id)
                .offset(current.offset)
                .limit(per_page)
            )
        )
    return SchoolResults(q=q, page=current, schools=schools)
