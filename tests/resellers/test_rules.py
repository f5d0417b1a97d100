"""The rules of a window without a database: handles, links, titles, status changes."""

import pytest

from shop import create_app
from shop.resellers import rules
from shop.resellers.rules import InvalidTransition, available_actions, next_status


@pytest.mark.parametrize("handle", ["ann", "ann-picks", "a1b2c3", "x" * 30, "kitchen-2026", "0-9"])
def test_good_handles(handle):
    assert rules.handle_problem(handle) is None


@pytest.mark.parametrize(
    "handle",
    [
        "",
        "ab",
        "x" * 31,
        "Ann",  # uppercase: clean_handle lowercases before the rule
        "ann picks",
        "ann_picks",
        "-ann",
        "ann-",
        "ann--picks",
        "ännа",
        "ｐｏｌｏ",  # full width
        "ann/picks",
        "ann.picks",
        "a\x00b",
        "admin",
        "api",
        "static",
        "new",
        "edit",
        "settings",
        "login",
        "w",
        "g",
        "products",
        "sourcefront",
    ],
)
def test_bad_handles_are_refused_with_a_reason(handle):
    assert rules.handle_problem(handle)


def test_handles_are_lowercased_and_trimmed():
    assert rules.clean_handle("  Ann-Picks ") == "ann-picks"
    assert rules.clean_handle(None) == ""


def test_every_top_level_segment_of_the_shop_is_reserved(tmp_path):
    """A window named like one of the shop's own paths would shadow or confuse it."""
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    segments = {rule.rule.split("/")[1] for rule in app.url_map.iter_rules()} - {""}
    assert {"account", "admin", "w", "products"} <= segments
    assert segments <= rules.RESERVED_HANDLES
    assert "demo" not in rules.RESERVED_HANDLES  # seed-demo's window is /w/demo


@pytest.mark.parametrize(
    "url",
    ["https://weibo.com/ann", "http://example.com", "https://xiaohongshu.com/user/1?x=2#a"],
)
def test_good_links(url):
    assert rules.link_problem(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,hi",
        "ftp://example.com",
        "weibo.com/ann",
        "https://",
        "https:///path",
        "https://user:pw@example.com",
        "https://exa mple.com",
        "https://[::1",
        "https://example.com:99999999",
        "https://example.com/\x00",
        "https://example.com/" + "x" * 300,
    ],
)
def test_bad_links_are_refused(url):
    assert rules.link_problem(url)


def test_links_split_by_line_and_at_most_five():
    assert rules.split_links(" https://a.example \n\n https://b.example\r\n") == [
        "https://a.example",
        "https://b.example",
    ]
    assert rules.links_problem([f"https://{n}.example" for n in range(5)]) is None
    assert rules.links_problem([f"https://{n}.example" for n in range(6)])
    assert rules.links_problem(["https://a.example", "javascript:x"])


def test_collection_slugs_from_titles():
    assert rules.slug_from_title("Back to school!") == "back-to-school"
    assert rules.slug_from_title("开学季") == ""
    assert rules.slug_from_title("For kitchens 2026") == "for-kitchens-2026"
    assert len(rules.slug_from_title("word " * 40)) <= rules.COLLECTION_SLUG_MAX_LENGTH
    assert rules.free_slug("", set()) == "collection"
    assert rules.free_slug("a", {"a", "a-2"}) == "a-3"


@pytest.mark.parametrize(
    ("current", "action", "expected"),
    [
        ("applied", "approve", "approved"),
        ("applied", "close", "closed"),
        ("approved", "suspend", "suspended"),
        ("approved", "close", "closed"),
        ("suspended", "reinstate", "approved"),
        ("suspended", "close", "closed"),
        ("closed", "reinstate", "approved"),
    ],
)
def test_valid_transitions(current, action, expected):
    assert next_status(current, action) == expected


@pytest.mark.parametrize(
    ("current", "action"),
    [
        ("applied", "suspend"),
        ("applied", "reinstate"),
        ("approved", "approve"),
        ("approved", "reinstate"),
        ("suspended", "approve"),
        ("suspended", "suspend"),
        ("closed", "close"),
        ("closed", "approve"),
        ("closed", "suspend"),
        ("approved", "delete"),
        ("nonsense", "approve"),
    ],
)
def test_invalid_transitions_are_refused(current, action):
    with pytest.raises(InvalidTransition):
        next_status(current, action)


def test_the_actions_offered_are_exactly_the_valid_ones():
    for status in ("applied", "approved", "suspended", "closed"):
        for action in rules.TRANSITIONS:
            valid = action in available_actions(status)
            try:
                next_status(status, action)
            except InvalidTransition:
                assert not valid
            else:
                assert valid
