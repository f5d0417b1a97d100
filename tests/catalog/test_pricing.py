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
