"""The checkout details form (issue 16): the school's country for a school order, only a
name and phone for pick-up or delivery to school, required fields marked, and GOV.UK's
error summary on a failed submit."""

import re

import pytest

from tests.checkout_helpers import COURIER_CN, add_to_cart
from tests.factories import make_product
from tests.school_factories import add_item, make_school

ADDRESS_ONLY = ("country", "region", "city", "line1", "line2", "postcode")


@pytest.fixture
def polo(session):
    product = make_product(session, slug="polo", name="Summer polo", on_hand=300)
    session.commit()
    return product


def school_kit_in_cart(client, session, *, country="SG", currency="SGD"):
    school = make_school(session, slug="marina", country=country, currency=currency)
    product = make_product(session, slug="marina-polo", currency=currency, tiers=((1, 2500),))
    item = add_item(session, school, product)
    session.commit()
    data = {
        "student_name": "Tan Wei",
        "class_name": "P2A",
        f"variant-{item.id}": product.variants[0].id,
        f"qty-{item.id}": "1",
    }
    assert client.post("/schools/marina/kit", data=data).status_code == 303
    return school


def selected_country(page: str) -> str | None:
    select = page.split('<select id="country"')[1].split("</select>")[0]
    match = re.search(r'<option value="([A-Z]{2})" selected>', select)
    return match.group(1) if match else None


def test_a_school_order_starts_with_the_schools_country(client, session):
    school_kit_in_cart(client, session, country="SG")
    assert selected_country(client.get("/checkout").text) == "SG"


def test_a_retail_order_has_no_school_country_to_start_from(client, session, polo):
    add_to_cart(client, polo.variants[0].id, 1)
    assert selected_country(client.get("/checkout").text) is None  # the list's first


def test_pick_up_and_school_delivery_ask_for_two_fields_the_address_is_apart(client, session):
    school_kit_in_cart(client, session)
    page = client.get("/checkout").text
    receives = page.split('data-testid="who-receives"')[1].split("</fieldset>")[0]
    before_address, address = receives.split('data-testid="address-only"')
    # Outside the courier's address: who collects, and a phone to reach them.
    assert re.findall(r'<(?:input|select|textarea)[^>]*\bname="(\w+)"', before_address) == [
        "recipient",
        "phone",
    ]
    assert tuple(re.findall(r'<(?:input|select)[^>]*\bname="(\w+)"', address)) == ADDRESS_ONLY


def test_the_stylesheet_hides_the_address_for_pick_up_and_school_delivery(app):
    with open(app.static_folder + "/css/shop.css", encoding="utf-8") as stylesheet:
        text = stylesheet.read()
    for method in ("pickup", "school"):
        assert (
            f".checkout-form:has(input[name=delivery_method][value={method}]:checked) .address-only"
            in text
        )


def test_required_fields_are_marked_for_eyes_and_for_screen_readers(client, polo):
    add_to_cart(client, polo.variants[0].id, 1)
    page = client.get("/checkout").text
    for name in ("email", "recipient", "city", "line1"):
        tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page).group(0)
        assert " required" in tag and 'aria-required="true"' in tag, tag
        label = page.split(f'<label for="{name}">')[1].split("</span>")[0]
        assert label.endswith('</label> <span class="field__required" aria-hidden="true">*')
    for name in ("phone", "region", "line2", "postcode"):
        tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page).group(0)
        assert "required" not in tag, tag
    assert "aria-invalid" not in page  # nothing is wrong yet
    assert "Fields marked * are required." in page


def test_a_failed_submit_leads_with_an_error_summary_linking_each_field(client, polo):
    add_to_cart(client, polo.variants[0].id, 1)
    response = client.post(
        "/checkout", data={**COURIER_CN, "email": "not-an-email", "city": "", "postcode": "1"}
    )
    assert response.status_code == 400
    page = response.text
    form = page.split('data-testid="checkout-form"')[1]
    summary_tag = re.search(r'<div class="error-summary"[^>]*>', form).group(0)
    for attribute in ('role="alert"', 'tabindex="-1"', "autofocus"):
        assert attribute in summary_tag
    # The summary comes first in the form, before any field.
    assert form.index("error-summary") < form.index('name="email"')
    summary = form.split(summary_tag)[1].split("</div>")[0]
    links = re.findall(r'<a href="#([\w-]+)" data-testid="error-summary-link">', summary)
    assert links == ["email", "city", "postcode"]
    for field_id in links:
        assert f'id="{field_id}"' in page
        tag = re.search(rf'<input[^>]*\bid="{field_id}"[^>]*>', page).group(0)
        assert 'aria-invalid="true"' in tag
        assert re.search(rf'aria-describedby="[^"]*\b{field_id}-error\b', tag), tag
        assert f'id="{field_id}-error"' in page
    assert 'aria-invalid="None"' not in page and '="None"' not in page
    # Fields without errors are not marked invalid.
    recipient = re.search(r'<input[^>]*\bname="recipient"[^>]*>', page).group(0)
    assert "aria-invalid" not in recipient


def test_a_bad_delivery_method_links_to_the_first_choice(client, polo):
    add_to_cart(client, polo.variants[0].id, 1)
    page = client.post("/checkout", data={**COURIER_CN, "delivery_method": "drone"}).text
    assert '<a href="#delivery_method-0" data-testid="error-summary-link">' in page
    assert 'id="delivery_method-0"' in page
