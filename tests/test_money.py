from decimal import Decimal

import pytest

from shop.money import (
    UnknownCurrency,
    currency_symbol,
    format_money,
    from_decimal,
    tax_included_note,
    to_decimal,
)


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


LOCALES = ("en", "en_GB", "zh_CN", "zh_Hans_CN", "ja")


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        (8900, "CNY", "zh_CN", "¥89.00"),
        (8900, "CNY", "zh_Hans_CN", "¥89.00"),
        (8900, "CNY", "en", "CN¥89.00"),
        (4900, "CNY", "ja", "CN¥49.00"),
        (5000, "JPY", "ja", "¥5,000"),
        (5000, "JPY", "en", "¥5,000"),
        (480000, "JPY", "zh_CN", "¥480,000"),
        (123456, "USD", "en", "US$1,234.56"),
        (123456, "USD", "ja", "US$1,234.56"),
        (1250, "SGD", "en", "S$12.50"),
        (1250, "SGD", "zh_CN", "S$12.50"),
        (1250, "SGD", "ja", "S$12.50"),
        (-4900, "CNY", "en", "-CN¥49.00"),
    ],
)
def test_format_money_writes_each_currency_in_its_own_symbol(amount, currency, locale, expected):
    assert format_money(amount, currency, locale) == expected


@pytest.mark.parametrize("locale", LOCALES)
def test_sgd_is_s_dollar_and_usd_never_a_bare_dollar_in_any_language(locale):
    sgd, usd = format_money(1250, "SGD", locale), format_money(1250, "USD", locale)
    assert sgd.startswith("S$") and "SGD" not in sgd
    assert usd.startswith("US$")
    assert "$" not in usd.replace("US$", "") and "$" not in sgd.replace("S$", "")


@pytest.mark.parametrize("locale", LOCALES)
def test_yen_is_half_width_without_decimals_and_the_yuan_never_reads_元(locale):
    assert format_money(4800, "JPY", locale) == "¥4,800"
    assert "元" not in format_money(4900, "CNY", locale)
    assert "JP" not in format_money(4800, "JPY", locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_where_currencies_mix_the_yuan_is_cn_yen_in_every_language(locale):
    assert format_money(4900, "CNY", locale, distinct=True) == "CN¥49.00"
    assert format_money(4800, "JPY", locale, distinct=True) == "¥4,800"


def test_only_yen_prices_carry_the_tax_included_note():
    assert tax_included_note("JPY")
    assert not any(tax_included_note(code) for code in ("CNY", "SGD", "USD"))


def test_currency_symbol_refuses_an_unknown_currency():
    with pytest.raises(UnknownCurrency):
        currency_symbol("XXX")
