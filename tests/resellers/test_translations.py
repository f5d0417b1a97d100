"""Every string of the windows' code and templates has its Chinese and Japanese words, and
the pages show them."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from shop.i18n_catalogs import TRANSLATIONS_DIR
from tests.accounts.helpers import login, make_user
from tests.factories import make_product
from tests.helpers.resellers import add_picks, make_reseller
from tests.helpers.translations import extracted_message_ids

ROOT = Path(__file__).resolve().parents[2]


def window_message_ids() -> set[str]:
    """The messages written in the windows' own files."""
    from babel.messages.extract import extract_from_dir

    ids = set()
    for folder, method, pattern in (
        ("shop/resellers", "python", "**.py"),
        ("templates/resellers", "jinja2", "**.html"),
        ("templates/admin/resellers", "jinja2", "**.html"),
    ):
        for _f, _l, message, _c, _ctx in extract_from_dir(
            ROOT / folder,
            method_map=[(pattern, method)],
            keywords={"_": None, "gettext": None, "_l": None, "lazy_gettext": None},
        ):
            ids.add(message if isinstance(message, str) else message[0])
    return ids


@pytest.mark.parametrize("language", ["zh_Hans_CN", "ja"])
def test_every_window_message_is_translated(language):
    wanted = window_message_ids()
    assert len(wanted) > 80 and wanted <= extracted_message_ids()
    with (TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        translated = {m.id: m.string for m in read_po(po) if m.id and m.string}
    missing = sorted(message for message in wanted if message not in translated)
    assert missing == []


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh_CN", ["开设小店", "我的小店", "全部精选", "已批准"]),
        ("ja", ["ショップを開く", "マイショップ", "すべてのおすすめ", "承認済み"]),
    ],
)
def test_the_pages_speak_the_visitors_language(client, session, lang, words):
    make_user(session, email="new@example.com")
    reseller = make_reseller(session)
    add_picks(session, reseller, [make_product(session, slug="polo")], notes=["好"])
    from shop.resellers import picks

    picks.create_collection(session, reseller, "School", "school")
    session.commit()
    login(client, email="new@example.com")
    text = client.get(f"/account/window?lang={lang}").text
    text += client.get(f"/w/ann-picks?lang={lang}").text
    login(client, email="reseller@example.com")
    text += client.get(f"/account/window?lang={lang}").text
    for word in words:
        assert word in text, word
