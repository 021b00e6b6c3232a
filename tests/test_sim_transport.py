"""SimTransport serves a SimCore to httpx2 in-process, keeping chunk boundaries and failures."""

from __future__ import annotations

from typing import Any

import anyio
import httpx2
import pytest

from agentkit.sim import SimCore, SimReply, SimTransport

BODY = {"model": "grok-4-fast-non-reasoning", "messages": [{"role": "user", "content": "hi"}]}
STREAM = {**BODY, "stream": True, "stream_options": {"include_usage": True}}


def answer(body: Any) -> SimReply:
    return SimReply(content="one two three four")


class FakeSleep:
    """Records the delays it was asked for, without waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def client(core: SimCore, sleep: FakeSleep | None = None) -> httpx2.AsyncClient:
    transport = SimTransport(core, sleep=sleep) if sleep else SimTransport(core)
    return httpx2.AsyncClient(transport=transport, base_url="https://api.x.ai")


@pytest.mark.anyio
async def test_plain_request() -> None:
    with anyio.fail_after(5):
        async with client(SimCore(answer)) as http:
            response = await http.post("/v1/chat/completions", json=BODY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["choices"][0]["message"]["content"] == "one two three four"


@pytest.mark.anyio
async def test_stream_yields_each_chunk_on_its_own() -> None:
    core = SimCore(answer)
    expected = core.handle("POST", "/v1/chat/completions", {"content-type": "application/json"},
                           httpx2.Request("POST", "/", json=STREAM).read())
    assert expected.events is not None
    with anyio.fail_after(5):
        async with client(SimCore(answer)) as http, http.stream(
            "POST", "/v1/chat/completions", json=STREAM
        ) as response:
            chunks = [chunk async for chunk in response.aiter_raw()]
    assert response.headers["content-type"] == "text/event-stream"
    assert len(chunks) == len(expected.events) > 5
    assert all(chunk.startswith(b"data: ") and chunk.endswith(b"\n\n") for chunk in chunks)
    assert chunks[-1] == b"data: [DONE]\n\n"


@pytest.mark.anyio
async def test_delays_go_through_the_injected_sleep() -> None:
    sleep = FakeSleep()
    core = SimCore(answer, chunk_delay=0.05)
    with anyio.fail_after(5):
        async with client(core, sleep) as http:
            response = await http.post(
                "/v1/chat/completions", json=STREAM, headers={"x-sim-fault": "slow;delay=0.3"}
            )
    assert response.status_code == 200
    assert sleep.delays[0] == 0.3
    assert sleep.delays[1:] and set(sleep.delays[1:]) == {0.05}


@pytest.mark.anyio
async def test_a_dropped_stream_fails_after_two_chunks() -> None:
    received: list[bytes] = []
    with anyio.fail_after(5):
        async with client(SimCore(answer)) as http, http.stream(
            "POST", "/v1/chat/completions", json=STREAM, headers={"x-sim-fault": "drop"}
        ) as response:
            assert response.status_code == 200
            chunks = response.aiter_raw()
            received.append(await anext(chunks))
            received.append(await anext(chunks))
            with pytest.raises(httpx2.RemoteProtocolError, match="incomplete chunked read"):
                await anext(chunks)
    assert all(chunk.startswith(b"data: ") for chunk in received)


@pytest.mark.anyio
async def test_a_dropped_plain_response_fails_before_any_byte() -> None:
    with anyio.fail_after(5):
        async with client(SimCore(answer)) as http:
            with pytest.raises(httpx2.RemoteProtocolError, match="without sending a response"):
                await http.post("/v1/chat/completions", json=BODY, headers={"x-sim-fault": "drop"})


@pytest.mark.anyio
async def test_errors_arrive_as_responses() -> None:
    with anyio.fail_after(5):
        async with client(SimCore(answer, api_key="xai-secret")) as http:
            response = await http.post(
                "/v1/chat/completions", json=BODY, headers={"authorization": "Bearer xai-nopenope"}
            )
    assert response.status_code == 400
    assert response.json()["error"].startswith("Incorrect API key provided: xa***pe.")


@pytest.mark.anyio
async def test_query_strings_are_ignored_and_images_download() -> None:
    with anyio.fail_after(5):
        async with client(SimCore(answer)) as http:
            listing = await http.get("/v1/models?limit=5")
            made = await http.post("/v1/images/generations", json={"prompt": "sunset"})
            image = await http.get(made.json()["data"][0]["url"])
    assert listing.status_code == 200
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")


def test_a_default_core_is_made_when_none_is_given() -> None:
    assert isinstance(SimTransport().core, SimCore)
