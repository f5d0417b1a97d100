"""A white colour swatch must look like a swatch, not like an unticked checkbox: swatches
are chips wider than tall (a checkbox is square, a radio round), and white has a woven
checker inside a dark border."""

import re
from pathlib import Path

from tests.factories import make_product

CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "shop.css"


def last_rule(selector: str) -> str:
    """The declarations of the last rule for exactly ``selector`` (the one that wins)."""
    rules = re.findall(r"(?:^|[}\s])" + re.escape(selector) + r"\s*\{([^}]*)\}", CSS.read_text())
    assert rules, selector
    return rules[-1]


def test_swatches_are_chips_neither_square_nor_round():
    rule = last_rule(".swatch")
    width = float(re.search(r"width:\s*([\d.]+)rem", rule).group(1))
    height = float(re.search(r"height:\s*([\d.]+)rem", rule).group(1))
    assert width > height * 1.3
    assert "50%" not in re.search(r"border-radius:[^;]*", rule).group(0)


def test_white_is_not_an_empty_box():
    white = last_rule(".swatch--white")
    assert "conic-gradient" in white  # a checker, not one flat white
    assert re.search(r"border-color:\s*#[0-5]", white)  # a darker border than the page's


def test_the_admin_shows_colours_by_name_with_a_swatch(client, session, sign_in):
    product = make_product(session, colours=("white", "green"))
    session.commit()
    sign_in("manager")
    page = client.get(f"/admin/products/{product.id}").text
    assert '<span class="swatch swatch--white" aria-hidden="true"></span>White' in page
    assert '<span class="swatch swatch--green" aria-hidden="true"></span>Bottle green' in page
