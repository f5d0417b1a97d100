"""Forms of the listings admin (products, price tiers, variants, images, categories).

They parse what staff typed and say in words what is wrong; rules that need the database
(a slug or SKU already taken) are checked by ``shop.admin.products``.
"""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from shop.money import MAX_AMOUNT, exponent, from_decimal

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
SLUG_MESSAGE = _l("Use lowercase letters, digits and single hyphens only (like summer-polo).")
SKU_MESSAGE = _l("Use letters, digits, dots, hyphens and underscores only.")
PRICE_MAX_LENGTH = 20
MAX_TIERS = 20


class ProductForm(FlaskForm):
    name = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=200)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[Optional(), Length(max=200)])
    name_ja = StringField(_l("Name (Japanese)"), validators=[Optional(), Length(max=200)])
    slug = StringField(
        _l("Slug (web address)"),
        validators=[DataRequired(), Length(max=120), Regexp(SLUG_PATTERN, message=SLUG_MESSAGE)],
    )
    category_id = SelectField(_l("Category"), coerce=int, validate_choice=True)
    description = TextAreaField(_l("Description (English)"), validators=[Length(max=20000)])
    description_zh = TextAreaField(
        _l("Description (Chinese)"), validators=[Optional(), Length(max=20000)]
    )
    description_ja = TextAreaField(
        _l("Description (Japanese)"), validators=[Optional(), Length(max=20000)]
    )
    made_to_order = BooleanField(_l("Made to order"))
    lead_time_days = IntegerField(
        _l("Lead time (days)"),
        validators=[Optional(), NumberRange(min=1, max=365, message=_l("Between 1 and 365 days."))],
    )
    min_order_quantity = IntegerField(
        _l("Minimum order quantity"),
        default=1,
        validators=[
            InputRequired(message=_l("Enter a whole number, 1 or more.")),
            NumberRange(min=1, max=100000, message=_l("At least 1.")),
        ],
    )
    order_increment = IntegerField(
        _l("Order increment"),
        default=1,
        validators=[
            InputRequired(message=_l("Enter a whole number, 1 or more.")),
            NumberRange(min=1, max=100000, message=_l("At least 1.")),
        ],
    )
    active = BooleanField(_l("Active (shown in the shop)"))
    featured = BooleanField(_l("Featured"))
    # 0: sold everywhere; else the school whose shop alone sells it (choices set by the view).
    school_id = SelectField(_l("Only for school"), coerce=int, default=0, validate_choice=True)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.made_to_order.data and not self.lead_time_days.data:
            if not self.lead_time_days.errors:
                self.lead_time_days.errors.append(
                    _("Made-to-order items need a lead time of at least 1 day.")
                )
            valid = False
        return valid


class VariantMatrixForm(FlaskForm):
    sizes = StringField(
        _l("Sizes"), validators=[DataRequired(), Length(max=500)], description=_l("Comma-separated")
    )
    colours = StringField(_l("Colours"), validators=[DataRequired(), Length(max=500)])
    pattern = StringField(
        _l("SKU pattern"),
        default="{slug}-{size}-{colour}",
        validators=[DataRequired(), Length(max=100)],
    )


class VariantForm(FlaskForm):
    sku = StringField(
        _l("SKU"),
        validators=[DataRequired(), Length(max=64), Regexp(SKU_PATTERN, message=SKU_MESSAGE)],
    )
    low_stock_threshold = IntegerField(
        _l("Low-stock threshold"),
        validators=[
            InputRequired(message=_l("Enter a whole number, 0 or more.")),
            NumberRange(min=0, max=100000, message=_l("0 or more.")),
        ],
    )
    for_sale = BooleanField(_l("For sale"))


class ImageUploadForm(FlaskForm):
    image = FileField(_l("Image (JPEG, PNG or WebP, up to 5 MB)"))
    alt_text = StringField(_l("Alt text"), validators=[Optional(), Length(max=255)])


class AltTextForm(FlaskForm):
    alt_text = StringField(_l("Alt text"), validators=[Optional(), Length(max=255)])


class CategoryForm(FlaskForm):
    name = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=120)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[Optional(), Length(max=120)])
    name_ja = StringField(_l("Name (Japanese)"), validators=[Optional(), Length(max=120)])
    slug = StringField(
        _l("Slug (web address)"),
        validators=[DataRequired(), Length(max=80), Regexp(SLUG_PATTERN, message=SLUG_MESSAGE)],
    )
    parent_id = SelectField(_l("Parent"), coerce=int, validate_choice=True)


# --- price tiers -------------------------------------------------------------------------


@dataclass(frozen=True)
class TierRow:
    """One row of the tier table as typed (kept for re-rendering)."""

    min_quantity: str
    price: str


def split_list(text: str) -> list[str]:
    """``"S, M,,L, M"`` → ``["S", "M", "L"]`` (also splits on the Chinese comma)."""
    values: list[str] = []
    for part in re.split(r"[,，、\n]", text or ""):
        part = part.strip()
        if part and part not in values:
            values.append(part)
    return values


def parse_price(text: str, currency: str) -> int:
    """Major units as typed to minor units; ``ValueError`` with a message in words."""
    text = (text or "").strip()
    if not text or len(text) > PRICE_MAX_LENGTH:
        raise ValueError(_("enter a price"))
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("“%(text)s” is not a price", text=text)) from None
    if not value.is_finite() or value < 0:
        raise ValueError(_("the price must be 0 or more"))
    if value.adjusted() > 9:
        raise ValueError(_("the price is too large"))
    try:
        amount = from_decimal(value, currency)
    except ValueError:
        if exponent(currency) == 0:
            raise ValueError(
                _("%(currency)s prices are whole numbers", currency=currency)
            ) from None
        raise ValueError(
            _(
                "at most %(n)d decimal places in %(currency)s",
                n=exponent(currency),
                currency=currency,
            )
        ) from None
    if amount > MAX_AMOUNT:
        raise ValueError(_("the price is too large"))
    return amount


def parse_tiers(rows: list[TierRow], currency: str) -> tuple[list[tuple[int, int]], list[str]]:
    """Rows of (min quantity, price) → ``[(min_quantity, unit_amount)]`` and errors that name
    the row. Blank rows are skipped. Quantities must increase strictly from at least 1 and
    prices must not increase."""
    tiers: list[tuple[int, int]] = []
    errors: list[str] = []
    previous: tuple[int, int] | None = None
    for number, row in enumerate(rows, start=1):
        quantity_text, price_text = row.min_quantity.strip(), row.price.strip()
        if not quantity_text and not price_text:
            continue
        if not quantity_text.isascii() or not quantity_text.isdigit() or len(quantity_text) > 7:
            errors.append(
                _(
                    "%(currency)s row %(row)d: the minimum quantity must be a whole number.",
                    currency=currency,
                    row=number,
                )
            )
            continue
        quantity = int(quantity_text)
        try:
            amount = parse_price(price_text, currency)
        except ValueError as error:
            errors.append(
                _(
                    "%(currency)s row %(row)d: %(reason)s.",
                    currency=currency,
                    row=number,
                    reason=str(error),
                )
            )
            continue
        if quantity < 1:
            errors.append(
                _(
                    "%(currency)s row %(row)d: the minimum quantity must be at least 1.",
                    currency=currency,
                    row=number,
                )
            )
            continue
        if previous is not None:
            if quantity <= previous[0]:
                errors.append(
                    _(
                        "%(currency)s row %(row)d: the minimum quantity must be more than the "
                        "row above (%(above)d).",
                        currency=currency,
                        row=number,
                        above=previous[0],
                    )
                )
                continue
            if amount > previous[1]:
                errors.append(
                    _(
                        "%(currency)s row %(row)d: the price must not be more than the row above.",
                        currency=currency,
                        row=number,
                    )
                )
                continue
        tiers.append((quantity, amount))
        previous = (quantity, amount)
    if len(tiers) > MAX_TIERS:
        errors.append(_("At most %(n)d tiers per currency.", n=MAX_TIERS))
    return tiers, errors
