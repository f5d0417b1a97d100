"""Images to upload, and the multipart upload of one to a product."""

import io

from PIL import Image


def picture(fmt="PNG", size=(64, 48), exif=False, mode="RGB") -> bytes:
    image = Image.new(mode, size, "navy" if mode == "RGB" else 0)
    buffer = io.BytesIO()
    kwargs = {}
    if exif:
        data = Image.Exif()
        data[0x010F] = "SecretCam"  # Make
        data[0x0131] = "GPS-leaking software"  # Software
        kwargs["exif"] = data.tobytes()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def upload(client, product, data: bytes, filename="photo.png", alt="Front"):
    """The multipart body built here, in memory (the test client would spool a large one to
    a temporary file it never closes)."""
    boundary = "----sourcefront-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="alt_text"\r\n\r\n{alt}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{filename}"'
            "\r\nContent-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(
        f"/admin/products/{product.id}/images",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
