"""The production queue groups what is made for a school under the school's name, and
reads the schools' names in one query however many orders wait."""

import re
from zoneinfo import ZoneInfo

from shop.orders import production
from tests.helpers.queries import recording_queries
from tests.order_factories import make_order
from tests.school_factories import make_school


def mto(session, sku, quantity, **fields):
    return make_order(
        session, lines=((sku, quantity, 5900),), made_to_order=True, lead_time_days=7, **fields
    )


def sections(page: str) -> list[str]:
    return re.findall(r'<section class="production-group".*?</section>', page, re.S)


def test_orders_for_two_schools_appear_under_two_school_headings(app, client, session, sign_in):
    # Given: made-to-order orders for two schools (one school with two orders), and one
    # order that is for no school, all due the same day.
    xixi = make_school(session, name="Hangzhou Xixi Primary School")
    marina = make_school(session, name="Marina Bay International School", currency="SGD")
    for_xixi = mto(session, "POLO", 20, school_id=xixi.id)
    more_for_xixi = mto(session, "POLO", 4, school_id=xixi.id)
    for_marina = mto(session, "POLO", 8, school_id=marina.id)
    walk_in = mto(session, "POLO", 2)
    session.commit()
    sign_in("workshop")

    # When: the workshop opens the queue.
    page = client.get("/admin/production").text

    # Then: one section per school with a "School: …" heading, and one without.
    found = sections(page)
    assert len(found) == 3
    headings = [re.findall(r'data-testid="group-school">([^<]+)<', s) for s in found]
    assert sorted(headings) == [
        [],
        ["School: Hangzhou Xixi Primary School"],
        ["School: Marina Bay International School"],
    ]
    by_heading = {tuple(h): s for h, s in zip(headings, found, strict=True)}
    xixi_section = by_heading[("School: Hangzhou Xixi Primary School",)]
    marina_section = by_heading[("School: Marina Bay International School",)]
    plain_section = by_heading[()]
    assert 'data-quantity="24"' in xixi_section  # the school's two orders summed
    assert for_xixi.number in xixi_section and more_for_xixi.number in xixi_section
    assert for_marina.number in marina_section and for_marina.number not in xixi_section
    assert walk_in.number in plain_section
    assert 'data-quantity="8"' in marina_section and 'data-quantity="2"' in plain_section


def test_the_queue_reads_school_names_in_one_query(app, session):
    # Given: orders for three schools.
    schools = [make_school(session, name=f"School {letter}") for letter in "ABC"]
    for school in schools:
        mto(session, "POLO", 3, school_id=school.id)
    session.commit()

    # When: the queue is listed.
    with recording_queries(app) as statements:
        groups = production.list_queue(session, ZoneInfo("Asia/Shanghai"))

    # Then: a group per school, named, and one query for all the names.
    assert [group.group for group in groups] == ["School A", "School B", "School C"]
    assert [group.quantity for group in groups] == [3, 3, 3]
    school_queries = [s for s in statements if "FROM school" in s]
    assert len(school_queries) == 1


def test_group_key_is_empty_for_an_order_without_a_school(session):
    order = mto(session, "POLO", 1)
    assert production.group_key(order, {1: "Somewhere"}) == ""
    assert production.group_key(order) == ""
