"""The text of a PDF."""

import base64
import re
import zlib


def pdf_strings(pdf: bytes) -> list[str]:
    """The text a PDF shows in its standard fonts: every page stream inflated, its
    literal strings read. (CID-font text is UTF-16 and not returned.)"""
    strings = []
    for raw in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        data = raw.strip()
        if data.endswith(b"~>"):
            data = base64.a85decode(data, adobe=True)
        try:
            data = zlib.decompress(data)
        except zlib.error:
            continue
        for literal in re.findall(rb"\(((?:[^()\\]|\\.)*)\)\s*Tj", data):
            text = re.sub(rb"\\([()\\])", rb"\1", literal)
            text = re.sub(rb"\\(\d{3})", lambda m: bytes([int(m.group(1), 8)]), text)
            strings.append(text.decode("latin-1"))
    return strings
