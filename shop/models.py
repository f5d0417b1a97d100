"""Every model module, imported once so ``Base.metadata`` is complete (Alembic, tests)."""

from shop import (
    mail,  # noqa: F401 - sent_email
    request_keys,  # noqa: F401 - used_request_key
)
from shop.accounts import models as accounts_models  # noqa: F401
from shop.audit import models as audit_models  # noqa: F401
from shop.cart import models as cart_models  # noqa: F401
from shop.catalog import models as catalog_models  # noqa: F401
from shop.catalog import search_models  # noqa: F401
from shop.db import Base
from shop.groupbuys import models as groupbuys_models  # noqa: F401
from shop.orders import models as orders_models  # noqa: F401
from shop.payments import models as payments_models  # noqa: F401
from shop.resellers import models as resellers_models  # noqa: F401
from shop.schools import models as schools_models  # noqa: F401
from shop.stock import models as stock_models  # noqa: F401

metadata = Base.metadata
