"""The size finder against charts shaped like the catalogue's (shop.demo.catalogue)."""

import pytest

from shop.demo.catalogue import CHARTS
from shop.schools.sizing import (
    Advice,
    advise_size,
    can_advise,
    parse_allowance,
    parse_cm,
    parse_measure,
    recommend_size,
)

# Height ranges with an en dash and a single chest value per size, as the demo's kids' tops.
KIDS_TOP = {
    "columns": ["Size", "Height (cm)", "Chest (cm)", "Length (cm)"],
    "rows": [
        ["110", "105–115", "62", "44"],
        ["120", "115–125", "67", "48"],
        ["130", "125–135", "72", "52"],
        ["140", "135–145", "77", "56"],
        ["150", "145–155", "82", "60"],
    ],
}


def test_parse_measure_reads_ranges_and_single_values():
    assert parse_measure("125–135") == (125, 135)
    assert parse_measure("125-135") == (125, 135)
    assert parse_measure("67") == (67, 67)
    assert parse_measure(72) == (72, 72)
    assert parse_measure("about 70") is None
    assert parse_measure(None) is None


def test_smallest_size_whose_height_range_reaches_the_child():
    assert recommend_size(KIDS_TOP, 128) == "130"
    assert recommend_size(KIDS_TOP, 135) == "130"  # the top of the range still fits
    assert recommend_size(KIDS_TOP, 135.5) == "140"


def test_a_small_child_gets_the_smallest_size():
    assert recommend_size(KIDS_TOP, 95) == "110"


def test_allowance_moves_up_a_size():
    assert recommend_size(KIDS_TOP, 128, allowance_cm=5) == "130"
    assert recommend_size(KIDS_TOP, 132, allowance_cm=5) == "140"


def test_chest_counts_when_given():
    # Tall enough for 130, but a 74 cm chest needs the 140's 77.
    assert recommend_size(KIDS_TOP, 128, chest_cm=74) == "140"
    assert recommend_size(KIDS_TOP, 128, chest_cm=70) == "130"
    # The allowance is added to the chest too: 70 + 3 > 72.
    assert recommend_size(KIDS_TOP, 128, chest_cm=70, allowance_cm=3) == "140"


def test_too_tall_for_the_chart():
    assert advise_size(KIDS_TOP, 160) == Advice(None, "too_big")
    assert recommend_size(KIDS_TOP, 152, allowance_cm=8) is None
    assert recommend_size(KIDS_TOP, 140, chest_cm=90) is None


def test_single_height_values_fit_up_to_the_value():
    coverall = {
        "columns": ["Size", "Chest (cm)", "Height (cm)"],
        "rows": [["S", "108", "165"], ["M", "116", "170"], ["L", "124", "175"]],
    }
    assert recommend_size(coverall, 165) == "S"
    assert recommend_size(coverall, 166) == "M"
    assert recommend_size(coverall, 166, chest_cm=117) == "L"
    assert recommend_size(coverall, 176) is None


def test_chart_without_height_judges_by_chest_only():
    adult_top = CHARTS["adult_top"]  # Size, Chest, Length, Sleeve
    assert adult_top["rows"][1][1] == "110"
    assert recommend_size(adult_top, 170) is None
    assert advise_size(adult_top, 170).reason == "no_measure"
    assert recommend_size(adult_top, 170, chest_cm=106) == adult_top["rows"][1][0]


def test_demo_kids_chart_is_read_as_stored():
    chart = CHARTS["kids_top"]
    assert can_advise(chart)
    # The demo's first kids' size covers heights up to its label + 5.
    first = chart["rows"][0]
    assert recommend_size(chart, int(first[0]) + 5) == first[0]
    assert recommend_size(chart, int(first[0]) + 6) == chart["rows"][1][0]


def test_no_chart_no_advice():
    assert advise_size(None, 130) == Advice(None, "no_measure")
    assert not can_advise({"columns": ["Size", "Waist (cm)"], "rows": [["120", "52"]]})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("140", 140.0),
        (" 140.5 ", 140.5),
        ("140,5", 140.5),
        ("", None),
        ("abc", None),
        ("-5", None),
        ("400", None),
        ("1e3", None),
    ],
)
def test_parse_cm(raw, expected):
    assert parse_cm(raw, (50, 230)) == expected


def test_parse_allowance_only_offers_the_listed_values_and_defaults_to_the_rosters():
    # Nothing chosen (or nonsense) is the same room to grow as a roster order gets.
    assert [parse_allowance(v) for v in ("0", "3", "5", "8", "4", "x", "", None)] == [
        0,
        3,
        5,
        8,
        5,
        5,
        5,
        5,
    ]


def test_the_size_finder_and_the_roster_share_one_room_to_grow():
    from shop.schools import roster, sizing

    assert roster.DEFAULT_ALLOWANCE_CM is sizing.DEFAULT_ALLOWANCE_CM == 5
    assert sizing.DEFAULT_ALLOWANCE_CM in sizing.ALLOWANCES_CM
    assert parse_allowance(None) == sizing.DEFAULT_ALLOWANCE_CM
