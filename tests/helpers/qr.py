"""Reading the QR codes the shop draws: the dark modules of segno's SVG path."""

import re
import xml.etree.ElementTree as ET

import segno

SVG = "{http://www.w3.org/2000/svg}"


def dark_modules(svg: bytes, border: int = 4) -> set[tuple[int, int]]:
    """The (row, column) of every dark module in a segno SVG (parsed as XML): its dark
    path is horizontal runs, ``M x y`` then ``h n`` and relative moves ``m dx dy``."""
    root = ET.fromstring(svg)
    paths = [p for p in root.iter(f"{SVG}path") if p.get("stroke") == "#000"]
    assert len(paths) == 1, "one dark path"
    x = y = 0.0
    cells = set()
    for command, numbers in re.findall(r"([MmHh])([^MmHh]*)", paths[0].get("d", "")):
        values = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", numbers)]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        elif command == "h":
            for column in range(int(x), int(x + values[0])):
                cells.add((int(y - 0.5) - border, column - border))
            x += values[0]
        else:  # an absolute H is not what segno writes
            raise AssertionError(f"unexpected path command {command}")
    return cells


def expected_modules(text: str) -> set[tuple[int, int]]:
    """The dark modules of ``text``'s QR code as segno makes it (error level M)."""
    matrix = segno.make(text, error="m", micro=False).matrix
    return {(r, c) for r, row in enumerate(matrix) for c, value in enumerate(row) if value}
