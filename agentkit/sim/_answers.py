"""Text answers: summaries of tool results, direct replies, and descriptions of images.

Pure and stdlib only (`media` reads image bytes without I/O). The policy decides when to
answer in text; this module writes the text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._arith import safe_eval
from ._conversation import Conversation, Result
from ._evidence import Evidence
from ._sources import pick_record
from .media import decode_data_url, inspect_image

__all__ = [
    "describe",
    "describe_images",
    "direct_answer",
    "image_infos",
    "image_sources",
    "shorten",
    "summarize",
]

_MAX_TEXT = 1000


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with "..." when longer."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def summarize(results: Sequence[Result], ev: Evidence) -> str:
    """A text answer built from tool results: one line per result.

    A list of records is narrowed to the record the question names (`pick_record`). When
    every result is a failure, the answer says so rather than answering from them.
    """
    if not results:
        return "There are no results to report."
    question = ev.text.strip()
    lines = [_describe_result(r, ev) for r in results]
    if all(r.failed for r in results):
        if len(lines) == 1:
            return f"I could not get an answer: {lines[0]}"
        return "I could not get an answer:\n" + "\n".join(f"- {line}" for line in lines)
    if len(lines) == 1:
        return f"Based on {lines[0]}"
    head = (
        f"Here is what I found for: {shorten(question, 80)}"
        if question
        else "Here is what I found:"
    )
    return head + "\n" + "\n".join(f"- {line}" for line in lines)


def _describe_result(result: Result, ev: Evidence) -> str:
    label = result.name
    if isinstance(result.arguments, Mapping) and result.arguments:
        shown = ", ".join(
            f"{k}: {shorten(describe(v), 40)}" for k, v in list(result.arguments.items())[:3]
        )
        label = f"{label} ({shown})"
    if result.failed:
        return f"{label} failed: {shorten(result.content, _MAX_TEXT)}"
    return f"{label}: {shorten(describe(pick_record(result.data, ev)), _MAX_TEXT)}"


def describe(value: Any, depth: int = 0) -> str:
    """A value as short prose: `key: value; ...`, lists in brackets, whole floats without .0."""
    if isinstance(value, Mapping):
        items = list(value.items())
        text = "; ".join(f"{k}: {describe(v, depth + 1)}" for k, v in items[:20])
        return f"({text})" if depth else text
    if isinstance(value, list):
        shown = ", ".join(describe(v, depth + 1) for v in value[:10])
        more = f" and {len(value) - 10} more" if len(value) > 10 else ""
        return f"[{shown}{more}]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def direct_answer(conv: Conversation) -> tuple[str, str]:
    """A plain reply to a message no tool serves, and why: arithmetic done, or the question echoed."""
    ev = conv.evidence
    question = conv.question
    if not question:
        return (
            "Hello! I am a simulated Grok model running offline. Ask me something.",
            "There is no question, so I greet the user.",
        )
    sums = []
    for expression in ev.expressions_in_order:
        value = safe_eval(expression)
        if value is not None:
            shown = describe(round(value, 10) if isinstance(value, float) else value)
            sums.append(f"{expression} = {shown}")
    if sums:
        return "\n".join(sums), f"The question is arithmetic: {'; '.join(sums)}."
    keywords = ev.keywords[:6]
    asked = shorten(question, 300)
    if keywords:
        body = (
            "Simulated answer: this offline model has nothing to look this up with, so it can "
            f"only note the key terms: {', '.join(keywords)}."
        )
    else:
        body = "Simulated answer: there is nothing to look up."
    return f"You asked: {asked}\n{body}", "No tool is needed or offered; I answer directly."


def image_infos(conv: Conversation) -> list[tuple[str, dict[str, Any] | None, str | None]]:
    """Each attached image: its URL, what its bytes say (None if unread), and why not."""
    infos: list[tuple[str, dict[str, Any] | None, str | None]] = []
    for url in conv.images:
        if not url.startswith("data:"):
            infos.append(
                (url, None, "is a remote URL; the offline simulator reads only data: URLs")
            )
            continue
        try:
            _, data = decode_data_url(url)
        except ValueError as exc:
            infos.append((url, None, f"could not be decoded: {exc}"))
            continue
        infos.append((url, inspect_image(data), None))
    return infos


def image_sources(conv: Conversation) -> list[tuple[str, Any]]:
    """The readable images, as sources for structured answers."""
    return [("image", info) for _, info, _ in image_infos(conv) if info is not None]


def describe_images(conv: Conversation) -> tuple[str, str]:
    """A description of the attached images, from their headers and pixels, and why."""
    lines = []
    for number, (url, info, problem) in enumerate(image_infos(conv), start=1):
        if info is None:
            lines.append(f"Image {number} ({shorten(url, 60)}) {problem}.")
        else:
            lines.append(f"Image {number}: {_describe_image(info)}")
    head = f"You asked: {shorten(conv.question, 200)}\n" if conv.question else ""
    why = "I read the attached images' headers and pixels and describe what they contain."
    return head + "\n".join(lines), why


def _describe_image(info: Mapping[str, Any]) -> str:
    kind = str(info.get("format", "unknown")).upper()
    if info.get("format") == "unknown":
        return f"not an image I can read ({info.get('size_bytes', 0)} bytes of unknown format)."
    size = (
        f"{info['width']}x{info['height']} pixels, "
        if info.get("width") is not None and info.get("height") is not None
        else ""
    )
    text = f"a {kind} image, {size}{info.get('size_bytes', 0)} bytes"
    if info.get("color_name"):
        text += f"; the dominant colour is {info['color_name']} ({info.get('dominant_color')})"
    elif info.get("error"):
        text += f"; {info['error']}"
    elif kind != "PNG":
        text += "; colours are only analysed for PNG images"
    return text + "."
