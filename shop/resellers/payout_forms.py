"""Staff's form to record a payout: which window and currency, the amount the page showed
(the payout must move exactly that), the bank's reference, and a one-time key."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from shop.request_keys import request_key_field

REFERENCE_MAX_LENGTH = 80  # ResellerPayout.reference


class PayoutForm(FlaskForm):
    reseller_id = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9]{1,10}$")])
    currency = HiddenField(validators=[DataRequired(), Regexp(r"^[A-Z]{3}$")])
    expected_amount = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9]{1,15}$")])
    reference = StringField(
        _l("Bank reference"),
        validators=[
            DataRequired(_l("Write the bank's reference for this transfer.")),
            Length(max=REFERENCE_MAX_LENGTH),
        ],
    )
    request_key = request_key_field()
