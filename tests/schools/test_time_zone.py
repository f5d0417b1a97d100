"""Each school keeps its own clock (an IANA time zone): its country's unless staff set
another, filled in for the schools that existed before the column did."""

import pytest
import sqlalchemy as sa

from shop import migrate
from shop.db import make_engine
from shop.schools.models import School
from tests.helpers.admin import errors_in, school_data
from tests.school_factories import make_school


@pytest.fixture
def manager(sign_in):
    return sign_in("manager")


def the_school(session) -> School:
    session.expire_all()
    return session.scalars(sa.select(School)).one()


@pytest.mark.parametrize(
    ("country", "zone"),
    [("JP", "Asia/Tokyo"), ("SG", "Asia/Singapore"), ("CN", "Asia/Shanghai"), ("DE", "UTC")],
)
def test_a_new_school_takes_its_countrys_zone(session, country, zone):
    assert make_school(session, country=country).time_zone == zone


def test_a_school_created_with_the_zone_left_blank_takes_its_countrys(client, session, manager):
    data = school_data(slug="osaka", country="JP", currency="JPY", credit_limit="", time_zone="")
    assert client.post("/admin/schools/new", data=data).status_code == 302
    assert the_school(session).time_zone == "Asia/Tokyo"


def test_staff_set_and_change_a_schools_zone(client, session, manager):
    data = school_data(country="CN", time_zone="Asia/Singapore")
    assert client.post("/admin/schools/new", data=data).status_code == 302
    school = the_school(session)
    assert school.time_zone == "Asia/Singapore"
    form = client.get(f"/admin/schools/{school.id}").text
    assert 'value="Asia/Singapore"' in form
    changed = school_data(country="CN", time_zone="Asia/Tokyo")
    assert client.post(f"/admin/schools/{school.id}", data=changed).status_code == 302
    assert the_school(session).time_zone == "Asia/Tokyo"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "JST", "x" * 65, "Asia/Tokyo\x00"])
def test_a_zone_that_is_not_an_iana_name_is_refused_and_nothing_changes(
    client, session, manager, zone
):
    response = client.post("/admin/schools/new", data=school_data(time_zone=zone))
    assert response.status_code == 400
    if "\x00" not in zone:  # a NUL byte is refused before the form reads it (shop.inputs)
        assert "IANA time zone" in errors_in(response.text)
    assert session.scalars(sa.select(School)).first() is None


def test_the_migration_fills_existing_schools_from_their_country(empty_database_url):  # noqa: F811
    migrate.upgrade(empty_database_url, "0016_sent_email")
    engine = make_engine(empty_database_url)
    school = sa.Table("school", sa.MetaData(), autoload_with=engine)
    with engine.begin() as connection:
        for number, country in enumerate(("JP", "SG", "CN", "cn", "US"), start=1):
            connection.execute(school.insert().values(required_values(school, number, country)))
    migrate.upgrade(empty_database_url, "0019_school_time_zone")
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT country, time_zone FROM school ORDER BY id"))
        zones = [tuple(row) for row in rows]
    engine.dispose()
    assert zones == [
        ("JP", "Asia/Tokyo"),
        ("SG", "Asia/Singapore"),
        ("CN", "Asia/Shanghai"),
        ("cn", "Asia/Shanghai"),
        ("US", "UTC"),
    ]


def required_values(table: sa.Table, number: int, country: str) -> dict:
    """A value for every column a row of ``table`` must have (as the schema was then)."""
    values: dict = {"id": number, "slug": f"school-{number}", "country": country}
    for column in table.columns:
        if column.name in values or column.nullable or column.server_default is not None:
            continue
        python_type = column.type.python_type
        if python_type is bool:
            values[column.name] = False
        elif python_type is int:
            values[column.name] = 0
        elif python_type is str:
            values[column.name] = "x"
        elif column.name == "created_at":
            values[column.name] = sa.func.current_timestamp()
        else:
            values[column.name] = []
    return values
