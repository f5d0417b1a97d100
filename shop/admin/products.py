"""Listings (``/admin/products``, ``/admin/categories``): products, their price tiers,
variants and images, and the category tree — for roles with ``catalog.manage``.

Every change is a POST (CSRF-protected app-wide) that re-checks the permission, calls the
rule in ``shop.catalog.management`` (or ``shop.images`` for image rows), which writes the
audit row in the same transaction, and redirects; bad input re-renders the form with the
reasons and status 400.
"""

import dataclasses
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session, selectinload
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.fields.choices import SelectChoice

from shop import images as image_store
from shop import request_keys
from shop.accounts.access import require_permission
from shop.accounts.forms import EmptyForm
from shop.accounts.permissions import has_permission
from shop.admin.blueprint import bp
from shop.admin.catalog_forms import (
    AltTextForm,
    CategoryForm,
    ImageUploadForm,
    NewVariantsForm,
    ProductForm,
    TierRow,
    VariantForm,
    VariantMatrixForm,
    VariantRow,
    colour_choices,
    parse_tiers,
    parse_variant_row,
    split_list,
)
from shop.catalog import management
from shop.catalog.csv_io import CSV_MAX_BYTES
from shop.catalog.models import Category, Product, ProductImage, Variant
from shop.catalog.search import clean_text, fold
from shop.catalog.translations import TRANSLATED_LANGUAGES, missing_translation
from shop.db import commits, get_session
from shop.errors import handle_http_error
from shop.inputs import parse_id
from shop.locales import localized
from shop.money import SUPPORTED_CURRENCIES, to_decimal
from shop.pagination import paginate, parse_page
from shop.position_forms import MoveForm
from shop.request_keys import new_request_key
from shop.schools.models import School
from shop.stock.levels import product_has_low_stock
from shop.storage import StorageError, get_storage
from shop.templating import locale_name

PER_PAGE = 50
SEARCH_MAX_LENGTH = 100
BLANK_TIER_ROWS = 3


def _product_or_404(db: Session, product_id: int) -> Product:
    product = db.get(Product, product_id)
    if product is None:
        abort(404)
    return product


# --- the list ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductFilters:
    q: str = ""
    category: int | None = None
    active: str = ""  # "yes", "no" or ""
    made_to_order: str = ""
    low_stock: bool = False
    missing: str = ""  # "zh", "ja" (no translation in that language) or ""

    @classmethod
    def from_args(cls, args) -> "ProductFilters":
        yes_no = ("yes", "no")
        return cls(
            q=clean_text(args.get("q"), SEARCH_MAX_LENGTH),
            category=parse_id(args.get("category")),
            active=args.get("active") if args.get("active") in yes_no else "",
            made_to_order=args.get("mto") if args.get("mto") in yes_no else "",
            low_stock=args.get("low") == "1",
            missing=args.get("missing") if args.get("missing") in TRANSLATED_LANGUAGES else "",
        )

    def args(self) -> dict[str, str]:
        values = {
            "q": self.q,
            "category": str(self.category) if self.category else "",
            "active": self.active,
            "mto": self.made_to_order,
            "low": "1" if self.low_stock else "",
            "missing": self.missing,
        }
        return {name: value for name, value in values.items() if value}

    @property
    def any(self) -> bool:
        return bool(self.args())


def filtered_products(filters: ProductFilters) -> sa.Select:
    query = sa.select(Product)
    if filters.q:
        for term in fold(filters.q).split()[:8]:
            query = query.where(
                sa.or_(
                    Product.search_text.contains(term, autoescape=True),
                    Product.slug.contains(term, autoescape=True),
                )
            )
    if filters.category:
        children = sa.select(Category.id).where(Category.parent_id == filters.category)
        query = query.where(
            sa.or_(Product.category_id == filters.category, Product.category_id.in_(children))
        )
    if filters.active:
        query = query.where(Product.active.is_(filters.active == "yes"))
    if filters.made_to_order:
        query = query.where(Product.made_to_order.is_(filters.made_to_order == "yes"))
    if filters.low_stock:
        query = query.where(product_has_low_stock())
    if filters.missing:
        query = query.where(missing_translation(filters.missing))
    return query


def category_choices(db: Session) -> list[tuple[int, str]]:
    """Every category, children indented under their parent, named in the admin's
    language."""
    locale = locale_name()
    categories = db.scalars(sa.select(Category).order_by(Category.position, Category.name)).all()
    by_parent: dict[int | None, list[Category]] = {}
    for category in categories:
        by_parent.setdefault(category.parent_id, []).append(category)
    choices: list[tuple[int, str]] = []

    def walk(parent_id, depth):
        for category in by_parent.get(parent_id, []):
            choices.append((category.id, "— " * depth + localized(category, "name", locale)))
            walk(category.id, depth + 1)

    walk(None, 0)
    return choices


@bp.get("/products")
@require_permission("catalog.manage")
def product_list():
    db = get_session()
    filters = ProductFilters.from_args(request.args)
    query = filtered_products(filters)
    total = db.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    page = paginate(total, parse_page(request.args.get("page")), PER_PAGE)
    products = db.scalars(
        query.options(selectinload(Product.variants), selectinload(Product.category))
        .order_by(Product.created_at.desc(), Product.id.desc())
        .limit(page.per_page)
        .offset(page.offset)
    ).all()
    low = set(
        db.scalars(
            sa.select(Product.id).where(
                Product.id.in_([p.id for p in products]), product_has_low_stock()
            )
        )
    )
    return render_template(
        "admin/products/list.html",
        products=products,
        low=low,
        page=page,
        filters=filters,
        categories=category_choices(db),
        form=EmptyForm(),
    )


@bp.post("/products/<int:product_id>/active")
@commits
@require_permission("catalog.manage")
def product_set_active(product_id: int):
    db = get_session()
    product = _product_or_404(db, product_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    wanted = request.form.get("active") == "1"
    management.set_active(db, current_user, product, wanted)
    flash(
        _("%(name)s is now active.", name=product.name)
        if wanted
        else _("%(name)s is now inactive.", name=product.name),
        "success",
    )
    if request.form.get("back") == "edit":
        return redirect(url_for("admin.product_edit", product_id=product.id))
    return redirect(url_for("admin.product_list"))


@bp.post("/products/<int:product_id>/duplicate")
@commits
@require_permission("catalog.manage")
def product_duplicate(product_id: int):
    db = get_session()
    original = _product_or_404(db, product_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    copy = management.duplicate_product(db, current_user, original)
    flash(
        _("Copied as %(slug)s (inactive). Check it before activating.", slug=copy.slug), "success"
    )
    return redirect(url_for("admin.product_edit", product_id=copy.id))


# --- create and edit ---------------------------------------------------------------------


def _product_values(form: ProductForm) -> dict[str, Any]:
    """The form as ``management.PRODUCT_FIELDS`` (school 0: sold in every shop)."""
    texts = ("name", "description", "name_zh", "name_ja", "description_zh", "description_ja")
    return {
        **{name: (getattr(form, name).data or "").strip() for name in texts},
        "slug": form.slug.data,
        "category_id": form.category_id.data,
        "made_to_order": bool(form.made_to_order.data),
        "lead_time_days": form.lead_time_days.data or None,
        "min_order_quantity": form.min_order_quantity.data,
        "order_increment": form.order_increment.data,
        "gender": form.gender.data or None,
        "age_group": form.age_group.data or None,
        "active": bool(form.active.data),
        "featured": bool(form.featured.data),
        "school_id": form.school_id.data or None,
    }


def _product_form(db: Session, product: Product | None = None, read_body=True) -> ProductForm:
    form = ProductForm(obj=product) if read_body else ProductForm(formdata=None, obj=product)
    if form.slug.data:
        form.slug.data = form.slug.data.strip()
    form.category_id.choices = category_choices(db)
    schools = db.execute(sa.select(School.id, School.name).order_by(School.name)).all()
    form.school_id.choices = [
        SelectChoice(0, _("— every shop —")),
        *(SelectChoice(school_id, name) for school_id, name in schools),
    ]
    if form.school_id.data is None:  # not posted, or a product sold everywhere
        form.school_id.data = 0
    return form


@bp.route("/products/new", methods=["GET", "POST"])
@commits
@require_permission("catalog.manage")
def product_new():
    db = get_session()
    form = _product_form(db)
    if request.method == "GET":
        form.active.data = False
    if form.validate_on_submit():
        try:
            product = management.create_product(db, current_user, _product_values(form))
        except management.SlugTaken:
            form.slug.errors.append(_("Another product already uses this slug."))
        else:
            flash(_("Product created. Now add variants, prices and images."), "success")
            return redirect(url_for("admin.product_edit", product_id=product.id))
    if not form.category_id.choices:
        flash(_("Create a category first."), "error")
    status = 400 if request.method == "POST" else 200
    return render_template("admin/products/form.html", form=form, product=None), status


@dataclass
class EditPage:
    """Everything the product page_form's one form holds — details, the tier ladders, the
    variant rows, new sizes × colours — as shown or as typed, with what is wrong."""

    form: ProductForm
    tier_rows: dict[str, list[TierRow]]
    variant_rows: list[VariantRow]
    new_variants: NewVariantsForm
    tier_errors: list[str] = dataclasses.field(default_factory=list)
    tiers: dict[str, list[tuple[int, int]]] | None = None  # None: not posted, left alone
    variants: dict[int, dict] = dataclasses.field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return bool(
            self.tier_errors
            or any(row_form.errors for row_form in self.variant_rows)
            or any(f.errors for f in self.form)
            or any(f.errors for f in self.new_variants)
        )


def _variant_rows(product: Product) -> list[VariantRow]:
    return [
        VariantRow(v.id, v.sku, str(v.low_stock_threshold), v.for_sale, [])
        for v in product.variants
    ]


def _new_variants_form(product: Product, formdata=None) -> NewVariantsForm:
    form = NewVariantsForm(formdata=formdata, prefix="new")
    form.colours.choices = colour_choices([v.colour for v in product.variants])
    return form


def _shown_page(db: Session, product: Product, read_body=False) -> EditPage:
    """The page_form as stored (a GET, or the other forms' pages)."""
    form = _product_form(db, product, read_body=read_body)
    if not read_body:
        form.request_key.data = new_request_key()
    return EditPage(form, _tier_rows(product), _variant_rows(product), _new_variants_form(product))


def _typed_tiers(page_form: EditPage, posted) -> None:
    """The tier tables as typed; left alone (``tiers`` ``None``) when not posted."""
    if not any(f"{currency}-min" in posted for currency in SUPPORTED_CURRENCIES):
        return
    page_form.tiers = {}
    for currency in SUPPORTED_CURRENCIES:
        quantities = posted.getlist(f"{currency}-min")[:50]
        prices = posted.getlist(f"{currency}-price")[:50]
        rows = [TierRow(q[:20], p[:20]) for q, p in zip(quantities, prices, strict=False)]
        page_form.tier_rows[currency] = rows + [TierRow("", "")] * max(
            BLANK_TIER_ROWS - len(rows), 0
        )
        page_form.tiers[currency], errors = parse_tiers(rows, currency)
        page_form.tier_errors.extend(errors)


def _typed_variants(page_form: EditPage, posted) -> None:
    """The variant rows as typed (a row not posted keeps what is stored)."""
    for row_form in page_form.variant_rows:
        prefix = f"variant-{row_form.id}-"
        if prefix + "sku" not in posted:
            continue
        row_form.sku = posted.get(prefix + "sku", "")[:100]
        row_form.low_stock_threshold = posted.get(prefix + "low", "")[:20]
        row_form.for_sale = prefix + "for_sale" in posted
        values = parse_variant_row(row_form)
        if values is not None:
            page_form.variants[row_form.id] = values


def _posted_page(db: Session, product: Product) -> EditPage:
    page_form = EditPage(
        _product_form(db, product),
        _tier_rows(product),
        _variant_rows(product),
        _new_variants_form(product, request.form),
    )
    page_form.form.validate_on_submit()
    page_form.new_variants.validate()
    _typed_tiers(page_form, request.form)
    _typed_variants(page_form, request.form)
    return page_form


def _save_page(db: Session, product: Product, page_form: EditPage) -> bool:
    """Save the whole page_form once (its one-time key); ``False`` (rolled back, the reasons on
    the page_form) when a rule refuses."""
    matrix = None
    if page_form.new_variants.wanted:
        matrix = management.Matrix(
            split_list(page_form.new_variants.sizes.data),
            page_form.new_variants.colours.data,
            page_form.new_variants.pattern.data,
        )
    try:
        if not request_keys.claim(db, f"product:{product.id}", page_form.form.request_key.data):
            db.rollback()  # the same page_form sent again: it was saved once
            return True
        management.save_product(
            db,
            current_user,
            product,
            values=_product_values(page_form.form),
            tiers=page_form.tiers,
            variants=page_form.variants,
            matrix=matrix,
        )
    except sa.exc.IntegrityError:  # the same page_form at the same moment: the other one saved it
        db.rollback()
        return True
    except management.SlugTaken:
        db.rollback()
        page_form.form.slug.errors.append(_("Another product already uses this slug."))
        return False
    except management.VariantRowsRefused as refused:
        db.rollback()
        for row_form in page_form.variant_rows:
            row_form.errors.extend(refused.errors.get(row_form.id, []))
        return False
    except management.VariantsRefused as refused:
        db.rollback()
        field = (
            page_form.new_variants.pattern
            if refused.field == "pattern"
            else page_form.new_variants.sizes
        )
        field.errors = [*field.errors, *refused.messages]
        return False
    return True


@bp.route("/products/<int:product_id>", methods=["GET", "POST"])
@commits
@require_permission("catalog.manage")
def product_edit(product_id: int):
    """The product page_form: details, prices and variants in one form, saved by one POST in
    one transaction; a refusal shows every reason in place and keeps all that was typed."""
    db = get_session()
    product = _product_or_404(db, product_id)
    if request.method == "GET":
        return _render_edit(db, product)
    page_form = _posted_page(db, product)
    if not page_form.has_errors and _save_page(db, product, page_form):
        flash(_("Product saved."), "success")
        return redirect(url_for("admin.product_edit", product_id=product_id))
    db.rollback()
    return _render_edit(db, _product_or_404(db, product_id), page_form=page_form, status=400)


def _tier_rows(product: Product) -> dict[str, list[TierRow]]:
    rows: dict[str, list[TierRow]] = {currency: [] for currency in SUPPORTED_CURRENCIES}
    for tier in product.price_tiers:
        if tier.currency in rows:
            rows[tier.currency].append(
                TierRow(str(tier.min_quantity), str(to_decimal(tier.unit_amount, tier.currency)))
            )
    for currency in rows:
        rows[currency].extend(TierRow("", "") for _ in range(BLANK_TIER_ROWS))
    return rows


def _render_edit(
    db: Session,
    product: Product,
    *,
    page_form: EditPage | None = None,
    upload_form=None,
    upload_error=None,
    status=200,
):
    page_form = page_form or _shown_page(db, product)
    variants = {variant.id: variant for variant in product.variants}
    rows = [
        (row_form, variants[row_form.id])
        for row_form in page_form.variant_rows
        if row_form.id in variants
    ]
    return (
        render_template(
            "admin/products/edit.html",
            product=product,
            form=page_form.form,
            page=page_form,
            variant_rows=rows,
            upload_form=upload_form or ImageUploadForm(formdata=None),
            upload_error=upload_error,
            currencies=SUPPORTED_CURRENCIES,
            thumb=image_store.thumbnail_path,
            move_key=request_keys.new_request_key(),
        ),
        status,
    )


# --- price tiers -------------------------------------------------------------------------


@bp.post("/products/<int:product_id>/tiers")
@commits
@require_permission("catalog.manage")
def product_tiers(product_id: int):
    db = get_session()
    product = _product_or_404(db, product_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    typed: dict[str, list[TierRow]] = {}
    parsed: dict[str, list[tuple[int, int]]] = {}
    errors: list[str] = []
    for currency in SUPPORTED_CURRENCIES:
        quantities = request.form.getlist(f"{currency}-min")[:50]
        prices = request.form.getlist(f"{currency}-price")[:50]
        rows = [
            TierRow(quantity[:20], price[:20])
            for quantity, price in zip(quantities, prices, strict=False)
        ]
        typed[currency] = rows + [TierRow("", "")] * max(BLANK_TIER_ROWS - len(rows), 0)
        parsed[currency], currency_errors = parse_tiers(rows, currency)
        errors.extend(currency_errors)
    if errors:
        db.rollback()
        page_form = _shown_page(db, product)
        page_form.tier_rows, page_form.tier_errors = typed, errors
        return _render_edit(db, product, page_form=page_form, status=400)
    management.replace_tiers(db, current_user, product, parsed)
    flash(_("Prices saved."), "success")
    return redirect(url_for("admin.product_edit", product_id=product.id) + "#tiers")


# --- variants ----------------------------------------------------------------------------


def _matrix_refused(db: Session, product: Product, form: VariantMatrixForm):
    """The older generator form's refusal, shown on the product page_form's new-variant fields."""
    page_form = _shown_page(db, product)
    page_form.new_variants.sizes.data = form.sizes.data
    page_form.new_variants.sizes.errors = [*form.sizes.errors, *form.colours.errors]
    page_form.new_variants.pattern.data = form.pattern.data
    page_form.new_variants.pattern.errors = list(form.pattern.errors)
    return _render_edit(db, product, page_form=page_form, status=400)


@bp.post("/products/<int:product_id>/variants/generate")
@commits
@require_permission("catalog.manage")
def variant_generate(product_id: int):
    db = get_session()
    product = _product_or_404(db, product_id)
    form = VariantMatrixForm()
    if not form.validate_on_submit():
        return _matrix_refused(db, product, form)
    try:
        added = management.generate_variants(
            db,
            current_user,
            product,
            split_list(form.sizes.data),
            split_list(form.colours.data),
            form.pattern.data,
        )
    except management.VariantsRefused as refused:
        field = form.pattern if refused.field == "pattern" else form.sizes
        field.errors = list(field.errors) + refused.messages
        return _matrix_refused(db, product, form)
    flash(
        _("%(n)d variants added; existing ones kept.", n=len(added))
        if added
        else _("Every combination already exists."),
        "success",
    )
    return redirect(url_for("admin.product_edit", product_id=product.id) + "#variants")


@bp.route("/variants/<int:variant_id>", methods=["GET", "POST"])
@commits
@require_permission("catalog.manage")
def variant_edit(variant_id: int):
    db = get_session()
    variant = db.get(Variant, variant_id)
    if variant is None:
        abort(404)
    form = VariantForm(obj=variant)
    if form.validate_on_submit():
        values = {
            "sku": form.sku.data,
            "low_stock_threshold": form.low_stock_threshold.data,
            "for_sale": form.for_sale.data,
        }
        try:
            management.update_variant(db, current_user, variant, values)
        except management.SkuTaken:
            form.sku.errors.append(_("Another variant already uses this SKU."))
        else:
            flash(_("Variant %(sku)s saved.", sku=variant.sku), "success")
            return redirect(
                url_for("admin.product_edit", product_id=variant.product_id) + "#variants"
            )
    status = 400 if request.method == "POST" else 200
    return render_template("admin/products/variant.html", form=form, variant=variant), status


# --- images ------------------------------------------------------------------------------

UPLOAD_ENDPOINT = "admin.image_upload"
CSV_IMPORT_ENDPOINT = "admin.csv_import"


@bp.url_value_preprocessor
def _upload_limit(endpoint, values):
    """Runs before the app's CSRF check reads the body: the image uploads (product
    images, school logos) and the catalogue CSV import accept more than the app-wide
    ``MAX_CONTENT_LENGTH``."""
    if endpoint in image_store.UPLOAD_ENDPOINTS:
        request.max_content_length = image_store.MAX_REQUEST_BYTES
    elif endpoint == CSV_IMPORT_ENDPOINT:
        request.max_content_length = CSV_MAX_BYTES + 64 * 1024


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    """An upload over the limit gets the product page with the message on the upload form;
    any other admin request gets the shop's usual error page."""
    if (
        request.endpoint != UPLOAD_ENDPOINT
        or not current_user.is_authenticated
        or not has_permission(current_user, "catalog.manage")
    ):
        return handle_http_error(error)
    db = get_session()
    product = _product_or_404(db, (request.view_args or {})["product_id"])
    message = _("The file is larger than 5 MB.")
    return _render_edit(db, product, upload_error=message, status=413)


@bp.post("/products/<int:product_id>/images")
@commits
@require_permission("catalog.manage")
def image_upload(product_id: int):
    db = get_session()
    product = _product_or_404(db, product_id)
    form = ImageUploadForm()
    error, status = None, 400
    if not form.validate_on_submit():
        error = _("Check the form and try again.")
    elif not form.image.data or not getattr(form.image.data, "filename", ""):
        error = _("Choose an image file.")
    else:
        try:
            stored = image_store.store_upload(form.image.data.stream, get_storage())
        except image_store.ImageRefused as refused:
            error = str(refused)
        except StorageError as failure:
            current_app.logger.error("image upload: the store failed: %s", failure)
            error, status = _("The image could not be stored just now; try again shortly."), 503
        else:
            alt_text = (form.alt_text.data or "").strip()
            image_store.add_product_image(db, current_user, product, stored, alt_text)
            flash(_("Image added."), "success")
            return redirect(url_for("admin.product_edit", product_id=product.id) + "#images")
    return _render_edit(db, product, upload_form=form, upload_error=error, status=status)


def _image_or_404(db: Session, image_id: int) -> ProductImage:
    image = db.get(ProductImage, image_id)
    if image is None:
        abort(404)
    return image


@bp.post("/images/<int:image_id>/move")
@commits
@require_permission("catalog.manage")
def image_move(image_id: int):
    db = get_session()
    image = _image_or_404(db, image_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if request_keys.claim(db, f"image-move:{image.id}", form.request_key.data):
            image_store.move_product_image(db, current_user, image, form.direction.data)
    except sa.exc.IntegrityError:  # the same button at the same moment: the other moved it
        db.rollback()
    return redirect(url_for("admin.product_edit", product_id=image.product_id) + "#images")


@bp.post("/images/<int:image_id>/alt")
@commits
@require_permission("catalog.manage")
def image_alt(image_id: int):
    db = get_session()
    image = _image_or_404(db, image_id)
    form = AltTextForm()
    if not form.validate_on_submit():
        flash(_("Alt text is at most 255 characters."), "error")
        return redirect(url_for("admin.product_edit", product_id=image.product_id) + "#images")
    translations = {
        "zh": (form.alt_text_zh.data or "").strip(),
        "ja": (form.alt_text_ja.data or "").strip(),
    }
    image_store.set_alt_text(
        db, current_user, image, (form.alt_text.data or "").strip(), translations
    )
    flash(_("Alt text saved."), "success")
    return redirect(url_for("admin.product_edit", product_id=image.product_id) + "#images")


@bp.post("/images/<int:image_id>/delete")
@require_permission("catalog.manage")
def image_delete(image_id: int):
    db = get_session()
    image = _image_or_404(db, image_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    product_id = image.product_id
    try:
        path = image_store.delete_product_image(db, current_user, image)
    except image_store.ImageGone:  # the same request, sent twice at once
        db.rollback()
        abort(404)
    db.commit()  # the row goes first: a file without a row is harmless, the reverse is not
    image_store.remove_files(db, get_storage(), path)
    flash(_("Image deleted."), "success")
    return redirect(url_for("admin.product_edit", product_id=product_id) + "#images")


# --- categories --------------------------------------------------------------------------


def _category_form(db: Session, category: Category | None = None) -> CategoryForm:
    form = CategoryForm(obj=category)
    if request.method == "GET" and category is not None:
        form.parent_id.data = category.parent_id or 0
    excluded = management.impossible_parent_ids(db, category)
    form.parent_id.choices = [(0, _("(top level)"))] + [
        (value, label) for value, label in category_choices(db) if value not in excluded
    ]
    return form


@bp.get("/categories")
@require_permission("catalog.manage")
def category_list():
    db = get_session()
    counts = dict(
        db.execute(
            sa.select(Product.category_id, sa.func.count(Product.id)).group_by(Product.category_id)
        ).all()
    )
    categories = {c.id: c for c in db.scalars(sa.select(Category))}
    rows = [(categories[value], label) for value, label in category_choices(db)]
    return render_template(
        "admin/categories/list.html",
        rows=rows,
        counts=counts,
        form=_category_form(db),
        action_form=EmptyForm(),
    )


def _category_values(form: CategoryForm) -> dict[str, Any]:
    """The form as ``management.CATEGORY_FIELDS`` (parent 0: top level)."""
    return {
        "name": form.name.data.strip(),
        "name_zh": (form.name_zh.data or "").strip(),
        "name_ja": (form.name_ja.data or "").strip(),
        "slug": form.slug.data.strip(),
        "parent_id": form.parent_id.data or None,
    }


def _category_list_page(db: Session, form: CategoryForm):
    categories = {c.id: c for c in db.scalars(sa.select(Category))}
    rows = [(categories[value], label) for value, label in category_choices(db)]
    return render_template(
        "admin/categories/list.html", rows=rows, counts={}, form=form, action_form=EmptyForm()
    ), 400


@bp.post("/categories")
@commits
@require_permission("catalog.manage")
def category_create():
    db = get_session()
    form = _category_form(db)
    if not form.validate_on_submit():
        return _category_list_page(db, form)
    try:
        management.create_category(db, current_user, _category_values(form))
    except management.CategorySlugTaken:
        form.slug.errors.append(_("Another category already uses this slug."))
        return _category_list_page(db, form)
    flash(_("Category created."), "success")
    return redirect(url_for("admin.category_list"))


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@commits
@require_permission("catalog.manage")
def category_edit(category_id: int):
    db = get_session()
    category = db.get(Category, category_id)
    if category is None:
        abort(404)
    form = _category_form(db, category)
    if form.validate_on_submit():
        try:
            management.update_category(db, current_user, category, _category_values(form))
        except management.CategoryLoop:
            form.parent_id.errors.append(
                _("A category cannot move under itself or one of its subcategories.")
            )
        except management.CategorySlugTaken:
            form.slug.errors.append(_("Another category already uses this slug."))
        else:
            flash(_("Category saved."), "success")
            return redirect(url_for("admin.category_list"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/categories/edit.html", form=form, category=category), status


@bp.post("/categories/<int:category_id>/delete")
@commits
@require_permission("catalog.manage")
def category_delete(category_id: int):
    db = get_session()
    category = db.get(Category, category_id)
    if category is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        management.delete_category(db, current_user, category)
    except management.CategoryNotEmpty:
        message = _(
            "“%(name)s” is not empty: move or delete its products and subcategories first.",
            name=category.name,
        )
        return render_template(
            "admin/categories/edit.html",
            form=_category_form(db, category),
            category=category,
            delete_error=message,
        ), 400
    flash(_("Category deleted."), "success")
    return redirect(url_for("admin.category_list"))
