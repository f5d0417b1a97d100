from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField

from shop.locales import LANGUAGES
from shop.money import SUPPORTED_CURRENCIES


class PreferencesForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=list(LANGUAGES))
    currency = SelectField(_l("Currency"), choices=list(SUPPORTED_CURRENCIES))
    next = HiddenField()
