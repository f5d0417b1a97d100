"""Forms of the listings admin (products, price tiers, variants, images, categories).

They parse what staff typed and say in words what is wrong. What makes a slug, a SKU or a
tier ladder valid is ``shop.catalog.rules`` (the CSV import asks the same rules); what
needs the database (a slug or SKU already taken) is checked by the views.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    Form,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from shop.catalog import rules
from shop.catalog.attributes import AGE_GROUPS, GENDERS
from shop.catalog.colours import COLOURS, colour_name
from shop.money import MAX_AMOUNT, exponent, from_decimal
from shop.request_keys import request_key_field

PRICE_MAX_LENGTH = 20


class Rule:
    """A WTForms validator asking one of ``shop.catalog.rules`` (an empty field is left to
    ``DataRequired``)."""

    def __init__(self, problem: Callable[[str], str | None]) -> None:
        self.problem = problem

    def __call__(self, form, field) -> None:
        if field.data:
            problem = self.problem(field.data)
            if problem is not None:
                raise ValidationError(problem)


def category_slug_problem(value: str) -> str | None:
    return rules.slug_problem(value, rules.CATEGORY_SLUG_MAX_LENGTH)


class OptionalKeyField(SelectField):
    """A product's optional key (gender, age group): ``None`` (not said) is the ``""``
    choice."""

    def process_data(self, value) -> None:
        super().process_data(value or "")


class ProductForm(FlaskForm):
    name = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=200)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[Optional(), Length(max=200)])
    name_ja = StringField(_l("Name (Japanese)"), validators=[Optional(), Length(max=200)])
    slug = StringField(
        _l("Slug (web address)"),
        validators=[DataRequired(), Rule(rules.slug_problem)],
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
    gender = OptionalKeyField(
        _l("Gender"),
        choices=[
            SelectChoice("", _l("— not said —")),
            *(SelectChoice(key, label) for key, label in GENDERS.items()),
        ],
        default="",
        validate_choice=True,
    )
    age_group = OptionalKeyField(
        _l("Age group"),
        choices=[
            SelectChoice("", _l("— not said —")),
            *(SelectChoice(key, label) for key, label in AGE_GROUPS.items()),
        ],
        default="",
        validate_choice=True,
    )
    active = BooleanField(_l("Active (shown in the shop)"))
    featured = BooleanField(_l("Featured"))
    # 0: sold everywhere; else the school whose shop alone sells it (choices set by the view).
    school_id = SelectField(_l("Only for school"), coerce=int, default=0, validate_choice=True)
    # The product page saves once per showing, however often it is sent (one-time key).
    request_key = request_key_field(required=False)

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


class NewVariantsForm(Form):
    """The product page's "add sizes × colours" fields, read from the page's one form
    (names ``new-sizes``, ``new-colours``, ``new-pattern``). Colours are picked by name
    from the palette (``shop.catalog.colours``); nothing chosen adds nothing."""

    sizes = StringField(_l("Sizes"), validators=[Optional(), Length(max=500)])
    colours = SelectMultipleField(_l("Colours"), validate_choice=True)
    pattern = StringField(
        _l("SKU pattern"),
        default="{slug}-{size}-{colour}",
        validators=[Optional(), Length(max=100)],
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.colours.data and not split_list(self.sizes.data):
            self.sizes.errors = [*self.sizes.errors, _("Enter the sizes to add.")]
            valid = False
        if split_list(self.sizes.data) and not self.colours.data:
            self.colours.errors = [*self.colours.errors, _("Choose at least one colour.")]
            valid = False
        if (self.colours.data or split_list(self.sizes.data)) and not self.pattern.data:
            self.pattern.errors = [*self.pattern.errors, _("Enter a SKU pattern.")]
            valid = False
        return valid

    @property
    def wanted(self) -> bool:
        return bool(split_list(self.sizes.data) and self.colours.data)


def colour_choices(extra: list[str] | tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The palette by name, in its order, then any other colour ``extra`` names (a colour
    an import brought in) as it is stored."""
    choices = [(key, colour_name(key)) for key in COLOURS]
    choices.extend((key, key) for key in dict.fromkeys(extra) if key and key not in COLOURS)
    return choices


@dataclass
class VariantRow:
    """One variant's row on the product page, as shown or as typed, with its errors."""

    id: int
    sku: str
    low_stock_threshold: str
    for_sale: bool
    errors: list[str]


def parse_variant_row(row_form: VariantRow) -> dict | None:
    """A typed row → ``{sku, low_stock_threshold, for_sale}``; ``None`` after adding what
    is wrong to ``row_form.errors``."""
    sku = row_form.sku.strip().upper()
    if not sku:
        row_form.errors.append(_("Enter a SKU."))
    elif (problem := rules.sku_problem(sku)) is not None:
        row_form.errors.append(problem)
    low = row_form.low_stock_threshold.strip()
    if not (low.isascii() and low.isdigit() and len(low) <= 6 and int(low) <= 100000):
        row_form.errors.append(_("The low-stock threshold is a whole number, 0 or more."))
    if row_form.errors:
        return None
    return {"sku": sku, "low_stock_threshold": int(low), "for_sale": row_form.for_sale}


class VariantForm(FlaskForm):
    sku = StringField(
        _l("SKU"),
        validators=[DataRequired(), Rule(rules.sku_problem)],
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
    alt_text_zh = StringField(_l("Alt text (Chinese)"), validators=[Optional(), Length(max=255)])
    alt_text_ja = StringField(_l("Alt text (Japanese)"), validators=[Optional(), Length(max=255)])


class CategoryForm(FlaskForm):
    name = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=120)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[Optional(), Length(max=120)])
    name_ja = StringField(_l("Name (Japanese)"), validators=[Optional(), Length(max=120)])
    slug = StringField(
        _l("Slug (web address)"),
        validators=[DataRequired(), Rule(category_slug_problem)],
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


def parse_price(text: str | None, currency: str) -> int:
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


def _tier_message(problem: rules.TierProblem, currency: str, row: int) -> str:
    if problem.kind == rules.QUANTITY_BELOW_ONE:
        return _(
            "%(currency)s row %(row)d: the minimum quantity must be at least 1.",
            currency=currency,
            row=row,
        )
    # The parsing lets neither of these two through (seven digits; parse_price's range).
    if problem.kind == rules.QUANTITY_TOO_LARGE:
        return _(
            "%(currency)s row %(row)d: the minimum quantity must be a whole number.",
            currency=currency,
            row=row,
        )
    if problem.kind == rules.PRICE_OUT_OF_RANGE:
        reason = _("the price is too large")
        return _("%(currency)s row %(row)d: %(reason)s.", currency=currency, row=row, reason=reason)
    if problem.kind == rules.QUANTITY_NOT_RISING:
        return _(
            "%(currency)s row %(row)d: the minimum quantity must be more than the "
            "row above (%(above)d).",
            currency=currency,
            row=row,
            above=problem.above,
        )
    if problem.kind == rules.PRICE_RISING:
        return _(
            "%(currency)s row %(row)d: the price must not be more than the row above.",
            currency=currency,
            row=row,
        )
    return _("At most %(n)d tiers per currency.", n=rules.MAX_TIERS)


def _parse_tier_row(row: TierRow, currency: str, number: int) -> tuple[int, int] | str:
    """One typed row → ``(min_quantity, unit_amount)``, or what is wrong in words."""
    quantity_text, price_text = row.min_quantity.strip(), row.price.strip()
    if not quantity_text.isascii() or not quantity_text.isdigit() or len(quantity_text) > 7:
        return _(
            "%(currency)s row %(row)d: the minimum quantity must be a whole number.",
            currency=currency,
            row=number,
        )
    try:
        amount = parse_price(price_text, currency)
    except ValueError as error:
        return _(
            "%(currency)s row %(row)d: %(reason)s.",
            currency=currency,
            row=number,
            reason=str(error),
        )
    return int(quantity_text), amount


def parse_tiers(rows: list[TierRow], currency: str) -> tuple[list[tuple[int, int]], list[str]]:
    """Rows of (min quantity, price) → ``[(min_quantity, unit_amount)]`` and errors that name
    the row. Blank rows are skipped; the ladder must satisfy ``rules.tier_problems``."""
    parsed: list[tuple[int, int]] = []
    numbers: list[int] = []  # the row number of each parsed tier
    errors: list[tuple[int, str]] = []  # row number (past the last: the whole ladder), error
    for number, row in enumerate(rows, start=1):
        if not row.min_quantity.strip() and not row.price.strip():
            continue
        tier = _parse_tier_row(row, currency, number)
        if isinstance(tier, str):
            errors.append((number, tier))
        else:
            parsed.append(tier)
            numbers.append(number)
    problems = rules.tier_problems(parsed)
    for problem in problems:
        number = numbers[problem.index] if problem.index is not None else len(rows) + 1
        errors.append((number, _tier_message(problem, currency, number)))
    refused = {problem.index for problem in problems}
    tiers = [tier for index, tier in enumerate(parsed) if index not in refused]
    return tiers, [message for _number, message in sorted(errors, key=lambda e: e[0])]
