"""The ``schools`` blueprint (``/schools``). Its routes live in three view modules -
``views`` (parents' pages), ``school_admin_views`` (a school's own admin pages) and
``invoice_views`` - which all import ``bp`` from here; ``shop.create_app`` imports them
before it registers the blueprint."""

from flask import Blueprint

bp = Blueprint("schools", __name__, url_prefix="/schools")
