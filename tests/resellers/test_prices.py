"""Reseller prices, the rules: between the factory's first-tier price and the cap in every
currency the product sells in; the tiers scale with the price, rounded to the minor unit."""

import pytest
import sqlalchemy as sa

from shop.audit.models import AuditEntry
from shop.catalog.pricing import Tier, TierRange
from shop.resellers import picks, prices
from shop.resellers.models import Reseller, ResellerPrice
from shop.resellers.prices import PriceProblem
from tests.helpers.resellers import POLO_PRICES, two_price_windows, use_money_model

# The factory's first-tier prices and the cap at +30 % (programme default), per currency.
FACTORY = POLO_PRICES
CAPS = {"CNY": 11570, "JPY": 2340, "SGD": 2587, "USD": 1625}


def test_scaling_rounds_half_up_to_the_minor_unit():
    assert prices.scale_amount(8900, 8900, 9900) == 9900
    assert prices.scale_amount(7900, 8900, 9900) == 8788  # 8787.64
    assert prices.scale_amount(6900, 8900, 9900) == 7675  # 7675.28
    assert prices.scale_amount(3, 2, 3) == 5  # 4.5 rounds up


def test_tiers_scale_with_the_price_in_yen_too():
    cny = [Tier(200, 6900), Tier(1, 8900), Tier(50, 7900)]
    assert prices.scale_tiers(cny, 9900) == [Tier(1, 9900), Tier(50, 8788), Tier(200, 7675)]
    jpy = [Tier(1, 1800), Tier(10, 1500)]
    assert prices.scale_tiers(jpy, 2000) == [Tier(1, 2000), Tier(10, 1667)]  # ¥1666.67
    assert prices.scale_tiers([], 2000) == []


def test_a_product_pages_tier_table_scales_alike():
    table = [TierRange(1, 49, 8900), TierRange(50, None, 7900)]
    assert prices.scale_ranges(table, 9900) == [TierRange(1, 49, 9900), TierRange(50, None, 8788)]


@pytest.mark.parametrize("currency", sorted(FACTORY))
def test_the_price_must_lie_between_the_factory_price_and_the_cap(currency):
    factory, cap = FACTORY[currency], CAPS[currency]
    assert prices.price_problem(factory, currency, factory, 3000) is None
    assert prices.price_problem(cap, currency, factory, 3000) is None
    assert prices.price_problem(cap + 1, currency, factory, 3000) == PriceProblem(
        currency, "above", cap
    )
    assert prices.price_problem(factory - 1, currency, factory, 3000) == PriceProblem(
        currency, "below", factory
    )


def test_a_saved_price_stays_inside_todays_limits():
    assert prices.effective_amount(9900, 8900, 3000) == 9900
    assert prices.effective_amount(9900, 10000, 3000) == 10000  # the factory raised its price
    assert prices.effective_amount(11000, 8900, 1000) == 9790  # the cap came down


# --- the service -------------------------------------------------------------------------


@pytest.fixture
def priced(session):
    world = two_price_windows(session)
    return {**world, "ann": world["ann"].id, "bo": world["bo"].id}


def saved(session) -> dict[str, int]:
    session.expire_all()
    return {row.currency: row.unit_amount for row in session.scalars(sa.select(ResellerPrice))}


def set_prices(session, world, amounts, product="polo"):
    ann = session.get(Reseller, world["ann"])
    prices.set_prices(session, ann, world[product], amounts, actor_user_id=ann.user_id)


def test_prices_are_saved_in_every_currency_and_audited(session, priced):
    set_prices(session, priced, {"CNY": 9900, "JPY": 2000, "SGD": 2200, "USD": 1500})
    session.commit()
    assert saved(session) == {"CNY": 9900, "JPY": 2000, "SGD": 2200, "USD": 1500}
    set_prices(session, priced, {"CNY": None, "JPY": 2340})
    session.commit()
    assert saved(session) == {"JPY": 2340, "SGD": 2200, "USD": 1500}
    actions = session.scalars(sa.select(AuditEntry.action)).all()
    assert actions.count("reseller.prices") == 2


def test_above_the_cap_is_refused_in_every_currency_and_nothing_is_saved(session, priced):
    with pytest.raises(prices.PricesRefused) as refused:
        set_prices(session, priced, {c: CAPS[c] + 1 for c in FACTORY})
    assert refused.value.problems == [PriceProblem(c, "above", CAPS[c]) for c in sorted(FACTORY)]
    session.rollback()
    assert saved(session) == {}


def test_one_currency_out_of_bounds_refuses_the_whole_form(session, priced):
    with pytest.raises(prices.PricesRefused) as refused:
        set_prices(session, priced, {"CNY": 9900, "JPY": 1799})
    assert refused.value.problems == [PriceProblem("JPY", "below", 1800)]
    session.rollback()
    assert saved(session) == {}


def test_a_currency_the_product_does_not_sell_in_is_refused(session, priced):
    with pytest.raises(prices.UnknownCurrency):
        set_prices(session, priced, {"CNY": 9900, "EUR": 1000})


def test_another_resellers_product_is_refused(session, priced):
    with pytest.raises(picks.PickGone):
        set_prices(session, priced, {"CNY": 9000}, product="skirt")


def test_a_referral_window_sets_no_prices(session, priced):
    use_money_model(session, session.get(Reseller, priced["ann"]), "referral")
    with pytest.raises(prices.NotPriceModel):
        set_prices(session, priced, {"CNY": 9900})


def test_a_suspended_window_sets_no_prices(session, priced):
    session.get(Reseller, priced["ann"]).status = "suspended"
    session.commit()
    with pytest.raises(picks.NotApproved):
        set_prices(session, priced, {"CNY": 9900})


def test_the_form_lists_factory_price_cap_and_own_price(session, priced):
    set_prices(session, priced, {"USD": 1500})
    session.commit()
    _page, rows = prices.list_priced_picks(session, session.get(Reseller, priced["ann"]), 1)
    [polo] = rows
    assert [
        (c.currency, c.factory_amount, c.cap_amount, c.reseller_amount) for c in polo.currencies
    ] == [
        ("CNY", 8900, 11570, None),
        ("JPY", 1800, 2340, None),
        ("SGD", 1990, 2587, None),
        ("USD", 1250, 1625, 1500),
    ]
