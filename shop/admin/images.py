"""Checking and storing product images uploaded by staff.

The content decides, never the file name: Pillow must open and verify the bytes as JPEG,
PNG or WebP. Images declaring more pixels than ``MAX_PIXELS`` are refused before they are
decoded (decompression bombs), and Pillow's own bomb warning counts as a refusal too. The
pixels are re-encoded, which drops EXIF (GPS positions, camera serials) and anything
appended to the file; a thumbnail is saved beside the image.
"""

import contextlib
import io
import os
import secrets
import warnings
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# The whole request may be a little larger than the file (the other fields, multipart).
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + 64 * 1024
# The admin routes that take an image upload (and so a body up to MAX_REQUEST_BYTES).
UPLOAD_ENDPOINTS = frozenset({"admin.image_upload", "admin.school_logo"})
MAX_PIXELS = 40_000_000
THUMBNAIL_SIZE = (400, 400)
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
SUBFOLDER = "products"


class ImageRefused(ValueError):
    """``str(error)`` says why, in words for the form."""


@dataclass(frozen=True)
class StoredImage:
    path: str  # relative to UPLOAD_FOLDER
    width: int
    height: int


def thumbnail_path(path: str) -> str:
    stem, ext = os.path.splitext(path)
    return f"{stem}-thumb{ext}"


def check_size(stream) -> int:
    """The stream's length, without reading it; ``ImageRefused`` when over the limit."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    if size == 0:
        raise ImageRefused(_l("The file is empty."))
    if size > MAX_UPLOAD_BYTES:
        raise ImageRefused(_l("The file is larger than 5 MB."))
    return size


def _open_checked(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageRefused(_l("The image has too many pixels (at most 40 megapixels)."))
            image.verify()
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused(_l("The image has too many pixels (at most 40 megapixels).")) from None
    except ImageRefused:
        raise
    except Exception:  # Pillow raises many kinds for bad input (OSError, SyntaxError, ...)
        raise ImageRefused(
            _l("That is not a JPEG, PNG or WebP image, or the file is damaged.")
        ) from None
    if image.format not in FORMATS:
        raise ImageRefused(_l("Only JPEG, PNG and WebP images are accepted."))
    return image


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(buffer, "JPEG", quality=88, optimize=True)
    elif fmt == "PNG":
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P", "1"):
            image = image.convert("RGBA")
        image.save(buffer, "PNG", optimize=True)
    else:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA")
        image.save(buffer, "WEBP", quality=85)
    return buffer.getvalue()


def store_upload(stream, upload_folder: str, subfolder: str = SUBFOLDER) -> StoredImage:
    """Check, clean and save an uploaded image and its thumbnail under
    ``upload_folder/<subfolder>/`` (products by default; school logos use ``schools``)
    with a random name. ``ImageRefused`` says why not."""
    check_size(stream)
    data = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRefused(_l("The file is larger than 5 MB."))
    image = _open_checked(data)
    fmt = image.format
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upright = ImageOps.exif_transpose(image)  # keep the photo's orientation, drop EXIF
            main = _encode(upright, fmt)
            thumbnail = upright.copy()
            thumbnail.thumbnail(THUMBNAIL_SIZE)
            thumb = _encode(thumbnail, fmt)
    except Exception:
        raise ImageRefused(
            _l("That is not a JPEG, PNG or WebP image, or the file is damaged.")
        ) from None
    name = f"{subfolder}/{secrets.token_hex(16)}.{FORMATS[fmt]}"
    folder = os.path.join(upload_folder, subfolder)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(upload_folder, name), "xb") as handle:
        handle.write(main)
    with open(os.path.join(upload_folder, thumbnail_path(name)), "xb") as handle:
        handle.write(thumb)
    return StoredImage(path=name, width=upright.width, height=upright.height)


def remove_files(path: str, upload_folder: str, subfolder: str = SUBFOLDER) -> None:
    """Delete an image and its thumbnail; missing files are fine. Only paths inside the
    ``subfolder`` (products by default) are touched."""
    root = os.path.realpath(os.path.join(upload_folder, subfolder))
    for relative in (path, thumbnail_path(path)):
        full = os.path.realpath(os.path.join(upload_folder, relative))
        if os.path.dirname(full) != root:
            continue
        with contextlib.suppress(FileNotFoundError):
            os.remove(full)
