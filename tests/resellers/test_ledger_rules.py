"""The ledger's arithmetic without a database: commission per line in both money models
(rounding down, JPY), reversals in proportion, the balance buckets, months."""

from datetime import UTC, date, datetime

import pytest

from shop.resellers.ledger_rules import (
    Balance,
    approval_due,
    balances_from,
    line_commission,
    may_pay,
    parse_month,
    recent_months,
    reversal_due,
    reversal_state,
    reversal_target,
)


def referral(line_amount, rate_bps, **kw):
    return line_commission(
        model="referral",
        unit_amount=line_amount,
        quantity=1,
        line_amount=line_amount,
        factory_unit_amount=None,
        rate_bps=rate_bps,
        **kw,
    )


def test_referral_is_the_rate_of_the_line_rounded_down():
    assert referral(8900 * 2, 1000) == 1780
    assert referral(999, 1000) == 99  # 99.9 → 99
    assert referral(5000, 1250) == 625  # JPY: ¥5,000 at 12.5 % is ¥625
    assert referral(7, 1000) == 0  # less than one minor unit earns nothing
    assert referral(5000, 0) == 0


def test_price_model_earns_the_margin_times_quantity():
    def price(unit, factory, quantity):
        return line_commission(
            model="price",
            unit_amount=unit,
            quantity=quantity,
            line_amount=unit * quantity,
            factory_unit_amount=factory,
            rate_bps=1000,
        )

    assert price(6498, 4999, 3) == 1499 * 3
    assert price(4999, None, 3) == 0  # sold at the factory's price: no margin
    assert price(4999, 4999, 3) == 0
    assert price(4000, 4999, 1) == 0  # never negative
    assert price(6500, 5000, 2) == 3000  # JPY


def test_an_unknown_model_earns_nothing():
    assert (
        line_commission(
            model="other",
            unit_amount=100,
            quantity=1,
            line_amount=100,
            factory_unit_amount=50,
            rate_bps=1000,
        )
        == 0
    )


def test_reversals_follow_the_refunded_fraction_and_never_exceed_the_commission():
    assert reversal_target(1000, 0, 10000) == 0
    assert reversal_target(1000, 2500, 10000) == 250
    assert reversal_target(1000, 3333, 10000) == 333
    assert reversal_target(1000, 10000, 10000) == 1000
    assert reversal_target(1000, 20000, 10000) == 1000
    assert reversal_target(1000, 0, 10000, cancelled=True) == 1000
    assert reversal_due(1000, 5000, 10000, already_reversed=250) == 250
    assert reversal_due(1000, 5000, 10000, already_reversed=600) == 0
    # Many small refunds add up to the same as one large one.
    reversed_so_far = 0
    for refunded in range(1, 10001, 7):
        reversed_so_far += reversal_due(999, refunded, 10000, reversed_so_far)
    reversed_so_far += reversal_due(999, 10000, 10000, reversed_so_far)
    assert reversed_so_far == 999


def test_a_reversal_is_pending_with_a_pending_commission_and_approved_after():
    assert reversal_state("pending") == "pending"
    assert reversal_state("approved") == "approved"
    assert reversal_state("paid") == "approved"


def test_balances_keep_the_invariant():
    rows = [
        ("CNY", "commission", "pending", 500, 2),
        ("CNY", "commission", "approved", 1000, 1),
        ("CNY", "reversal", "approved", -300, 1),
        ("CNY", "commission", "paid", 2000, 3),
        ("CNY", "reversal", "pending", -100, 1),
        ("JPY", "commission", "approved", 625, 1),
    ]
    found = balances_from(rows)
    cny = found["CNY"]
    assert (cny.pending, cny.approved, cny.paid, cny.reversed) == (500, 1000, 2000, 400)
    assert cny.payable == 700
    assert cny.total == sum(row[3] for row in rows if row[0] == "CNY") == 3100
    assert cny.line_count == 8
    assert found["JPY"] == Balance("JPY", approved=625, payable=625, line_count=1)


def test_a_payout_needs_a_positive_amount_of_at_least_the_minimum():
    assert may_pay(10000, 10000)
    assert not may_pay(9999, 10000)
    assert not may_pay(0, None)
    assert not may_pay(-5, 0)
    assert may_pay(1, None)


def test_approval_waits_for_the_return_window():
    delivered = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert not approval_due(delivered, 14, datetime(2026, 3, 15, 11, 59, tzinfo=UTC))
    assert approval_due(delivered, 14, datetime(2026, 3, 15, 12, tzinfo=UTC))


@pytest.mark.parametrize(
    "text",
    ["", "2026-13", "2026-00", "2026-1", "26-01", "1999-12", "3000-01", "２０２６-01", "2026/01"],
)
def test_parse_month_refuses_what_is_not_a_month(text):
    assert parse_month(text) is None


def test_parse_month_gives_the_month_and_the_next():
    assert parse_month("2026-12") == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert recent_months(date(2026, 2, 10), 3) == ["2026-02", "2026-01", "2025-12"]
