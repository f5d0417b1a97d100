"""The reseller's packing-slip form: blind (the window's name and a thank-you line, no
factory prices) or the factory's own. The rule is ``shop.resellers.settings``'s."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Length

from shop.request_keys import new_request_key, request_key_field
from shop.resellers.models import ResellerTerms
from shop.resellers.settings import SLIP_MESSAGE_MAX_LENGTH


def _one_line(form, field) -> None:
    field.data = " ".join((field.data or "").split())


class SlipForm(FlaskForm):
    blind_slip = BooleanField(_l("Pack parcels from my window with my own slip"))
    slip_message = StringField(
        _l("Thank-you line on the slip"),
        validators=[_one_line, Length(max=SLIP_MESSAGE_MAX_LENGTH)],
    )
    request_key = request_key_field()


def new_slip_form(terms: ResellerTerms | None) -> SlipForm:
    """The form as the reseller's page shows it: their current choice, a fresh key."""
    return SlipForm(
        formdata=None,
        blind_slip=bool(terms and terms.blind_slip),
        slip_message=terms.slip_message if terms else "",
        request_key=new_request_key(),
    )
