"""The simulator's text media: a tokenizer and text embeddings.

Pure and stdlib only. Everything is deterministic, so a test can pin exact values: the same
text always gives the same tokens and vectors. Nothing here pretends to be a real model; each
function computes something that can really be computed.

The image functions (`render_png`, `inspect_image`, `decode_data_url`) live in `_images` and
are re-exported here, where the simulator imports them.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ._images import decode_data_url, inspect_image, render_png

__all__ = [
    "IMAGE_TOKENS",
    "count_message_tokens",
    "count_tokens",
    "decode_data_url",
    "embed",
    "inspect_image",
    "render_png",
    "tokenize",
]

# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------

# GPT-2's pre-tokenizer, spelled with `re`: contractions, a word or a number or a punctuation
# run with its leading space, then whitespace (the last space of a run goes to the next word).
# `[^\W\d_]` is a Unicode letter; `_` is punctuation here, as it is for GPT tokenizers.
_PIECE = re.compile(r"'(?:s|t|re|ve|m|ll|d)\b| ?[^\W\d_]+| ?\d{1,3}| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+")

# Real BPE vocabularies keep common short words whole and cut rare long ones; a fixed chunk
# size is the cheapest rule with the same effect on counts.
_WHOLE_MAX = 6
_CHUNK = 4

# Ids below the offset stay free for special tokens, as in real vocabularies.
_ID_OFFSET = 1000
_ID_RANGE = 100_000

IMAGE_TOKENS: Mapping[str, int] = {"low": 256, "auto": 768, "high": 1792}
"""Prompt tokens charged per image part, by its `detail` (xAI bills 256-1792 per image)."""

# What every message costs beyond its text (role and separators), and what priming the
# assistant's answer costs, as in OpenAI's published counting recipe.
_MESSAGE_OVERHEAD = 4
_REPLY_PRIMING = 3


def _pieces(text: str) -> Iterator[str]:
    for match in _PIECE.finditer(text):
        piece = match.group()
        if len(piece) <= _WHOLE_MAX:
            yield piece
        else:
            for start in range(0, len(piece), _CHUNK):
                yield piece[start : start + _CHUNK]


def _token_id(piece: str) -> int:
    return zlib.crc32(piece.encode("utf-8")) % _ID_RANGE + _ID_OFFSET


def tokenize(text: str) -> list[tuple[int, str, bytes]]:
    """Split `text` into tokens, each `(token_id, string, utf-8 bytes)`.

    The strings joined give back `text` exactly; ids are a stable hash of the string, so one
    piece always has the same id.

    Args:
        text: Any text.

    Returns:
        The tokens in order.
    """
    return [(_token_id(p), p, p.encode("utf-8")) for p in _pieces(text)]


def count_tokens(text: str) -> int:
    """Count the tokens of `text`: always `len(tokenize(text))`, without building them.

    Args:
        text: Any text.

    Returns:
        The number of tokens.
    """
    total = 0
    for piece in _PIECE.findall(text):
        size = len(piece)
        total += 1 if size <= _WHOLE_MAX else -(-size // _CHUNK)
    return total


def count_message_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """Count the prompt tokens of chat messages.

    Counts text contents (a string or text parts), names, tool call names and arguments,
    reasoning content, a fixed overhead per message and a cost per image part that depends on
    its `detail` (`IMAGE_TOKENS`). Anything unexpected (a number, a part of unknown type) is
    counted by its text, so a malformed request still gets a usage count.

    Args:
        messages: The `messages` of a chat-completion request.

    Returns:
        The number of prompt tokens, including the priming of the reply.
    """
    total = _REPLY_PRIMING
    for item in messages:
        total += _MESSAGE_OVERHEAD
        # Typed as mappings, but a malformed request must still get a count, not a crash.
        message: Any = item
        if not isinstance(message, Mapping):
            total += count_tokens(str(message))
            continue
        total += _content_tokens(message.get("content"))
        for key in ("name", "reasoning_content"):
            value = message.get(key)
            if isinstance(value, str):
                total += count_tokens(value)
        calls = message.get("tool_calls")
        if isinstance(calls, Sequence) and not isinstance(calls, str):
            for call in calls:
                function = call.get("function") if isinstance(call, Mapping) else None
                if isinstance(function, Mapping):
                    total += count_tokens(str(function.get("name", "")))
                    total += count_tokens(str(function.get("arguments", "")))
    return total


def _content_tokens(content: Any) -> int:
    if content is None:
        return 0
    if isinstance(content, str):
        return count_tokens(content)
    if not isinstance(content, Sequence):
        return count_tokens(str(content))
    total = 0
    for part in content:
        if isinstance(part, str):
            total += count_tokens(part)
        elif isinstance(part, Mapping) and part.get("type") in ("image_url", "input_image"):
            image = part.get("image_url")
            detail = image.get("detail", "auto") if isinstance(image, Mapping) else "auto"
            total += IMAGE_TOKENS.get(str(detail), IMAGE_TOKENS["auto"])
        elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
            total += count_tokens(part["text"])
        else:
            total += count_tokens(str(part))
    return total


# --------------------------------------------------------------------------------------------
# Embeddings
# --------------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")

# Without these, "rain in Paris" would be as close to any text with "in" as to one about rain.
_STOPWORDS = frozenset(
    """
    a an and are as at be but by do does for from has have how i in is it its me my of on or
    our so than that the their them then there these they this to was we were what when
    where which who why will with you your
    """.split()  # noqa: SIM905 - a word list reads better as prose
)

# Whole words carry the meaning; 3-grams make "forecast" and "forecasting" close as well.
_WORD_WEIGHT = 1.0
_TRIGRAM_WEIGHT = 0.35


def _embed_stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def embed(text: str, dimensions: int = 256) -> list[float]:
    """Embed `text` as a deterministic, L2-normalised vector.

    Features are lower-cased words (minus stopwords, plurals folded) and the character 3-grams
    of each word, hashed into `dimensions` buckets with a hashed sign, so texts that share words
    have a higher dot product. A text without words embeds as the first unit vector.

    Args:
        text: The text to embed.
        dimensions: The vector length (at least 1).

    Returns:
        `dimensions` floats whose squares sum to 1.

    Raises:
        ValueError: If `dimensions` is below 1.
    """
    if dimensions < 1:
        raise ValueError(f"dimensions must be at least 1, got {dimensions}")
    vector = [0.0] * dimensions
    for raw in _WORD.findall(text.lower()):
        if raw in _STOPWORDS:
            continue
        word = _embed_stem(raw)
        _add_feature(vector, "w:" + word, _WORD_WEIGHT)
        padded = f"#{word}#"
        grams = [padded[i : i + 3] for i in range(len(padded) - 2)]
        # Long words must not outweigh the word itself through their many 3-grams.
        weight = _TRIGRAM_WEIGHT / math.sqrt(len(grams))
        for gram in grams:
            _add_feature(vector, "g:" + gram, weight)
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:
        vector[0] = 1.0
        return vector
    return [v / norm for v in vector]


def _add_feature(vector: list[float], feature: str, weight: float) -> None:
    digest = zlib.crc32(feature.encode("utf-8"))
    sign = 1.0 if digest & 0x80000000 else -1.0
    vector[digest % len(vector)] += sign * weight
