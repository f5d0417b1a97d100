"""Forms of the order desk. They parse what staff typed; the rules live in the services
(``shop.orders.lifecycle``, ``shop.orders.messages``)."""

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from shop.money import exponent
from shop.orders.carriers import CARRIERS
from shop.orders.messages import MAX_LENGTH as MESSAGE_MAX_LENGTH
from shop.request_keys import request_key_field

# No sane refund needs more digits than this; longer input is refused before it is parsed.
AMOUNT_MAX_LENGTH = 20


class ShipForm(FlaskForm):
    """Carrier and tracking number; the per-line quantities are ``qty-<line id>`` inputs
    read with ``quantities_from``. An unknown carrier is left to ``lifecycle.ship``."""

    carrier = SelectField(
        _l("Carrier"),
        choices=[SelectChoice(key, carrier.name) for key, carrier in CARRIERS.items()],
        validate_choice=False,
    )
    tracking_number = StringField(_l("Tracking number"), validators=[Length(max=64)])
    custom_carrier = StringField(
        _l("Carrier name (when “Other”)"), validators=[Optional(), Length(max=80)]
    )
    request_key = request_key_field(required=False)


class RefundForm(FlaskForm):
    """All that is left, or an amount in major units (``12.50``, ``¥500`` as ``500``); the
    pieces to put back on the shelf are ``return-<line id>`` inputs."""

    scope = RadioField(
        _l("What to refund"),
        choices=[
            SelectChoice("amount", _l("This amount")),
            SelectChoice("full", _l("Everything not yet refunded")),
        ],
        default="amount",
    )
    amount = StringField(_l("Amount"), validators=[Length(max=AMOUNT_MAX_LENGTH)])
    refund_reason = StringField(_l("Reason (internal)"), validators=[Optional(), Length(max=500)])
    request_key = request_key_field()


class CancelForm(FlaskForm):
    confirm = BooleanField(
        _l("Yes, cancel this order (a paid order is refunded in full)"),
        validators=[DataRequired(_l("Tick the box to confirm the cancellation."))],
    )
    cancel_reason = StringField(_l("Reason (internal)"), validators=[Optional(), Length(max=500)])


class NoteForm(FlaskForm):
    note = TextAreaField(
        _l("Internal note"),
        validators=[DataRequired(_l("Write the note.")), Length(max=2000)],
    )
    request_key = request_key_field(required=False)


class ReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Answer the customer"),
        validators=[
            DataRequired(_l("Write a message of 1 to 5,000 characters.")),
            Length(max=MESSAGE_MAX_LENGTH, message=_l("Write a message of 1 to 5,000 characters.")),
        ],
    )
    request_key = request_key_field(required=False)


class BadQuantity(ValueError):
    """A quantity input that is not a whole number."""


def quantities_from(formdata, prefix: str, line_ids) -> dict[int, int]:
    """``{line id: quantity}`` from inputs named ``<prefix>-<line id>``; blank is 0.
    Negative numbers pass through (the services refuse them with their own words)."""
    quantities = {}
    for line_id in line_ids:
        raw = (formdata.get(f"{prefix}-{line_id}") or "").strip()
        if not raw:
            quantities[line_id] = 0
            continue
        digits = raw[1:] if raw.startswith("-") else raw
        if not digits.isascii() or not digits.isdigit() or len(digits) > 6:
            raise BadQuantity(raw)
        quantities[line_id] = int(raw)
    return quantities


class BadAmount(ValueError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # not_a_number, not_positive, precision, too_large


def amount_from(text: str, currency: str) -> int:
    """What staff typed in major units (``"89.50"``) as minor units (``8950``), or
    ``BadAmount``. Whether that much may be refunded is the refund service's rule."""
    text = (text or "").strip()
    if not text or len(text) > AMOUNT_MAX_LENGTH:
        raise BadAmount("not_a_number")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise BadAmount("not_a_number") from None
    if not value.is_finite():
        raise BadAmount("not_a_number")
    if value <= 0:
        raise BadAmount("not_positive")
    if value.adjusted() > 12:  # beyond any order; refused before int() makes a huge number
        raise BadAmount("too_large")
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise BadAmount("precision")
    return int(scaled)
