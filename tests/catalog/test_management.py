"""The rules of managing the catalogue, called without a request: creating and editing
products, putting one on sale, editing a variant, duplicating, price tiers, generating
variants and the category tree. Each change writes its audit row; a refused change leaves
the data and the audit log as they were."""

import pytest
import sqlalchemy as sa

from shop.audit.models import AuditEntry
from shop.catalog import management
from shop.catalog.models import Category, Product
from tests.accounts.helpers import make_user
from tests.factories import make_category, make_product


@pytest.fixture
def manager(session):
    return make_user(session, email="manager@factory.example", role="manager")


def actions(session) -> list[str]:
    return list(session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def product_values(category: Category, **changes) -> dict:
    return {
        "name": "Polo shirt",
        "description": "Cotton piqué.",
        "name_zh": "",
        "name_ja": "ポロシャツ",
        "description_zh": "",
        "description_ja": "",
        "slug": "polo",
        "category_id": category.id,
        "made_to_order": False,
        "lead_time_days": None,
        "min_order_quantity": 1,
        "order_increment": 1,
        "active": False,
        "featured": False,
        "school_id": None,
        **changes,
    }


# --- products ----------------------------------------------------------------------------


def test_a_product_is_created_with_its_audit_row(session, manager):
    category = make_category(session)

    product = management.create_product(session, manager, product_values(category))

    assert (product.slug, product.name, product.name_zh, product.name_ja) == (
        "polo",
        "Polo shirt",
        None,
        "ポロシャツ",
    )
    assert "polo shirt" in product.search_text.lower()
    assert actions(session) == ["product.create"]


def test_a_taken_slug_is_refused_on_create_and_update(session, manager):
    category = make_category(session)
    make_product(session, slug="polo", category=category)
    other = make_product(session, slug="skirt", category=category)

    with pytest.raises(management.SlugTaken):
        management.create_product(session, manager, product_values(category))
    with pytest.raises(management.SlugTaken):
        management.update_product(session, manager, other, product_values(category))

    assert session.scalar(sa.select(sa.func.count()).select_from(Product)) == 2
    assert other.slug == "skirt"
    assert actions(session) == []


def test_an_update_records_only_what_changed(session, manager):
    category = make_category(session)
    product = management.create_product(session, manager, product_values(category))

    changed = management.update_product(
        session, manager, product, product_values(category, name="Polo", featured=True)
    )
    unchanged = management.update_product(
        session, manager, product, product_values(category, name="Polo", featured=True)
    )

    assert changed == ["name", "featured"]
    assert unchanged == []
    assert actions(session) == ["product.create", "product.update"]


def test_set_active_changes_and_records_only_a_change(session, manager):
    product = make_product(session, active=False)

    assert management.set_active(session, manager, product, True) is True
    assert management.set_active(session, manager, product, True) is False
    assert management.set_active(session, manager, product, False) is True

    assert product.active is False
    assert actions(session) == ["product.activate", "product.deactivate"]


def test_a_duplicate_is_audited_with_its_source(session, manager):
    original = make_product(session, slug="polo", active=True)

    copy = management.duplicate_product(session, manager, original)

    assert (copy.slug, copy.active) == ("polo-copy", False)
    entry = session.scalar(sa.select(AuditEntry))
    assert (entry.action, entry.target_id, entry.before["source_slug"]) == (
        "product.duplicate",
        str(copy.id),
        "polo",
    )


def test_replacing_tiers_with_the_same_ladder_records_nothing(session, manager):
    product = make_product(session, tiers=((1, 8900),))

    assert management.replace_tiers(session, manager, product, {"CNY": [(1, 8900)]}) is False
    assert management.replace_tiers(session, manager, product, {"CNY": [(1, 7900)]}) is True

    assert management.tiers_snapshot(product) == {"CNY": [[1, 7900]]}
    assert actions(session) == ["product.tiers"]


# --- variants ----------------------------------------------------------------------------


def test_a_variant_is_saved_with_its_sku_upper_case(session, manager):
    product = make_product(session, sizes=("130",), colours=("navy",))
    [variant] = product.variants

    changed = management.update_variant(
        session,
        manager,
        variant,
        {"sku": " polo-130-navy ", "low_stock_threshold": 4, "for_sale": 0},
    )

    assert changed is True
    assert (variant.sku, variant.low_stock_threshold, variant.for_sale) == (
        "POLO-130-NAVY",
        4,
        False,
    )
    assert actions(session) == ["variant.update"]


def test_a_variant_sku_clash_is_refused_and_nothing_changes(session, manager):
    product = make_product(session, sizes=("130", "140"), colours=("navy",))
    first, second = product.variants
    taken, kept = first.sku, (second.sku, second.low_stock_threshold, second.for_sale)

    with pytest.raises(management.SkuTaken):
        management.update_variant(
            session,
            manager,
            second,
            {"sku": taken.lower(), "low_stock_threshold": 9, "for_sale": False},
        )

    assert (second.sku, second.low_stock_threshold, second.for_sale) == kept
    assert actions(session) == []


def test_saving_a_variant_unchanged_records_nothing(session, manager):
    product = make_product(session)
    [variant] = product.variants
    values = {
        "sku": variant.sku,
        "low_stock_threshold": variant.low_stock_threshold,
        "for_sale": variant.for_sale,
    }

    assert management.update_variant(session, manager, variant, values) is False
    assert actions(session) == []


def test_generated_variants_are_audited_once(session, manager):
    product = make_product(session, slug="polo", sizes=("130",), colours=("navy",))

    added = management.generate_variants(
        session, manager, product, ["130", "140"], ["navy"], "{slug}-{size}-{colour}"
    )
    again = management.generate_variants(
        session, manager, product, ["130", "140"], ["navy"], "{slug}-{size}-{colour}"
    )

    assert (added, again) == (["POLO-140-NAVY"], [])
    assert actions(session) == ["variant.generate"]


# --- categories --------------------------------------------------------------------------


def category_values(**changes) -> dict:
    return {
        "name": "Shirts",
        "name_zh": "",
        "name_ja": "",
        "slug": "shirts",
        "parent_id": 0,
        **changes,
    }


def test_a_category_is_created_at_the_top_level(session, manager):
    category = management.create_category(session, manager, category_values())

    assert (category.slug, category.name_zh, category.parent_id) == ("shirts", None, None)
    assert actions(session) == ["category.create"]


def test_a_taken_category_slug_is_refused(session, manager):
    make_category(session, slug="shirts")
    other = make_category(session, slug="skirts")

    with pytest.raises(management.CategorySlugTaken):
        management.create_category(session, manager, category_values())
    with pytest.raises(management.CategorySlugTaken):
        management.update_category(session, manager, other, category_values())

    assert other.slug == "skirts"
    assert actions(session) == []


def test_a_category_cannot_move_under_its_own_subcategory(session, manager):
    top = make_category(session, slug="uniform")
    child = make_category(session, slug="shirts", parent=top)

    with pytest.raises(management.CategoryLoop):
        management.update_category(
            session, manager, top, category_values(slug="uniform", parent_id=child.id)
        )

    assert top.parent_id is None
    assert actions(session) == []


def test_a_category_update_records_only_a_change(session, manager):
    top = make_category(session, slug="uniform")
    category = make_category(session, slug="shirts", name="Shirts")

    assert management.update_category(session, manager, category, category_values()) is False
    assert management.update_category(session, manager, category, category_values(parent_id=top.id))

    assert category.parent_id == top.id
    assert actions(session) == ["category.update"]


@pytest.mark.parametrize("content", ["product", "subcategory"])
def test_a_category_with_products_or_subcategories_is_not_deleted(session, manager, content):
    category = make_category(session, slug="shirts")
    if content == "product":
        make_product(session, category=category)
    else:
        make_category(session, parent=category)

    with pytest.raises(management.CategoryNotEmpty):
        management.delete_category(session, manager, category)

    assert session.get(Category, category.id) is not None
    assert actions(session) == []


def test_an_empty_category_is_deleted_with_its_audit_row(session, manager):
    category = make_category(session, slug="shirts")
    category_id = category.id

    management.delete_category(session, manager, category)

    assert session.get(Category, category_id) is None
    entry = session.scalar(sa.select(AuditEntry))
    assert (entry.action, entry.before["slug"]) == ("category.delete", "shirts")
