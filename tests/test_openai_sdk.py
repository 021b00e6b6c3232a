"""The official `openai` package against the simulated server on 127.0.0.1.

Every endpoint the SDK and our server share, through `openai.AsyncOpenAI` and `openai.OpenAI`
over a real socket: the SDK's own parsing is the judge of the wire shapes. One test runs the
real `agentkit serve` command in a subprocess and stops it with Ctrl-C.
"""

from __future__ import annotations

import base64
import json
import signal
import socket
import struct
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import httpx2
import jsonschema  # type: ignore[import-untyped]
import openai
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream
from openai.types.chat import ChatCompletionFunctionToolParam, ChatCompletionMessageParam
from pydantic import BaseModel

from agentkit.sim import SimCore
from agentkit.sim.server import RunningServer

MODEL = "grok-4-fast-non-reasoning"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SERVER_THREAD = "agentkit-sim-server"  # the name RunningServer gives its thread

WEATHER_TOOL: ChatCompletionFunctionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city."},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
WEATHER_PARAMETERS = WEATHER_TOOL["function"]["parameters"]
WEATHER_QUESTION = "What is the weather in Paris in celsius?"
WEATHER_RESULT = {"city": "Paris", "temperature_c": 17.5, "conditions": "light drizzle"}

CITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "population": {"type": "integer"},
        "landmarks": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["city", "population", "landmarks"],
    "additionalProperties": False,
}
CITY_PROMPT = "Describe Paris: population 2100000, landmarks Eiffel Tower and Louvre."
HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hello to the world."}]


class City(BaseModel):
    city: str
    population: int
    landmarks: list[str]


def server_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == SERVER_THREAD}


@contextmanager
def serving(core: SimCore) -> Iterator[str]:
    """Run `core` on a loopback server; afterwards its thread must be gone."""
    before = server_threads()
    server = RunningServer(core)
    server.start()
    try:
        (thread,) = server_threads() - before
        yield server.base_url
    finally:
        server.stop()
    # stop() joins the thread, so it has left enumerate() already: nothing to wait for.
    assert thread not in threading.enumerate()


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """One server for the module, with the default simulated model."""
    with serving(SimCore()) as url:
        yield url


@pytest.fixture
def sync_client(base_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        api_key="sk-test", base_url=f"{base_url}/v1", max_retries=0, timeout=10
    ) as client:
        yield client


def async_client(base_url: str, api_key: str = "sk-test") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key=api_key, base_url=f"{base_url}/v1", max_retries=0, timeout=10)


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which a valid PNG has right after the signature."""
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


# ------------------------------------------------------------------------------ chat


@pytest.mark.anyio
async def test_chat_plain_async_and_sync_agree(base_url: str, sync_client: openai.OpenAI) -> None:
    messages = HELLO
    with anyio.fail_after(10):
        async with async_client(base_url) as client:
            completion = await client.chat.completions.create(model=MODEL, messages=messages)
    sync = sync_client.chat.completions.create(model=MODEL, messages=messages)

    assert completion.object == "chat.completion"
    assert completion.model == MODEL
    (choice,) = completion.choices
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.tool_calls is None
    text = choice.message.content
    assert text and "hello" in text.lower() and "world" in text.lower()
    usage = completion.usage
    assert usage is not None
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    # The policy is deterministic: the sync client gets the same words, under a new id.
    assert sync.choices[0].message.content == text
    assert sync.id != completion.id


@pytest.mark.anyio
async def test_chat_streamed_with_usage(base_url: str) -> None:
    messages = HELLO
    with anyio.fail_after(10):
        async with async_client(base_url) as client:
            plain = await client.chat.completions.create(model=MODEL, messages=messages)
            stream = await client.chat.completions.create(
                model=MODEL,
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
            )
            chunks = [chunk async for chunk in stream]

    assert len(chunks) > 3
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert len({c.id for c in chunks}) == 1
    with_choices = [c for c in chunks if c.choices]
    assert with_choices[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in with_choices)
    assert text == plain.choices[0].message.content
    assert with_choices[-1].choices[0].finish_reason == "stop"
    # The usage chunk comes last, with no choices, and counts what the plain answer counted.
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert plain.usage is not None
    assert last.usage.completion_tokens == plain.usage.completion_tokens
    assert last.usage.prompt_tokens == plain.usage.prompt_tokens
    assert all(c.usage is None for c in chunks[:-1])


def test_chat_streamed_sync_without_usage(sync_client: openai.OpenAI) -> None:
    messages = HELLO
    with sync_client.chat.completions.create(model=MODEL, messages=messages, stream=True) as stream:
        chunks = list(stream)
    assert chunks and all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "hello" in text.lower()
    assert chunks[-1].choices[0].finish_reason == "stop"


@pytest.mark.anyio
async def test_chat_tool_call_round_trip(base_url: str) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": WEATHER_QUESTION}]
    with anyio.fail_after(10):
        async with async_client(base_url) as client:
            first = await client.chat.completions.create(
                model=MODEL, messages=messages, tools=[WEATHER_TOOL]
            )
            (choice,) = first.choices
            assert choice.finish_reason == "tool_calls"
            calls = choice.message.tool_calls
            assert calls is not None and len(calls) == 1
            (call,) = calls
            assert call.type == "function"
            assert call.id
            assert call.function.name == "get_weather"
            arguments = json.loads(call.function.arguments)
            jsonschema.validate(arguments, WEATHER_PARAMETERS)
            assert arguments == {"city": "Paris", "unit": "celsius"}

            messages.append(choice.message.model_dump(exclude_none=True))  # type: ignore[arg-type]
            messages.append(
                {"role": "tool", "tool_call_id": call.id, "content": json.dumps(WEATHER_RESULT)}
            )
            final = await client.chat.completions.create(
                model=MODEL, messages=messages, tools=[WEATHER_TOOL]
            )

    (answer,) = final.choices
    assert answer.finish_reason == "stop"
    assert answer.message.tool_calls is None
    text = answer.message.content
    assert text and "17.5" in text and "light drizzle" in text


def test_chat_streamed_tool_call_through_the_sdk_accumulator(sync_client: openai.OpenAI) -> None:
    # `.stream()` is the SDK's helper that stitches tool-call deltas together.
    with sync_client.chat.completions.stream(
        model=MODEL,
        messages=[{"role": "user", "content": WEATHER_QUESTION}],
        tools=[WEATHER_TOOL],
    ) as stream:
        kinds = {event.type for event in stream}
        completion = stream.get_final_completion()
    assert "tool_calls.function.arguments.done" in kinds
    (choice,) = completion.choices
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert call.function.name == "get_weather"
    arguments = json.loads(call.function.arguments)
    jsonschema.validate(arguments, WEATHER_PARAMETERS)
    assert arguments["city"] == "Paris"


@pytest.mark.anyio
async def test_chat_response_format_json_schema(base_url: str) -> None:
    with anyio.fail_after(10):
        async with async_client(base_url) as client:
            completion = await client.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": CITY_PROMPT}],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "city", "schema": CITY_SCHEMA, "strict": True},
                },
            )
    content = completion.choices[0].message.content
    assert content is not None
    data = json.loads(content)
    jsonschema.validate(data, CITY_SCHEMA)
    assert data["city"] == "Paris"
    assert data["population"] == 2_100_000
    assert set(data["landmarks"]) == {"Eiffel Tower", "Louvre"}


def test_chat_parse_with_a_pydantic_model(sync_client: openai.OpenAI) -> None:
    # The SDK builds the strict json_schema itself and parses the answer back into City.
    completion = sync_client.chat.completions.parse(
        model=MODEL, messages=[{"role": "user", "content": CITY_PROMPT}], response_format=City
    )
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, City)
    assert parsed.city == "Paris" and parsed.population == 2_100_000


# ------------------------------------------------------------------------------ other endpoints


@pytest.mark.anyio
async def test_text_completions_plain_and_streamed(base_url: str) -> None:
    with anyio.fail_after(10):
        async with async_client(base_url) as client:
            completion = await client.completions.create(
                model="grok-3", prompt="Once upon a time", max_tokens=20
            )
            stream = await client.completions.create(
                model="grok-3", prompt="Once upon a time", max_tokens=20, stream=True
            )
            pieces = [chunk async for chunk in stream]
    assert completion.object == "text_completion"
    (choice,) = completion.choices
    assert choice.text.startswith("You asked: Once upon a time")
    assert choice.finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 20
    assert "".join(p.choices[0].text for p in pieces if p.choices) == choice.text


@pytest.mark.anyio
async def test_models_list_and_retrieve(base_url: str, sync_client: openai.OpenAI) -> None:
    with anyio.fail_after(10):
        async with async_client(base_url) as client:
            page = await client.models.list()
            ids = [model.id async for model in page]
            grok3 = await client.models.retrieve("grok-3")
    assert {"grok-3", "grok-4-0709", MODEL, "grok-imagine-image", "v1"} <= set(ids)
    assert len(ids) == len(set(ids))
    assert grok3.id == "grok-3"
    assert grok3.object == "model"
    assert grok3.owned_by == "xai"
    assert grok3.created > 0
    # The sync client pages the same list.
    assert [model.id for model in sync_client.models.list()] == ids


@pytest.mark.anyio
async def test_embeddings_length_and_determinism(base_url: str, sync_client: openai.OpenAI) -> None:
    texts = ["The quick brown fox", "jumps over the lazy dog"]
    with anyio.fail_after(10):
        async with async_client(base_url) as client:
            # The SDK asks for base64 by default and decodes it itself.
            first = await client.embeddings.create(model="v1", input=texts)
            again = await client.embeddings.create(model="v1", input=texts)
            short = await client.embeddings.create(model="v1", input=texts[0], dimensions=64)
    as_floats = sync_client.embeddings.create(model="v1", input=texts, encoding_format="float")

    assert first.model == "v1"
    assert [d.index for d in first.data] == [0, 1]
    vectors = [d.embedding for d in first.data]
    assert [len(v) for v in vectors] == [256, 256]
    assert all(isinstance(x, float) for x in vectors[0])
    assert vectors[0] != vectors[1]
    assert [d.embedding for d in again.data] == vectors
    assert len(short.data[0].embedding) == 64
    # base64 carries float32s; the float answer agrees to float32 precision.
    for floats, decoded in zip((d.embedding for d in as_floats.data), vectors, strict=True):
        assert floats == pytest.approx(decoded, rel=1e-6, abs=1e-7)
    assert first.usage.prompt_tokens > 0


@pytest.mark.anyio
async def test_images_as_b64_json(base_url: str) -> None:
    with anyio.fail_after(10):
        async with async_client(base_url) as client:
            response = await client.images.generate(
                model="grok-imagine-image", prompt="a red fox", response_format="b64_json", n=2
            )
    assert response.data is not None and len(response.data) == 2
    for image in response.data:
        assert image.url is None
        assert image.b64_json is not None
        png = base64.b64decode(image.b64_json, validate=True)
        assert png.startswith(PNG_SIGNATURE)
        assert png_size(png) == (256, 256)


def test_images_as_url_download_a_png(base_url: str, sync_client: openai.OpenAI) -> None:
    response = sync_client.images.generate(
        model="grok-imagine-image", prompt="a red fox", response_format="url"
    )
    (image,) = response.data or []
    assert image.b64_json is None
    assert image.url is not None
    assert image.url.startswith(f"{base_url}/v1/images/") and image.url.endswith(".png")
    downloaded = httpx2.get(image.url, timeout=10)
    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"] == "image/png"
    assert downloaded.content.startswith(PNG_SIGNATURE)
    assert png_size(downloaded.content) == (256, 256)


# ------------------------------------------------------------------------------ errors


@pytest.mark.anyio
async def test_an_unknown_model_is_not_found(base_url: str) -> None:
    with anyio.fail_after(10):
        async with async_client(base_url) as client:
            with pytest.raises(openai.NotFoundError) as chat:
                await client.chat.completions.create(
                    model="grok-99", messages=[{"role": "user", "content": "hi"}]
                )
            with pytest.raises(openai.NotFoundError) as retrieve:
                await client.models.retrieve("grok-99")
    for info in (chat, retrieve):
        assert info.value.status_code == 404
        # xAI's flat {"code", "error"} body: the SDK hands over the "error" string.
        assert "The model grok-99 does not exist" in str(info.value.body)


@pytest.mark.anyio
async def test_a_wrong_api_key_is_a_bad_request() -> None:
    with serving(SimCore(api_key="sk-right")) as url, anyio.fail_after(10):
        async with async_client(url, api_key="sk-wrong") as client:
            with pytest.raises(openai.BadRequestError) as info:
                await client.models.list()
        async with async_client(url, api_key="sk-right") as client:
            page = await client.models.list()
    assert info.value.status_code == 400
    body = str(info.value.body)
    assert "Incorrect API key provided" in body
    assert "sk-wrong" not in body  # xAI masks the key it echoes
    assert page.data  # the right key gets through


# ------------------------------------------------------------------------------ the command


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def read_until_serving(stderr: BufferedByteReceiveStream) -> str:
    seen = ""
    while True:
        line = (await stderr.receive_until(b"\n", 64 * 1024)).decode()
        seen += line + "\n"
        if "serving" in line:
            return seen


async def read_to_end(stderr: BufferedByteReceiveStream) -> str:
    rest = b""
    try:
        while True:
            rest += await stderr.receive()
    except (anyio.EndOfStream, anyio.ClosedResourceError):
        return rest.decode()


@pytest.mark.anyio
async def test_agentkit_serve_answers_the_sdk_and_stops_on_ctrl_c() -> None:
    port = free_port()
    command = [sys.executable, "-m", "agentkit", "serve", "--port", str(port)]
    process = await anyio.open_process(command)
    try:
        assert process.stderr is not None
        stderr = BufferedByteReceiveStream(process.stderr)
        with anyio.fail_after(20):
            banner = await read_until_serving(stderr)
        assert f"http://127.0.0.1:{port}/v1" in banner

        with anyio.fail_after(10):
            async with async_client(f"http://127.0.0.1:{port}") as client:
                completion = await client.chat.completions.create(model=MODEL, messages=HELLO)
        content = completion.choices[0].message.content
        assert content and "hello" in content.lower()

        process.send_signal(signal.SIGINT)
        with anyio.fail_after(5):
            code = await process.wait()
            rest = await read_to_end(stderr)
    finally:
        if process.returncode is None:
            process.kill()
            with anyio.fail_after(5):
                await process.wait()
        await process.aclose()
    assert code == 0, rest
    assert "Traceback" not in banner + rest
    assert "stopped" in rest
