"""Demo product pictures drawn with Pillow: flat garment illustrations, nothing fetched.

Each garment is drawn in a 100 × 100 unit space (x to the right, y down, the garment
within about 8–94) on a canvas twice the final size, then scaled down for smooth edges.
``draw_garment`` gives the whole garment or, with ``detail=True``, a close-up of its most
telling part (collar, crest, pocket...). Used by the demo seed only.
"""

import io
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from PIL import Image, ImageDraw

from shop.storage import Storage

SUPERSAMPLE = 2
OUTLINE = 0.7
DETAIL_ZOOM = 1.9

Point = tuple[float, float]
RGB = tuple[int, int, int]
Ink = tuple[int, ...] | int  # a colour, or a mask's grey level

BACKGROUND: RGB = (246, 244, 240)
SHIRT_WHITE: RGB = (250, 250, 248)
GOLD: RGB = (206, 164, 52)
SILVER: RGB = (200, 203, 208)
NAVY: RGB = (31, 42, 68)
MAROON: RGB = (109, 31, 47)
MAIN = "main"  # a fill meaning "the garment's colour, or its pattern"


# --- colour helpers -----------------------------------------------------------------


def hex_to_rgb(value: str) -> RGB:
    value = value.lstrip("#")
    if len(value) == 3:
        value = "".join(ch * 2 for ch in value)
    if len(value) != 6:
        raise ValueError(f"not a #rrggbb colour: {value!r}")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """``a`` moved ``t`` of the way towards ``b``."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def shade(colour: RGB, t: float) -> RGB:
    return mix(colour, (0, 0, 0), t)


def tint(colour: RGB, t: float) -> RGB:
    return mix(colour, (255, 255, 255), t)


def luminance(colour: RGB) -> float:
    r, g, b = colour
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


# --- geometry helpers ---------------------------------------------------------------


def flip(points: Sequence[Point]) -> list[Point]:
    """Mirror points about the vertical centre line x = 50."""
    return [(100 - x, y) for x, y in points]


def mirror(half: Sequence[Point]) -> list[Point]:
    """A symmetric outline from its right half, listed from the top centre down to the
    bottom centre."""
    return [*half, *(p for p in reversed(flip(half)) if p[0] != 50)]


def half_ellipse(cx: float, cy: float, rx: float, ry: float, steps: int = 24) -> list[Point]:
    """The upper half of an ellipse, from its right end over the top to its left end."""
    return [
        (cx + rx * math.cos(math.pi * i / steps), cy - ry * math.sin(math.pi * i / steps))
        for i in range(steps + 1)
    ]


# --- the painter ----------------------------------------------------------------------


class Painter:
    """Draws in unit coordinates, with an optional zoom (for detail views) and nested
    translate-and-scale transforms (for outfits of several garments)."""

    def __init__(
        self,
        size: int,
        colour: RGB,
        *,
        pattern: str | None = None,
        zoom: float = 1.0,
        focus: Point = (50.0, 50.0),
    ):
        self.canvas = size * SUPERSAMPLE
        self.image = Image.new("RGB", (self.canvas, self.canvas), BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)
        self.zoom = zoom
        self.focus = focus
        self.pattern = pattern
        self._pattern_image: Image.Image | None = None
        self._transforms: list[tuple[float, float, float]] = []
        self.set_colour(colour)

    def set_colour(self, colour: RGB) -> None:
        self.base = colour
        self.is_dark = luminance(colour) < 0.4
        self.dark = shade(colour, 0.16)
        self.darker = shade(colour, 0.34)
        self.light = tint(colour, 0.25)
        self.outline = shade(colour, 0.5 if self.is_dark else 0.36)
        self.seam = tint(colour, 0.3) if self.is_dark else shade(colour, 0.22)
        self.accent = SHIRT_WHITE if self.is_dark else NAVY
        self.button = tint(colour, 0.55) if self.is_dark else shade(colour, 0.1)

    # coordinates

    def pt(self, x: float, y: float) -> tuple[float, float]:
        for dx, dy, s in reversed(self._transforms):
            x, y = x * s + dx, y * s + dy
        unit = self.canvas / 100
        fx, fy = self.focus
        return ((x - fx) * self.zoom + 50) * unit, ((y - fy) * self.zoom + 50) * unit

    def units(self, length: float) -> float:
        for _, _, s in self._transforms:
            length *= s
        return length * self.zoom * self.canvas / 100

    def width(self, length: float) -> int:
        return max(1, round(self.units(length)))

    @contextmanager
    def transform(self, dx: float, dy: float, scale: float) -> Iterator[None]:
        self._transforms.append((dx, dy, scale))
        try:
            yield
        finally:
            self._transforms.pop()

    @contextmanager
    def clip(self, outline: Sequence[Point]) -> Iterator[None]:
        """Whatever is drawn inside lands only within ``outline`` (whose edge is then
        redrawn)."""
        original, original_draw = self.image, self.draw
        self.image = original.copy()
        self.draw = ImageDraw.Draw(self.image)
        try:
            yield
        finally:
            layer = self.image
            self.image, self.draw = original, original_draw
            mask = Image.new("L", original.size, 0)
            ImageDraw.Draw(mask).polygon([self.pt(*p) for p in outline], fill=255)
            original.paste(layer, mask=mask)
            self.stroke([*outline, outline[0]], self.outline, OUTLINE)

    # shapes

    def _fill(self, shape: Callable[[ImageDraw.ImageDraw, Ink], None], fill) -> None:
        if fill is None:
            return
        if fill == MAIN and self.pattern:
            mask = Image.new("L", self.image.size, 0)
            shape(ImageDraw.Draw(mask), 255)
            self.image.paste(self._pattern_fill(), mask=mask)
        else:
            shape(self.draw, self.base if fill == MAIN else fill)

    def poly(self, points: Sequence[Point], fill=MAIN, outline=True, width=OUTLINE) -> None:
        xy = [self.pt(*p) for p in points]
        self._fill(lambda draw, colour: draw.polygon(xy, fill=colour), fill)
        if outline:
            colour = self.outline if outline is True else outline
            self.draw.line([*xy, xy[0], xy[1]], fill=colour, width=self.width(width), joint="curve")

    def ellipse(
        self, cx: float, cy: float, rx: float, ry: float, fill=MAIN, outline=True, width=OUTLINE
    ) -> None:
        box = [self.pt(cx - rx, cy - ry), self.pt(cx + rx, cy + ry)]
        self._fill(lambda draw, colour: draw.ellipse(box, fill=colour), fill)
        if outline:
            colour = self.outline if outline is True else outline
            self.draw.ellipse(box, outline=colour, width=self.width(width))

    def rect(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        fill=MAIN,
        outline=True,
        radius: float = 0,
        width=OUTLINE,
    ) -> None:
        box = [self.pt(x0, y0), self.pt(x1, y1)]
        r = self.units(radius)
        self._fill(lambda draw, colour: draw.rounded_rectangle(box, r, fill=colour), fill)
        if outline:
            colour = self.outline if outline is True else outline
            self.draw.rounded_rectangle(box, r, outline=colour, width=self.width(width))

    def stroke(self, points: Sequence[Point], colour: RGB, width: float = 0.45) -> None:
        xy = [self.pt(*p) for p in points]
        self.draw.line(xy, fill=colour, width=self.width(width), joint="curve")

    def buttons(self, points: Sequence[Point], radius: float = 0.9, colour=None) -> None:
        for x, y in points:
            self.ellipse(
                x, y, radius, radius, colour or self.button, outline=self.outline, width=0.3
            )

    def crest(self, cx: float, cy: float, w: float = 5.0) -> None:
        h = w * 1.2
        shield = [
            (cx - w / 2, cy - h / 2),
            (cx + w / 2, cy - h / 2),
            (cx + w / 2, cy + h * 0.05),
            (cx, cy + h / 2),
            (cx - w / 2, cy + h * 0.05),
        ]
        self.poly(shield, GOLD, outline=shade(GOLD, 0.4), width=0.35)
        self.stroke([(cx, cy - h / 2 + 0.8), (cx, cy + h / 2 - 1)], shade(GOLD, 0.4), 0.3)

    # the tartan

    def _pattern_fill(self) -> Image.Image:
        if self._pattern_image is None:
            self._pattern_image = tartan(self.canvas, self.base, self.units(1), self.pt(0, 0))
        return self._pattern_image


def tartan(canvas: int, base: RGB, unit: float, origin: tuple[float, float]) -> Image.Image:
    """A tartan sett over the whole canvas: crossing translucent bands on ``base``."""
    bands = [  # offset, width (units), colour, alpha
        (0.0, 4.5, shade(base, 0.55), 120),
        (6.5, 1.0, (30, 91, 58), 150),
        (10.5, 0.45, (240, 236, 220), 160),
        (13.0, 0.45, (179, 38, 30), 170),
    ]
    period = 16 * unit
    image = Image.new("RGBA", (canvas, canvas), (*base, 255))
    for axis in (0, 1):
        layer = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        start = origin[axis] % period - period
        for offset, width, colour, alpha in bands:
            position = start + offset * unit
            while position < canvas:
                a, b = position, position + max(width * unit, 1)
                box = [a, 0, b, canvas] if axis == 0 else [0, a, canvas, b]
                draw.rectangle(box, fill=(*colour, alpha))
                position += period
        image.alpha_composite(layer)
    return image.convert("RGB")


# --- garments -----------------------------------------------------------------------

SHORT_SLEEVE_HALF = [(50, 23), (54, 22), (57.5, 17.5), (70, 20), (86, 34), (79, 44), (72, 39)]
SHORT_CUFF = [(86, 34), (79, 44), (76.6, 42.3), (83.6, 32.4)]
LONG_SLEEVE_HALF = [
    (50, 23),
    (54, 22),
    (57.5, 17.5),
    (70, 20),
    (74, 24),
    (88, 66),
    (82, 70),
    (72, 42),
]
LONG_CUFF = [(88, 66), (82, 70), (80.6, 65.7), (86.6, 61.7)]


def _top(sleeves: str, hem: float = 86, neck: Sequence[Point] | None = None):
    """The outline of a top and its two cuffs (or no cuffs when sleeveless)."""
    if sleeves == "short":
        half, cuffs = list(SHORT_SLEEVE_HALF), [SHORT_CUFF]
    elif sleeves == "long":
        half, cuffs = list(LONG_SLEEVE_HALF), [LONG_CUFF]
    else:
        half, cuffs = [(50, 23), (57.5, 17.5), (62, 17.5), (64, 27), (71, 37), (72, 40)], []
    if neck is not None:
        half = [*neck, *half[3:]] if sleeves != "none" else [*neck, *half[2:]]
    half += [(72 if hem < 88 else 73, hem), (50, hem)]
    outline = mirror(half)
    return outline, [*cuffs, *(flip(c) for c in cuffs)]


def _rib(p: Painter, x0: float, y0: float, x1: float, y1: float) -> None:
    p.rect(x0, y0, x1, y1, p.dark)
    x = x0 + 1.2
    while x < x1 - 0.6:
        p.stroke([(x, y0 + 0.6), (x, y1 - 0.6)], p.darker, 0.25)
        x += 1.5


def _shirt_collar(p: Painter, fill=None) -> None:
    flap = [(50.4, 24.5), (57, 16.4), (60.5, 18), (59, 25.5), (53.5, 30.5)]
    p.poly(flap, fill or p.base)
    p.poly(flip(flap), fill or p.base)


def _polo(p: Painter, sleeves: str = "short") -> None:
    body, cuffs = _top(sleeves)
    p.ellipse(50, 19.5, 7.5, 3.5, p.darker)
    p.poly(body)
    for cuff in cuffs:
        p.poly(cuff, p.dark)
    p.rect(47.6, 22.5, 52.4, 40, p.base, outline=p.seam, width=0.4)
    p.buttons([(50, 28), (50, 34)])
    flap = [(50.4, 23.5), (56.8, 16.6), (61.2, 18.6), (56.4, 29.2)]
    p.poly(flap, p.base)
    p.poly(flip(flap), p.base)


def _polo_ls(p: Painter) -> None:
    _polo(p, "long")


def _tee(p: Painter, trim: RGB | None = None) -> None:
    trim = trim or p.dark
    body, cuffs = _top("short")
    p.ellipse(50, 19.5, 7.5, 3.5, p.darker)
    p.poly(body)
    for cuff in cuffs:
        p.poly(cuff, trim)
    p.stroke([(42.5, 17.8), (46, 22.2), (50, 23.2), (54, 22.2), (57.5, 17.8)], trim, 1.8)


def _shirt(p: Painter, sleeves: str = "long", collar: str = "pointed") -> None:
    body, cuffs = _top(sleeves, hem=88)
    p.rect(43, 15.5, 57, 21, p.dark)
    p.poly(body)
    for cuff in cuffs:
        p.poly(cuff, p.base)
    p.rect(48.6, 26, 51.4, 88, None, outline=p.seam, width=0.35)
    p.buttons([(50, y) for y in range(33, 86, 9)], radius=0.8)
    pocket = [(57, 37), (65, 37), (65, 45.5), (61, 47), (57, 45.5)]
    p.poly(pocket, None, outline=p.seam, width=0.4)
    if collar == "rounded":
        flap = [
            (50.3, 23),
            (54, 19.5),
            (57.5, 17),
            (60.5, 19.5),
            (61, 23.5),
            (58.5, 27.5),
            (54.5, 29),
            (51.5, 27.5),
        ]
        p.poly(flap, p.base)
        p.poly(flip(flap), p.base)
    else:
        _shirt_collar(p)


def _shirt_ss(p: Painter) -> None:
    _shirt(p, "short")


def _blouse(p: Painter) -> None:
    _shirt(p, "short", collar="rounded")


def _tie_shape(p: Painter, colour: RGB, top: float, bottom: float) -> None:
    p.rect(48.4, top - 3, 51.6, top + 0.5, colour, outline=shade(colour, 0.4), width=0.35)
    blade = [(48.8, top), (51.2, top), (52.3, bottom - 3), (50, bottom), (47.7, bottom - 3)]
    p.poly(blade, colour, outline=shade(colour, 0.4), width=0.35)


def _blazer(p: Painter) -> None:
    neck = [(50, 52), (56, 17.5)]
    body, cuffs = _top("long", hem=88, neck=neck)
    p.poly([(43, 16.5), (57, 16.5), (50, 53)], SHIRT_WHITE)
    _tie_shape(p, MAROON if p.base != hex_to_rgb("#6d1f2f") else NAVY, 23, 47)
    p.poly(body)
    for cuff in cuffs:
        p.stroke(cuff[2:], p.seam, 0.4)
    lapel = [(56, 17.5), (59.5, 18), (62.5, 26), (59.5, 28.5), (62, 31.5), (51, 53), (50, 52)]
    p.poly(lapel)
    p.poly(flip(lapel))
    p.stroke([(50.5, 53), (50.5, 88)], p.outline, 0.6)
    p.buttons([(50.5, 61), (50.5, 71)], radius=1.3, colour=p.darker)
    for flap in (
        [(59, 70), (70, 70), (70, 73), (59, 73)],
        [(30, 70), (41, 70), (41, 73), (30, 73)],
    ):
        p.poly(flap, p.base, outline=p.seam, width=0.4)
    p.crest(63.5, 39, 5)
    p.stroke([(59.5, 44.5), (67.5, 44)], p.seam, 0.5)


def _knit(p: Painter, kind: str) -> None:
    v = [(50, 44), (57.5, 17.5)]
    body, cuffs = _top("none" if kind == "vest" else "long", hem=86, neck=v)
    p.poly([(42.5, 16.5), (57.5, 16.5), (50, 45)], SHIRT_WHITE)
    _tie_shape(p, MAROON if not p.is_dark else tint(p.base, 0.45), 23, 45)
    _shirt_collar(p, SHIRT_WHITE)
    p.poly(body)
    for cuff in cuffs:
        p.poly(cuff, p.dark)
    with p.clip(body):
        _rib(p, 20, 81, 80, 87)
    p.stroke([(42.5, 17.5), (50, 44), (57.5, 17.5)], p.dark, 2.2)
    if kind == "vest":
        armhole = [(62, 17.5), (64, 27), (71, 37), (72, 40)]
        p.stroke(armhole, p.dark, 2)
        p.stroke(flip(armhole), p.dark, 2)
    if kind == "cardigan":
        p.stroke([(50, 44), (50, 86)], p.dark, 2.6)
        p.buttons([(50, y) for y in (51, 59, 67, 75)], radius=0.9)


def _cardigan(p: Painter) -> None:
    _knit(p, "cardigan")


def _jumper(p: Painter) -> None:
    _knit(p, "jumper")


def _knit_vest(p: Painter) -> None:
    _knit(p, "vest")


def _zip(p: Painter, top: float, bottom: float) -> None:
    p.stroke([(50, top), (50, bottom)], p.darker, 0.8)
    p.rect(49.1, top + 3, 50.9, top + 8, SILVER, outline=shade(SILVER, 0.4), radius=0.5, width=0.3)


def _jacket(p: Painter, stripes: bool = True) -> None:
    body, cuffs = _top("long", hem=86, neck=[(50, 19.5), (57.5, 17.5)])
    p.poly(body)
    if stripes:
        with p.clip(body):
            for side in (lambda pts: pts, flip):
                for inset in (1.6, 3.4):
                    dx, dy = -0.949 * inset, 0.316 * inset
                    p.stroke(side([(71.5 + dx, 16.5 + dy), (89 + dx, 69 + dy)]), p.accent, 1.0)
    for cuff in cuffs:
        p.poly(cuff, p.dark)
    with p.clip(body):
        _rib(p, 20, 82, 80, 87)
    p.poly([(42.5, 14), (57.5, 14), (57.5, 19.5), (50, 21), (42.5, 19.5)], p.base)
    _zip(p, 14, 86)
    for side in (lambda pts: pts, flip):
        p.stroke(side([(58, 62), (62, 73)]), p.darker, 0.6)


def _tracksuit_jacket(p: Painter) -> None:
    _jacket(p)


def _fleece(p: Painter) -> None:
    _jacket(p, stripes=False)


def _legs(p: Painter, hem: float = 90, flare: float = 4) -> list[Point]:
    return mirror([(50, 21), (69, 21), (69 + flare, hem), (54, hem), (50, 36)])


def _waistband(p: Painter, elastic: bool) -> None:
    p.rect(31, 15, 69, 21.5)
    if elastic:
        x = 32.5
        while x < 68:
            p.stroke([(x, 15.8), (x, 20.7)], p.seam, 0.25)
            x += 1.6
        p.stroke([(49, 20.5), (47.5, 26.5), (48.6, 30.5)], SHIRT_WHITE, 0.6)
        p.stroke([(51, 20.5), (52.5, 26.5), (51.4, 30.5)], SHIRT_WHITE, 0.6)
    else:
        for x in (35, 43.5, 55, 63.5):
            p.rect(x, 14.6, x + 1.5, 21.9, p.base, outline=p.seam, width=0.3)
        p.buttons([(50, 18.2)])


def _trousers(p: Painter, style: str = "tailored") -> None:
    legs = _legs(p)
    p.poly(legs)
    elastic = style in ("elastic", "track", "chef")
    _waistband(p, elastic)
    if not elastic:
        p.stroke([(52.5, 21.5), (52.5, 31), (50, 34)], p.seam, 0.4)
    for side in (lambda pts: pts, flip):
        p.stroke(side([(61, 21.5), (68, 31)]), p.seam, 0.45)
        if style in ("tailored", "elastic"):
            p.stroke(side([(61.5, 38), (63.5, 89)]), p.seam, 0.35)
        if style == "track":
            with p.clip(legs):
                for inset in (1.4, 2.9):
                    p.stroke(side([(69 - inset, 21), (73 - inset, 90)]), p.accent, 0.9)
            p.poly(side([(73, 90), (54, 90), (54.3, 86.5), (72.8, 86.5)]), p.dark)
        if style == "work":
            p.rect(*side_box(side, 56, 52, 70, 64), p.dark, radius=1)
            p.rect(*side_box(side, 63, 30, 70.5, 44), p.base, outline=p.seam, width=0.4)


def side_box(
    side: Callable[[Sequence[Point]], Sequence[Point]], x0: float, y0: float, x1: float, y1: float
) -> tuple[float, float, float, float]:
    (ax, ay), (bx, by) = side([(x0, y0), (x1, y1)])
    return min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)


def _trousers_elastic(p: Painter) -> None:
    _trousers(p, "elastic")


def _track_pants(p: Painter) -> None:
    _trousers(p, "track")


def _chef_trousers(p: Painter) -> None:
    _trousers(p, "chef")


def _work_trousers(p: Painter) -> None:
    _trousers(p, "work")


def _shorts(p: Painter, elastic: bool = True, stripe: bool = True) -> None:
    legs = mirror([(50, 21), (69, 21), (76, 58), (53, 60), (50, 40)])
    p.poly(legs)
    if stripe:
        with p.clip(legs):
            for side in (lambda pts: pts, flip):
                p.stroke(side([(67.8, 21), (74.8, 60)]), p.accent, 0.9)
    _waistband(p, elastic)
    for side in (lambda pts: pts, flip):
        p.stroke(side([(74.9, 54.3), (53.4, 56.2)]), p.seam, 0.4)
        if not elastic:
            p.stroke(side([(61, 21.5), (68, 31)]), p.seam, 0.45)
    if not elastic:
        p.stroke([(52.5, 21.5), (52.5, 31), (50, 34)], p.seam, 0.4)


def _shorts_tailored(p: Painter) -> None:
    _shorts(p, elastic=False, stripe=False)


def _skirt(p: Painter, pleated: bool = False) -> None:
    body = mirror([(50, 24), (65, 24), (78, 78), (64, 79.6), (50, 80)])
    p.poly(body)
    lines = p.outline if p.pattern else p.seam
    if pleated:
        for k in range(-6, 7):
            p.stroke([(50 + k * 2.14, 24.5), (50 + k * 3.95, 79.2)], lines, 0.45)
    else:
        for k in (-1, 1):
            p.stroke([(50 + k * 4, 24.5), (50 + k * 7, 79.2)], lines, 0.45)
    p.rect(35, 18, 65, 24.5)
    p.buttons([(61.5, 21.2)], radius=0.9)


def _skirt_pleated(p: Painter) -> None:
    _skirt(p, pleated=True)


def _coat(p: Painter, long: bool = False) -> None:
    hem = 93 if long else 90
    p.poly([(40, 23), (40.5, 12), (45, 7.5), (50, 6.5), (55, 7.5), (59.5, 12), (60, 23)], p.dark)
    half = [(50, 21), (57, 18.5), (71, 22), (75, 26), (89, 69), (82, 73), (73, 44)]
    body = mirror([*half, (76 if long else 75, hem), (50, hem)])
    p.poly(body)
    with p.clip(body):
        for y in range(30, 92, 10 if long else 11):
            p.stroke([(14, y), (86, y + 2)], p.seam, 0.45)
    cuff = [(89, 69), (82, 73), (80.8, 69.2), (87.8, 65.2)]
    p.poly(cuff, p.dark)
    p.poly(flip(cuff), p.dark)
    if long:
        p.ellipse(50, 11, 10.5, 5, tint(p.base, 0.7) if p.is_dark else SHIRT_WHITE, outline=None)
    p.poly([(42, 14.5), (58, 14.5), (58.5, 22), (50, 24), (41.5, 22)])
    _zip(p, 14.5, hem)
    for side in (lambda pts: pts, flip):
        p.stroke(side([(58, 64), (62, 75)]), p.darker, 0.8)
    p.rect(64, 50, 68, 51.2, SILVER, outline=None)


def _winter_coat(p: Painter) -> None:
    _coat(p)


def _parka(p: Painter) -> None:
    _coat(p, long=True)


def _chef_coat(p: Painter, sleeves: str = "long") -> None:
    body, cuffs = _top(sleeves, hem=88, neck=[(50, 20), (57.5, 17.5)])
    p.poly(body)
    for cuff in cuffs:
        p.poly(cuff, p.base)
    p.poly([(42.5, 14.5), (57.5, 14.5), (58, 20.5), (50, 22), (42, 20.5)], p.base)
    p.stroke([(58.5, 21), (60, 26), (60, 88)], p.outline, 0.6)
    knots = [(x, y) for y in (30, 40, 50, 60) for x in (43.5, 56.5)]
    p.buttons(knots, radius=1.5, colour=p.light if p.is_dark else (236, 236, 232))
    if sleeves == "long":
        p.poly([(77.5, 38), (80.5, 37), (82.5, 45), (79.5, 46)], p.base, outline=p.seam, width=0.35)
        p.stroke([(78.6, 36.2), (79.2, 39)], (60, 120, 200), 0.7)


def _chef_coat_ss(p: Painter) -> None:
    _chef_coat(p, "short")


def _lab_coat(p: Painter) -> None:
    half = [(50, 40), (56.5, 17.5), (70, 20), (74, 24), (88, 66), (82, 70), (72, 42), (75, 94)]
    body = mirror([*half, (50, 94)])
    p.poly([(43.5, 16.5), (56.5, 16.5), (50, 41)], (178, 214, 238))
    p.poly(body)
    p.poly(LONG_CUFF, p.base)
    p.poly(flip(LONG_CUFF), p.base)
    lapel = [(56.5, 17.5), (60, 18), (62.5, 25), (59.8, 27), (61.5, 30), (51.2, 42), (50, 40)]
    p.poly(lapel)
    p.poly(flip(lapel))
    p.stroke([(50.5, 42), (50.5, 94)], p.outline, 0.6)
    p.buttons([(50.5, y) for y in (49, 61, 73, 85)], radius=1.0)
    p.rect(57, 38, 65, 47, None, outline=p.seam, width=0.4)
    p.rect(58.6, 34.5, 59.6, 40, (52, 100, 180), outline=None, radius=0.4)
    p.rect(29, 64, 40, 74, None, outline=p.seam, width=0.4)
    p.rect(60, 64, 71, 74, None, outline=p.seam, width=0.4)


def _overalls(p: Painter, reflective: bool = False) -> None:
    half = [(50, 21), (57, 16.8), (70, 20), (74, 24), (86, 60), (79.5, 63), (72, 42), (72, 60)]
    body = mirror([*half, (73.5, 92), (55.5, 92), (50, 63)])
    p.rect(43, 15.5, 57, 21, p.dark)
    p.poly(body)
    cuff = [(86, 60), (79.5, 63), (78.4, 59.7), (84.9, 56.7)]
    p.poly(cuff, p.dark)
    p.poly(flip(cuff), p.dark)
    with p.clip(body):
        p.rect(10, 52, 90, 56, p.dark, outline=None)
        if reflective:
            for y in (42, 78):
                p.rect(10, y, 90, y + 3.2, SILVER, outline=shade(SILVER, 0.3), width=0.3)
                p.stroke([(10, y + 1.6), (90, y + 1.6)], (232, 234, 237), 0.5)
        for side in (lambda pts: pts, flip):
            p.stroke(side([(55.5, 88.5), (73.3, 88.5)]), p.seam, 0.4)
    p.rect(36.5, 28, 45, 37, None, outline=p.seam, width=0.4)
    p.rect(55, 28, 63.5, 37, None, outline=p.seam, width=0.4)
    p.stroke([(36.5, 30.5), (45, 30.5)], p.seam, 0.4)
    p.stroke([(55, 30.5), (63.5, 30.5)], p.seam, 0.4)
    _zip(p, 21, 62)
    _shirt_collar(p)


def _overalls_reflective(p: Painter) -> None:
    _overalls(p, reflective=True)


def _hivis_vest(p: Painter) -> None:
    body = mirror(
        [(50, 44), (57, 17), (63, 17), (64.5, 26), (70, 35), (72, 40), (72, 86), (50, 86)]
    )
    p.poly([(42.5, 17), (57.5, 17), (50, 45)], p.darker)
    p.poly(body, p.base)
    with p.clip(body):
        bands = [(10, 58, 90, 62.2), (10, 70, 90, 74.2), (37.2, 10, 41.4, 58), (58.6, 10, 62.8, 58)]
        for box in bands:
            p.rect(*box, SILVER, outline=shade(SILVER, 0.3), width=0.3)
        for x0, y0, x1, y1 in bands:
            if x1 - x0 > y1 - y0:
                p.stroke([(x0, (y0 + y1) / 2), (x1, (y0 + y1) / 2)], (234, 236, 239), 0.6)
            else:
                p.stroke([((x0 + x1) / 2, y0), ((x0 + x1) / 2, y1)], (234, 236, 239), 0.6)
    p.stroke([(50, 45), (50, 86)], p.outline, 0.6)


def _apron(p: Painter) -> None:
    p.stroke([(42, 23), (43.5, 14), (50, 10.5), (56.5, 14), (58, 23)], p.dark, 1.3)
    for side in (lambda pts: pts, flip):
        p.stroke(side([(70, 45), (80, 48), (84, 60)]), p.dark, 1.3)
    body = mirror([(50, 22), (59, 22), (60, 35), (63, 41), (70, 44), (72, 90), (50, 90)])
    p.poly(body)
    p.rect(37, 56, 63, 68, None, outline=p.seam, width=0.45)
    p.stroke([(50, 56), (50, 68)], p.seam, 0.45)
    p.rect(55.5, 52.5, 56.5, 58, SILVER, outline=None)


def _waist_apron(p: Painter) -> None:
    for side in (lambda pts: pts, flip):
        p.stroke(side([(70, 29), (82, 31), (86, 44)]), p.dark, 1.3)
    p.rect(29, 26, 71, 31.5, p.dark)
    p.poly([(30, 31.5), (70, 31.5), (71, 88), (29, 88)])
    p.rect(33, 42, 67, 54, None, outline=p.seam, width=0.45)
    for x in (44.3, 55.7):
        p.stroke([(x, 42), (x, 54)], p.seam, 0.45)


def _tie(p: Painter) -> None:
    accent = GOLD if p.base != hex_to_rgb("#d9e021") else NAVY
    knot = [(46.5, 14), (53.5, 14), (52.6, 22.5), (47.4, 22.5)]
    blade = [(47.2, 22.5), (52.8, 22.5), (58, 80), (50, 88.5), (42, 80)]
    p.poly(blade)
    with p.clip(blade):
        for k in range(-4, 10):
            y = 14 + k * 8
            p.stroke([(36, y + 12), (64, y - 6)], accent, 1.5)
            p.stroke([(36, y + 14.5), (64, y - 3.5)], p.accent, 0.5)
    p.poly(knot)
    p.poly([(47.4, 22.5), (52.6, 22.5), (50, 25)], p.darker, outline=None)


def _bow_tie(p: Painter) -> None:
    with p.transform(50 - 50 * 1.35, 44 - 44 * 1.35, 1.35):
        _bow_tie_shape(p)


def _bow_tie_shape(p: Painter) -> None:
    p.stroke([(28, 38), (50, 36), (72, 38)], p.darker, 1.5)
    wing = [(50, 44), (70, 34), (74, 38), (74, 50), (70, 54)]
    p.poly(wing)
    p.poly(flip(wing))
    for side in (lambda pts: pts, flip):
        p.stroke(side([(56, 42), (66, 38)]), p.outline if p.pattern else p.seam, 0.5)
        p.stroke(side([(56, 46), (66, 50)]), p.outline if p.pattern else p.seam, 0.5)
    p.rect(46, 39, 54, 49, p.dark, radius=1.5)


def _sock(p: Painter, x: float, y: float, leg: float) -> None:
    outline = [
        (x, y),
        (x + 14, y),
        (x + 14, y + leg),
        (x + 27, y + leg + 8),
        (x + 31.5, y + leg + 11),
        (x + 32.5, y + leg + 15),
        (x + 30.5, y + leg + 19),
        (x + 26, y + leg + 21),
        (x + 11, y + leg + 21),
        (x + 5, y + leg + 19),
        (x + 1, y + leg + 14),
        (x, y + leg + 8),
    ]
    p.poly(outline)
    with p.clip(outline):
        p.ellipse(x + 3, y + leg + 17, 8, 7, p.dark, outline=None)
        p.ellipse(x + 33, y + leg + 15, 6.5, 8, p.dark, outline=None)
        _rib(p, x, y, x + 14, y + 8)
        p.stroke([(x, y + 11), (x + 14, y + 11)], p.accent, 0.9)


def _socks(p: Painter, leg: float = 38) -> None:
    top = 50 - (leg + 21) / 2
    _sock(p, 40, top + 5, leg)
    _sock(p, 24, top - 1, leg)


def _socks_knee(p: Painter) -> None:
    _socks(p, leg=52)


def _cap(p: Painter) -> None:
    """A six-panel cap seen from the front-left, its peak pointing right."""
    dome = half_ellipse(44, 62, 26, 29)
    p.poly(dome)
    for points in (
        [(44, 33), (36, 40), (31, 50), (29.5, 62)],
        [(44, 33), (47, 45), (47.5, 62)],
        [(44, 33), (58, 42), (66, 52), (69, 62)],
    ):
        p.stroke(points, p.seam, 0.45)
    for x, y in ((36, 44), (57, 44)):
        p.ellipse(x, y, 0.9, 0.9, p.darker, outline=None)
    p.ellipse(44, 33.2, 2.2, 1.3, p.dark)
    p.rect(18.5, 59, 69.5, 63.5, p.dark, radius=1)
    peak = [(62, 58.5), (76, 58), (87, 60.5), (92, 64.5), (88, 67.5), (74, 67), (60, 63.5)]
    p.poly(peak, p.dark)
    for k in (1.8, 3.4):
        p.stroke([(64, 60 + k * 0.5), (76, 59.5 + k), (86.5, 62 + k * 0.7)], p.darker, 0.3)
    p.crest(56, 50, 6)


def _bucket_hat(p: Painter) -> None:
    p.ellipse(50, 62, 36, 11)
    p.ellipse(50, 62, 36, 11, None, outline=p.seam, width=0.4)
    crown = [(31, 62), (34, 34), (40, 29), (60, 29), (66, 34), (69, 62)]
    p.poly(crown)
    p.rect(31.5, 53, 68.5, 60, p.dark, outline=p.outline)
    for x in (40, 60):
        p.ellipse(x, 42, 1.1, 1.1, p.darker, outline=None)
    for x in range(35, 66, 4):
        p.stroke([(x, 67), (x + 0.3, 71.5)], p.seam, 0.3)


def _backpack(p: Painter) -> None:
    p.stroke([(44, 24), (44.8, 17), (50, 15), (55.2, 17), (56, 24)], p.darker, 2.2)
    for x in (26.5, 67.5):
        p.rect(x, 30, x + 6, 80, p.darker, radius=3)
    p.rect(30, 21, 70, 88, radius=10)
    p.stroke([(34, 32), (42, 26.5), (50, 25.5), (58, 26.5), (66, 32)], p.seam, 0.6)
    p.rect(35, 52, 65, 82, p.dark, radius=6)
    p.stroke([(38, 58), (62, 58)], p.darker, 0.6)
    p.rect(56.5, 57, 58, 63, SILVER, outline=None, radius=0.4)
    p.rect(38.5, 66, 61.5, 69, SILVER, outline=shade(SILVER, 0.3), width=0.3)
    p.rect(44, 40, 56, 47, SHIRT_WHITE, outline=p.seam, width=0.4, radius=1)


def _drawstring_bag(p: Painter) -> None:
    body = [(32, 28), (41, 25.5), (50, 28), (59, 25.5), (68, 28), (70, 86), (30, 86)]
    p.poly(body)
    p.stroke([(33, 28), (50, 18), (67, 28)], p.accent, 0.9)
    for side in (lambda pts: pts, flip):
        p.stroke(side([(66, 30), (72, 60), (69.5, 86)]), p.accent, 0.9)
        x, y = side([(69, 84.5)])[0]
        p.ellipse(x, y, 1.6, 1.6, SILVER, outline=shade(SILVER, 0.4), width=0.3)
    p.stroke([(32.5, 33), (67.5, 33)], p.seam, 0.45)
    p.crest(50, 55, 9)


def _outfit(p: Painter, parts) -> None:
    for draw, colour, dx, dy, scale in parts:
        with p.transform(dx, dy, scale):
            saved = p.base
            p.set_colour(colour or saved)
            draw(p)
            p.set_colour(saved)


def _pe_kit(p: Painter) -> None:
    shorts_colour = p.base
    trim = NAVY if luminance(shorts_colour) > 0.85 else shorts_colour
    _outfit(
        p,
        [
            (lambda q: _tee(q, trim), SHIRT_WHITE, -4, -2, 0.7),
            (_shorts, shorts_colour, 34, 38, 0.66),
        ],
    )


def _tracksuit(p: Painter) -> None:
    _outfit(p, [(_track_pants, None, 37, 20, 0.6), (_tracksuit_jacket, None, -2, 4, 0.68)])


GARMENTS: dict[str, Callable[[Painter], None]] = {
    "polo": _polo,
    "polo_ls": _polo_ls,
    "tee": _tee,
    "shirt": _shirt,
    "shirt_ss": _shirt_ss,
    "blouse": _blouse,
    "blazer": _blazer,
    "cardigan": _cardigan,
    "jumper": _jumper,
    "knit_vest": _knit_vest,
    "tracksuit_jacket": _tracksuit_jacket,
    "fleece": _fleece,
    "tracksuit": _tracksuit,
    "track_pants": _track_pants,
    "trousers": _trousers,
    "trousers_elastic": _trousers_elastic,
    "chef_trousers": _chef_trousers,
    "work_trousers": _work_trousers,
    "shorts": _shorts,
    "shorts_tailored": _shorts_tailored,
    "skirt": _skirt,
    "skirt_pleated": _skirt_pleated,
    "pe_kit": _pe_kit,
    "winter_coat": _winter_coat,
    "parka": _parka,
    "chef_coat": _chef_coat,
    "chef_coat_ss": _chef_coat_ss,
    "lab_coat": _lab_coat,
    "overalls": _overalls,
    "overalls_reflective": _overalls_reflective,
    "hivis_vest": _hivis_vest,
    "apron": _apron,
    "waist_apron": _waist_apron,
    "tie": _tie,
    "bow_tie": _bow_tie,
    "socks": _socks,
    "socks_knee": _socks_knee,
    "cap": _cap,
    "bucket_hat": _bucket_hat,
    "backpack": _backpack,
    "drawstring_bag": _drawstring_bag,
}

# Where a detail view looks (the centre of the close-up); anything else: the upper middle.
DETAIL_FOCUS: dict[str, Point] = {
    "blazer": (57, 36),
    "chef_coat": (56, 30),
    "chef_coat_ss": (50, 30),
    "lab_coat": (57, 36),
    "hivis_vest": (56, 56),
    "trousers": (56, 28),
    "trousers_elastic": (50, 26),
    "chef_trousers": (50, 26),
    "work_trousers": (60, 48),
    "track_pants": (60, 40),
    "skirt": (56, 40),
    "skirt_pleated": (56, 40),
    "shorts": (56, 32),
    "shorts_tailored": (56, 32),
    "tie": (50, 32),
    "bow_tie": (50, 44),
    "socks": (42, 50),
    "socks_knee": (42, 50),
    "cap": (58, 52),
    "bucket_hat": (50, 48),
    "backpack": (50, 56),
    "drawstring_bag": (50, 46),
    "apron": (50, 58),
    "waist_apron": (50, 46),
    "overalls": (50, 34),
    "overalls_reflective": (62, 44),
    "winter_coat": (54, 28),
    "parka": (50, 22),
    "pe_kit": (30, 24),
    "tracksuit": (30, 30),
}


def draw_garment(
    kind: str,
    colour_hex: str,
    size: int = 800,
    *,
    pattern: str | None = None,
    detail: bool = False,
) -> Image.Image:
    """A ``size`` × ``size`` RGB picture of a garment of ``kind`` in ``colour_hex`` (with
    ``pattern="tartan"``, a tartan of that ground colour) on a light background."""
    try:
        garment = GARMENTS[kind]
    except KeyError:
        raise ValueError(f"no drawing for garment kind {kind!r}") from None
    colour = hex_to_rgb(colour_hex)
    focus = DETAIL_FOCUS.get(kind, (50.0, 30.0)) if detail else (50.0, 50.0)
    painter = Painter(
        size, colour, pattern=pattern, zoom=DETAIL_ZOOM if detail else 1.0, focus=focus
    )
    backdrop = mix(BACKGROUND, colour, 0.1) if luminance(colour) < 0.9 else (228, 233, 239)
    painter.ellipse(50, 51, 44, 44, backdrop, outline=None)
    painter.ellipse(50, 95, 30, 2.6, shade(backdrop, 0.08), outline=None)
    garment(painter)
    return painter.image.resize((size, size), Image.Resampling.LANCZOS)


def save_product_image(storage: Storage, relative_path: str, image: Image.Image) -> tuple[int, int]:
    """Store ``image`` under ``relative_path`` (format from the extension) and return its
    ``(width, height)``."""
    buffer = io.BytesIO()
    if relative_path.lower().endswith(".webp"):
        image.save(buffer, "WEBP", quality=88, method=6)
        content_type = "image/webp"
    else:
        # Flat artwork: a 256-colour palette keeps the edges and a third of the bytes.
        image.quantize(256, method=Image.Quantize.FASTOCTREE).save(buffer, "PNG", optimize=True)
        content_type = "image/png"
    storage.save(relative_path, buffer.getvalue(), content_type)
    return image.size
