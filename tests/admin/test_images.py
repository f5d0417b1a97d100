"""Product image uploads: the content decides (Pillow), EXIF is stripped, a thumbnail is
made, and every bad kind of file is refused with a message on the form. Reorder, alt
text and delete (the file goes too), each with an audit row."""

import io
import os
import re
import struct
import zlib

import pytest
from PIL import Image

from shop.catalog.models import Product, ProductImage
from shop.images import MAX_UPLOAD_BYTES, thumbnail_path
from shop.storage import get_storage
from tests.accounts.helpers import PASSWORD, make_user
from tests.factories import make_product
from tests.helpers.admin import audits, become, errors_in, fresh
from tests.helpers.images import picture, upload


@pytest.fixture
def product(session):
    product = make_product(session, slug="polo")
    session.commit()
    return product


@pytest.fixture
def manager(sign_in):
    return sign_in("manager")


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` × ``height`` pixels (a decompression bomb:
    a few bytes that would decode to gigabytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    body = zlib.compress(b"\x00" * ((width + 7) // 8 + 1) * 4)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def images_of(session, product) -> list[ProductImage]:
    session.expire_all()
    return list(session.get(Product, product.id).images)


def stored(app, path: str) -> str:
    return os.path.join(app.config["UPLOAD_FOLDER"], path)


@pytest.mark.parametrize(("fmt", "ext"), [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")])
def test_upload_each_accepted_format(app, client, session, product, manager, fmt, ext):
    response = upload(client, product, picture(fmt, size=(900, 600)), filename="whatever.bin")
    assert response.status_code == 302, errors_in(response.text)
    [image] = images_of(session, product)
    assert image.path.startswith("products/") and image.path.endswith(f".{ext}")
    assert "whatever" not in image.path
    assert (image.width, image.height, image.alt_text) == (900, 600, "Front")
    with Image.open(stored(app, image.path)) as saved:
        assert saved.format == fmt and saved.size == (900, 600)
    with Image.open(stored(app, thumbnail_path(image.path))) as thumb:
        assert thumb.format == fmt and max(thumb.size) == 400
    [entry] = audits(session, "image.upload")
    assert entry.after["path"] == image.path and entry.actor_user_id == manager.id


def test_exif_is_stripped(app, client, session, product, manager):
    original = picture("JPEG", exif=True)
    assert b"SecretCam" in original
    assert upload(client, product, original, filename="a.jpg").status_code == 302
    [image] = images_of(session, product)
    with open(stored(app, image.path), "rb") as handle:
        saved = handle.read()
    assert b"SecretCam" not in saved and b"GPS-leaking" not in saved
    with Image.open(io.BytesIO(saved)) as reopened:
        assert not reopened.getexif()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (SVG, "logo.svg", "not a JPEG, PNG or WebP image"),
        (HTML, "page.html", "not a JPEG, PNG or WebP image"),
        (b"just some notes\n" * 20, "notes.png", "not a JPEG, PNG or WebP image"),
        (picture("PNG", size=(200, 200))[:150], "cut.png", "not a JPEG, PNG or WebP image"),
        (picture("JPEG", size=(300, 300))[:400], "cut.jpg", "not a JPEG, PNG or WebP image"),
        (picture("GIF"), "anim.png", "not a JPEG, PNG or WebP image"),
        (picture("BMP"), "old.jpg", "not a JPEG, PNG or WebP image"),
        (png_declaring(20000, 20000), "bomb.png", "too many pixels"),
        (png_declaring(7000, 7000), "big.png", "too many pixels"),
        (b"", "empty.png", "empty"),
    ],
    ids=[
        "svg",
        "html",
        "renamed-text",
        "truncated",
        "truncated-jpeg",
        "gif",
        "bmp",
        "bomb",
        "over-limit",
        "empty",
    ],
)
def test_bad_files_are_refused_with_a_message(
    app, client, session, product, manager, data, filename, message
):
    response = upload(client, product, data, filename=filename)
    assert response.status_code == 400
    assert message in errors_in(response.text)
    assert images_of(session, product) == []
    folder = os.path.join(app.config["UPLOAD_FOLDER"], "products")
    assert not os.path.isdir(folder) or os.listdir(folder) == []
    assert audits(session, "image.upload") == []


def test_pillows_own_bomb_warning_is_a_refusal(app, monkeypatch):
    """Between Pillow's warning and error thresholds the warning must refuse too."""
    from shop import images

    monkeypatch.setattr(images, "MAX_PIXELS", 10**12)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    data = picture("PNG", size=(40, 40))  # 1600 pixels: a warning, not an error
    with app.test_request_context(), pytest.raises(images.ImageRefused, match="too many pixels"):
        images.store_upload(io.BytesIO(data), get_storage(app))


def test_a_file_just_over_5_mb_is_refused_on_the_form(client, session, product, manager):
    data = picture("PNG") + b"\x00" * (MAX_UPLOAD_BYTES + 10)
    response = upload(client, product, data)
    assert response.status_code == 400
    assert "larger than 5 MB" in errors_in(response.text)
    assert images_of(session, product) == []


def test_a_much_larger_request_is_refused_on_the_form_before_it_is_read(
    client, session, product, manager
):
    response = upload(client, product, b"\x00" * (MAX_UPLOAD_BYTES * 2))
    assert response.status_code == 413
    assert "larger than 5 MB" in errors_in(response.text)
    assert images_of(session, product) == []


def test_missing_file(client, session, product, manager):
    response = client.post(f"/admin/products/{product.id}/images", data={"alt_text": "x"})
    assert response.status_code == 400
    assert "Choose an image" in errors_in(response.text)


def test_reorder_alt_text_and_delete(app, client, session, product, manager):
    for width, name in enumerate(("a", "b", "c"), start=60):
        assert upload(client, product, picture(size=(width, 48)), alt=name).status_code == 302
    first, second, third = images_of(session, product)

    client.post(f"/admin/images/{third.id}/move", data={"direction": "up"})
    assert [i.alt_text for i in images_of(session, product)] == ["a", "c", "b"]
    client.post(f"/admin/images/{first.id}/move", data={"direction": "down"})
    assert [i.alt_text for i in images_of(session, product)] == ["c", "a", "b"]
    client.post(f"/admin/images/{second.id}/move", data={"direction": "down"})  # already last
    assert [i.alt_text for i in images_of(session, product)] == ["c", "a", "b"]
    assert len(audits(session, "image.reorder")) == 2

    response = client.post(f"/admin/images/{first.id}/alt", data={"alt_text": "Navy polo, front"})
    assert response.status_code == 302
    assert fresh(session, ProductImage, first.id).alt_text == "Navy polo, front"
    [entry] = audits(session, "image.alt_text")
    assert (entry.before, entry.after) == ({"alt_text": "a"}, {"alt_text": "Navy polo, front"})

    path = second.path
    assert os.path.exists(stored(app, path)) and os.path.exists(stored(app, thumbnail_path(path)))
    assert client.post(f"/admin/images/{second.id}/delete").status_code == 302
    assert [i.alt_text for i in images_of(session, product)] == ["c", "Navy polo, front"]
    assert not os.path.exists(stored(app, path))
    assert not os.path.exists(stored(app, thumbnail_path(path)))
    [entry] = audits(session, "image.delete")
    assert entry.before["path"] == path


@pytest.mark.parametrize("role", ["warehouse", "service", "workshop", "customer", "anonymous"])
def test_only_catalog_managers_may_change_images(app, client, session, sign_in, product, role):
    image = ProductImage(product_id=product.id, path="products/x.png", width=1, height=1)
    session.add(image)
    session.commit()
    become(role, client, sign_in, session)
    responses = [
        upload(client, product, picture()),
        client.post(f"/admin/images/{image.id}/delete"),
        client.post(f"/admin/images/{image.id}/alt", data={"alt_text": "x"}),
        client.post(f"/admin/images/{image.id}/move", data={"direction": "up"}),
    ]
    for response in responses:
        if role == "anonymous":
            assert response.status_code == 302
            assert response.headers["Location"].startswith("/account/login?next=/admin/")
        else:
            assert response.status_code == 403
    assert [(i.path, i.alt_text) for i in images_of(session, product)] == [("products/x.png", "")]
    assert not os.path.isdir(os.path.join(app.config["UPLOAD_FOLDER"], "products"))


def test_an_oversized_upload_gets_the_form_even_with_csrf_checks_on(make_app, session_factory):
    """In production the CSRF check reads the body first; the limit must already apply
    there, and the refusal must still be the form with its message."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with session_factory(app) as db:
        product = make_product(db, slug="polo")
        make_user(db, email="boss@example.com", role="manager")
        db.commit()
    client = app.test_client()

    def token(path):
        return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)

    login_token = token("/account/login")
    response = client.post(
        "/account/login",
        data={"email": "boss@example.com", "password": PASSWORD, "csrf_token": login_token},
    )
    assert response.status_code == 302
    response = upload(client, product, b"\x00" * (MAX_UPLOAD_BYTES * 2))
    assert response.status_code == 413
    assert "larger than 5 MB" in errors_in(response.text)
    assert 'data-testid="upload-form"' in response.text
