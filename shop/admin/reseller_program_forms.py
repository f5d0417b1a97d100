"""The forms of the reseller programme's staff pages: the factory's terms, a category's
commission, one window's overrides. Each field says in words what is wrong with it;
percentages are typed as per cent ("12.5"), payout minimums in major units ("100.00"),
and both become integers here (basis points, minor units) for ``shop.resellers.settings``.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError

from shop.admin.forms import AMOUNT_MAX_LENGTH, BadAmount, amount_from
from shop.money import MAX_AMOUNT, SUPPORTED_CURRENCIES, to_decimal
from shop.request_keys import new_request_key, request_key_field
from shop.resellers.models import MONEY_MODELS, ResellerProgram, ResellerTerms
from shop.resellers.settings import (
    MAX_CAP_BPS,
    MAX_COMMISSION_BPS,
    MAX_DAYS,
    MIN_DAYS,
    ProgramValues,
    parse_percent,
    percent_text,
)

MONEY_MODEL_LABELS = {
    "referral": _l("Referral: buyers pay the factory's price; the reseller earns a commission"),
    "price": _l("Reseller price: the reseller sets a price up to the cap and keeps the margin"),
}
if set(MONEY_MODEL_LABELS) != set(MONEY_MODELS):
    raise ValueError("a money model without a label")
DAYS_MESSAGE = _l("Enter a whole number of days from 1 to 365.")
PERCENT_LENGTH = 12


def _percent(maximum_bps: int, message, *, optional: bool = False):
    def check(form, field) -> None:
        field.data = (field.data or "").strip()
        if optional and not field.data:
            return
        try:
            parse_percent(field.data, maximum_bps)
        except ValueError:
            raise ValidationError(str(message)) from None

    return check


COMMISSION_MESSAGE = _l("Enter a percentage from 0 to 100, with at most two decimals.")
CAP_MESSAGE = _l("Enter a percentage from 0 to 300, with at most two decimals.")
PAYOUT_PROBLEMS = {
    "not_a_number": _l("Enter the amount as a number, like 100.00."),
    "not_positive": _l("Enter an amount more than zero."),
    "precision": _l("That amount has more decimals than the currency has."),
    "too_large": _l("That amount is too large."),
}


def _payout_minimum(currency: str):
    def check(form, field) -> None:
        try:
            amount = amount_from(field.data or "", currency)
        except BadAmount as error:
            raise ValidationError(str(PAYOUT_PROBLEMS[error.reason])) from None
        if amount > MAX_AMOUNT:
            raise ValidationError(str(PAYOUT_PROBLEMS["too_large"]))

    return check


def _days(label):
    return IntegerField(
        label,
        validators=[
            InputRequired(message=DAYS_MESSAGE),
            NumberRange(min=MIN_DAYS, max=MAX_DAYS, message=DAYS_MESSAGE),
        ],
    )


class ProgramForm(FlaskForm):
    money_model = SelectField(
        _l("Money model"),
        choices=[SelectChoice(model, label) for model, label in MONEY_MODEL_LABELS.items()],
        validators=[InputRequired()],
    )
    commission_percent = StringField(
        _l("Default commission (%)"),
        validators=[Length(max=PERCENT_LENGTH), _percent(MAX_COMMISSION_BPS, COMMISSION_MESSAGE)],
    )
    price_cap_percent = StringField(
        _l("Price cap: at most this much above the factory's price (%)"),
        validators=[Length(max=PERCENT_LENGTH), _percent(MAX_CAP_BPS, CAP_MESSAGE)],
    )
    return_window_days = _days(_l("Return window (days after delivery)"))
    attribution_days = _days(_l("Attribution (days a visit counts)"))
    payout_CNY = StringField(
        _l("Smallest payout in CNY"),
        validators=[Length(max=AMOUNT_MAX_LENGTH), _payout_minimum("CNY")],
    )
    payout_JPY = StringField(
        _l("Smallest payout in JPY"),
        validators=[Length(max=AMOUNT_MAX_LENGTH), _payout_minimum("JPY")],
    )
    payout_SGD = StringField(
        _l("Smallest payout in SGD"),
        validators=[Length(max=AMOUNT_MAX_LENGTH), _payout_minimum("SGD")],
    )
    payout_USD = StringField(
        _l("Smallest payout in USD"),
        validators=[Length(max=AMOUNT_MAX_LENGTH), _payout_minimum("USD")],
    )
    earn_on_school_orders = BooleanField(_l("School orders earn commission"))
    earn_on_invoice_orders = BooleanField(_l("Orders paid on invoice earn commission"))
    request_key = request_key_field()

    def payout_fields(self):
        return [self[f"payout_{currency}"] for currency in SUPPORTED_CURRENCIES]

    def values(self) -> ProgramValues:
        """The validated form as the rule takes it."""
        return ProgramValues(
            money_model=self.money_model.data,
            commission_bps=parse_percent(self.commission_percent.data, MAX_COMMISSION_BPS),
            price_cap_bps=parse_percent(self.price_cap_percent.data, MAX_CAP_BPS),
            return_window_days=self.return_window_days.data,
            attribution_days=self.attribution_days.data,
            payout_minimums={
                currency: amount_from(self[f"payout_{currency}"].data, currency)
                for currency in SUPPORTED_CURRENCIES
            },
            earn_on_school_orders=bool(self.earn_on_school_orders.data),
            earn_on_invoice_orders=bool(self.earn_on_invoice_orders.data),
        )


def _major(amount: int | None, currency: str) -> str:
    return "" if amount is None else str(to_decimal(amount, currency))


def new_program_form(row: ResellerProgram) -> ProgramForm:
    minimums = row.payout_minimums or {}
    return ProgramForm(
        formdata=None,
        money_model=row.money_model,
        commission_percent=percent_text(row.commission_bps),
        price_cap_percent=percent_text(row.price_cap_bps),
        return_window_days=row.return_window_days,
        attribution_days=row.attribution_days,
        earn_on_school_orders=row.earn_on_school_orders,
        earn_on_invoice_orders=row.earn_on_invoice_orders,
        request_key=new_request_key(),
        **{
            f"payout_{currency}": _major(minimums.get(currency), currency)
            for currency in SUPPORTED_CURRENCIES
        },
    )


class CategoryRateForm(FlaskForm):
    rate = StringField(
        _l("Commission (%)"),
        validators=[
            Length(max=PERCENT_LENGTH),
            _percent(MAX_COMMISSION_BPS, COMMISSION_MESSAGE, optional=True),
        ],
    )
    action = SelectField(
        choices=[SelectChoice("set"), SelectChoice("clear")], validators=[InputRequired()]
    )
    request_key = request_key_field()

    def bps(self) -> int | None:
        """The rate to save; ``None`` clears it (the "clear" button, or an empty rate)."""
        if self.action.data == "clear" or not self.rate.data:
            return None
        return parse_percent(self.rate.data, MAX_COMMISSION_BPS)


TERMS_MODEL_CHOICES = [
    SelectChoice("", _l("The programme's default")),
    *(SelectChoice(model, label) for model, label in MONEY_MODEL_LABELS.items()),
]


class TermsForm(FlaskForm):
    money_model = SelectField(_l("Money model"), choices=TERMS_MODEL_CHOICES)
    commission_percent = StringField(
        _l("Commission (%) — empty: the category's or the programme's"),
        validators=[
            Length(max=PERCENT_LENGTH),
            _percent(MAX_COMMISSION_BPS, COMMISSION_MESSAGE, optional=True),
        ],
    )
    request_key = request_key_field()

    def overrides(self) -> dict:
        rate = self.commission_percent.data
        return {
            "money_model": self.money_model.data or None,
            "commission_bps": parse_percent(rate, MAX_COMMISSION_BPS) if rate else None,
        }


def new_terms_form(terms: ResellerTerms | None) -> TermsForm:
    return TermsForm(
        formdata=None,
        money_model=(terms.money_model if terms else None) or "",
        commission_percent=percent_text(terms.commission_bps if terms else None),
        request_key=new_request_key(),
    )
