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
from ._kinds import parameter_kind
from ._prose import (
    failure_sentence,
    join_names,
    record_sentence,
    records_sentence,
    show_value,
    table_sentence,
    value_sentence,
)
from ._sources import pick_record
from ._words import split_words
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
    """A text answer built from tool results: a short sentence for each (`_prose`).

    A list of records is narrowed to the record the question names (`pick_record`). When
    every result is a failure, the answer says what went wrong rather than answering.
    """
    if not results:
        return "There are no results to report."
    if len(results) > 1 and all(r.failed for r in results):
        lines = [_failure_line(r) for r in results]
        return "I couldn't get an answer:\n" + "\n".join(f"- {line}" for line in dict.fromkeys(lines))
    sentences = list(dict.fromkeys(_result_sentence(r, ev) for r in results))
    if len(sentences) == 1:
        return sentences[0]
    if len(sentences) <= 3 and sum(len(s) for s in sentences) <= 500:
        return " ".join(sentences)
    return "\n".join(f"- {s}" for s in sentences)


def _failure_line(result: Result) -> str:
    arguments = result.arguments if isinstance(result.arguments, Mapping) else {}
    subject = _subject_of(arguments)
    reason = " ".join(result.content.split()).removeprefix("Error:").strip()
    return f"{subject}: {reason}" if subject else reason


def _result_sentence(result: Result, ev: Evidence) -> str:
    arguments = result.arguments if isinstance(result.arguments, Mapping) else {}
    if result.failed:
        return failure_sentence(result.content, arguments)
    data = pick_record(result.data, ev)
    if isinstance(data, Mapping) and isinstance(data.get("rows"), list | Mapping):
        # Rows of a query (narrowed to one record, if the question names it).
        rows = data["rows"]
        sql = next((v for v in arguments.values() if isinstance(v, str)
                    and v.lstrip().lower().startswith(("select", "with"))), "")  # fmt: skip
        return table_sentence(sql, {**data, "rows": [rows] if isinstance(rows, Mapping) else rows})
    if isinstance(data, Mapping):
        lists = [v for v in data.values() if _records(v)]
        if len(lists) == 1 and len(data) <= 3:
            return records_sentence(lists[0], _noun(result.name), ev)
        if not data:
            return f"{_cap(_noun(result.name)) or 'The result'} is empty."
        return record_sentence(data, _subject_of(arguments))
    if _records(data):
        if len(data) == 1:
            return record_sentence(data[0])
        return records_sentence(data, _noun(result.name), ev)
    if isinstance(data, list):
        if not data:
            noun = _noun(result.name)
            return f"I found no {noun}." if noun else "The result is an empty list."
        return f"Found {len(data)}: {show_value(data)}."
    if isinstance(data, str) and len(data) > _MAX_TEXT:
        strings = [v for v in arguments.values() if isinstance(v, str) and v.strip()]
        head = f"{strings[0]}: " if strings else ""
        return head + shorten(data, _MAX_TEXT)
    expression = next(
        (v for k, v in arguments.items()
         if isinstance(v, str) and parameter_kind(str(k), {}) == "expression"),
        None,
    )  # fmt: skip
    return value_sentence(data, arguments, expression)


def _subject_of(arguments: Mapping[str, Any]) -> str:
    """What a call asked about: its first short string argument ("Paris")."""
    return next((v for v in arguments.values() if isinstance(v, str) and 0 < len(v) <= 60), "")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


_VERBS = frozenset(
    ["get", "list", "fetch", "search", "find", "show", "read", "run", "lookup", "look", "query", "retrieve", "load", "describe", "check", "compute", "calculate"]
)


def _noun(tool: str) -> str:
    """What a tool returns, from its name: `list_tables` -> "tables"."""
    words = [w.lower() for w in split_words(tool) if w.lower() not in _VERBS]
    return " ".join(words)


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
    tools = [t.name for t in conv.tools if not t.is_final] if conv.tools_allowed else []
    if tools:
        shown = join_names([f"`{t}`" for t in tools[:6]], more=len(tools))
        body = (
            f"None of my tools ({shown}) can help with that, and as the offline simulated "
            "model I have no knowledge of my own to answer from."
        )
        why = "None of the offered tools fits the question, so I say so."
    else:
        body = (
            "I'm the offline simulated model: with no tool to look this up, I can only note "
            f"its key terms: {', '.join(keywords)}."
            if keywords
            else "I'm the offline simulated model, and there is nothing here to look up."
        )
        why = "No tool is needed or offered; I answer directly."
    return f"You asked: {asked}\n{body}", why


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
    infos = image_infos(conv)
    lines = []
    for number, (url, info, problem) in enumerate(infos, start=1):
        if info is None:
            lines.append(f"Image {number} ({shorten(url, 60)}) {problem}.")
        elif len(infos) == 1 and info.get("format") != "unknown":
            lines.append(f"It is {_describe_image(info)}")
        else:
            lines.append(f"Image {number}: {_describe_image(info)}")
    why = "I read the attached images' headers and pixels and describe what they contain."
    return "\n".join(lines), why


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
