"""The QR code of a window's share link: ``/w/<handle>/qr.svg`` (the window),
``?c=<collection slug>`` (a collection) or ``?p=<product slug>`` (a product in the
window). Anything that names nothing of an approved window is a 404. Public: the code
only encodes a link anyone can open; browsers and proxies may keep it for an hour."""

from flask import abort, make_response, request

from shop.db import get_session
from shop.resellers import sharing
from shop.resellers.views import _approved_window, bp

QR_MAX_AGE_SECONDS = 3600


@bp.get("/w/<handle>/qr.svg")
def window_qr(handle: str):
    db = get_session()
    reseller = _approved_window(handle)
    url = sharing.shared_url(db, reseller, request.args.get("c"), request.args.get("p"))
    if url is None:
        abort(404)
    response = make_response(sharing.qr_svg(url))
    response.mimetype = "image/svg+xml"
    response.cache_control.public = True
    response.cache_control.max_age = QR_MAX_AGE_SECONDS
    response.add_etag()
    return response.make_conditional(request)
