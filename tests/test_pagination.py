import pytest

from shop.pagination import MAX_PAGE, Page, paginate, parse_page


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, 1),
        ("", 1),
        ("1", 1),
        ("7", 7),
        (" 3 ", 3),
        ("0", 1),
        ("-1", 1),
        ("abc", 1),
        ("2.5", 1),
        ("1e3", 1),
        ("٣", 1),  # a non-ASCII digit
        ("99999999999999999999", MAX_PAGE),
        ("9" * 5000, MAX_PAGE),  # more digits than int() reads
        ("0000002", 2),
    ],
)
def test_parse_page(raw, expected):
    assert parse_page(raw) == expected


def test_paginate_splits_into_pages_of_the_given_size():
    page = paginate(total=50, requested=2, per_page=24)
    assert (page.number, page.pages, page.offset) == (2, 3, 24)
    assert (page.first_item, page.last_item) == (25, 48)
    assert page.has_previous and page.has_next
    assert (page.previous_number, page.next_number) == (1, 3)


def test_paginate_clamps_past_the_end_to_the_last_page():
    page = paginate(total=50, requested=9, per_page=24)
    assert (page.number, page.offset, page.last_item) == (3, 48, 50)
    assert not page.has_next


def test_paginate_empty_has_one_empty_page():
    page = paginate(total=0, requested=5, per_page=24)
    assert (page.number, page.pages, page.first_item, page.last_item) == (1, 1, 0, 0)
    assert not page.has_previous and not page.has_next


def test_window_shows_ends_and_neighbours_with_gaps():
    assert Page(10, 24, 24 * 20).window() == [1, None, 8, 9, 10, 11, 12, None, 20]
    assert Page(1, 24, 24 * 3).window() == [1, 2, 3]
