"""The simulator's media: tokenizer, embeddings, PNG drawing, image inspection, data URLs."""

from __future__ import annotations

import base64
import math
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit.sim.media import (
    IMAGE_TOKENS,
    count_message_tokens,
    count_tokens,
    decode_data_url,
    embed,
    inspect_image,
    render_png,
    tokenize,
)

# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------


def test_tokens_are_words_with_their_leading_space() -> None:
    assert [t[1] for t in tokenize("Hello, world!")] == ["Hello", ",", " world", "!"]
    assert tokenize("Hello")[0] == (zlib.crc32(b"Hello") % 100_000 + 1000, "Hello", b"Hello")


def test_long_words_are_cut_into_chunks() -> None:
    assert [t[1] for t in tokenize(" internationalization")] == [
        " int", "erna", "tion", "aliz", "atio", "n"]
    assert [t[1] for t in tokenize("don't  stop 12345")] == ["don", "'t", " ", " stop", " 123", "45"]


def test_token_bytes_are_utf8() -> None:
    ((_, text, raw),) = tokenize(" café")
    assert text == " café" and raw == " café".encode()


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_tokens_join_back_and_count_matches(text: str) -> None:
    tokens = tokenize(text)
    assert "".join(t[1] for t in tokens) == text
    assert all(t[2] == t[1].encode("utf-8") for t in tokens)
    assert all(1000 <= t[0] < 101_000 for t in tokens)
    assert count_tokens(text) == len(tokens)
    assert tokenize(text) == tokens


def test_message_tokens_count_text_tools_and_images() -> None:
    hello = count_tokens("Hello")
    assert count_message_tokens([]) == 3
    assert count_message_tokens([{"role": "user", "content": "Hello"}]) == 3 + 4 + hello
    parts = [{"type": "text", "text": "Hello"},
             {"type": "image_url", "image_url": {"url": "data:...", "detail": "high"}},
             {"type": "image_url", "image_url": {"url": "data:..."}}]
    assert count_message_tokens([{"role": "user", "content": parts}]) == (
        3 + 4 + hello + IMAGE_TOKENS["high"] + IMAGE_TOKENS["auto"])
    call = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "get_weather",
                                                     "arguments": '{"city":"Paris"}'}}]}
    assert count_message_tokens([call]) == (
        3 + 4 + count_tokens("get_weather") + count_tokens('{"city":"Paris"}'))


def test_message_tokens_survive_malformed_messages() -> None:
    assert count_message_tokens([{"content": 42}, "odd", {"content": [None, 3]}]) > 0  # type: ignore[list-item]


# --------------------------------------------------------------------------------------------
# Embeddings
# --------------------------------------------------------------------------------------------


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_embeddings_are_unit_vectors_of_the_asked_size() -> None:
    for dimensions in (1, 8, 256, 1024):
        vector = embed("The quick brown fox", dimensions)
        assert len(vector) == dimensions
        assert math.isclose(sum(v * v for v in vector), 1.0)
    assert embed("same text") == embed("same text")
    assert embed("") == [1.0] + [0.0] * 255


def test_embeddings_rank_related_text_first() -> None:
    passages = [
        "SQL joins combine rows from two or more tables based on a related column.",
        "Paris weather forecast: heavy rain expected tomorrow, clearing on Sunday.",
        "The Louvre in Paris is the world's most visited museum.",
    ]
    query = embed("rain in Paris")
    ranked = sorted(passages, key=lambda p: cosine(query, embed(p)), reverse=True)
    assert ranked == [passages[1], passages[2], passages[0]]


def test_plurals_and_case_do_not_matter_much() -> None:
    assert cosine(embed("Forecasts"), embed("forecast")) > 0.9
    assert cosine(embed("forecast"), embed("database")) < 0.3


def test_embedding_dimensions_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        embed("x", 0)


# --------------------------------------------------------------------------------------------
# PNG drawing
# --------------------------------------------------------------------------------------------


def read_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """Split a PNG into chunks, checking every CRC."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks = []
    offset = 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        body = png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks.append((kind, body))
        offset += 12 + length
    return chunks


def test_render_png_is_a_valid_png() -> None:
    png = render_png("a red sunset over the blue sea", 120, 80)
    chunks = read_chunks(png)
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    assert struct.unpack(">IIBBBBB", chunks[0][1]) == (120, 80, 8, 2, 0, 0, 0)
    raw = zlib.decompress(chunks[1][1])
    assert len(raw) == (120 * 3 + 1) * 80
    assert all(raw[row * (120 * 3 + 1)] == 0 for row in range(80))


def test_render_png_is_deterministic_and_depends_on_the_prompt() -> None:
    assert render_png("a cat") == render_png("a cat")
    assert render_png("a cat") != render_png("a dog")
    assert render_png("a cat", 10, 10) != render_png("a cat", 11, 10)


@pytest.mark.parametrize(
    ("prompt", "colour"),
    [("a red square", "red"), ("the deep blue ocean", "blue"), ("a forest at dawn", "green"),
     ("sunset over the sea", "orange"), ("fresh snow", "white"), ("a purple rain", "purple")],
)
def test_the_first_colour_word_dominates(prompt: str, colour: str) -> None:
    assert inspect_image(render_png(prompt))["color_name"] == colour


@pytest.mark.parametrize(("width", "height"), [(0, 10), (10, 0), (5000, 10), (10, -1)])
def test_render_png_rejects_bad_sizes(width: int, height: int) -> None:
    with pytest.raises(ValueError, match="must be between 1 and 4096"):
        render_png("x", width, height)


def test_a_one_pixel_png() -> None:
    info = inspect_image(render_png("green", 1, 1))
    assert (info["width"], info["height"]) == (1, 1)


# --------------------------------------------------------------------------------------------
# Image inspection
# --------------------------------------------------------------------------------------------


def paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def encode_png(rows: list[bytes], width: int, colour_type: int, bpp: int,
               filters: list[int], extra: list[tuple[bytes, bytes]] = ()) -> bytes:  # type: ignore[assignment]
    """A PNG whose rows use the given filter types (an independent encoder for the test)."""
    raw = bytearray()
    previous = bytes(len(rows[0]))
    for row, kind in zip(rows, filters, strict=True):
        out = bytearray()
        for i, value in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            predictor = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
            out.append((value - predictor) & 0xFF)
        raw += bytes([kind]) + out
        previous = row

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, len(rows), 8, colour_type, 0, 0, 0)
    body = b"".join(chunk(k, b) for k, b in extra)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + body
            + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b""))


def gradient_rows(width: int, height: int, base: tuple[int, int, int], alpha: bool) -> list[bytes]:
    rows = []
    for y in range(height):
        row = bytearray()
        for x in range(width):
            row += bytes(((base[0] + x) % 256, (base[1] + y) % 256, base[2]))
            if alpha:
                row.append(255)
        rows.append(bytes(row))
    return rows


@pytest.mark.parametrize("alpha", [False, True])
def test_all_five_filter_types_decode(alpha: bool) -> None:
    rows = gradient_rows(12, 10, (40, 90, 210), alpha)
    png = encode_png(rows, 12, 6 if alpha else 2, 4 if alpha else 3, [0, 1, 2, 3, 4, 4, 3, 2, 1, 0])
    info = inspect_image(png)
    assert info["format"] == "png" and info["mime_type"] == "image/png"
    assert (info["width"], info["height"], info["size_bytes"]) == (12, 10, len(png))
    assert info["color_name"] == "blue"
    # The mean of the 120 pixels: r = 40 + 5.5 -> 46 (0x2e), g = 90 + 4.5 -> 94 (0x5e), b = 210.
    assert info["dominant_color"] == "#2e5ed2"


def test_grayscale_and_palette_pngs() -> None:
    gray = encode_png([bytes([240] * 4)] * 3, 4, 0, 1, [1, 2, 4])
    assert inspect_image(gray)["color_name"] == "white"
    palette = [(b"PLTE", bytes([210, 40, 40, 0, 0, 0]))]
    indexed = encode_png([bytes([0, 0, 0, 1])] * 2, 4, 3, 1, [0, 3], palette)
    info = inspect_image(indexed)
    assert (info["color_name"], info["dominant_color"]) == ("red", "#d22828")


def test_jpeg_gif_webp_and_bmp_sizes() -> None:
    jpeg = (b"\xff\xd8\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + bytes(9)
            + b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 480, 640, 3) + bytes(9) + b"\xff\xd9")
    assert inspect_image(jpeg) == {"format": "jpeg", "mime_type": "image/jpeg",
                                   "size_bytes": len(jpeg), "width": 640, "height": 480}
    gif = b"GIF89a" + struct.pack("<HH", 320, 200) + bytes(10)
    assert (inspect_image(gif)["width"], inspect_image(gif)["height"]) == (320, 200)
    vp8 = b"RIFF" + bytes(4) + b"WEBPVP8 " + bytes(7) + b"\x9d\x01\x2a" + struct.pack("<HH", 100, 50)
    assert (inspect_image(vp8)["width"], inspect_image(vp8)["height"]) == (100, 50)
    bits = (99) | (49 << 14)
    vp8l = b"RIFF" + bytes(4) + b"WEBPVP8L" + bytes(4) + b"\x2f" + bits.to_bytes(4, "little")
    assert (inspect_image(vp8l)["width"], inspect_image(vp8l)["height"]) == (100, 50)
    vp8x = b"RIFF" + bytes(4) + b"WEBPVP8X" + bytes(8) + (99).to_bytes(3, "little") + (49).to_bytes(3, "little")
    assert (inspect_image(vp8x)["width"], inspect_image(vp8x)["height"]) == (100, 50)
    bmp = b"BM" + bytes(16) + struct.pack("<ii", 64, -32) + bytes(30)
    assert (inspect_image(bmp)["format"], inspect_image(bmp)["width"], inspect_image(bmp)["height"]) == ("bmp", 64, 32)


def test_corrupt_data_is_reported_not_raised() -> None:
    png = render_png("red", 8, 8)
    assert inspect_image(b"not an image") == {
        "format": "unknown", "size_bytes": 12, "mime_type": "application/octet-stream",
        "error": "not a PNG, JPEG, GIF, WebP or BMP image (unknown magic bytes)"}
    truncated = inspect_image(png[:30])
    assert truncated["format"] == "png" and "truncated" in truncated["error"]
    flipped = bytearray(png)
    flipped[20] ^= 0xFF
    assert "bad CRC in the IHDR chunk" in inspect_image(bytes(flipped))["error"]
    assert "error" in inspect_image(b"\xff\xd8\xff\x00")
    assert "error" in inspect_image(b"GIF89a")


@given(st.binary(max_size=200))
@settings(max_examples=300, deadline=None)
def test_inspect_image_never_raises(data: bytes) -> None:
    for candidate in (data, b"\x89PNG\r\n\x1a\n" + data, b"\xff\xd8\xff" + data,
                      b"RIFF" + data[:4] + b"WEBP" + data[4:], render_png("x", 4, 4)[:33] + data):
        info = inspect_image(candidate)
        assert info["size_bytes"] == len(candidate)


# --------------------------------------------------------------------------------------------
# Data URLs
# --------------------------------------------------------------------------------------------


def test_decode_data_url() -> None:
    png = render_png("x", 2, 2)
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    assert decode_data_url(url) == ("image/png", png)
    assert decode_data_url("data:,Hello%20World") == ("text/plain", b"Hello World")
    assert decode_data_url("data:IMAGE/JPEG;name=a.jpg;base64,AAEC") == ("image/jpeg", b"\x00\x01\x02")


@pytest.mark.parametrize(
    ("url", "message"),
    [("https://example.com/a.png", "not a data URL"),
     ("data:image/png;base64", "no ','"),
     ("data:image/png;base64,@@@", "invalid base64"),
     ("data:png;base64,AAAA", "not a media type")],
)
def test_decode_data_url_errors(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_data_url(url)
