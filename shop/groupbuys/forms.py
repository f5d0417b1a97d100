"""The join form of ``/g/<code>`` (and "Change my pieces", the same form prefilled):
who joins and, when the goods go to each participant, where. The pieces come from the
size grid's ``qty-<variant id>`` fields (``parse_pieces``), as the product page's do."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length, Optional

from shop.accounts.forms import AddressForm, valid_email
from shop.cart.rules import InvalidQuantity, parse_quantity
from shop.checkout.forms import ADDRESS_ONLY
from shop.inputs import parse_id
from shop.request_keys import request_key_field

GRID_PREFIX = "qty-"
MAX_GRID_FIELDS = 400  # more sizes × colours than any campaign shows


class BadPieces(ValueError):
    """A grid field that is not a variant id with a whole number of pieces."""


class JoinForm(AddressForm):
    """Email (required), name and phone; the address only for delivery to each one."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254), valid_email])
    recipient = StringField(_l("Your name"), validators=[Optional(), Length(max=120)])
    request_key = request_key_field()

    def __init__(self, *args, delivery: str = "pickup", **kwargs):
        super().__init__(*args, **kwargs)
        self.delivery = delivery

    @property
    def wants_address(self) -> bool:
        return self.delivery == "each"

    def validate(self, extra_validators=None) -> bool:
        if not self.wants_address:
            for name in ADDRESS_ONLY:
                getattr(self, name).validators = [Optional()]
            return super(AddressForm, self).validate(extra_validators)
        self.recipient.validators = [DataRequired(), Length(max=120)]
        return super().validate(extra_validators)

    def joiner_fields(self) -> dict[str, str]:
        """What ``service.Joiner`` takes from the form."""
        fields = {
            "email": (self.email.data or "").strip(),
            "name": (self.recipient.data or "").strip(),
            "phone": (self.phone.data or "").strip(),
        }
        if self.wants_address:
            fields.update({name: (getattr(self, name).data or "").strip() for name in ADDRESS_ONLY})
        return fields


def parse_pieces(form) -> dict[int, int]:
    """``qty-<variant id>`` fields → pieces per variant (blank and 0 left out). Raises
    ``BadPieces`` on a malformed name or number."""
    pieces: dict[int, int] = {}
    seen = 0
    for name, raw in form.items(multi=True):
        if not name.startswith(GRID_PREFIX):
            continue
        seen += 1
        if seen > MAX_GRID_FIELDS:
            raise BadPieces(name)
        variant_id = parse_id(name.removeprefix(GRID_PREFIX))
        if variant_id is None or not isinstance(raw, str):
            raise BadPieces(name)
        if not raw.strip():
            continue
        try:
            quantity = parse_quantity(raw, allow_zero=True)
        except InvalidQuantity:
            raise BadPieces(name) from None
        if quantity:
            pieces[variant_id] = pieces.get(variant_id, 0) + quantity
    return pieces
