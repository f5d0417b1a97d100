"""The school finder: by name in English, Chinese or Japanese, or by city."""

import re

from shop.schools.finder import search_schools
from tests.school_factories import make_school


def _schools(session):
    make_school(
        session,
        slug="west-lake",
        name="West Lake Primary School",
        name_zh="西湖小学",
        name_ja="西湖小学校",
        city="Hangzhou",
        city_zh="杭州",
        city_ja="杭州",
    )
    make_school(
        session,
        slug="sakura",
        name="Sakura Junior High",
        name_ja="さくら中学校",
        city="Osaka",
        city_ja="大阪",
        country="JP",
        currency="JPY",
        access_code="open sesame",
    )
    make_school(session, slug="closed", name="Closed Lake School", active=False)
    session.commit()


def slugs(response) -> list[str]:
    return re.findall(r'data-testid="school-card" data-slug="([^"]+)"', response.text)


def test_finds_by_english_chinese_and_japanese_name(client, session):
    _schools(session)
    assert slugs(client.get("/schools?q=west lake")) == ["west-lake"]
    assert slugs(client.get("/schools?q=WEST")) == ["west-lake"]
    assert slugs(client.get("/schools?q=西湖")) == ["west-lake"]
    assert slugs(client.get("/schools?q=さくら")) == ["sakura"]


def test_finds_by_city_in_any_language(client, session):
    _schools(session)
    assert slugs(client.get("/schools?q=osaka")) == ["sakura"]
    assert slugs(client.get("/schools?q=大阪")) == ["sakura"]
    assert slugs(client.get("/schools?q=杭州")) == ["west-lake"]


def test_every_term_must_match(client, session):
    _schools(session)
    assert slugs(client.get("/schools?q=lake osaka")) == []
    response = client.get("/schools?q=lake osaka")
    assert 'data-testid="no-schools"' in response.text


def test_inactive_schools_are_hidden(client, session):
    _schools(session)
    assert slugs(client.get("/schools?q=closed")) == []
    assert slugs(client.get("/schools")) == ["sakura", "west-lake"]
    assert client.get("/schools/closed").status_code == 404
    assert client.get("/schools/no-such-school").status_code == 404


def test_private_school_is_listed_with_a_lock(client, session):
    _schools(session)
    text = client.get("/schools").text
    assert 'data-slug="sakura" data-private="true"' in text
    assert 'data-slug="west-lake" data-private="false"' in text


def test_name_in_the_visitors_language(client, session):
    _schools(session)
    assert "西湖小学校" in client.get("/schools?lang=ja").text
    assert "West Lake Primary School" in client.get("/schools?lang=en").text


def test_search_schools_pages_through_all_active_schools(app, session):
    for number in range(5):
        make_school(session, slug=f"s-{number}", name=f"Hill School {number}")
    session.commit()
    results = search_schools(session, "", 2, per_page=2)
    assert results.page.total == 5
    assert [school.slug for school in results.schools] == ["s-2", "s-3"]
    assert search_schools(session, "hill 4", 1).page.total == 1
