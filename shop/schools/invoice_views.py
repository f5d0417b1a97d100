"""(being written)"""

from shop.schools.views import bp  # noqa: F401
