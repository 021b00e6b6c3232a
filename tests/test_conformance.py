"""Every recorded exchange in shared/conformance replays through the client.

Each file gets its own test: it parses, a stream assembles to what the recording holds (cut
into 1-byte, 13-byte and whole reads), and an error becomes the right exception class.
Expectations are read from the recording directly, not through the client's code.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from agentkit._http import ReplayTransport
from agentkit.client import GrokClient
from agentkit.errors import (
    APIStatusError,
    APIStreamError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
)
from agentkit.types import ChatCompletion
from tests.shared import conformance_files, conformance_params

pytestmark = pytest.mark.usefixtures("shared_corpus")

FILES = conformance_files()
ERROR_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError, 401: AuthenticationError, 404: NotFoundError, 429: RateLimitError,
}


def test_the_corpus_is_there() -> None:
    assert len(FILES) == 97, "shared/conformance should hold 97 recordings"


def _raw_events(sse: str) -> list[dict[str, Any]]:
    events = []
    for line in sse.splitlines():
        if line.startswith("data:") and line[5:].strip() != "[DONE]":
            events.append(json.loads(line[5:]))
    return events


def _expected_from_stream(sse: str) -> dict[str, Any]:
    text, reasoning, ids, names, fragments = [], [], [], [], []
    usage = None
    for event in _raw_events(sse):
        if event.get("usage"):
            usage = event["usage"]
        for choice in event.get("choices") or []:
            delta = choice.get("delta") or {}
            text.append(delta.get("content") or "")
            reasoning.append(delta.get("reasoning_content") or delta.get("reasoning") or "")
            for call in delta.get("tool_calls") or []:
                if call.get("id") and call["id"] not in ids:
                    ids.append(call["id"])
                function = call.get("function") or {}
                if function.get("name") and call.get("id"):
                    names.append(function["name"])
                fragments.append(function.get("arguments") or "")
    return {
        "text": "".join(text), "reasoning": "".join(reasoning), "ids": ids, "names": names,
        "arguments": "".join(fragments), "usage": usage,
    }


def _expected_from_json(body: dict[str, Any]) -> dict[str, Any]:
    message = body["choices"][0]["message"]
    calls = message.get("tool_calls") or []
    return {
        "text": message.get("content") or "",
        "reasoning": message.get("reasoning_content") or message.get("reasoning") or "",
        "ids": [c["id"] for c in calls],
        "names": [c["function"]["name"] for c in calls],
        "arguments": "".join(c["function"]["arguments"] for c in calls),
        "usage": body.get("usage"),
    }


def _check(completion: ChatCompletion, expected: dict[str, Any]) -> None:
    message = completion.message
    assert (message.content or "") == expected["text"]
    assert (message.reasoning_text or "") == expected["reasoning"]
    calls = message.tool_calls or []
    assert [c.id for c in calls] == expected["ids"]
    assert [c.function.name for c in calls] == expected["names"]
    assert "".join(c.function.arguments for c in calls) == expected["arguments"]
    for call in calls:  # every assembled call carries complete JSON arguments
        json.loads(call.function.arguments or "{}")
    if expected["usage"] is None:
        assert completion.usage is None
    else:
        assert completion.usage is not None
        assert completion.usage.total_tokens == expected["usage"]["total_tokens"]
        assert completion.usage.prompt_tokens == expected["usage"]["prompt_tokens"]


Replay = Callable[[Path, int | None], Awaitable[ChatCompletion]]
"""Sends a recording's request and returns the answer, its stream cut into reads of the size
given (None: one read); `_replay` here, and over loopback in test_aiohttp_transport.py."""


async def ask(client: GrokClient, path: Path) -> ChatCompletion:
    """The recording's request through `client`: its completion (a stream's, assembled)."""
    request = json.loads(path.read_text())["request"]["json"]
    messages = request.get("messages") or [{"role": "user", "content": "hi"}]
    with anyio.fail_after(5):
        if request.get("stream"):
            stream = await client.chat.completions.create(
                model=request["model"], messages=messages, stream=True
            )
            return await stream.final()
        return await client.chat.completions.create(model=request["model"], messages=messages)


async def _replay(path: Path, chunk_size: int | None) -> ChatCompletion:
    transport = ReplayTransport(path, chunk_size=chunk_size)
    async with GrokClient("test-key", base_url="http://replay.test/v1", transport=transport,
                          max_retries=0) as client:
        return await ask(client, path)


async def check_recording(path: Path, replay: Replay) -> None:
    """`replay` gives what the recording holds, or raises the class its error status maps to."""
    recording = json.loads(path.read_text())
    response = recording["response"]
    is_stream = "sse" in response
    chunk_sizes: list[int | None] = [None, 1, 13] if is_stream else [None]
    for chunk_size in chunk_sizes:
        if response["status"] >= 400:
            with pytest.raises(ERROR_CLASSES[response["status"]]) as caught:
                await replay(path, chunk_size)
            assert caught.value.status_code == response["status"]
            assert str(response["status"]) in str(caught.value)
        elif "error" in recording.get("tags", []):
            with pytest.raises(APIStreamError) as stream_error:
                await replay(path, chunk_size)
            assert stream_error.value.status_code == 400
        else:
            completion = await replay(path, chunk_size)
            expected = (_expected_from_stream(response["sse"]) if is_stream
                        else _expected_from_json(response["json"]))
            _check(completion, expected)


@pytest.mark.anyio
@pytest.mark.parametrize("path", conformance_params(FILES))
async def test_recording_replays(path: Path) -> None:
    await check_recording(path, _replay)
