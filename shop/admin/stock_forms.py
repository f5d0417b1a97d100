"""Forms of the stock pages and the CSV import. They parse what staff typed; the rules
live in ``shop.stock.allocation`` and ``shop.catalog.csv_io``."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

from shop.request_keys import request_key_field

REASONS = {
    "received": _l("Received"),
    "counted": _l("Counted (enter the counted total)"),
    "damaged": _l("Damaged"),
    "returned": _l("Returned"),
}
QUANTITY_MAX_LENGTH = 9


class AdjustForm(FlaskForm):
    reason = SelectField(
        _l("Reason"), choices=[SelectChoice(key, label) for key, label in REASONS.items()]
    )
    quantity = StringField(
        _l("Quantity (+ or −), or the counted total"),
        validators=[DataRequired(), Length(max=QUANTITY_MAX_LENGTH)],
    )
    note = TextAreaField(_l("Note"), validators=[Length(max=500)])
    request_key = request_key_field(required=False)  # the same form twice adjusts once


def signed_int(raw: str | None) -> int | None:
    """``"+5"`` → 5, ``"-3"`` → -3, ``"−3"`` (a typographic minus) → -3; else ``None``."""
    text = (raw or "").strip().replace("\u2212", "-")
    digits = text[1:] if text[:1] in "+-" else text
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    return int(text)


class ImportUploadForm(FlaskForm):
    file = FileField(_l("CSV file"))


class ImportApplyForm(FlaskForm):
    token = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{32}$")])
