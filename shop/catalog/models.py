"""Catalogue tables: categories (two levels), products, variants, price tiers, images.

Names and descriptions are stored in English with optional Chinese (``_zh``) and Japanese
(``_ja``) columns; ``shop.i18n.localized`` picks the right one. ``search_text`` is a
case-folded copy of every searchable field (all languages, every SKU), kept current by
``shop.catalog.search.refresh_search_text`` so a search is one ``LIKE`` over one column.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.db import Base, utcnow

# Search indexes that live outside the models (see migration 0002): SQLite's FTS5 trigram
# table over ``product.search_text`` (kept in step by triggers) and PostgreSQL's pg_trgm
# GIN index. ``shop.migrate.include_object`` keeps autogenerate from dropping them.
SEARCH_FTS_TABLE = "product_fts"
SEARCH_TRGM_INDEX = "ix_product_search_trgm"
# Terms of one or two characters (衬衫, 裤) need an index of their own (migration 0014):
# every character and every two-character substring of ``search_text`` as a token. On
# SQLite an FTS5 table of hex-encoded tokens, its name starting with ``SEARCH_FTS_TABLE``
# (so the drift test leaves it alone too), kept in step by triggers; on PostgreSQL a GIN
# index on ``SEARCH_GRAMS_FUNCTION(search_text)``.
SEARCH_GRAMS_FTS_TABLE = "product_fts_grams"
SEARCH_GRAMS_FUNCTION = "product_search_grams"
SEARCH_GRAMS_INDEX = "ix_product_search_grams"
# ``sort=name`` in Chinese and Japanese (migration 0014): partial indexes like the listing's
# on (active, coalesce(name_zh, name), id) and the same with name_ja. Expression indexes,
# which autogenerate cannot compare on SQLite, so they live outside the models too.
SORT_NAME_INDEXES = ("ix_product_listing_name_zh", "ix_product_listing_name_ja")

# The condition of the listing indexes: products sold to everyone, not only in one school's
# shop. A query must say ``school_id IS NULL`` itself for the database to use them.
LISTED = sa.text("school_id IS NULL")
# Product columns the listing filters on, each with a listing index of its own.
FILTER_COLUMNS = ("made_to_order", "min_order_quantity", "gender", "age_group")

# A product whose name, or (when it has an English one) description, is not translated
# into the language: the admin's "Missing Japanese"/"Missing Chinese" filters. Each is the
# condition of a partial index (migration 0020) in the admin list's order, so the filter
# walks only the untranslated products; a query must state the condition word for word
# (``shop.catalog.translations.missing_translation``).
MISSING_TRANSLATION = {
    language: (
        f"name_{language} IS NULL OR name_{language} = '' OR ((description_{language} IS NULL"
        f" OR description_{language} = '') AND description <> '')"
    )
    for language in ("zh", "ja")
}


class Category(Base):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    name_zh: Mapped[str | None] = mapped_column(sa.String(120))
    name_ja: Mapped[str | None] = mapped_column(sa.String(120))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("category.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    parent: Mapped["Category | None"] = relationship(
        back_populates="children", remote_side=lambda: Category.id
    )
    children: Mapped[list["Category"]] = relationship(
        back_populates="parent", order_by=lambda: (Category.position, Category.id)
    )


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (
        sa.CheckConstraint("min_order_quantity >= 1", name="moq_positive"),
        sa.CheckConstraint("order_increment >= 1", name="increment_positive"),
        sa.CheckConstraint(
            "NOT made_to_order OR lead_time_days IS NOT NULL", name="made_to_order_lead_time"
        ),
        sa.Index("ix_product_active_created", "active", "created_at"),
        sa.Index("ix_product_category_active", "category_id", "active"),
        # The shop's listings (migration 0013): products on sale to everyone, in the order a
        # page shows them, so a page is an index walk that stops after the page and a capped
        # count reads at most the cap's entries. Partial on ``school_id IS NULL`` (the
        # listing's own condition), with ``active`` leading so both databases see the
        # equality and walk the rest of the index in ORDER BY order. Then what the walk
        # checks (migration 0027): ``school_id`` (SQLite checks the partial condition on
        # every entry) and a category with children's ids, so a count or a page's ids
        # come from the index alone.
        sa.Index(
            "ix_product_listing",
            "active",
            "featured",
            "created_at",
            "id",
            "category_id",
            "school_id",
            sqlite_where=LISTED,
            postgresql_where=LISTED,
        ),
        sa.Index(
            "ix_product_listing_category",
            "active",
            "category_id",
            "featured",
            "created_at",
            "id",
            "school_id",
            sqlite_where=LISTED,
            postgresql_where=LISTED,
        ),
        sa.Index(
            "ix_product_listing_newest",
            "active",
            "created_at",
            "id",
            sqlite_where=LISTED,
            postgresql_where=LISTED,
        ),
        # The listing's filters on the product's own columns (migration 0018): the filter
        # as an equality (or a range) after ``active``, then the default order, so a
        # filtered page and its capped count are a walk of the matching entries only.
        *(
            sa.Index(
                f"ix_product_listing_{column}",
                "active",
                column,
                "featured",
                "created_at",
                "id",
                sqlite_where=LISTED,
                postgresql_where=LISTED,
            )
            for column in FILTER_COLUMNS
        ),
        # ``sort=name`` in English (migration 0014); Chinese and Japanese in
        # ``SORT_NAME_INDEXES``.
        sa.Index(
            "ix_product_listing_name",
            "active",
            "name",
            "id",
            sqlite_where=LISTED,
            postgresql_where=LISTED,
        ),
        *(
            sa.Index(
                f"ix_product_missing_{language}",
                "created_at",
                "id",
                sqlite_where=sa.text(condition),
                postgresql_where=sa.text(condition),
            )
            for language, condition in MISSING_TRANSLATION.items()
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    name_zh: Mapped[str | None] = mapped_column(sa.String(200))
    name_ja: Mapped[str | None] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    description_zh: Mapped[str | None] = mapped_column(sa.Text)
    description_ja: Mapped[str | None] = mapped_column(sa.Text)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id"), index=True)
    made_to_order: Mapped[bool] = mapped_column(default=False)
    lead_time_days: Mapped[int | None]
    min_order_quantity: Mapped[int] = mapped_column(default=1)
    order_increment: Mapped[int] = mapped_column(default=1)
    size_chart: Mapped[dict | None] = mapped_column(sa.JSON)
    # Who it is for, when that matters (``shop.catalog.attributes``; migration 0018).
    gender: Mapped[str | None] = mapped_column(sa.String(16))
    age_group: Mapped[str | None] = mapped_column(sa.String(16))
    active: Mapped[bool] = mapped_column(default=True)
    featured: Mapped[bool] = mapped_column(default=False)
    # A school-only product (with the school's logo): sold only in that school's shop.
    school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("school.id"), index=True)
    search_text: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    category: Mapped[Category] = relationship()
    variants: Mapped[list["Variant"]] = relationship(
        back_populates="product",
        order_by=lambda: (Variant.position, Variant.id),
        cascade="all, delete-orphan",
    )
    price_tiers: Mapped[list["PriceTier"]] = relationship(
        back_populates="product",
        order_by=lambda: (PriceTier.currency, PriceTier.min_quantity),
        cascade="all, delete-orphan",
    )
    images: Mapped[list["ProductImage"]] = relationship(
        back_populates="product",
        order_by=lambda: (ProductImage.position, ProductImage.id),
        cascade="all, delete-orphan",
    )


class Variant(Base):
    """One SKU: a size × colour of a product, with its stock."""

    __tablename__ = "variant"
    __table_args__ = (
        # The listing's size and colour filters (a product with a variant of this size:
        # one lookup per product) and their menus (the distinct sizes and colours, read
        # by skipping through the index: as many lookups as there are sizes, however many
        # variants). Migration 0018.
        sa.Index("ix_variant_size_product", "size", "product_id"),
        sa.Index("ix_variant_colour_product", "colour", "product_id"),
        sa.CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        sa.CheckConstraint("allocated >= 0", name="allocated_not_negative"),
        # The database's own backstop against overselling.
        sa.CheckConstraint("allocated <= on_hand", name="allocated_within_on_hand"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), index=True)
    sku: Mapped[str] = mapped_column(sa.String(64), unique=True)
    size: Mapped[str] = mapped_column(sa.String(32))
    colour: Mapped[str] = mapped_column(sa.String(32))
    position: Mapped[int] = mapped_column(default=0)
    on_hand: Mapped[int] = mapped_column(default=0)
    allocated: Mapped[int] = mapped_column(default=0)
    # Below this many available, the dashboard lists the variant as low (0: never).
    low_stock_threshold: Mapped[int] = mapped_column(default=5)
    # Staff can withdraw one size/colour without withdrawing the product.
    for_sale: Mapped[bool] = mapped_column(default=True)

    product: Mapped[Product] = relationship(back_populates="variants")

    @property
    def available(self) -> int:
        return max(self.on_hand - self.allocated, 0)


class VariantFacet(Base):
    """A size (``kind`` ``"size"``) or colour (``"colour"``) that a variant has: what the
    listing's filter menus offer, read by the primary key (``shop.catalog.listing``'s
    ``FACETS_STATEMENT``). Kept by triggers on ``variant`` (migration 0026), whoever writes
    the variants: an insert, or a change of a size or colour, adds the value unless it is
    there. Values no variant has any more stay until ``prune_facets`` (a periodic job)
    removes them."""

    __tablename__ = "variant_facet"

    kind: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(32), primary_key=True)


class ListingVersion(Base):
    """One row (``id`` 1) whose ``version`` changes with every write to what listing pages
    show beside their products: categories, filter values, and which products are listed
    (triggers, migration 0028). What a process's copy of the menus and counts is checked
    against (``shop.catalog.listing.KeptListing``)."""

    __tablename__ = "listing_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(sa.BigInteger)


class PriceTier(Base):
    """From ``min_quantity`` pieces of a product (all sizes and colours together), each
    piece costs ``unit_amount`` minor units of ``currency``."""

    __tablename__ = "price_tier"
    __table_args__ = (
        sa.UniqueConstraint("product_id", "currency", "min_quantity"),
        sa.CheckConstraint("min_quantity >= 1", name="min_quantity_positive"),
        sa.CheckConstraint("unit_amount >= 0", name="unit_amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"))
    currency: Mapped[str] = mapped_column(sa.String(3))
    min_quantity: Mapped[int]
    unit_amount: Mapped[int]

    product: Mapped[Product] = relationship(back_populates="price_tiers")


class ProductSortPrice(Base):
    """A product's base price in one currency (the unit amount of its lowest
    ``min_quantity`` tier), so ``sort=price_asc``/``price_desc`` walk an index and stop
    after the page. Kept by triggers on ``price_tier`` (migration 0014), whoever writes the
    tiers; no row when the product has no tier in that currency."""

    __tablename__ = "product_sort_price"
    __table_args__ = (sa.Index("ix_product_sort_price_order", "currency", "amount", "product_id"),)

    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    amount: Mapped[int]


class ProductImage(Base):
    __tablename__ = "product_image"
    # A product's images in gallery order: its first image (a card's picture) is one
    # index lookup, never a sort.
    __table_args__ = (sa.Index("ix_product_image_order", "product_id", "position", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"))
    path: Mapped[str] = mapped_column(sa.String(255))
    alt_text: Mapped[str] = mapped_column(sa.String(255), default="")
    # In Chinese and Japanese (migration 0020); unset: the English one, or else the
    # product's name in the visitor's language (``shop.images.image_alt``).
    alt_text_zh: Mapped[str | None] = mapped_column(sa.String(255))
    alt_text_ja: Mapped[str | None] = mapped_column(sa.String(255))
    width: Mapped[int]
    height: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)

    product: Mapped[Product] = relationship(back_populates="images")
