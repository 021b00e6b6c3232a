"""The simulator's images: PNG drawing, image inspection and `data:` URL decoding.

Pure and stdlib only, and deterministic: the same prompt and size always give the same
picture. Nothing is made up: a PNG's size and colours are read from its bytes, and JPEG, GIF,
WebP and BMP sizes from their headers.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import struct
import zlib
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote_to_bytes

__all__ = ["decode_data_url", "inspect_image", "render_png"]

# --------------------------------------------------------------------------------------------
# Colours
# --------------------------------------------------------------------------------------------

_RGB = tuple[int, int, int]

# Letters and digits. `media` keeps its own copy for embeddings, so neither imports the other.
_WORD = re.compile(r"[^\W_]+")

_PALETTE: Mapping[str, _RGB] = {
    "black": (20, 20, 20),
    "white": (245, 245, 245),
    "gray": (128, 128, 128),
    "red": (210, 40, 40),
    "orange": (245, 140, 30),
    "yellow": (245, 215, 50),
    "green": (50, 160, 60),
    "cyan": (40, 200, 210),
    "blue": (40, 90, 210),
    "navy": (20, 30, 100),
    "purple": (130, 50, 170),
    "pink": (240, 130, 180),
    "brown": (130, 80, 40),
}
"""The colour names `inspect_image` can answer, and the colours `render_png` paints."""

# Words that are not colour names but call up one; prompts say "sunset", not "orange".
_COLOUR_WORDS: Mapping[str, str] = {
    **{name: name for name in _PALETTE},
    "grey": "gray",
    "silver": "gray",
    "violet": "purple",
    "magenta": "pink",
    "teal": "cyan",
    "turquoise": "cyan",
    "gold": "yellow",
    "golden": "yellow",
    "sunset": "orange",
    "sunrise": "orange",
    "fire": "red",
    "ocean": "blue",
    "sea": "blue",
    "sky": "blue",
    "water": "blue",
    "lake": "blue",
    "river": "blue",
    "forest": "green",
    "grass": "green",
    "tree": "green",
    "trees": "green",
    "leaf": "green",
    "leaves": "green",
    "jungle": "green",
    "night": "navy",
    "sun": "yellow",
    "lemon": "yellow",
    "banana": "yellow",
    "snow": "white",
    "cloud": "white",
    "clouds": "white",
    "desert": "brown",
    "wood": "brown",
    "mountain": "brown",
    "mountains": "brown",
    "chocolate": "brown",
    "coal": "black",
    "space": "black",
    "rose": "pink",
    "roses": "pink",
    "flower": "pink",
    "flowers": "pink",
}


def _colours_in(prompt: str) -> list[_RGB]:
    """The palette colours a prompt calls up, in order of first mention, without repeats."""
    names: list[str] = []
    for word in _WORD.findall(prompt.lower()):
        name = _COLOUR_WORDS.get(word)
        if name is not None and name not in names:
            names.append(name)
    return [_PALETTE[name] for name in names]


def _nearest_colour(rgb: Sequence[float]) -> str:
    r, g, b = rgb
    best = "black"
    best_distance = math.inf
    for name, (pr, pg, pb) in _PALETTE.items():
        # Weighted RGB distance ("redmean"-like weights): closer to what eyes call the same.
        distance = 2 * (r - pr) ** 2 + 4 * (g - pg) ** 2 + 3 * (b - pb) ** 2
        if distance < best_distance:
            best, best_distance = name, distance
    return best


def _shade(rgb: _RGB, factor: float) -> _RGB:
    r, g, b = (max(0, min(255, round(c * factor))) for c in rgb)
    return (r, g, b)


# --------------------------------------------------------------------------------------------
# PNG writing
# --------------------------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAX_SIDE = 4096


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def render_png(prompt: str, width: int = 256, height: int = 256) -> bytes:
    """Draw a deterministic picture for `prompt` and return it as PNG bytes (8-bit RGB).

    The background is a soft vertical gradient in the first colour the prompt calls up
    ("red", "ocean" -> blue, "sunset" -> orange; a hash of the prompt when none), so it stays
    the dominant colour; a sun-like disc and a band use the next colours. The same prompt and
    size always give the same bytes.

    Args:
        prompt: The image prompt.
        width: Width in pixels, 1 to 4096.
        height: Height in pixels, 1 to 4096.

    Returns:
        A complete PNG file.

    Raises:
        ValueError: If a side is out of range.
    """
    for label, side in (("width", width), ("height", height)):
        if not 1 <= side <= _MAX_SIDE:
            raise ValueError(f"{label} must be between 1 and {_MAX_SIDE}, got {side}")
    seed = zlib.crc32(prompt.encode("utf-8"))
    colours = _colours_in(prompt)
    while len(colours) < 3:
        colours.append(_hashed_colour(seed, len(colours), avoid=colours))
    background, disc, band = colours[0], colours[1], colours[2]

    top, bottom = _shade(background, 1.12), _shade(background, 0.9)
    # The disc's place and size, and the band's height, come from the prompt's hash.
    radius = max(1, min(width, height) * (12 + seed % 8) // 100)
    cx = width * (25 + (seed >> 3) % 50) // 100
    cy = height * (20 + (seed >> 9) % 25) // 100
    band_top = height * (72 + (seed >> 15) % 10) // 100
    band_bottom = height * 88 // 100
    band_left = width * (5 + (seed >> 20) % 20) // 100
    band_right = width - band_left

    disc_px = bytes(disc)
    band_px = bytes(band)
    raw = bytearray()
    for y in range(height):
        t = y / (height - 1) if height > 1 else 0.0
        colour = bytes(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        row = bytearray(colour * width)
        if band_top <= y < band_bottom and band_right > band_left:
            row[band_left * 3 : band_right * 3] = band_px * (band_right - band_left)
        dy = y - cy
        if abs(dy) <= radius:
            half = math.isqrt(radius * radius - dy * dy)
            x0, x1 = max(0, cx - half), min(width, cx + half + 1)
            if x1 > x0:
                row[x0 * 3 : x1 * 3] = disc_px * (x1 - x0)
        raw.append(0)  # filter type None: rows are already cheap to compress
        raw += row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        _PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), 6))
        + _chunk(b"IEND", b"")
    )


def _hashed_colour(seed: int, index: int, *, avoid: Sequence[_RGB]) -> _RGB:
    names = [name for name, rgb in _PALETTE.items() if rgb not in avoid]
    mixed = zlib.crc32(struct.pack(">II", seed, index))
    return _PALETTE[names[mixed % len(names)]]


# --------------------------------------------------------------------------------------------
# Image inspection
# --------------------------------------------------------------------------------------------

_MIME = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
}

# Decoding every pixel of a huge PNG in pure Python would stall the server; sizes and format
# are still reported above this.
_MAX_ANALYSED_PIXELS = 4_000_000
# Enough samples for a stable dominant colour, few enough to stay fast.
_COLOUR_SAMPLES = 4096

# Bytes per pixel for 8-bit PNG colour types: gray, RGB, palette, gray+alpha, RGBA.
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


class _ImageError(Exception):
    """Bytes that do not parse as the image format they claim."""


def inspect_image(data: bytes) -> dict[str, Any]:
    """Read what the bytes really say about an image.

    Knows PNG, JPEG, GIF, WebP and BMP by their magic bytes and reads width and height from
    their headers. For 8-bit, non-interlaced PNGs (gray, RGB, palette, with or without alpha;
    any filter types) it also decodes the pixels and reports the dominant colour.

    Never raises: unreadable data gives `format: "unknown"` or an `error` entry.

    Args:
        data: The image file's bytes.

    Returns:
        `format`, `mime_type`, `size_bytes`, and when readable `width` and `height`; for PNG
        also `dominant_color` (`"#rrggbb"`) and `color_name` (nearest palette name), or a
        `note` saying why the colour was not analysed.
    """
    info: dict[str, Any] = {"format": _sniff(data), "size_bytes": len(data)}
    fmt = info["format"]
    if fmt == "unknown":
        info["mime_type"] = "application/octet-stream"
        info["error"] = "not a PNG, JPEG, GIF, WebP or BMP image (unknown magic bytes)"
        return info
    info["mime_type"] = _MIME[fmt]
    try:
        if fmt == "png":
            info.update(_inspect_png(data))
        elif fmt == "jpeg":
            info["width"], info["height"] = _jpeg_size(data)
        elif fmt == "gif":
            info["width"], info["height"] = struct.unpack("<HH", _need(data, 6, 4))
        elif fmt == "webp":
            info["width"], info["height"] = _webp_size(data)
        else:
            width, height = struct.unpack("<ii", _need(data, 18, 8))
            info["width"], info["height"] = width, abs(height)
    except (_ImageError, struct.error, zlib.error, IndexError, ValueError) as exc:
        info["error"] = f"corrupt {fmt.upper()} data: {exc}"
    return info


def _sniff(data: bytes) -> str:
    if data.startswith(_PNG_SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"BM") and len(data) >= 26:
        return "bmp"
    return "unknown"


def _need(data: bytes, offset: int, size: int) -> bytes:
    if offset + size > len(data):
        raise _ImageError(f"truncated (needed {offset + size} bytes, have {len(data)})")
    return data[offset : offset + size]


def _jpeg_size(data: bytes) -> tuple[int, int]:
    i = 2
    while i < len(data):
        if data[i] != 0xFF:
            raise _ImageError(f"expected a marker at byte {i}")
        while i < len(data) and data[i] == 0xFF:  # fill bytes
            i += 1
        marker = _need(data, i, 1)[0]
        i += 1
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # standalone markers
            continue
        if marker in (0xD9, 0xDA):
            break
        (length,) = struct.unpack(">H", _need(data, i, 2))
        # SOF0..SOF15 carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", _need(data, i + 3, 4))
            return width, height
        i += length
    raise _ImageError("no start-of-frame marker before the image data")


def _webp_size(data: bytes) -> tuple[int, int]:
    kind = _need(data, 12, 4)
    if kind == b"VP8 ":
        if _need(data, 23, 3) != b"\x9d\x01\x2a":
            raise _ImageError("bad VP8 start code")
        width, height = struct.unpack("<HH", _need(data, 26, 4))
        return width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L":
        if _need(data, 20, 1) != b"\x2f":
            raise _ImageError("bad VP8L signature")
        bits = int.from_bytes(_need(data, 21, 4), "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8X":
        width = int.from_bytes(_need(data, 24, 3), "little") + 1
        height = int.from_bytes(_need(data, 27, 3), "little") + 1
        return width, height
    raise _ImageError(f"unknown WebP chunk {kind!r}")


def _inspect_png(data: bytes) -> dict[str, Any]:
    offset = len(_PNG_SIGNATURE)
    header: bytes | None = None
    palette = b""
    idat: list[bytes] = []
    while offset < len(data):
        (length,) = struct.unpack(">I", _need(data, offset, 4))
        kind = _need(data, offset + 4, 4)
        body = _need(data, offset + 8, length)
        (crc,) = struct.unpack(">I", _need(data, offset + 8 + length, 4))
        if zlib.crc32(kind + body) != crc:
            raise _ImageError(f"bad CRC in the {kind.decode('latin-1')} chunk")
        if kind == b"IHDR":
            header = body
        elif kind == b"PLTE":
            palette = body
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        offset += 12 + length
    if header is None or len(header) != 13:
        raise _ImageError("missing IHDR chunk")
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    info: dict[str, Any] = {"width": width, "height": height, "bit_depth": depth}
    channels = _PNG_CHANNELS.get(colour_type)
    if channels is None:
        raise _ImageError(f"invalid colour type {colour_type}")
    if depth != 8 or interlace != 0:
        info["note"] = "colour analysis needs an 8-bit, non-interlaced PNG"
        return info
    if width * height > _MAX_ANALYSED_PIXELS:
        info["note"] = "image too large for colour analysis"
        return info
    if not idat:
        raise _ImageError("no IDAT chunk")
    pixels = _unfilter(b"".join(idat), width, height, channels)
    rgb = _sample_rgb(pixels, width * height, channels, colour_type, palette)
    colour, name = _dominant(rgb)
    info["dominant_color"] = colour
    info["color_name"] = name
    return info


def _unfilter(compressed: bytes, width: int, height: int, bpp: int) -> bytes:
    stride = width * bpp
    expected = (stride + 1) * height
    inflater = zlib.decompressobj()
    # Bounded, so a decompression bomb cannot allocate more than the image can hold.
    raw = inflater.decompress(compressed, expected)
    if len(raw) < expected:
        raise _ImageError(f"image data too short ({len(raw)} of {expected} bytes)")
    out = bytearray(stride * height)
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + previous[i]) & 0xFF
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = previous[i]
                c = previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        elif kind != 0:
            raise _ImageError(f"unknown filter type {kind} on row {y}")
        out[y * stride : (y + 1) * stride] = line
        previous = line
    return bytes(out)


def _sample_rgb(
    pixels: bytes, count: int, channels: int, colour_type: int, palette: bytes
) -> list[_RGB]:
    step = max(1, count // _COLOUR_SAMPLES)
    samples: list[_RGB] = []
    for index in range(0, count, step):
        at = index * channels
        if colour_type == 3:
            entry = pixels[at] * 3
            if entry + 3 > len(palette):
                raise _ImageError("palette index out of range")
            r, g, b = palette[entry], palette[entry + 1], palette[entry + 2]
        elif channels <= 2:  # gray, gray + alpha
            r = g = b = pixels[at]
        else:
            r, g, b = pixels[at], pixels[at + 1], pixels[at + 2]
        samples.append((r, g, b))
    return samples


def _dominant(samples: Sequence[_RGB]) -> tuple[str, str]:
    """The most common palette name among the samples, and the mean colour of those samples."""
    groups: dict[str, list[_RGB]] = {}
    # Pictures repeat colours; naming each distinct colour once keeps this linear and fast.
    names: dict[_RGB, str] = {}
    for rgb in samples:
        name = names.get(rgb)
        if name is None:
            name = names[rgb] = _nearest_colour(rgb)
        groups.setdefault(name, []).append(rgb)
    name = max(groups, key=lambda n: len(groups[n]))
    members = groups[name]
    mean = [round(sum(c[i] for c in members) / len(members)) for i in range(3)]
    return "#{:02x}{:02x}{:02x}".format(*mean), name


# --------------------------------------------------------------------------------------------
# Data URLs
# --------------------------------------------------------------------------------------------


def decode_data_url(url: str) -> tuple[str, bytes]:
    """Decode a `data:` URL such as `data:image/png;base64,iVBORw0...`.

    Args:
        url: The URL.

    Returns:
        The mime type (`"text/plain"` when the URL names none) and the decoded bytes.

    Raises:
        ValueError: If `url` is not a data URL, has no comma, or its base64 is invalid.
    """
    if not url.startswith("data:"):
        shown = url[:40] + ("..." if len(url) > 40 else "")
        raise ValueError(f"not a data URL (expected 'data:<mime>;base64,<data>', got {shown!r})")
    meta, comma, payload = url[5:].partition(",")
    if not comma:
        raise ValueError("malformed data URL: no ',' between the media type and the data")
    params = [p.strip() for p in meta.split(";")]
    mime = params[0].lower() or "text/plain"
    if "/" not in mime:
        raise ValueError(f"malformed data URL: {mime!r} is not a media type like 'image/png'")
    if "base64" not in (p.lower() for p in params[1:]):
        return mime, unquote_to_bytes(payload)
    try:
        return mime, base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"malformed data URL: invalid base64 data ({exc})") from exc
