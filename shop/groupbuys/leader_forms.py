"""The leader's form for opening a campaign. The form checks each field on its own (a
length, a number, a time that parses); the rules that tie fields together or need the
database (a closing time in the future, a maximum not below the minimum, products with
tiers in the currency) are ``shop.groupbuys.leader``'s, and the view puts their reasons
under the fields they concern (``PROBLEMS``).

The closing time is typed on the leader's own clock, in the zone they choose (by default
the one their currency's market lives in), and stored in UTC.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from shop.groupbuys import leader
from shop.money import SUPPORTED_CURRENCIES
from shop.request_keys import request_key_field

# The zones a closing time can be typed in, and the one each currency suggests.
ZONES = {
    "Asia/Shanghai": _l("China time (Beijing)"),
    "Asia/Tokyo": _l("Japan time (Tokyo)"),
    "Asia/Singapore": _l("Singapore time"),
    "UTC": _l("UTC"),
}
CURRENCY_ZONES = {"CNY": "Asia/Shanghai", "JPY": "Asia/Tokyo", "SGD": "Asia/Singapore"}
DELIVERY_LABELS = {
    "pickup": _l("To my pick-up point: I hand out the bags"),
    "each": _l("To each participant's own address"),
}
PIECES_MESSAGE = _l("Enter a whole number of pieces from 1 to 100000.")
# The rules' reasons (``leader.CampaignRefused.problems``) in words.
PROBLEMS = {
    "title": _l("Give the group buy a title."),
    "too_long": _l("That is too long."),
    "currency": _l("Choose a currency."),
    "closes_past": _l("Choose a closing time in the future."),
    "closes_too_late": _l("A group buy can run for at most 60 days."),
    "pieces": PIECES_MESSAGE,
    "max_below_min": _l("The maximum cannot be below the minimum."),
    "no_products": _l("Choose at least one product."),
    "too_many_products": _l("Choose at most 20 products."),
    "product_unavailable": _l("One of the chosen products cannot be sold in a group buy."),
    "no_tiers": _l("These products have no price in the chosen currency: %(names)s"),
    "delivery": _l("Choose how the goods arrive."),
    "pickup_missing": _l("Needed for a pick-up point."),
    "ladder_repeated": _l("A product has the same number of pieces twice."),
    "ladder_products": _l("Give steps for every chosen product, and only for those."),
    "ladder_steps": _l("At most 10 steps per product."),
    "ladder_start": _l("Each product's first step is for 1 piece."),
    "ladder_dearer": _l("A step for more pieces cannot cost more."),
}
# Which field of the form each rule's field name is shown under.
FIELD_OF = {"closes_at": "closes_local"}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _ladder(form, field) -> None:
    if not field.data:
        return
    try:
        leader.parse_ladder(field.data, form.currency.data or "")
    except ValueError as error:
        reason = str(error)
        if reason.isdigit():
            message = _l(
                "Line %(line)s: write a product code, a number of pieces and a unit price, "
                "like “polo-navy 50 39.00”.",
                line=reason,
            )
            raise ValidationError(str(message)) from None
        raise ValidationError(str(PROBLEMS["too_long"])) from None


class CampaignForm(FlaskForm):
    title = StringField(
        _l("Title"),
        filters=[_strip],
        validators=[InputRequired(message=PROBLEMS["title"]), Length(max=leader.TITLE_MAX)],
    )
    note = TextAreaField(
        _l("Note for participants (optional)"),
        filters=[_strip],
        validators=[Optional(), Length(max=leader.NOTE_MAX)],
    )
    products = SelectMultipleField(_l("Products"), coerce=int, validate_choice=False)
    currency = SelectField(
        _l("Currency"),
        choices=[SelectChoice(code, code) for code in SUPPORTED_CURRENCIES],
        validators=[InputRequired(message=PROBLEMS["currency"])],
    )
    closes_local = DateTimeLocalField(
        _l("Closes at"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        validators=[InputRequired(message=_l("Enter the closing date and time."))],
    )
    time_zone = SelectField(
        _l("Time zone of the closing time"),
        choices=[SelectChoice(zone, label) for zone, label in ZONES.items()],
        validators=[InputRequired()],
    )
    min_pieces = IntegerField(
        _l("Minimum pieces for the group buy to go ahead"),
        validators=[
            InputRequired(message=PIECES_MESSAGE),
            NumberRange(min=1, max=leader.MAX_PIECES, message=PIECES_MESSAGE),
        ],
    )
    max_pieces = IntegerField(
        _l("Maximum pieces (optional)"),
        validators=[Optional(), NumberRange(min=1, max=leader.MAX_PIECES, message=PIECES_MESSAGE)],
    )
    delivery = RadioField(
        _l("Delivery"),
        choices=[SelectChoice(key, label) for key, label in DELIVERY_LABELS.items()],
        default="pickup",
        validators=[InputRequired(message=PROBLEMS["delivery"])],
    )
    pickup_name = StringField(
        _l("Pick-up point"),
        filters=[_strip],
        validators=[Optional(), Length(max=leader.PICKUP_NAME_MAX)],
    )
    pickup_address = StringField(
        _l("Pick-up address"),
        filters=[_strip],
        validators=[Optional(), Length(max=leader.PICKUP_ADDRESS_MAX)],
    )
    pickup_hours = StringField(
        _l("Opening hours"),
        filters=[_strip],
        validators=[Optional(), Length(max=leader.PICKUP_HOURS_MAX)],
    )
    ladder = TextAreaField(
        _l("A price ladder of your own (optional)"),
        validators=[Optional(), Length(max=leader.LADDER_MAX), _ladder],
    )
    request_key = request_key_field()

    def closes_at(self) -> datetime:
        """The closing time typed, on the chosen zone's clock, as an aware moment."""
        return self.closes_local.data.replace(tzinfo=ZoneInfo(self.time_zone.data))

    def draft(self, locale: str) -> leader.Draft:
        """The validated form as ``leader.create_campaign`` takes it."""
        return leader.Draft(
            title=self.title.data or "",
            note=self.note.data or "",
            currency=self.currency.data,
            closes_at=self.closes_at(),
            min_pieces=self.min_pieces.data,
            max_pieces=self.max_pieces.data,
            product_ids=tuple(dict.fromkeys(self.products.data or ())),
            delivery=self.delivery.data,
            pickup_name=self.pickup_name.data or "",
            pickup_address=self.pickup_address.data or "",
            pickup_hours=self.pickup_hours.data or "",
            ladder=leader.parse_ladder(self.ladder.data or "", self.currency.data),
            locale=locale,
        )

    def show_problems(self, refused: leader.CampaignRefused) -> None:
        """Put the rules' reasons under their fields."""
        for name, code in refused.problems.items():
            message = PROBLEMS.get(code, PROBLEMS["too_long"])
            text = str(message) % {"names": refused.details.get(name, "")}
            field = self[FIELD_OF.get(name, name)]
            field.errors = [*field.errors, text]
