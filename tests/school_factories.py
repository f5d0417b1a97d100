"""School rows for tests: a school with grades, a uniform list and delivery rounds."""

import itertools
from datetime import timedelta

from werkzeug.security import generate_password_hash

from shop.db import utcnow
from shop.schools.models import DeliveryRound, School, SchoolMember, UniformItem

_numbers = itertools.count(1)


def make_school(
    session,
    *,
    slug=None,
    name=None,
    country="CN",
    currency="CNY",
    grades=("1", "2", "3"),
    access_code=None,
    rounds_in_days=(14,),
    **fields,
) -> School:
    """A school; ``access_code`` makes it private (hashed cheaply: tests only)."""
    number = next(_numbers)
    school = School(
        slug=slug or f"school-{number}",
        name=name or f"School {number}",
        country=country,
        currency=currency,
        grades=list(grades),
        city=fields.pop("city", "Hangzhou"),
        delivery_recipient=fields.pop("delivery_recipient", "School office"),
        delivery_line1=fields.pop("delivery_line1", "1 School Road"),
        delivery_city=fields.pop("delivery_city", "Hangzhou"),
        **fields,
    )
    if access_code is not None:
        school.access_code_hash = generate_password_hash(access_code, method="scrypt:1024:8:1")
    now = utcnow()
    for days in rounds_in_days:
        school.rounds.append(
            DeliveryRound(
                delivery_date=(now + timedelta(days=days)).date(),
                cutoff_at=now + timedelta(days=days - 3),
            )
        )
    school.refresh_search_text()
    session.add(school)
    session.flush()
    return school


def add_item(session, school, product, **fields) -> UniformItem:
    """Put ``product`` on ``school``'s list (required, every grade, any gender, summer)."""
    item = UniformItem(
        school=school,
        product=product,
        required=fields.pop("required", True),
        grades=list(fields.pop("grades", ())),
        gender=fields.pop("gender", "any"),
        season=fields.pop("season", "summer"),
        quantity_per_child=fields.pop("quantity_per_child", 1),
        **fields,
    )
    session.add(item)
    session.flush()
    return item


def add_member(session, school, user) -> SchoolMember:
    member = SchoolMember(school=school, user=user)
    session.add(member)
    session.flush()
    return member


def big_roster(students: int) -> str:
    """A roster CSV of ``students`` for a school listing "polo" (sizes 130/140) and a girls'
    "skirt" (130): a polo each, a skirt for each girl (every second student)."""
    rows = ["student,class,grade,gender,polo,skirt"]
    for number in range(students):
        girl = number % 2
        rows.append(
            f"Student {number},{number % 40}A,{number % 2 + 1},{'girls' if girl else 'boys'},"
            f"{130 if number % 3 else 140},{130 if girl else ''}"
        )
    return "\n".join(rows) + "\n"
