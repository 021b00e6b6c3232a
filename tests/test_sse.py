"""The SSE decoder: line endings, comments, fields, and any split of the same bytes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit._sse import ServerSentEvent, SSEDecoder


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.flush())
    return events


def test_data_lines_dispatch_on_blank_line() -> None:
    assert decode(b'data: {"a":1}\n\ndata: [DONE]\n\n') == [
        ServerSentEvent('{"a":1}'),
        ServerSentEvent("[DONE]"),
    ]


def test_crlf_and_cr_line_endings() -> None:
    assert decode(b"data: one\r\n\r\ndata: two\r\rdata: three\n\n") == [
        ServerSentEvent("one"), ServerSentEvent("two"), ServerSentEvent("three"),
    ]


def test_crlf_split_across_reads_is_one_line_ending() -> None:
    assert decode(b"data: one\r", b"\n\r", b"\ndata: two\r\n\r\n") == [
        ServerSentEvent("one"), ServerSentEvent("two"),
    ]


def test_comments_are_ignored() -> None:
    body = b": OPENROUTER PROCESSING\n\n: keep-alive\ndata: x\n\n"
    assert decode(body) == [ServerSentEvent("x")]


def test_event_id_and_retry_fields() -> None:
    [event] = decode(b"event: error\nid: 7\nretry: 1500\ndata: {}\n\n")
    assert (event.event, event.id, event.retry, event.data) == ("error", "7", 1500, "{}")


def test_event_name_resets_after_dispatch() -> None:
    events = decode(b"event: error\ndata: a\n\ndata: b\n\n")
    assert [e.event for e in events] == ["error", "message"]


def test_multiple_data_lines_join_with_newline() -> None:
    assert decode(b"data: a\ndata: b\ndata:c\n\n") == [ServerSentEvent("a\nb\nc")]


def test_value_without_space_and_field_without_colon() -> None:
    assert decode(b"data:x\ndata\n\n") == [ServerSentEvent("x\n")]


def test_blank_lines_without_data_dispatch_nothing() -> None:
    assert decode(b"\n\n\n: c\n\n") == []


def test_unknown_fields_are_ignored_and_bad_retry_too() -> None:
    [event] = decode(b"foo: bar\nretry: soon\ndata: z\n\n")
    assert event == ServerSentEvent("z")


def test_missing_final_blank_line_still_delivers_the_event() -> None:
    assert decode(b"data: one\n\ndata: two") == [ServerSentEvent("one"), ServerSentEvent("two")]
    assert decode(b"data: one\n\ndata: two\n") == [ServerSentEvent("one"), ServerSentEvent("two")]


def test_multibyte_utf8_split_between_reads() -> None:
    body = "data: Olá 😊\n\n".encode()
    cut = body.index("😊".encode()) + 2
    assert decode(body[:cut], body[cut:]) == [ServerSentEvent("Olá 😊")]


def test_invalid_utf8_is_replaced_not_raised() -> None:
    [event] = decode(b"data: \xff\xfe ok\n\n")
    assert event.data.endswith(" ok") and "\ufffd" in event.data


def test_one_byte_at_a_time() -> None:
    body = b"data: a\r\n\r\n: comment\n\nevent: e\ndata: b\n\n"
    assert decode(*[body[i : i + 1] for i in range(len(body))]) == decode(body)


_line = st.one_of(
    st.builds(lambda s: b"data: " + s.encode(), st.text(max_size=12).filter(lambda s: "\n" not in s and "\r" not in s)),
    st.sampled_from([b": keep-alive", b"event: error", b"id: 3", b"retry: 10", b"data: [DONE]"]),
)
_ending = st.sampled_from([b"\n", b"\r\n", b"\r"])


@st.composite
def _stream_and_cuts(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    parts: list[bytes] = []
    for line, ending, blank in draw(st.lists(st.tuples(_line, _ending, st.booleans()), max_size=12)):
        parts.append(line + ending + (ending if blank else b""))
    body = b"".join(parts)
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=8)))
    return body, cuts


@settings(max_examples=300, deadline=None)
@given(_stream_and_cuts())
def test_any_split_of_the_same_bytes_gives_the_same_events(case: tuple[bytes, list[int]]) -> None:
    body, cuts = case
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    assert decode(*pieces) == decode(body)
