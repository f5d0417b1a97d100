"""Content in each market's words: the product page says when a description is shown in
English, pictures have alt text per language (with the translated name as fallback), and
staff find what is not translated yet with the admin's "Missing Chinese"/"Missing
Japanese" filters."""

import re

import pytest
import sqlalchemy as sa

from shop.admin.products import ProductFilters, filtered_products
from shop.catalog.models import Product, ProductImage
from shop.locales import image_alt
from tests.factories import make_product
from tests.helpers.admin import audits, fresh

NOTICE = 'data-testid="description-untranslated"'


def note(page: str) -> str | None:
    found = re.search(rf"{NOTICE}>(.*?)</p>", page, re.S)
    return found.group(1) if found else None


def test_the_page_says_when_the_description_is_shown_in_english(client, session):
    make_product(
        session,
        slug="polo",
        name="Polo shirt",
        description="Cotton piqué.",
        description_zh="纯棉珠地面料。",
    )
    session.commit()

    ja = client.get("/products/polo?lang=ja").text
    assert note(ja) == "この商品の説明は日本語ではまだご用意できていません。英語で表示しています。"
    assert '<p lang="en">Cotton piqué.</p>' in ja

    zh = client.get("/products/polo?lang=zh_CN").text
    assert note(zh) is None and "纯棉珠地面料。" in zh
    assert note(client.get("/products/polo?lang=en").text) is None


def test_no_note_where_there_is_no_english_description_either(client, session):
    make_product(session, slug="plain", description="")
    session.commit()
    assert note(client.get("/products/plain?lang=ja").text) is None


def test_the_english_note_names_the_language(client, session, app):
    make_product(session, slug="polo", description="Cotton piqué.", description_ja="綿。")
    session.commit()
    zh = client.get("/products/polo?lang=zh_CN").text
    assert note(zh) == "本商品暂无简体中文说明，以下为英文原文。"


# --- alt text ---------------------------------------------------------------------------


def picture_alts(page: str) -> list[str]:
    return re.findall(r'<img[^>]*src="/media/products/[^"]*"[^>]*alt="([^"]*)"', page, re.S)


def test_alt_text_follows_the_language_with_the_translated_name_as_fallback(client, session):
    product = make_product(
        session,
        slug="polo",
        name="Polo shirt",
        name_zh="校服Polo衫",
        name_ja="ポロシャツ",
        images=1,
    )
    image = product.images[0]
    image.alt_text, image.alt_text_ja = "Navy polo, front", "紺のポロシャツ(正面)"
    session.commit()

    assert picture_alts(client.get("/products/polo?lang=en").text) == ["Navy polo, front"]
    assert picture_alts(client.get("/products/polo?lang=ja").text) == ["紺のポロシャツ(正面)"]
    # No Chinese alt text: the Chinese name, not the English alt text.
    assert picture_alts(client.get("/products/polo?lang=zh_CN").text) == ["校服Polo衫"]

    # The listing's cards say the same.
    assert picture_alts(client.get("/products?lang=ja").text) == ["紺のポロシャツ(正面)"]
    assert picture_alts(client.get("/products?lang=zh_CN").text) == ["校服Polo衫"]
    assert picture_alts(client.get("/products?lang=en").text) == ["Navy polo, front"]


@pytest.mark.parametrize(
    ("alts", "names", "locale", "expected"),
    [
        (("Front", None, "正面"), ("Polo", None, "ポロ"), "ja", "正面"),
        (("Front", None, None), ("Polo", None, "ポロ"), "ja", "ポロ"),
        (("Front", None, None), ("Polo", None, None), "ja", "Front"),
        (("", None, None), ("Polo", None, None), "zh_CN", "Polo"),
        (("", "正面", None), ("Polo", None, None), "zh_Hans_CN", "正面"),
        (("", "正面", None), ("Polo", "Polo衫", None), "en", "Polo"),
    ],
)
def test_image_alt_fallbacks(alts, names, locale, expected):
    image = ProductImage(alt_text=alts[0], alt_text_zh=alts[1], alt_text_ja=alts[2])
    product = Product(name=names[0], name_zh=names[1], name_ja=names[2])
    assert image_alt(image, product, locale) == expected


def test_staff_edit_the_alt_text_in_each_language(client, session, sign_in):
    sign_in("manager")
    product = make_product(session, slug="polo", images=1)
    image = product.images[0]
    session.commit()
    edit = client.get(f"/admin/products/{product.id}").text
    assert 'data-testid="alt-zh"' in edit and 'data-testid="alt-ja"' in edit

    response = client.post(
        f"/admin/images/{image.id}/alt",
        data={"alt_text": "Front", "alt_text_zh": " 正面 ", "alt_text_ja": "正面(紺)"},
    )

    assert response.status_code == 302
    saved = fresh(session, ProductImage, image.id)
    assert (saved.alt_text, saved.alt_text_zh, saved.alt_text_ja) == ("Front", "正面", "正面(紺)")
    [entry] = audits(session, "image.alt_text")
    assert entry.after == {"alt_text": "Front", "alt_text_zh": "正面", "alt_text_ja": "正面(紺)"}

    # Sent again: nothing changes, nothing more in the log; an empty field clears one.
    client.post(
        f"/admin/images/{image.id}/alt",
        data={"alt_text": "Front", "alt_text_zh": "正面", "alt_text_ja": "正面(紺)"},
    )
    assert len(audits(session, "image.alt_text")) == 1
    client.post(f"/admin/images/{image.id}/alt", data={"alt_text": "Front", "alt_text_zh": "正面"})
    assert fresh(session, ProductImage, image.id).alt_text_ja is None


# --- the admin's "missing translation" filters --------------------------------------------


def listed(page: str) -> list[str]:
    return re.findall(r'data-testid="product-row" data-slug="([^"]+)"', page)


@pytest.fixture
def half_translated(session):
    full = dict(name_zh="全", name_ja="全", description_zh="全", description_ja="全")
    make_product(session, slug="done", description="Text", **full)
    make_product(session, slug="no-ja-text", description="Text", **{**full, "description_ja": None})
    make_product(session, slug="no-zh-name", description="Text", **{**full, "name_zh": ""})
    make_product(session, slug="nothing-to-say", description="", name_zh="空", name_ja="空")
    make_product(session, slug="english-only", description="Text")
    session.commit()


def test_missing_japanese_and_missing_chinese(client, sign_in, half_translated):
    sign_in("manager")
    missing_ja = client.get("/admin/products?missing=ja").text
    assert sorted(listed(missing_ja)) == ["english-only", "no-ja-text"]
    assert 'value="ja" selected' in missing_ja
    assert sorted(listed(client.get("/admin/products?missing=zh").text)) == [
        "english-only",
        "no-zh-name",
    ]
    everything = listed(client.get("/admin/products?missing=fr").text)
    assert len(everything) == 5


def test_the_filter_reads_its_partial_index(app, session, database_url, half_translated):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's planner; PostgreSQL's picks by cost")
    query = (
        filtered_products(ProductFilters(missing="ja"))
        .with_only_columns(Product.id)
        .order_by(Product.created_at.desc(), Product.id.desc())
        .limit(50)
    )
    sql = str(query.compile(dialect=session.bind.dialect, compile_kwargs={"literal_binds": True}))
    plan = " ".join(str(row[-1]) for row in session.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "ix_product_missing_ja" in plan
