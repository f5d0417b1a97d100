"""A parent in the school shop (issue 16): each item's picture, an access code that
ignores case and spaces, the size finder's room to grow, and the school's colour when the
recommended size does not come in it."""

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from shop.accounts.models import User
from shop.schools import access, sizing
from shop.schools.models import School
from shop.schools.uniform_list import SizeChoice
from tests.at_once import send_at_once
from tests.factories import make_product
from tests.school_factories import add_item, make_school

CHART = {
    "columns": ["Size", "Height (cm)"],
    "rows": [["130", "125–135"], ["140", "135–145"], ["150", "145–155"]],
}


def shown_item(page: str, slug: str) -> str:
    return page.split(f'data-product="{slug}"')[1].split("</article>")[0]


def selected_option(item_html: str) -> str | None:
    match = re.search(r'<option value="(\d+)" data-size="[^"]*" selected', item_html)
    return match.group(1) if match else None


# --- 1. each item's picture --------------------------------------------------------------


def test_each_item_shows_its_products_first_image_thumbnail_with_alt_text(client, session):
    school = make_school(session, slug="pine")
    pictured = make_product(session, slug="pine-polo", name="Pine polo", images=2)
    plain = make_product(session, slug="pine-cap", name="Pine cap")
    add_item(session, school, pictured)
    add_item(session, school, plain)
    session.commit()

    page = client.get("/schools/pine").text
    polo = shown_item(page, "pine-polo")
    image = re.search(r'<img class="uniform-item__picture"[^>]*>', polo)
    assert image is not None
    # The first image, as its thumbnail; its alt text says what it shows.
    assert 'src="/media/products/pine-polo-0-thumb.png"' in image.group(0)
    assert 'alt="Pine polo view 0"' in image.group(0)
    assert 'data-testid="item-picture"' not in shown_item(page, "pine-cap")


def test_an_image_without_alt_text_is_described_by_the_items_name(client, session):
    school = make_school(session, slug="pine")
    product = make_product(session, slug="pine-skirt", name="Pine skirt", images=1)
    product.images[0].alt_text = ""
    add_item(session, school, product)
    session.commit()
    item_html = shown_item(client.get("/schools/pine").text, "pine-skirt")
    assert re.search(r'data-testid="item-picture"[^>]*alt="Pine skirt"', item_html)


# --- 2. the access code ignores case and spaces ------------------------------------------


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [(" ab12 cd", "AB12CD"), ("AB12CD", "AB12CD"), ("ａｂ１２　ｃｄ", "AB12CD"), ("a\tb", "AB")],
)
def test_normalise_code(typed, normalised):
    assert access.normalise_code(typed) == normalised


@pytest.fixture
def staff(session):
    user = User(email="owner@example.com", name="Owner", password_hash="x")
    session.add(user)
    session.flush()
    return user


@pytest.mark.parametrize("typed", ["AB12CD", " ab12 cd", "ab12cd", "Ab 12 Cd "])
def test_a_code_set_now_opens_whatever_its_case_and_spaces(client, session, staff, typed):
    school = make_school(session, slug="oak")
    access.set_access_code(session, staff, school, "ab12 cd")
    session.commit()
    assert client.post("/schools/oak/unlock", data={"code": typed}).status_code == 303
    assert 'data-locked="false"' in client.get("/schools/oak").text


@pytest.mark.parametrize("typed", ["AB12CE", "AB12", "", "   "])
def test_a_wrong_code_stays_wrong(client, session, staff, typed):
    school = make_school(session, slug="oak")
    access.set_access_code(session, staff, school, "AB12CD")
    session.commit()
    response = client.post("/schools/oak/unlock", data={"code": typed})
    assert response.status_code == 400
    assert "That code is not right." in response.text


def test_a_code_set_before_still_opens_and_from_then_on_ignores_case(client, session):
    """Codes hashed as typed (before codes ignored case) keep working; the first right
    try hashes the code again, normalised, so a parent's lower case works afterwards."""
    school = make_school(session, slug="elm", access_code="Elm Tree 7")
    session.commit()
    assert client.post("/schools/elm/unlock", data={"code": "elm tree 7"}).status_code == 400
    assert client.post("/schools/elm/unlock", data={"code": "Elm Tree 7"}).status_code == 303

    session.expire_all()
    stored = session.get(School, school.id).access_code_hash
    assert check_password_hash(stored, "ELMTREE7")
    other = client.application.test_client()
    assert other.post("/schools/elm/unlock", data={"code": "elmtree7"}).status_code == 303


def test_a_legacy_lower_case_code_opens_in_capitals(client, session):
    school = make_school(session, slug="ash", access_code="ash2026")
    session.commit()
    assert client.post("/schools/ash/unlock", data={"code": " ASH 2026"}).status_code == 303
    session.expire_all()
    assert check_password_hash(session.get(School, school.id).access_code_hash, "ASH2026")


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_unlock_sent_at_once_opens_once_and_rehashes_to_one_code(
    app, client, session, copies
):
    school = make_school(session, slug="yew", access_code="Yew-99")
    session.commit()
    answers = send_at_once(app, client, copies, "POST", "/schools/yew/unlock", {"code": "Yew-99"})
    assert [answer.status for answer in answers] == [303] * copies
    with Session(app.extensions["sa_engine"]) as db:
        stored = db.scalar(sa.select(School.access_code_hash).where(School.id == school.id))
    assert stored is not None and check_password_hash(stored, "YEW-99")
    other = app.test_client()
    assert other.post("/schools/yew/unlock", data={"code": " yew-99 "}).status_code == 303


# --- 3. room to grow ---------------------------------------------------------------------


def test_room_to_grow_starts_at_the_rosters_allowance(client, session):
    school = make_school(session, slug="fir")
    add_item(session, school, make_product(session, slug="fir-polo", size_chart=CHART))
    session.commit()
    page = client.get("/schools/fir").text
    assert re.search(r'<option value="5" selected>5 cm</option>', page)
    assert sizing.DEFAULT_ALLOWANCE_CM == 5
    # 132 cm + 5 cm to grow is past 130's 135 cm: the finder says 140, as a roster would.
    page = client.get("/schools/fir?height=132").text
    assert 'data-testid="recommended-size" data-size="140"' in page
    # Choosing no room to grow is still possible.
    page = client.get("/schools/fir?height=132&allowance=0").text
    assert 'data-testid="recommended-size" data-size="130"' in page


# --- 4. the school's colour, never silently another --------------------------------------


def choice(variant_id, size, colour, orderable=True):
    return SizeChoice(variant_id=variant_id, size=size, colour=colour, orderable=orderable)


def test_pick_colour_takes_the_colour_listed_first_in_the_recommended_size():
    choices = [choice(1, "130", "navy"), choice(2, "130", "white"), choice(3, "140", "navy")]
    pick = sizing.pick_colour(choices, "140")
    assert pick == sizing.ColourPick("140", "navy", 3)
    assert not pick.unavailable


def test_pick_colour_names_the_other_colours_when_the_first_is_out_of_stock():
    choices = [
        choice(1, "140", "navy", orderable=False),
        choice(2, "140", "white"),
        choice(3, "140", "grey"),
        choice(4, "140", "sky", orderable=False),
    ]
    pick = sizing.pick_colour(choices, "140")
    assert pick == sizing.ColourPick("140", "navy", None, ("white", "grey"))
    assert pick.unavailable


def test_pick_colour_when_the_first_colour_is_not_made_in_that_size():
    choices = [choice(1, "130", "navy"), choice(2, "140", "white")]
    assert sizing.pick_colour(choices, "140") == sizing.ColourPick("140", "navy", None, ("white",))


def test_pick_colour_has_nothing_to_say_for_one_colour_or_no_size():
    assert sizing.pick_colour([choice(1, "140", "navy", orderable=False)], "140") is None
    assert sizing.pick_colour([choice(1, "140", "navy"), choice(2, "140", "white")], None) is None


def test_the_finder_says_when_the_schools_colour_is_not_available_and_preselects_nothing(
    client, session
):
    school = make_school(session, slug="birch")
    product = make_product(
        session,
        slug="birch-polo",
        sizes=("130", "140"),
        colours=("navy", "white"),
        size_chart=CHART,
    )
    add_item(session, school, product)
    navy_140 = next(v for v in product.variants if (v.size, v.colour) == ("140", "navy"))
    navy_140.on_hand = 0
    session.commit()

    item_html = shown_item(client.get("/schools/birch?height=136&allowance=0").text, "birch-polo")
    assert 'data-testid="recommended-size" data-size="140"' in item_html
    note = item_html.split('data-testid="colour-unavailable"')[1]
    assert "Navy is not available in 140; choose another colour." in note
    assert 'data-testid="colour-choice" data-colour="white"' in note
    assert selected_option(item_html) is None  # not silently white


def test_the_finder_preselects_the_schools_colour_when_it_is_there(client, session):
    school = make_school(session, slug="beech")
    product = make_product(
        session,
        slug="beech-polo",
        sizes=("130", "140"),
        colours=("navy", "white"),
        size_chart=CHART,
    )
    add_item(session, school, product)
    session.commit()
    navy_140 = next(v for v in product.variants if (v.size, v.colour) == ("140", "navy"))
    item_html = shown_item(client.get("/schools/beech?height=136&allowance=0").text, "beech-polo")
    assert 'data-testid="colour-unavailable"' not in item_html
    assert selected_option(item_html) == str(navy_140.id)
