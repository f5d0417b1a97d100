from decimal import Decimal

import pytest

from shop.money import UnknownCurrency, format_money, from_decimal, to_decimal


def test_minor_units_by_currency_exponent():
    assert to_decimal(8900, "CNY") == Decimal("89.00")
    assert to_decimal(5000, "JPY") == Decimal("5000")
    assert to_decimal(1999, "USD") == Decimal("19.99")
    assert from_decimal("89.50", "CNY") == 8950
    assert from_decimal("5000", "JPY") == 5000


def test_from_decimal_refuses_sub_minor_precision():
    with pytest.raises(ValueError, match="precision"):
        from_decimal("10.5", "JPY")


def test_unknown_currency_is_refused():
    with pytest.raises(UnknownCurrency):
        to_decimal(100, "XXX")


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        (8900, "CNY", "zh_CN", "¥89.00"),
        (8900, "CNY", "en", "CN¥89.00"),
        (5000, "JPY", "ja", "￥5,000"),
        (5000, "JPY", "en", "¥5,000"),
        (123456, "USD", "en", "$1,234.56"),
        (1250, "SGD", "en", "SGD\xa012.50"),
    ],
)
def test_format_money_uses_babel_for_the_locale(amount, currency, locale, expected):
    assert format_money(amount, currency, locale) == expected
