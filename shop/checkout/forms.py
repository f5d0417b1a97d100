from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from shop.accounts.forms import AddressForm, valid_email
from shop.checkout.delivery import METHODS
from shop.request_keys import request_key_field

METHOD_LABELS = {
    "courier": _l("Courier to this address"),
    "pickup": _l("Pick up at the factory"),
    "school": _l("Deliver to the school (free)"),
}

ADDRESS_ONLY = ("country", "region", "city", "line1", "line2", "postcode")


class CheckoutForm(AddressForm):
    """Contact, delivery and notes. The address fields are the account's address form;
    for pick-up at the factory or delivery to school only the name and phone of who
    collects are needed."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254), valid_email])
    delivery_method = RadioField(_l("Delivery"), choices=list(METHODS), default="courier")
    notes = TextAreaField(_l("Order notes"), validators=[Optional(), Length(max=2000)])

    def offer_school_delivery(self, offered: bool) -> None:
        """Delivery to school is a choice only for a cart of one school's kits."""
        if not offered:
            self.delivery_method.choices = [m for m in METHODS if m != "school"]

    def validate(self, extra_validators=None) -> bool:
        if self.delivery_method.data in ("pickup", "school"):
            for name in ADDRESS_ONLY:
                getattr(self, name).validators = [Optional()]
            return super(AddressForm, self).validate(extra_validators)
        return super().validate(extra_validators)


class PlaceOrderForm(FlaskForm):
    """ "Place order and pay": its one-time key makes a double click one order."""

    request_key = request_key_field(required=False)
