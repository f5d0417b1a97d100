"""The interface speaks English, Chinese and Japanese, and every catalogue is complete."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from shop.i18n_catalogs import TRANSLATIONS_DIR
from tests.factories import make_product
from tests.helpers.translations import extracted_message_ids


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "Factory prices"), ("zh_CN", "出厂价"), ("ja", "工場直販価格")],
)
def test_interface_strings_follow_the_language(client, session, lang, expected):
    make_product(session, slug="polo")
    session.commit()
    assert expected in client.get(f"/products/polo?lang={lang}").text


def test_error_pages_are_translated(client):
    response = client.get("/nowhere?lang=zh_CN")
    assert response.status_code == 404
    assert "找不到页面" in response.text


@pytest.mark.parametrize("po_path", sorted(Path(TRANSLATIONS_DIR).glob("*/LC_MESSAGES/*.po")))
def test_every_message_is_translated_with_the_same_placeholders(po_path):
    import re

    placeholder = re.compile(r"%\((\w+)\)[sd]")
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file)
    for message in catalog:
        if not message.id:
            continue
        # A plural entry has a tuple of forms on both sides; each translated form must
        # carry the placeholders of the English plural.
        source = message.id[-1] if message.pluralizable else message.id
        forms = message.string if message.pluralizable else (message.string,)
        assert forms and all(forms), f"{po_path.parent.parent.name}: untranslated {message.id!r}"
        assert not message.fuzzy, f"fuzzy: {message.id!r}"
        for form in forms:
            assert sorted(placeholder.findall(form)) == sorted(placeholder.findall(source)), (
                message.id
            )


def test_catalogues_cover_every_message_in_the_code():
    """Fails when a new string was added without ``make translations-update`` + translating."""
    template_ids = extracted_message_ids()
    assert len(template_ids) > 50
    for po_path in TRANSLATIONS_DIR.glob("*/LC_MESSAGES/messages.po"):
        with po_path.open("rb") as po_file:
            ids = {
                message.id[0] if message.pluralizable else message.id
                for message in read_po(po_file)
                if message.id
            }
        assert template_ids <= ids, po_path


def test_product_cards_are_translated_too(client, session):
    make_product(session, slug="polo", tiers=((1, 8900), (50, 7900)))
    session.commit()
    text = client.get("/products?lang=zh_CN").text
    assert "现货" in text and "批量低至 ¥79.00" in text


@pytest.mark.parametrize("po_path", sorted(Path(TRANSLATIONS_DIR).glob("*/LC_MESSAGES/*.po")))
def test_template_translations_survive_the_percent_formatting(po_path):
    """A template's ``_()`` always %-formats (as Jinja's gettext does): a translation of a
    template message must format wherever its English does, so a bare ``%`` in it is
    written ``%%`` ("30%" → "30%%")."""
    in_templates = extracted_message_ids(folders=("templates",))
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file)
    broken = []
    for message in catalog:
        if not message.id or message.pluralizable or message.id not in in_templates:
            continue
        values = {name: "x" for name in re.findall(r"%\((\w+)\)", message.id)}
        try:
            message.id % values
        except (ValueError, TypeError, KeyError):
            continue  # the English does not format either: not a template string to check
        try:
            message.string % values
        except (ValueError, TypeError, KeyError):
            broken.append(message.id)
    assert broken == []


@pytest.mark.parametrize(
    "header",
    [
        "",
        "ja",
        "zh-CN,zh;q=0.9,en;q=0.8",
        "fr-FR,fr;q=0.9",
        "en-GB,en;q=0.9",
        "de, ja;q=0.5",
        "zh-Hans-CN",
        "en-US;q=0.1, ja;q=0.2",
        "*",
        "x" * 300,
    ],
)
def test_the_browsers_language_is_werkzeugs_best_match(app, header):
    """``language_for`` and ``format_locale_for`` keep their answer per header; it is what
    werkzeug's ``accept_languages`` gives (and ``?lang=`` and the session still win)."""
    from flask import request, session

    from shop.i18n import english_locale, format_locale_for, language_for
    from shop.locales import LANGUAGES

    with app.test_request_context("/", headers={"Accept-Language": header}):
        expected = request.accept_languages.best_match(list(LANGUAGES)) or "en"
        for _ in range(2):  # worked out, then kept
            assert language_for(request, session) == expected
        english = english_locale([value for value, _q in request.accept_languages])
        assert format_locale_for(request, session) == (english if expected == "en" else expected)
        session["locale"] = "ja"
        assert language_for(request, session) == "ja"
    with app.test_request_context("/?lang=zh_CN", headers={"Accept-Language": header}):
        assert language_for(request, session) == "zh_CN"


def test_wtforms_messages_follow_the_language_and_are_read_once(app, monkeypatch):
    """Flask-WTF reads WTForms' catalogue on every request that makes a form unless the
    request holds one; the shop's request holds one read once per language."""
    from babel import support
    from flask_babel import force_locale
    from wtforms.i18n import messages_path

    from shop.checkout.forms import CheckoutForm
    from shop.i18n import wtforms_catalog

    loads = []
    real_load = support.Translations.load
    monkeypatch.setattr(
        support.Translations,
        "load",
        lambda *args, **kwargs: loads.append(args) or real_load(*args, **kwargs),
    )
    wtforms_catalog.cache_clear()
    required = {}
    for language in ("zh", "ja", "zh", "en"):
        with (
            app.test_request_context("/checkout", method="POST", data={"email": ""}),
            force_locale(language),
        ):
            form = CheckoutForm(meta={"csrf": False})
            form.validate()
            required[language] = form.email.errors[0]

    expected = real_load(messages_path(), ["zh"], domain="wtforms").ugettext(
        "This field is required."
    )
    assert required["zh"] == expected != "This field is required."
    assert required["ja"] not in (required["zh"], "This field is required.")
    assert required["en"] == "This field is required."
    assert len(loads) == 3  # zh, ja and en, each once
