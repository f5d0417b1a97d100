"""The demo catalogue speaks every market's language: each product (the school-only ones
too) has a name and a description in English, Chinese and Japanese."""

import pytest

from shop.demo.catalogue import CATEGORIES, PRODUCTS, image_plan
from shop.demo.schools import SCHOOLS

DEMO_PRODUCTS = [*PRODUCTS, *(school.school_product for school in SCHOOLS if school.school_product)]


def test_there_are_fifty_one_demo_products():
    # Fifty, and the made-to-order class polo the demo group buy sells.
    assert len(DEMO_PRODUCTS) == 51
    assert len({spec.slug for spec in DEMO_PRODUCTS}) == 51


@pytest.mark.parametrize("spec", DEMO_PRODUCTS, ids=lambda spec: spec.slug)
def test_every_demo_product_has_its_name_and_description_in_three_languages(spec):
    for field in ("name", "name_zh", "name_ja", "description", "description_zh", "description_ja"):
        value = getattr(spec, field)
        assert isinstance(value, str) and value.strip(), (spec.slug, field)
    # Written in the language, not copied from English.
    assert spec.description_ja != spec.description
    assert any("\u3040" <= ch <= "\u30ff" for ch in spec.description_ja), spec.slug  # kana
    assert any("\u4e00" <= ch <= "\u9fff" for ch in spec.description_zh), spec.slug


def test_every_demo_category_is_named_in_three_languages():
    for category in CATEGORIES:
        assert category.name and category.name_zh and category.name_ja, category.slug


@pytest.mark.parametrize("spec", DEMO_PRODUCTS[:5], ids=lambda spec: spec.slug)
def test_demo_pictures_are_described_in_three_languages(spec):
    for picture in image_plan(spec):
        assert spec.name in picture["alt"] or spec.name[1:] in picture["alt"]
        assert picture["alt_zh"].startswith(spec.name_zh)
        assert picture["alt_ja"].startswith(spec.name_ja)
