from shop.catalog.pricing import (
    NextTier,
    Tier,
    TierRange,
    base_tier,
    lowest_unit_amount,
    next_tier,
    select_tier,
    tier_ranges,
)

TIERS = [Tier(200, 6900), Tier(1, 8900), Tier(50, 7900)]  # deliberately unsorted


def test_select_tier_picks_highest_minimum_not_above_quantity():
    assert select_tier(TIERS, 1) == Tier(1, 8900)
    assert select_tier(TIERS, 49) == Tier(1, 8900)
    assert select_tier(TIERS, 50) == Tier(50, 7900)
    assert select_tier(TIERS, 199) == Tier(50, 7900)
    assert select_tier(TIERS, 200) == Tier(200, 6900)
    assert select_tier(TIERS, 9999) == Tier(200, 6900)


def test_select_tier_below_first_tier_or_without_tiers_is_none():
    assert select_tier([Tier(50, 7900)], 49) is None
    assert select_tier([], 10) is None


def test_next_tier_says_how_many_more_pieces_reach_it():
    assert next_tier(TIERS, 1) == NextTier(Tier(50, 7900), 49)
    assert next_tier(TIERS, 120) == NextTier(Tier(200, 6900), 80)
    assert next_tier(TIERS, 200) is None


def test_tier_ranges_read_like_the_price_table():
    assert tier_ranges(TIERS) == [
        TierRange(1, 49, 8900),
        TierRange(50, 199, 7900),
        TierRange(200, None, 6900),
    ]
    assert tier_ranges([Tier(10, 500)]) == [TierRange(10, None, 500)]
    assert tier_ranges([]) == []


def test_base_tier_and_lowest_amount():
    assert base_tier(TIERS) == Tier(1, 8900)
    assert base_tier([]) is None
    assert lowest_unit_amount(TIERS) == 6900
    assert lowest_unit_amount([]) is None


# The hint under the grid and in the cart ("12 more for ¥45.00 each"): (tiers, quantity)
# → (pieces needed, unit price named) or None. static/js/size_grid.js follows the same
# table (tests/browser/test_size_grid.py types some of these quantities).
HINT_CASES = [
    # Below the first tier's minimum the buyer already pays the first tier's price: the
    # hint names the tier after it, never the price they pay.
    ([Tier(10, 5900), Tier(50, 4500)], 5, (45, 4500)),
    ([Tier(10, 5900)], 5, None),
    # A tier ahead that costs no less is not worth naming; the cheaper one after it is.
    ([Tier(1, 5900), Tier(20, 5900), Tier(50, 4500)], 3, (47, 4500)),
    ([Tier(1, 5900), Tier(20, 6100)], 3, None),
    ([Tier(1, 8900), Tier(50, 7900), Tier(200, 6900)], 0, (50, 7900)),
    ([Tier(1, 8900), Tier(50, 7900), Tier(200, 6900)], 49, (1, 7900)),
    ([Tier(1, 8900), Tier(50, 7900), Tier(200, 6900)], 50, (150, 6900)),
    ([], 3, None),
]


def test_the_hint_names_the_next_cheaper_tier_or_nothing():
    for tiers, quantity, expected in HINT_CASES:
        found = next_tier(tiers, quantity)
        got = (found.pieces_needed, found.tier.unit_amount) if found else None
        assert got == expected, (tiers, quantity)


def test_the_hint_never_names_the_price_already_paid():
    tiers = [Tier(10, 5900), Tier(20, 5900)]
    for quantity in range(0, 25):
        assert next_tier(tiers, quantity) is None, quantity
