"""Rules without HTTP: the courier table, and what an address needs per country."""

import pytest

from shop.accounts.addresses import address_problems, normalise_postcode
from shop.checkout import delivery
from shop.money import SUPPORTED_CURRENCIES


@pytest.mark.parametrize(
    ("country", "pieces", "amount"),
    [
        ("CN", 1, 1500),
        ("CN", 20, 1500),
        ("CN", 21, 4500),
        ("CN", 100, 4500),
        ("CN", 101, 12000),
        ("JP", 5, 9000),
        ("SG", 5, 8000),
        ("FR", 5, 16000),
        ("", 5, 16000),
    ],
)
def test_courier_rates_by_country_and_quantity(country, pieces, amount):
    assert delivery.courier_rate(country, pieces, "CNY") == amount


def test_every_zone_and_band_has_a_rate_in_every_currency():
    for bands in delivery.COURIER_RATES.values():
        assert bands[-1][0] is None
        limits = [limit for limit, _ in bands[:-1]]
        assert limits == sorted(limits)
        for _, amounts in bands:
            assert set(amounts) == set(SUPPORTED_CURRENCIES)
            assert all(isinstance(value, int) and value > 0 for value in amounts.values())


def test_pick_up_is_free_and_unknown_methods_are_refused():
    assert delivery.quote("pickup", country="JP", pieces=500, currency="JPY").amount == 0
    assert delivery.quote("courier", country="JP", pieces=5, currency="JPY").amount == 1800
    with pytest.raises(delivery.UnknownDeliveryMethod):
        delivery.quote("drone", country="CN", pieces=1, currency="CNY")


@pytest.mark.parametrize(
    ("country", "region", "postcode", "phone", "problems"),
    [
        ("CN", "广东省", "528000", "13900000000", set()),
        ("CN", "", "52800", "", {"region", "postcode", "phone"}),
        ("JP", "大阪府", "530-0001", "06-1234-5678", set()),
        ("JP", "大阪府", "〒5300001", "06-1234-5678", set()),
        ("JP", "", "53-0001", "06", {"region", "postcode", "phone"}),
        ("SG", "", "238823", "", set()),
        ("SG", "", "S238823", "", {"postcode"}),
        ("US", "", "", "", set()),
        ("OT", "", "", "call me", {"phone"}),
    ],
)
def test_address_rules_per_country(country, region, postcode, phone, problems):
    found = address_problems(country=country, region=region, postcode=postcode, phone=phone)
    assert set(found) == problems


def test_japanese_postcodes_are_written_the_japanese_way():
    assert normalise_postcode("JP", "5300001") == "530-0001"
    assert normalise_postcode("JP", "〒530-0001") == "530-0001"
    assert normalise_postcode("CN", " 528 000 ") == "528000"
