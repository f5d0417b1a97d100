"""Static files under content-hashed names with a year's caching; uploads by name."""

import os
import re
import time

import pytest
from flask import Flask, url_for

from shop import assets
from shop.assets import PLAIN_NAME_MAX_AGE, YEAR, hashed_name, media_max_age


def test_hashed_name_changes_with_content_only():
    assert hashed_name("css/shop.css", b"a") == hashed_name("css/shop.css", b"a")
    assert hashed_name("css/shop.css", b"a") != hashed_name("css/shop.css", b"b")
    assert re.fullmatch(r"css/shop\.[0-9a-f]{10}\.css", hashed_name("css/shop.css", b"a"))


def test_pages_link_hashed_static_files_kept_for_a_year(client):
    page = client.get("/products").text
    stylesheet = re.search(r'href="(/static/css/shop\.[0-9a-f]{10}\.css)"', page)
    assert stylesheet, "the stylesheet link has no content hash"
    with client.get(stylesheet.group(1)) as response:
        assert response.status_code == 200
        assert response.cache_control.max_age == YEAR
        assert response.cache_control.immutable
        assert b"body" in response.data


def test_plain_static_names_still_work_but_briefly(client):
    with client.get("/static/css/shop.css") as response:
        assert response.status_code == 200
        assert response.cache_control.max_age == PLAIN_NAME_MAX_AGE
        assert not response.cache_control.immutable


@pytest.mark.parametrize("path", ["/static/css/nope.1234567890.css", "/static/../wsgi.py"])
def test_unknown_static_names_are_404(client, path):
    assert client.get(path).status_code == 404


def test_a_file_edited_while_running_is_not_kept(tmp_path):
    """A hashed name whose file changed after start-up no longer names its content."""
    (tmp_path / "js").mkdir()
    script = tmp_path / "js" / "app.js"
    script.write_text("let a = 1;")
    app = Flask(__name__, static_folder=str(tmp_path))
    assets.init_app(app)
    with app.test_request_context():
        url = url_for("static", filename="js/app.js")
    client = app.test_client()
    with client.get(url) as response:
        assert response.cache_control.max_age == YEAR
    script.write_text("let a = 2;")
    os.utime(script, ns=(time.time_ns(), time.time_ns() + 10**9))
    with client.get(url) as response:
        assert response.status_code == 200
        assert response.data == b"let a = 2;"
        assert response.cache_control.max_age == 0


@pytest.mark.parametrize(
    ("name", "max_age"),
    [
        ("products/3f2a9c0e4b1d4e8f9a0b1c2d3e4f5a6b.webp", YEAR),
        ("3f2a9c0e4b1d4e8f9a0b1c2d3e4f5a6b.png", YEAR),
        ("products/summer-polo-1.png", 24 * 3600),
    ],
)
def test_uploads_with_random_names_are_kept_for_a_year(name, max_age):
    assert media_max_age(name) == max_age
