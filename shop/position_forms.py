"""The move buttons of a hand-ordered list (``shop.positions``: a window's picks, a
collection, a school's uniform list): the direction and a one-time key
(``shop.request_keys``). Moving is not idempotent — "up" sent twice moves a row two
places — so the view claims the key with the move: a button pressed twice, or the same
form sent several times at once, moves the row once."""

from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from shop.request_keys import request_key_field

DIRECTIONS = [SelectChoice("up"), SelectChoice("down")]


class MoveForm(FlaskForm):
    direction = SelectField(choices=DIRECTIONS, validators=[InputRequired()])
    # Each row's move claims the page's key under its own scope (``"<list>-move:<id>"``);
    # every move reloads the page with a new key. Optional: pages shown before keys.
    request_key = request_key_field(required=False)
