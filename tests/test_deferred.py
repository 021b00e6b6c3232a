"""Deferred chat completions (create, poll, rebuild from an id, 404 and timeout), and the two
request checks that came with them: image edits as JSON, and an empty `messages` list."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx2
import pytest

from agentkit import DeferredCompletion, GrokClient
from agentkit._retry import RetryPolicy
from agentkit.errors import (
    APITimeoutError,
    BadRequestError,
    ConfigurationError,
    DeferredNotFoundError,
    DeferredTimeoutError,
    InvalidRequestError,
    NotFoundError,
    UnprocessableEntityError,
)
from agentkit.sim import SimCore, run_in_thread
from agentkit.sim.media import render_png
from agentkit.types import ChatCompletion

USER = [{"role": "user", "content": "What is the capital of France?"}]
JSON = {"content-type": "application/json"}
PNG = render_png("a red square", 8, 8)


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


Handler = Callable[[httpx2.Request], Coroutine[None, None, httpx2.Response]]


class Server:
    """A MockTransport handler answering from a list (the last answer repeats)."""

    def __init__(self, *answers: httpx2.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx2.Request] = []

    async def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


async def _no_sleep(seconds: float) -> None:
    return None


def mock_client(handler: Handler, *, retries: int = 0) -> GrokClient:
    return GrokClient("key", base_url="http://grok.test/v1",
                      transport=httpx2.MockTransport(handler),
                      retry_policy=RetryPolicy(max_retries=retries, sleep=_no_sleep))


def completion_json(content: str = "Paris.") -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": "grok-4.3",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "stop"}]}


# -- the simulator, through the client ---------------------------------------------------------


@pytest.mark.anyio
async def test_a_deferred_completion_is_polled_until_ready_then_kept() -> None:
    time = FakeTime()
    async with GrokClient.simulated() as client:
        handle = await client.chat.completions.create(model="grok-4.3", messages=USER,
                                                      deferred=True)
        assert isinstance(handle, DeferredCompletion)
        assert len(handle.request_id) == 36 and "pending" in repr(handle)
        handle = client.chat.deferred(handle.request_id, sleep=time.sleep, clock=time.clock)
        completion = await handle.result(timeout=30, poll_interval=2.5)
        assert isinstance(completion, ChatCompletion)
        assert "capital of France" in (completion.message.content or "")
        assert completion.usage is not None and completion.usage.cost_in_usd_ticks
        # The simulator answers 202 once: one wait of the poll interval, then the completion.
        assert time.waits == [2.5]
        # Served once by the server; the handle keeps it.
        assert await handle.result() is completion and await handle.poll() is completion
        assert "fetched" in repr(handle)
        with pytest.raises(DeferredNotFoundError) as caught:
            await client.chat.deferred(handle.request_id).poll()
    error = caught.value
    assert isinstance(error, NotFoundError) and error.status_code == 404
    assert error.deferred_id == handle.request_id
    assert "unknown, expired" in str(error) and "already fetched" in str(error)


@pytest.mark.anyio
async def test_poll_says_none_while_pending() -> None:
    async with GrokClient.simulated() as client:
        handle = await client.chat.completions.create(model="grok-3-mini", messages=USER,
                                                      deferred=True)
        assert await handle.poll() is None
        completion = await handle.poll()
        assert completion is not None and completion.model == "grok-3-mini"


@pytest.mark.anyio
async def test_an_unknown_id_is_a_deferred_not_found_error() -> None:
    async with GrokClient.simulated() as client:
        handle = client.chat.deferred("00000000-0000-0000-0000-000000000000")
        with pytest.raises(DeferredNotFoundError, match="00000000-0000-0000-0000-000000000000"):
            await handle.result(poll_interval=0)
        # An id is one path segment: it cannot reach another route.
        with pytest.raises(DeferredNotFoundError):
            await client.chat.deferred("../../models").poll()


def test_a_saved_id_is_fetched_over_http_by_another_client() -> None:
    core = SimCore()

    async def go(base_url: str) -> None:
        async with GrokClient.openai_compatible(f"{base_url}/v1") as first:
            handle = await first.chat.completions.create(model="grok-4", messages=USER,
                                                         deferred=True)
        saved = handle.request_id
        async with GrokClient.openai_compatible(f"{base_url}/v1") as second:
            completion = await second.chat.deferred(saved).result(poll_interval=0.01)
        assert completion.model == "grok-4-0709"

    import anyio

    with run_in_thread(core) as base_url:
        anyio.run(go, base_url)


@pytest.mark.anyio
async def test_a_completion_still_pending_at_the_timeout_is_a_deferred_timeout() -> None:
    server = Server(httpx2.Response(202))
    time = FakeTime()
    async with mock_client(server) as client:
        handle = client.chat.deferred("abc", sleep=time.sleep, clock=time.clock)
        with pytest.raises(DeferredTimeoutError) as caught:
            await handle.result(timeout=10, poll_interval=3)
    error = caught.value
    assert isinstance(error, APITimeoutError)
    assert error.deferred_id == "abc" and error.waited == pytest.approx(10)
    assert time.waits == [3, 3, 3, 1]  # never sleeps past the deadline
    assert len(server.requests) == 5
    assert all(r.url.path == "/v1/chat/deferred-completion/abc" for r in server.requests)
    assert "24 hours" in str(error) and "client.chat.deferred('abc').result()" in str(error)


@pytest.mark.anyio
async def test_a_poll_that_fails_transiently_is_retried() -> None:
    server = Server(httpx2.Response(503, json={"code": "The service is currently unavailable",
                                               "error": "busy"}),
                    httpx2.Response(202),
                    httpx2.Response(200, json=completion_json()))
    time = FakeTime()
    async with mock_client(server, retries=2) as client:
        completion = await client.chat.deferred("r1", sleep=time.sleep,
                                                clock=time.clock).result(poll_interval=1)
    assert completion.message.content == "Paris."
    assert len(server.requests) == 3 and time.waits == [1]


@pytest.mark.anyio
async def test_create_sends_deferred_and_reads_the_request_id() -> None:
    server = Server(httpx2.Response(200, json={"request_id": "f15c114e"}))
    async with mock_client(server) as client:
        handle = await client.chat.completions.create(model="grok-4", messages=USER,
                                                      deferred=True, temperature=0.1)
    assert handle.request_id == "f15c114e"
    assert json.loads(server.requests[0].content) == {
        "model": "grok-4", "messages": USER, "temperature": 0.1, "deferred": True}


@pytest.mark.anyio
async def test_deferred_misuse_is_refused_before_anything_is_sent() -> None:
    server = Server(httpx2.Response(200, json=completion_json()))
    async with mock_client(server) as client:
        with pytest.raises(InvalidRequestError, match="cannot be streamed"):
            await client.chat.completions.create(  # type: ignore[call-overload]
                model="grok-4", messages=USER, stream=True, deferred=True)
        with pytest.raises(InvalidRequestError, match="pass deferred=True"):
            await client.chat.completions.create(model="grok-4", messages=USER,
                                                 extra_body={"deferred": True})
        handle = client.chat.deferred("r1")
        with pytest.raises(ConfigurationError, match="timeout"):
            await handle.result(timeout=0)
        with pytest.raises(ConfigurationError, match="poll_interval"):
            await handle.result(poll_interval=-1)
        with pytest.raises(ConfigurationError, match="request_id"):
            client.chat.deferred(" ")
    assert server.requests == []


def test_the_simulator_checks_deferred_requests_and_forgets_them_after_a_day() -> None:
    now = [1_000_000.0]
    core = SimCore(clock=lambda: now[0])

    def chat(**fields: Any) -> Any:
        body = {"model": "grok-4", "messages": USER, **fields}
        return core.handle("POST", "/v1/chat/completions", JSON, json.dumps(body).encode())

    assert chat(deferred="yes").status == 422
    assert chat(deferred=True, stream=True).status == 400
    assert chat(deferred=False).json()["object"] == "chat.completion"
    request_id = chat(deferred=True).json()["request_id"]
    first = core.handle("GET", f"/v1/chat/deferred-completion/{request_id}", {}, b"")
    assert (first.status, first.body) == (202, b"")
    now[0] += 24 * 60 * 60
    expired = core.handle("GET", f"/v1/chat/deferred-completion/{request_id}", {}, b"")
    assert expired.status == 404


@pytest.mark.anyio
async def test_a_wrongly_typed_deferred_flag_is_the_servers_422() -> None:
    async with GrokClient.simulated() as client:
        with pytest.raises(UnprocessableEntityError, match="deferred"):
            await client.chat.completions.create(model="grok-4", messages=USER,
                                                 extra_body={"deferred": "yes"})


# -- empty messages ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_empty_messages_say_so_and_what_to_pass() -> None:
    server = Server(httpx2.Response(200, json=completion_json()))
    async with mock_client(server) as client:
        with pytest.raises(InvalidRequestError) as caught:
            await client.chat.completions.create(model="grok-4", messages=[])
    assert isinstance(caught.value, ValueError)
    assert "messages is empty" in str(caught.value)
    assert '[{"role": "user", "content": "Hello"}]' in str(caught.value)
    assert server.requests == []


# -- image edits -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_image_edits_send_json_with_data_urls(tmp_path: Path) -> None:
    server = Server(httpx2.Response(200, json={"data": [{"url": "https://img/1.png"}]}))
    picture = tmp_path / "photo.png"
    picture.write_bytes(PNG)
    async with mock_client(server) as client:
        edited = await client.images.edit(prompt="Make it blue", image=picture, n=2,
                                          aspect_ratio="16:9", resolution="1k")
        await client.images.edit(prompt="Combine <IMAGE_0> and <IMAGE_1>",
                                 images=[PNG, "https://example.com/b.jpg", {"file_id": "f-1"}],
                                 response_format="b64_json")
    assert edited.data[0].url == "https://img/1.png"
    first, second = (json.loads(r.content) for r in server.requests)
    assert server.requests[0].url.path == "/v1/images/edits"
    assert server.requests[0].headers["content-type"] == "application/json"
    data_url = f"data:image/png;base64,{base64.b64encode(PNG).decode()}"
    assert first == {"prompt": "Make it blue", "model": "grok-imagine-image",
                     "image": {"url": data_url}, "n": 2, "aspect_ratio": "16:9",
                     "resolution": "1k"}
    assert second["images"] == [{"url": data_url}, {"url": "https://example.com/b.jpg"},
                                {"file_id": "f-1"}]
    assert second["response_format"] == "b64_json" and "image" not in second


@pytest.mark.anyio
async def test_image_edits_are_refused_without_exactly_one_source(tmp_path: Path) -> None:
    server = Server(httpx2.Response(200, json={"data": []}))
    async with mock_client(server) as client:
        with pytest.raises(InvalidRequestError, match="image="):
            await client.images.edit(prompt="Make it blue")
        with pytest.raises(InvalidRequestError, match="not both"):
            await client.images.edit(prompt="Make it blue", image=PNG, images=[PNG])
        with pytest.raises(InvalidRequestError, match="non-empty list"):
            await client.images.edit(prompt="Make it blue", images=[])
        with pytest.raises(ConfigurationError, match="no image file"):
            await client.images.edit(prompt="Make it blue", image=tmp_path / "missing.png")
        with pytest.raises(ConfigurationError, match="prompt"):
            await client.images.edit(prompt=" ", image=PNG)
        with pytest.raises(ConfigurationError, match="between 1 and 10"):
            await client.images.edit(prompt="Make it blue", image=PNG, n=11)
    assert server.requests == []


@pytest.mark.anyio
async def test_the_simulator_edits_images_and_bills_the_sources_too() -> None:
    async with GrokClient.simulated() as client:
        made = await client.images.generate(prompt="a green field")
        source = made.data[0].url
        assert source is not None
        edited = await client.images.edit(prompt="add a red barn", image=source,
                                          response_format="b64_json")
        assert base64.b64decode(edited.data[0].b64_json or "").startswith(b"\x89PNG")
        usage = (edited.model_extra or {})["usage"]
        assert usage["cost_in_usd_ticks"] == 2 * 200_000_000  # one source + one output at $0.02
        many = await client.images.edit(prompt="both", images=[PNG, PNG], n=2)
        assert len(many.data) == 2
        with pytest.raises(BadRequestError, match="between 1 and 3"):
            await client.images.edit(prompt="too many", images=[PNG] * 4)
        with pytest.raises(BadRequestError, match="offline"):
            await client.images.edit(prompt="remote", image="https://example.com/a.png")
        with pytest.raises(NotFoundError):
            await client.images.edit(prompt="wrong model", image=PNG, model="grok-9")
