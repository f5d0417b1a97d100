"""A school's list as parents see it: grade and gender filters, seasons, required
items, prices in the school's currency, and the size finder on the page."""

import re

import pytest

from shop.schools.models import UniformItem
from shop.schools.uniform_list import filter_items, group_by_season, missing_required
from tests.factories import make_product
from tests.helpers.queries import recording_queries
from tests.school_factories import add_item, make_school

CHART = {
    "columns": ["Size", "Height (cm)", "Chest (cm)"],
    "rows": [["130", "125–135", "72"], ["140", "135–145", "77"], ["150", "145–155", "82"]],
}


def item(**fields) -> UniformItem:
    defaults = {"required": True, "grades": [], "gender": "any", "season": "summer"}
    return UniformItem(**{**defaults, **fields})


def test_filter_by_grade_and_gender():
    everyone = item(product_id=1)
    girls = item(product_id=2, gender="girls")
    boys_grade_3 = item(product_id=3, gender="boys", grades=["3"])
    items = [everyone, girls, boys_grade_3]
    assert filter_items(items, None, None) == items
    assert filter_items(items, "1", "girls") == [everyone, girls]
    assert filter_items(items, "3", "boys") == [everyone, boys_grade_3]
    assert filter_items(items, "1", "boys") == [everyone]
    assert filter_items(items, "3", None) == items


def test_grouped_summer_winter_pe_in_list_order():
    pe = item(product_id=1, season="pe")
    winter = item(product_id=2, season="winter")
    summer_a = item(product_id=3, season="summer")
    summer_b = item(product_id=4, season="summer")
    groups = group_by_season([pe, winter, summer_a, summer_b])
    assert [(g.season, g.rows) for g in groups] == [
        ("summer", [summer_a, summer_b]),
        ("winter", [winter]),
        ("pe", [pe]),
    ]
    assert [g.season for g in group_by_season([pe])] == ["pe"]


def test_missing_required_counts_only_what_the_child_needs():
    polo = item(product_id=1)
    skirt = item(product_id=2, gender="girls")
    cap = item(product_id=3, required=False)
    blazer = item(product_id=4, grades=["3"])
    items = [polo, skirt, cap, blazer]
    assert missing_required(items, "1", "girls", set()) == [polo, skirt]
    assert missing_required(items, "1", "boys", {1}) == []
    assert missing_required(items, "3", "boys", {1}) == [blazer]
    assert missing_required(items, "1", "girls", {1, 2, 3}) == []


@pytest.fixture
def school(session):
    school = make_school(session, slug="pine", name="Pine School", grades=("1", "2", "3"))
    add_item(
        session,
        school,
        make_product(session, slug="winter-coat", tiers=((1, 25000),)),
        season="winter",
    )
    add_item(
        session,
        school,
        make_product(
            session,
            slug="summer-polo",
            sizes=("130", "140", "150"),
            size_chart=CHART,
            tiers=((1, 8900), (50, 7900)),
        ),
        quantity_per_child=2,
    )
    add_item(session, school, make_product(session, slug="girls-skirt"), gender="girls")
    add_item(session, school, make_product(session, slug="boys-shorts"), gender="boys")
    add_item(session, school, make_product(session, slug="senior-tie"), grades=["3"])
    add_item(
        session,
        school,
        make_product(session, slug="pe-shirt", tiers=((1, 6000),)),
        season="pe",
        required=False,
        school_price_amount=4500,
    )
    session.commit()
    return school


def shown(response) -> list[str]:
    return re.findall(r'data-testid="uniform-item" data-product="([^"]+)"', response.text)


def test_page_filters_by_grade_and_gender(client, school):
    assert shown(client.get("/schools/pine")) == [
        "summer-polo",
        "girls-skirt",
        "boys-shorts",
        "senior-tie",
        "winter-coat",
        "pe-shirt",
    ]
    assert shown(client.get("/schools/pine?grade=1&gender=girls")) == [
        "summer-polo",
        "girls-skirt",
        "winter-coat",
        "pe-shirt",
    ]
    assert shown(client.get("/schools/pine?grade=3&gender=boys")) == [
        "summer-polo",
        "boys-shorts",
        "senior-tie",
        "winter-coat",
        "pe-shirt",
    ]


def test_unknown_grade_or_gender_shows_everything(client, school):
    response = client.get("/schools/pine?grade=99&gender=robots")
    assert response.status_code == 200
    assert len(shown(response)) == 6


def test_page_groups_by_season_in_order(client, school):
    text = client.get("/schools/pine").text
    positions = [text.index(f'data-testid="season-{s}"') for s in ("summer", "winter", "pe")]
    assert positions == sorted(positions)
    winter = text[positions[1] : positions[2]]
    assert shown_in(winter) == ["winter-coat"]


def shown_in(fragment: str) -> list[str]:
    return re.findall(r'data-testid="uniform-item" data-product="([^"]+)"', fragment)


def test_required_and_optional_marked_with_suggested_quantities(client, school):
    text = client.get("/schools/pine").text
    assert 'data-product="summer-polo" data-required="true"' in text
    assert 'data-product="pe-shirt" data-required="false"' in text
    polo = re.search(r'data-product="summer-polo".*?</article>', text, re.S).group(0)
    assert "Required" in polo
    assert re.search(r'name="qty-\d+"[^>]*value="2"', polo)
    pe = re.search(r'data-product="pe-shirt".*?</article>', text, re.S).group(0)
    assert "Optional" in pe
    assert re.search(r'name="qty-\d+"[^>]*value="0"', pe)


def test_school_price_else_catalogue_tiers_in_the_schools_currency(client, school):
    text = client.get("/schools/pine").text
    pe = re.search(r'data-product="pe-shirt".*?</article>', text, re.S).group(0)
    assert 'data-amount="4500" data-currency="CNY"' in pe
    assert "6000" not in pe
    polo = re.search(r'data-product="summer-polo".*?</article>', text, re.S).group(0)
    assert 'data-amount="8900" data-currency="CNY"' in polo


def test_size_finder_preselects_the_recommended_size(client, school, session):
    text = client.get("/schools/pine?height=143&allowance=3").text
    polo = re.search(r'data-product="summer-polo".*?</article>', text, re.S).group(0)
    assert 'data-testid="recommended-size" data-size="150"' in polo
    assert "Recommended: 150" in polo
    selected = re.findall(r'<option value="\d+" data-size="(\w+)" selected', polo)
    assert selected == ["150"]
    assert 'data-testid="size-chart"' in polo


def test_size_finder_says_when_nothing_is_big_enough(client, school):
    text = client.get("/schools/pine?height=160").text
    polo = re.search(r'data-product="summer-polo".*?</article>', text, re.S).group(0)
    assert 'data-testid="no-size-fits"' in polo
    assert " selected" not in polo


def test_size_finder_bad_height_says_what_is_wrong(client, school):
    response = client.get("/schools/pine?height=tall")
    assert response.status_code == 200
    assert 'data-testid="filter-error"' in response.text
    assert 'data-testid="recommended-size"' not in response.text


def test_delivery_round_is_shown(client, school):
    text = client.get("/schools/pine").text
    assert 'data-testid="school-delivery" data-date="' in text
    assert "Free delivery to the school on" in text


def test_school_page_loads_in_a_fixed_number_of_queries(client, session, school):
    app = client.application
    with recording_queries(app) as few:
        assert client.get("/schools/pine").status_code == 200
    for number in range(8):
        add_item(
            session,
            school,
            make_product(session, sizes=("130", "140"), colours=("navy", "white")),
            season=("summer", "winter", "pe")[number % 3],
        )
    session.commit()
    with recording_queries(app) as many:
        response = client.get("/schools/pine")
    assert len(shown(response)) == 14
    assert len(many) == len(few)
