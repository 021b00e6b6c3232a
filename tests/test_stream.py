"""`AgentStream`: the hand-off of events from the run task to the reader, and its end."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import warnings
from collections.abc import Iterator

import anyio
import httpx2
import pytest

import agentkit._run
from agentkit._stream import _BUFFER
from agentkit.agent import Agent
from agentkit.client import GrokClient
from agentkit.errors import APIStreamError, UserError
from agentkit.events import FinalResult, TextDelta, ToolCallFinished, ToolCallStarted
from agentkit.testing import ScriptedModel, call
from agentkit.tool import tool

pytestmark = pytest.mark.anyio

LONG = " ".join(f"w{i}" for i in range(200))  # far more deltas than the hand-off buffers


async def test_a_slow_reader_gets_every_event_in_order() -> None:
    agent = Agent("grok-4", client=ScriptedModel([LONG]))
    texts: list[str] = []
    with anyio.fail_after(5):
        async with agent.run_stream("?") as stream:
            async for event in stream:
                if isinstance(event, TextDelta):
                    texts.append(event.text)
                    await anyio.lowlevel.checkpoint()  # the run fills the buffer, waits for room
                else:
                    assert isinstance(event, FinalResult)
    assert "".join(texts) == LONG
    assert stream.result.output == LONG


async def test_leaving_while_the_run_waits_for_room_cancels_it() -> None:
    agent = Agent("grok-4", client=ScriptedModel([LONG]))
    tasks_before = len(asyncio.all_tasks())
    with anyio.fail_after(5):
        async with agent.run_stream("?") as stream:
            first = await stream.__anext__()
            for _ in range(5):
                await anyio.lowlevel.checkpoint()  # the run fills the buffer meanwhile
        assert isinstance(first, TextDelta)
        with pytest.raises(UserError, match="not finished"):
            _ = stream.result
    assert len(asyncio.all_tasks()) == tasks_before


async def test_get_result_after_some_events_skips_the_rest() -> None:
    @tool
    def double(x: int) -> int:
        """Double x."""
        return 2 * x

    agent = Agent("grok-4", tools=[double], client=ScriptedModel([call("double", {"x": 2}), "4"]))
    with anyio.fail_after(5):
        async with agent.run_stream("?") as stream:
            first = await stream.__anext__()
            result = await stream.get_result()
            with pytest.raises(StopAsyncIteration):
                await stream.__anext__()
    assert isinstance(first, ToolCallStarted)
    assert result.output == "4"
    assert stream.result is result


async def test_events_come_in_the_order_the_run_made_them() -> None:
    @tool
    def double(x: int) -> int:
        """Double x."""
        return 2 * x

    agent = Agent("grok-4", tools=[double], client=ScriptedModel([call("double", {"x": 2}), "it is 4"]))
    with anyio.fail_after(5):
        async with agent.run_stream("?") as stream:
            kinds = [type(event) async for event in stream]
    assert kinds == [ToolCallStarted, ToolCallFinished, TextDelta, TextDelta, TextDelta, FinalResult]


async def test_get_result_raises_the_runs_error() -> None:
    agent = Agent("grok-4", client=ScriptedModel([]))
    with anyio.fail_after(5), pytest.raises(UserError, match="ran out of replies"):
        async with agent.run_stream("?") as stream:
            await stream.get_result()


def _sse(*events: bytes) -> httpx2.Response:
    return httpx2.Response(200, headers={"content-type": "text/event-stream"},
                           content=b"".join(events))


async def test_chunks_before_an_error_event_in_the_same_read_come_first() -> None:
    chunk = (b'data: {"id":"s","object":"chat.completion.chunk","created":1,"model":"m",'
             b'"choices":[{"index":0,"delta":{"content":"%s"}}]}\n\n')
    body = _sse(chunk % b"a", chunk % b"b",
                b'event: error\ndata: {"error":{"message":"overloaded","status_code":503}}\n\n')
    client = GrokClient("k", base_url="http://t/v1", max_retries=0,
                        transport=httpx2.MockTransport(lambda request: body))
    async with client:
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}], stream=True)
        with anyio.fail_after(5):
            seen = [(await stream.__anext__()).choices[0].delta.content for _ in range(2)]
            with pytest.raises(APIStreamError, match="overloaded"):
                await stream.__anext__()
        assert seen == ["a", "b"]
        assert stream.current().message.content == "ab"
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()  # the stream was released with the error


async def test_nothing_after_done_is_read_as_an_event() -> None:
    chunk = (b'data: {"id":"s","object":"chat.completion.chunk","created":1,"model":"m",'
             b'"choices":[{"index":0,"delta":{"content":"%s"},"finish_reason":%s}]}\n\n')
    body = _sse(chunk % (b"ok", b'"stop"'), b"data: [DONE]\n\n", chunk % (b"late", b"null"))
    client = GrokClient("k", base_url="http://t/v1", max_retries=0,
                        transport=httpx2.MockTransport(lambda request: body))
    async with client:
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}], stream=True)
        with anyio.fail_after(5):
            items = [item async for item in stream]
        assert [item.choices[0].delta.content for item in items] == ["ok"]
        assert (await stream.final()).message.content == "ok"


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_a_scope_cancelled_around_the_block_ends_the_run_with_it() -> None:
    started = anyio.Event()

    @tool
    async def wait_long() -> str:
        """Wait a long time."""
        started.set()
        await anyio.sleep(30)
        return "done"

    agent = Agent("grok-4", tools=[wait_long], client=ScriptedModel([call("wait_long", {}), "ok"]))
    with anyio.fail_after(5):
        with anyio.CancelScope() as outer:
            async with agent.run_stream("?") as stream:
                async def cancel_once_started() -> None:
                    await started.wait()
                    outer.cancel()

                async with anyio.create_task_group() as group:
                    group.start_soon(cancel_once_started)
                    await stream.get_result()
        assert outer.cancelled_caught
    with pytest.raises(UserError, match="not finished"):
        _ = stream.result


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_leaving_waits_for_the_run_to_end_even_when_cancelled_meanwhile() -> None:
    # The tool finishes a shielded step after its cancellation: the block must not be left
    # while the run still goes on in the background.
    ended: list[str] = []
    started = anyio.Event()

    @tool
    async def tidy() -> str:
        """Tidy up."""
        try:
            started.set()
            await anyio.sleep(30)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.sleep(0.05)
                ended.append("tidied")
        return "done"

    agent = Agent("grok-4", tools=[tidy], client=ScriptedModel([call("tidy", {}), "ok"]))
    with anyio.fail_after(5), anyio.CancelScope() as outer:
        async with agent.run_stream("?") as stream:
            await started.wait()
            outer.cancel()
            await stream.get_result()
    assert ended == ["tidied"]


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_a_stream_read_to_its_end_on_either_event_loop() -> None:
    agent = Agent("grok-4", client=ScriptedModel(["it is 4", "it is 4"]))
    with anyio.fail_after(5):
        async with agent.run_stream("?") as stream:
            kinds = [type(event) async for event in stream]
        async with agent.run_stream("?") as again:
            result = await again.get_result()
    assert kinds[-1] is FinalResult
    assert result.output == "it is 4"


CALLER: contextvars.ContextVar[str] = contextvars.ContextVar("CALLER", default="unset")

# Where the run's tool ran: its task, and what it read of CALLER.
Seen = list[tuple["asyncio.Task[object] | None", str]]


def _recording_agent() -> tuple[Agent[None, str], Seen]:
    seen: Seen = []

    @tool
    async def where() -> str:
        """Say where the run goes on."""
        seen.append((asyncio.current_task(), CALLER.get()))
        return "here"

    agent = Agent("grok-4", tools=[where], client=ScriptedModel([call("where", {}), "done"]))
    return agent, seen


@pytest.fixture
def caller_is_block() -> Iterator[None]:
    token = CALLER.set("block")
    yield
    CALLER.reset(token)


async def test_get_result_at_once_runs_the_run_in_the_blocks_own_task(
    caller_is_block: None,
) -> None:
    agent, seen = _recording_agent()
    with anyio.fail_after(5):
        async with agent.run_stream("?") as stream:
            result = await stream.get_result()
    assert result.output == "done"
    assert seen == [(asyncio.current_task(), "block")]


async def test_get_result_after_the_run_began_waits_for_its_task(caller_is_block: None) -> None:
    agent, seen = _recording_agent()
    with anyio.fail_after(5):
        async with agent.run_stream("?") as stream:
            await anyio.sleep(0.01)  # the run starts on its own meanwhile
            CALLER.set("changed after entering")
            result = await stream.get_result()
    assert result.output == "done"
    [(task, value)] = seen
    assert task is not asyncio.current_task()
    assert value == "block"  # the run sees the context of the block's entry


async def test_get_result_from_another_task_than_the_blocks() -> None:
    agent, seen = _recording_agent()
    results: list[str] = []
    with anyio.fail_after(5):
        async with agent.run_stream("?") as stream:
            async def read() -> None:
                results.append((await stream.get_result()).output)

            async with anyio.create_task_group() as group:
                group.start_soon(read)
    assert results == ["done"]
    assert len(seen) == 1


@pytest.mark.parametrize("read_first", [0, 1])
async def test_text_deltas_nobody_will_read_are_not_made(
    monkeypatch: pytest.MonkeyPatch, read_first: int
) -> None:
    made: list[str] = []

    def counted_delta(text: str) -> TextDelta:
        made.append(text)
        return TextDelta(text)

    monkeypatch.setattr(agentkit._run, "TextDelta", counted_delta)
    agent = Agent("grok-4", client=ScriptedModel([LONG]))
    with anyio.fail_after(5):
        async with agent.run_stream("?") as stream:
            for _ in range(read_first):
                await stream.__anext__()
            result = await stream.get_result()
    assert result.output == LONG
    if read_first == 0:
        assert made == []  # asked for the result at once: the run makes no event
    else:
        # The event read, and at most what the hand-off could hold before the reader left.
        assert 0 < len(made) <= 1 + _BUFFER < len(LONG.split(" "))


async def test_the_run_starts_without_a_reader() -> None:
    model = ScriptedModel(["hello", "unused"])
    agent = Agent("grok-4", client=model)
    with anyio.fail_after(5):
        async with agent.run_stream("?") as stream:
            for _ in range(50):
                if model.remaining == 1:
                    break
                await anyio.sleep(0.01)
            assert model.remaining == 1  # asked the model while nobody read
            assert (await stream.get_result()).output == "hello"


async def test_a_stream_left_at_once_asks_nothing_and_leaves_no_coroutine_behind() -> None:
    model = ScriptedModel(["hello"])
    agent = Agent("grok-4", client=model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with agent.run_stream("?") as stream:
            pass
        gc.collect()
    assert model.remaining == 1
    assert not [w for w in caught if "never awaited" in str(w.message)]
    with pytest.raises(UserError, match="not finished"):
        _ = stream.result
