"""A manager lists a new product from the admin — details, a size × colour matrix, price
tiers and an image — activates it, and finds it in the shop with its image and price."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.accounts.helpers import PASSWORD, make_user
from tests.factories import make_category

pytestmark = pytest.mark.browser


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), "navy").save(buffer, "PNG")
    return buffer.getvalue()


def test_manager_lists_a_product_and_sees_it_in_the_shop(live_server, watched, session):
    page, _posted, problems = watched
    make_category(session, slug="shirts", name="Shirts")
    make_user(session, email="manager@example.com", role="manager")
    session.commit()

    page.goto(live_server + "/account/login")
    page.get_by_label("Email").fill("manager@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.goto(live_server + "/admin/products")
    page.get_by_test_id("new-product").click()
    page.get_by_label("Name (English)").fill("Winter school jumper")
    page.get_by_label("Slug (web address)").fill("winter-jumper")
    page.get_by_label("Category").select_option(label="Shirts")
    page.get_by_label("Description (English)").fill("Warm knit.")
    page.get_by_test_id("save-product").click()
    expect(page.get_by_test_id("product-active")).to_have_attribute("data-active", "false")

    # One form, one Save: a name typed in Details, new sizes × colours and the prices.
    page.get_by_label("Name (English)").fill("Winter school jumper (knit)")
    page.get_by_label("Sizes", exact=True).fill("120, 130")
    page.get_by_label("Colours", exact=True).select_option(["navy", "grey"])
    page.get_by_label("CNY row 1 minimum quantity").fill("1")
    page.get_by_label("CNY row 1 unit price").fill("129.00")
    page.get_by_label("CNY row 2 minimum quantity").fill("20")
    page.get_by_label("CNY row 2 unit price").fill("109.50")
    page.get_by_test_id("save-product").click()
    expect(page.get_by_test_id("variant-row")).to_have_count(4)
    expect(page.locator('[data-sku="WINTER-JUMPER-130-GREY"]')).to_have_count(1)
    expect(page.get_by_label("CNY row 2 unit price")).to_have_value("109.50")
    expect(page.get_by_label("Name (English)")).to_have_value("Winter school jumper (knit)")

    page.get_by_label("Image (JPEG, PNG or WebP, up to 5 MB)").set_input_files(
        {"name": "jumper.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    page.locator("#upload-form, [data-testid=upload-form]").get_by_label("Alt text").fill(
        "Navy jumper, front"
    )
    page.get_by_test_id("upload-image").click()
    expect(page.get_by_test_id("image-row")).to_have_count(1)
    page.screenshot(path="/tmp/admin-product-edit.png", full_page=True)

    page.get_by_test_id("toggle-active").click()
    expect(page.get_by_test_id("product-active")).to_have_attribute("data-active", "true")

    page.goto(live_server + "/products/winter-jumper")
    expect(page.get_by_role("heading", name="Winter school jumper (knit)")).to_be_visible()
    image = page.get_by_role("img", name="Navy jumper, front")
    expect(image).to_be_visible()
    assert page.evaluate(
        "() => [...document.images].every((img) => img.complete && img.naturalWidth > 0)"
    )
    tiers = page.get_by_test_id("tier-table").get_by_test_id("price")
    expect(tiers.first).to_have_attribute("data-amount", "12900")
    expect(tiers.nth(1)).to_have_attribute("data-amount", "10950")
    expect(page.get_by_test_id("variant")).to_have_count(4)
    assert problems == []
