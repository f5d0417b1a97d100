"""The school finder. School shops arrive with the schools issue; until then the finder
sends parents to the school-uniform range, searched by what they typed."""

from flask import Blueprint, render_template, request

bp = Blueprint("schools", __name__, url_prefix="/schools")


@bp.get("")
def school_list():
    return render_template("schools/school_list.html", q=request.args.get("q", "")[:100])


# The school admins' pages and the invoices live in their own modules on this blueprint.
from shop.schools import invoice_views, school_admin_views  # noqa: E402, F401
