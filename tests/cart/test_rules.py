import pytest

from shop.cart.rules import (
    InvalidQuantity,
    Problem,
    line_problems,
    parse_quantity,
    product_problems,
)


@pytest.mark.parametrize(("raw", "expected"), [("1", 1), (" 12 ", 12), ("9999", 9999), (3, 3)])
def test_parse_quantity_accepts_whole_numbers(raw, expected):
    assert parse_quantity(raw, allow_zero=False) == expected


@pytest.mark.parametrize("raw", ["", "0", "-1", "1.5", "abc", "10000", "1e3", "٣", None, "+5"])
def test_parse_quantity_refuses_everything_else(raw):
    with pytest.raises(InvalidQuantity):
        parse_quantity(raw, allow_zero=False)


def test_zero_is_allowed_only_where_it_means_remove():
    assert parse_quantity("0", allow_zero=True) == 0


def test_product_problems():
    rules = {"min_order_quantity": 50, "order_increment": 10, "active": True, "has_price": True}
    assert product_problems(50, **rules) == []
    assert product_problems(60, **rules) == []
    assert product_problems(35, **rules) == [
        Problem("below_moq", {"moq": 50, "more": 15}),
        Problem("not_increment", {"increment": 10}),
    ]
    assert product_problems(55, **rules) == [Problem("not_increment", {"increment": 10})]
    assert product_problems(60, **{**rules, "active": False}) == [Problem("inactive")]
    assert product_problems(60, **{**rules, "has_price": False}) == [Problem("no_price")]


def test_line_problems():
    assert line_problems(5, available=5) == []
    assert line_problems(6, available=5) == [Problem("short_stock", {"available": 5})]
    assert line_problems(9999, available=None) == []
