"""Forms on the customer's order pages: tracking an order, and writing about one.

They carry the CSRF token and the fields; the rules (what counts as a match, how long a
message may be) live in the views' services, so a form never decides.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from shop.request_keys import request_key_field


class TrackForm(FlaskForm):
    number = StringField(_l("Order number"), validators=[DataRequired(), Length(max=40)])
    email = EmailField(_l("Email used for the order"), validators=[DataRequired(), Length(max=254)])


class MessageForm(FlaskForm):
    # The length rule is shop.orders.messages' (it counts after normalising line ends).
    body = TextAreaField(_l("Your message"))
    request_key = request_key_field(required=False)
