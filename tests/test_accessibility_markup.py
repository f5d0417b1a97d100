"""Accessibility in the markup, without a browser (tests/browser/test_accessibility.py runs
axe-core on the pages): no ``aria-invalid="None"`` (WTForms writes ``None`` as a string),
``aria-invalid="true"`` only on a field with errors, and every side-scrolling table region
named and reachable from the keyboard."""

import re
from pathlib import Path

from tests.accounts.helpers import login, make_user
from tests.order_factories import make_order

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_the_customers_order_page_has_no_aria_invalid_none(client, session):
    customer = make_user(session, email="parent@example.com")
    order = make_order(session, user=customer, email="parent@example.com")
    session.commit()
    assert login(client, email="parent@example.com").status_code == 302

    page = client.get(f"/orders/{order.number}").text
    assert "<textarea" in page  # the message form is there
    assert 'aria-invalid="None"' not in page
    assert "aria-invalid" not in page  # nothing typed wrong yet

    refused = client.post(f"/orders/{order.number}/messages", data={"body": ""})
    assert refused.status_code == 400
    assert 'aria-invalid="true"' in refused.text
    assert 'aria-invalid="None"' not in refused.text


def test_form_fields_say_invalid_only_with_errors(client, session):
    page = client.get("/account/register").text
    assert "aria-invalid" not in page
    refused = client.post("/account/register", data={"email": "not-an-email", "password": "x"})
    assert refused.status_code == 400
    assert 'aria-invalid="true"' in refused.text
    assert 'aria-invalid="None"' not in refused.text


def test_every_side_scrolling_region_is_named_and_focusable():
    found = 0
    for path in TEMPLATES.rglob("*.html"):
        for tag in re.findall(r"<div\b[^>]*\btable-scroll\b[^>]*>", path.read_text()):
            found += 1
            where = f"{path.relative_to(TEMPLATES)}: {tag}"
            assert 'role="region"' in tag, where
            assert 'tabindex="0"' in tag, where
            assert "aria-label=" in tag or "aria-labelledby=" in tag, where
    assert found >= 25
