"""The school finder. School shops arrive with the schools issue; until then the finder
sends parents to the school-uniform range, searched by what they typed."""

from flask import Blueprint, render_template, request

bp = Blueprint("schools", __name__, url_prefix="/schools")


@bp.get("")
def school_list():
    return render_template("schools/school_list.html", q=request.args.get("q", "")[:100])
