"""Forms of the schools admin (a school, its access code and logo, its uniform list,
delivery rounds and school admins).

They parse what staff typed and say in words what is wrong; rules that need the database
(a slug already taken, a round that orders use) are checked by the schools domain
(``shop.schools.management``, ``shop.schools.rounds``).
Money is typed in the school's currency as a decimal and parsed with the price tiers'
``parse_price`` (JPY has no minor unit).
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields import DateField, DateTimeLocalField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from shop.accounts.service import InvalidEmail, normalise_email
from shop.admin.catalog_forms import parse_price, split_list
from shop.catalog.rules import SLUG_MESSAGE, SLUG_PATTERN
from shop.locales import is_zone
from shop.money import SUPPORTED_CURRENCIES
from shop.schools.labels import GENDER_LABELS, SEASON_LABELS

COUNTRY_PATTERN = r"^[A-Z]{2}$"
MAX_GRADES = 40
GRADE_MAX_LENGTH = 30
ACCESS_CODE_MIN = 4
ACCESS_CODE_MAX = 100
MAX_TERMS_DAYS = 120
MAX_QUANTITY_PER_CHILD = 99


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _email_address(form, field) -> None:
    try:
        normalise_email(field.data or "")
    except InvalidEmail:
        raise ValidationError(_("That does not look like an email address.")) from None


def parse_grades(text: str) -> list[str]:
    """``"P1, P2\\nP3"`` → ``["P1", "P2", "P3"]``: comma- or line-separated, in order,
    duplicates dropped."""
    return split_list(text)


def parse_optional_price(text: str | None, currency: str) -> int | None:
    """A decimal typed in ``currency`` → minor units; blank → ``None``. ``ValueError``
    says why not, in words."""
    if not (text or "").strip():
        return None
    return parse_price(text or "", currency)


def _known_zone(form, field) -> None:
    if field.data and not is_zone(field.data):
        raise ValidationError(_l("An IANA time zone name, like Asia/Tokyo or Asia/Singapore."))


# /schools/admin is the school admins' landing page, not a school.
RESERVED_SLUGS = frozenset({"admin"})


def _not_reserved(form, field) -> None:
    if field.data in RESERVED_SLUGS:
        raise ValidationError(_l("This address is taken by the shop itself; choose another."))


class SchoolForm(FlaskForm):
    slug = StringField(
        _l("Slug (web address)"),
        filters=[_strip],
        validators=[
            DataRequired(),
            Length(max=80),
            Regexp(SLUG_PATTERN, message=SLUG_MESSAGE),
            _not_reserved,
        ],
    )
    name = StringField(
        _l("Name (English)"), filters=[_strip], validators=[DataRequired(), Length(max=200)]
    )
    name_zh = StringField(
        _l("Name (Chinese)"), filters=[_strip], validators=[Optional(), Length(max=200)]
    )
    name_ja = StringField(
        _l("Name (Japanese)"), filters=[_strip], validators=[Optional(), Length(max=200)]
    )
    city = StringField(_l("City (English)"), filters=[_strip], validators=[Length(max=120)])
    city_zh = StringField(
        _l("City (Chinese)"), filters=[_strip], validators=[Optional(), Length(max=120)]
    )
    city_ja = StringField(
        _l("City (Japanese)"), filters=[_strip], validators=[Optional(), Length(max=120)]
    )
    country = StringField(
        _l("Country"),
        default="CN",
        filters=[_upper],
        validators=[
            DataRequired(),
            Regexp(COUNTRY_PATTERN, message=_l("Two letters, like CN, JP or SG.")),
        ],
    )
    currency = SelectField(
        _l("Currency"),
        choices=[SelectChoice(code) for code in SUPPORTED_CURRENCIES],
        default="CNY",
        validate_choice=True,
    )
    time_zone = StringField(
        _l("Time zone"), filters=[_strip], validators=[Optional(), Length(max=64), _known_zone]
    )
    grades_text = TextAreaField(
        _l("Grades"), filters=[_strip], validators=[Optional(), Length(max=2000)]
    )
    delivery_recipient = StringField(
        _l("Delivery recipient"), filters=[_strip], validators=[Length(max=120)]
    )
    delivery_phone = StringField(
        _l("Delivery phone"), filters=[_strip], validators=[Length(max=40)]
    )
    delivery_region = StringField(
        _l("Province / prefecture / state"), filters=[_strip], validators=[Length(max=120)]
    )
    delivery_city = StringField(_l("Delivery city"), filters=[_strip], validators=[Length(max=120)])
    delivery_line1 = StringField(
        _l("Address line 1"), filters=[_strip], validators=[Length(max=200)]
    )
    delivery_line2 = StringField(
        _l("Address line 2"), filters=[_strip], validators=[Length(max=200)]
    )
    delivery_postcode = StringField(_l("Postcode"), filters=[_strip], validators=[Length(max=20)])
    contact_name = StringField(_l("Contact name"), filters=[_strip], validators=[Length(max=120)])
    contact_email = StringField(
        _l("Contact email"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=254),
            _email_address,
        ],
    )
    contact_phone = StringField(_l("Contact phone"), filters=[_strip], validators=[Length(max=40)])
    verified = BooleanField(_l("Verified by the factory (may pay on invoice)"))
    invoice_terms_days = IntegerField(
        _l("Invoice terms (days)"),
        default=0,
        validators=[
            InputRequired(message=_l("Enter a whole number of days from 0 to 120.")),
            NumberRange(
                min=0, max=MAX_TERMS_DAYS, message=_l("Enter a whole number of days from 0 to 120.")
            ),
        ],
    )
    credit_limit = StringField(
        _l("Credit limit"), filters=[_strip], validators=[Optional(), Length(max=20)]
    )
    active = BooleanField(_l("Active (shown in the school finder)"), default=True)

    # Set by ``validate``: the parsed values.
    grades: list[str]
    credit_limit_amount: int

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        self.grades = parse_grades(self.grades_text.data or "")
        if len(self.grades) > MAX_GRADES:
            self.grades_text.errors.append(_("At most %(n)d grades.", n=MAX_GRADES))
            valid = False
        elif any(len(grade) > GRADE_MAX_LENGTH for grade in self.grades):
            self.grades_text.errors.append(
                _("Each grade is at most %(n)d characters.", n=GRADE_MAX_LENGTH)
            )
            valid = False
        self.credit_limit_amount = 0
        if not self.currency.errors and self.currency.data in SUPPORTED_CURRENCIES:
            try:
                self.credit_limit_amount = (
                    parse_optional_price(self.credit_limit.data, self.currency.data) or 0
                )
            except ValueError as error:
                self.credit_limit.errors.append(_("Credit limit: %(reason)s.", reason=str(error)))
                valid = False
        return valid


class AccessCodeForm(FlaskForm):
    code = PasswordField(
        _l("New access code"),
        validators=[
            DataRequired(message=_l("Enter a code of at least 4 characters.")),
            Length(
                min=ACCESS_CODE_MIN,
                max=ACCESS_CODE_MAX,
                message=_l("Between 4 and 100 characters."),
            ),
        ],
    )


class LogoForm(FlaskForm):
    logo = FileField(_l("Logo (JPEG, PNG or WebP, up to 5 MB)"))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _optional_int(value) -> int:
    if value in (None, ""):
        return 0
    return int(value)


class UniformItemForm(FlaskForm):
    """Add or edit a line of a school's uniform list. The views fill ``product_id``'s and
    ``grades``' choices and check the product (``product_slug`` wins when typed)."""

    product_slug = StringField(
        _l("Product slug"), filters=[_strip], validators=[Optional(), Length(max=120)]
    )
    product_id = SelectField(
        _l("Or choose a product"), coerce=_optional_int, default=0, validate_choice=True
    )
    required = SelectField(
        _l("Required"),
        choices=[SelectChoice("yes", _l("Required")), SelectChoice("no", _l("Optional"))],
        default="yes",
        validate_choice=True,
    )
    grades = MultiCheckboxField(_l("Grades (none ticked: every grade)"), validate_choice=True)
    gender = SelectField(
        _l("Gender"),
        choices=[SelectChoice(key, label) for key, label in GENDER_LABELS.items()],
        default="any",
        validate_choice=True,
    )
    season = SelectField(
        _l("Season"),
        choices=[SelectChoice(key, label) for key, label in SEASON_LABELS.items()],
        default="summer",
        validate_choice=True,
    )
    quantity_per_child = IntegerField(
        _l("Quantity per child"),
        default=1,
        validators=[
            InputRequired(message=_l("Enter a whole number, 1 or more.")),
            NumberRange(
                min=1, max=MAX_QUANTITY_PER_CHILD, message=_l("Between 1 and 99 per child.")
            ),
        ],
    )
    school_price = StringField(
        _l("School price"), filters=[_strip], validators=[Optional(), Length(max=20)]
    )

    def school_price_amount(self, currency: str) -> int | None:
        """The school price in minor units (``None``: catalogue tiers apply); on a bad
        amount the field gets the reason and ``ValueError`` is raised."""
        try:
            return parse_optional_price(self.school_price.data, currency)
        except ValueError as error:
            self.school_price.errors = [
                *self.school_price.errors,
                _("School price: %(reason)s.", reason=str(error)),
            ]
            raise


class DeliveryRoundForm(FlaskForm):
    delivery_date = DateField(
        _l("Delivery date"),
        validators=[InputRequired(message=_l("Enter the delivery date."))],
    )
    cutoff_at = DateTimeLocalField(
        _l("Order cut-off (factory time)"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        validators=[InputRequired(message=_l("Enter the order cut-off date and time."))],
    )


class SchoolAdminInviteForm(FlaskForm):
    email = StringField(_l("Email"), filters=[_strip], validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), filters=[_strip], validators=[Optional(), Length(max=120)])
