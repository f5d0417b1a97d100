"""Checking and storing product images uploaded by staff.

The content decides, never the file name: Pillow must open and verify the bytes as JPEG,
PNG or WebP. Images declaring more pixels than ``MAX_PIXELS`` are refused before they are
decoded (decompression bombs), and Pillow's own bomb warning counts as a refusal too. The
pixels are re-encoded, which drops EXIF (GPS positions, camera serials) and anything
appended to the file; the result is stored (``shop.storage``) under a name made from its
own bytes. Its derived sizes (a thumbnail) are a job, queued when the upload commits
(``queue_derived_sizes``): until the job has run, ``/media/`` answers a derived name with
the original (``shop.assets``), so a page shown meanwhile has a working image.

A product's image rows (add, reorder, alt text, delete) are changed here too: plain
functions over the session that flush, never commit, and write the audit row.
"""

import contextlib
import hashlib
import io
import logging
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps
from sqlalchemy.orm import Session

from shop import positions
from shop.accounts.models import User
from shop.audit.service import record, snapshot
from shop.catalog.models import Product, ProductImage
from shop.db import rows_changed
from shop.exceptions import ShopError
from shop.jobs import enqueue_after_commit
from shop.resellers.models import Reseller
from shop.schools.models import School
from shop.storage import FileMissing, InvalidName, Storage, StorageError, get_storage

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# The whole request may be a little larger than the file (the other fields, multipart).
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + 64 * 1024
# The admin routes that take an image upload (and so a body up to MAX_REQUEST_BYTES).
UPLOAD_ENDPOINTS = frozenset({"admin.image_upload", "admin.school_logo"})
MAX_PIXELS = 40_000_000
THUMBNAIL_SIZE = (400, 400)
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MIME_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
SUBFOLDER = "products"


class ImageRefused(ValueError):
    """``str(error)`` says why, in words for the form."""


@dataclass(frozen=True)
class StoredImage:
    path: str  # the name in the store (shop.storage)
    width: int
    height: int


THUMBNAIL_SUFFIX = "-thumb"


def thumbnail_path(path: str) -> str:
    stem, ext = os.path.splitext(path)
    return f"{stem}{THUMBNAIL_SUFFIX}{ext}"


def original_of(name: str) -> str | None:
    """The stored image a derived size is made from; ``None`` for a name that is not one."""
    stem, ext = os.path.splitext(name)
    if not stem.endswith(THUMBNAIL_SUFFIX):
        return None
    return stem.removesuffix(THUMBNAIL_SUFFIX) + ext


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
    image_format(image)
    return image


def image_format(image: Image.Image) -> str:
    """The image's format, one of ``FORMATS``; ``ImageRefused`` for any other."""
    if image.format not in FORMATS:
        raise ImageRefused(_l("Only JPEG, PNG and WebP images are accepted."))
    return image.format


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


def _checked_image(stream) -> tuple[bytes, str, int, int]:
    """The upload re-encoded upright and without metadata: ``(bytes, format, width,
    height)``; ``ImageRefused`` says why not."""
    check_size(stream)
    data = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRefused(_l("The file is larger than 5 MB."))
    image = _open_checked(data)
    fmt = image_format(image)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upright = ImageOps.exif_transpose(image)  # keep the photo's orientation, drop EXIF
            return _encode(upright, fmt), fmt, upright.width, upright.height
    except Exception:
        raise ImageRefused(
            _l("That is not a JPEG, PNG or WebP image, or the file is damaged.")
        ) from None


def content_name(subfolder: str, data: bytes, extension: str) -> str:
    """``<subfolder>/<32 hex of the bytes' SHA-256>.<extension>``: a name always means the
    same bytes, so browsers may keep it for a year (``shop.assets.media_max_age``)."""
    return f"{subfolder}/{hashlib.sha256(data).hexdigest()[:32]}.{extension}"


def store_upload(stream, storage: Storage, subfolder: str = SUBFOLDER) -> StoredImage:
    """Check, clean and store an uploaded image under ``<subfolder>/`` (products by
    default; school logos use ``schools``, resellers' avatars ``resellers``), named after
    its content; its derived sizes are the caller's to queue (``queue_derived_sizes``).
    ``ImageRefused`` says why not; ``StorageError`` when the store fails."""
    data, fmt, width, height = _checked_image(stream)
    name = content_name(subfolder, data, FORMATS[fmt])
    storage.save(name, data, MIME_TYPES[fmt])
    return StoredImage(path=name, width=width, height=height)


def queue_derived_sizes(session: Session, name: str) -> str:
    """Make the derived sizes of the stored image ``name`` in a job once ``session``
    commits (the row that shows it). Returns the job's id.

    The job has no key: its effect is the same file however often it runs, and a key
    (``thumbs:<name>``) would outlive the files it stands for - kept for
    ``JOBS_RESULT_TTL_SECONDS``, it would refuse the job of the same picture uploaded again
    after its last row and files were deleted, leaving it without a thumbnail."""
    return enqueue_after_commit(session, make_derived_sizes, name)


def make_derived_sizes(name: str) -> bool:
    """The job: store the derived sizes of ``name``; ``False`` when the image is no longer
    stored (deleted before the job ran: nothing to make). A store that fails raises, and
    the job is retried."""
    storage = get_storage()
    try:
        save_derived_sizes(storage, name)
    except FileMissing:
        log.info("derived sizes of %s: the image is gone; nothing to make", name)
        return False
    if not storage.exists(name):
        # Deleted while the thumbnail was made. ``remove_files`` deletes the image before
        # its thumbnail, so either it removed this thumbnail or this removes it: no orphan.
        storage.delete(thumbnail_path(name))
        return False
    return True


def save_derived_sizes(storage: Storage, name: str, data: bytes | None = None) -> None:
    """Store the thumbnail of the stored image ``name`` beside it. It depends on the
    stored bytes alone (read from the store unless ``data`` is given), so it may run later,
    elsewhere (a job), or twice, and give the same file."""
    if data is None:
        data = storage.read(name)
    with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
        fmt = image_format(image)
        image.load()
        palette = image.mode in ("P", "1")
        # Scaled in full colour (a palette image would be scaled without smoothing).
        small = image.convert("RGBA") if palette else image.copy()
    small.thumbnail(THUMBNAIL_SIZE)
    if palette:
        small = small.quantize(256, method=Image.Quantize.FASTOCTREE)
    storage.save(thumbnail_path(name), _encode(small, fmt), MIME_TYPES[fmt])


def stored_names(path: str) -> tuple[str, ...]:
    """The image and its derived sizes."""
    return (path, thumbnail_path(path))


def is_in_use(session: Session, path: str) -> bool:
    """Whether a product image, a school logo or a reseller's avatar still shows
    ``path`` (one upload's content may be shown by several: the same bytes get the same
    name)."""
    image = sa.select(ProductImage.id).where(ProductImage.path == path)
    logo = sa.select(School.id).where(School.logo_path == path)
    avatar = sa.select(Reseller.id).where(Reseller.avatar_path == path)
    return session.execute(image.union_all(logo, avatar).limit(1)).first() is not None


def remove_files(session: Session, storage: Storage, path: str, subfolder: str = SUBFOLDER) -> bool:
    """Delete an image and its derived sizes once nothing shows it any more (call after
    the row's removal is committed). Only names directly inside ``subfolder`` (products
    by default) are touched. Whether the files went.

    Left open: the same picture uploaded again while its last row is being deleted may
    find its file gone (the upload stored it before this check, its row came after);
    uploading it once more stores it again."""
    if path.count("/") != 1 or not path.startswith(f"{subfolder}/"):
        return False
    if is_in_use(session, path):
        return False
    try:
        for name in stored_names(path):
            with contextlib.suppress(InvalidName):
                storage.delete(name)
    except StorageError as failure:  # the row is gone; a file left over is harmless
        log.warning("could not delete %s from the store: %s", path, failure)
        return False
    return True


# --- a product's image rows ------------------------------------------------------------

IMAGE_FIELDS = ("path", "alt_text", "width", "height", "position")


class ImageGone(ShopError):
    message = "That image was deleted already."


def add_product_image(
    session: Session, actor: User, product: Product, stored: StoredImage, alt_text: str
) -> ProductImage:
    """Show the stored image last among ``product``'s, and queue its derived sizes for
    when the session commits."""
    image = ProductImage(
        path=stored.path,
        alt_text=alt_text,
        width=stored.width,
        height=stored.height,
        position=max((each.position for each in product.images), default=-1) + 1,
    )
    product.images.append(image)
    session.flush()
    queue_derived_sizes(session, stored.path)
    record(
        session,
        actor_user_id=actor.id,
        action="image.upload",
        target_type="product_image",
        target_id=image.id,
        after={"product_id": product.id, **snapshot(image, IMAGE_FIELDS)},
    )
    return image


def move_product_image(session: Session, actor: User, image: ProductImage, direction: str) -> bool:
    """Swap ``image`` with its neighbour before (``"up"``) or after; ``False`` at an end.
    The positions decide the order (a collection loaded before an earlier move keeps the
    order it was loaded in)."""
    images = sorted(image.product.images, key=lambda each: each.position)
    before = [each.id for each in images]
    if not positions.move(images, image, direction):
        return False
    session.flush()
    record(
        session,
        actor_user_id=actor.id,
        action="image.reorder",
        target_type="product",
        target_id=image.product_id,
        before={"order": before},
        after={"order": [each.id for each in images]},
    )
    return True


def set_alt_text(
    session: Session,
    actor: User,
    image: ProductImage,
    alt_text: str,
    translations: Mapping[str, str | None] | None = None,
) -> bool:
    """The English alt text and, where ``translations`` is given, the Chinese and Japanese
    ones (``{"zh": ..., "ja": ...}``; empty: none, the page falls back to the product's
    translated name). ``False`` if the image already had these."""
    wanted: dict[str, str | None] = {"alt_text": alt_text}
    for language, text in (translations or {}).items():
        if language in ("zh", "ja"):
            wanted[f"alt_text_{language}"] = text or None
    before = {name: getattr(image, name) for name in wanted}
    changed = [name for name in wanted if before[name] != wanted[name]]
    if not changed:
        return False
    record(
        session,
        actor_user_id=actor.id,
        action="image.alt_text",
        target_type="product_image",
        target_id=image.id,
        before={name: before[name] for name in changed},
        after={name: wanted[name] for name in changed},
    )
    for name in changed:
        setattr(image, name, wanted[name])
    session.flush()
    return True


def delete_product_image(session: Session, actor: User, image: ProductImage) -> str:
    """Delete the row; returns its path (the files are the caller's to remove once the
    deletion is committed: a file without a row is harmless, the reverse is not). One
    conditional ``DELETE``: of the same request sent twice at once, one finds the row, the
    other gets ``ImageGone``."""
    image_id, path = image.id, image.path
    before = {"product_id": image.product_id, **snapshot(image, IMAGE_FIELDS)}
    deleted = rows_changed(session, sa.delete(ProductImage).where(ProductImage.id == image_id))
    if deleted != 1:
        raise ImageGone()
    record(
        session,
        actor_user_id=actor.id,
        action="image.delete",
        target_type="product_image",
        target_id=image_id,
        before=before,
    )
    return path
