"""The session cookie (``shop.sessions``): the same cookie as Flask's own interface
makes and reads, signed with a serializer kept between requests."""

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from shop.sessions import SessionInterface

SESSION = {"cart": "t0ken", "cart_count": 3, "_flashes": [("success", "Added 1 piece.")]}


def cookie_app(interface, secret="current-secret", fallbacks=()):
    app = Flask(__name__)
    app.secret_key = secret
    app.config["SECRET_KEY_FALLBACKS"] = list(fallbacks)
    app.session_interface = interface

    @app.post("/write")
    def write():
        from flask import session

        session.update(SESSION)
        return "written"

    @app.get("/read")
    def read():
        from flask import session

        return {"session": {key: session.get(key) for key in SESSION}}

    return app


def written_cookie(app) -> str:
    client = app.test_client()
    client.post("/write")
    return client.get_cookie("session").value


def read_back(app, cookie: str) -> dict:
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client.get("/read").json["session"]


READ_BACK = {"cart": "t0ken", "cart_count": 3, "_flashes": [["success", "Added 1 piece."]]}


def test_a_cookie_flask_made_is_read():
    cookie = written_cookie(cookie_app(SecureCookieSessionInterface()))

    assert read_back(cookie_app(SessionInterface()), cookie) == READ_BACK


def test_flask_reads_the_cookie_it_makes():
    cookie = written_cookie(cookie_app(SessionInterface()))

    assert read_back(cookie_app(SecureCookieSessionInterface()), cookie) == READ_BACK


def test_a_cookie_signed_with_a_fallback_key_is_still_read():
    old = written_cookie(cookie_app(SecureCookieSessionInterface(), secret="old-secret"))

    rotated = cookie_app(SessionInterface(), fallbacks=["old-secret"])

    assert read_back(rotated, old) == READ_BACK
    new = written_cookie(rotated)  # signed with the current key only
    assert read_back(cookie_app(SecureCookieSessionInterface()), new) == READ_BACK


def test_a_changed_secret_key_no_longer_reads_the_old_cookie():
    interface = SessionInterface()
    app = cookie_app(interface)
    cookie = written_cookie(app)
    assert read_back(app, cookie) == READ_BACK

    app.secret_key = "another-secret"

    assert read_back(app, cookie) == dict.fromkeys(SESSION)


def test_a_tampered_cookie_gives_an_empty_session():
    app = cookie_app(SessionInterface())
    cookie = written_cookie(app)
    tampered = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")

    assert read_back(app, tampered) == dict.fromkeys(SESSION)


def test_the_shop_uses_it(app):
    assert isinstance(app.session_interface, SessionInterface)
