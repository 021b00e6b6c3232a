"""`run_batch` on the in-process simulated server: order, the concurrency bound, failures that
stay in their item, paused runs, id checks, `on_result`, cancellation and a big lazy batch.

The policy answers `echo: <prompt>`, so each output names its input. A prompt with `hold`
first calls the `hold` tool, which counts the runs inside it; `fail` calls it for ever (so the
run passes `max_turns`); `refund` calls a tool that needs approval.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from agentkit import Agent, GrokClient, tool
from agentkit.batch import BatchInput, BatchResult, run_batch
from agentkit.errors import ConfigurationError, UserError
from agentkit.sim.reply import SimReply, SimToolCall

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("both_apis")]


@dataclass
class Model:
    """The simulated model and the tools it calls, with what they saw."""

    requests: list[str] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    cancelled: int = 0
    hold_seconds: float = 0.01

    def policy(self, body: Mapping[str, Any]) -> SimReply:
        messages = body["messages"]
        last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
        prompt = str(messages[last_user]["content"])
        self.requests.append(prompt)
        answered = any(m["role"] == "tool" for m in messages[last_user:])
        if "fail" in prompt or ("hold" in prompt and not answered):
            return SimReply(tool_calls=(SimToolCall("hold", json.dumps({"prompt": prompt})),))
        if "refund" in prompt and not answered:
            return SimReply(tool_calls=(SimToolCall("refund", '{"order": 1042}'),))
        return SimReply(content=f"echo: {prompt}")

    def agent(self, *, max_turns: int = 3) -> Agent[Any, str]:
        model = self

        @tool
        async def hold(prompt: str) -> str:
            """Take a while.

            Args:
                prompt: The prompt being run.
            """
            model.in_flight += 1
            model.most_in_flight = max(model.most_in_flight, model.in_flight)
            try:
                # Uneven, so that runs finish out of input order.
                await anyio.sleep(model.hold_seconds * (1 + len(prompt) % 3))
            except anyio.get_cancelled_exc_class():
                model.cancelled += 1
                raise
            finally:
                model.in_flight -= 1
            return "held"

        @tool(requires_approval=True)
        def refund(order: int) -> str:
            """Refund an order.

            Args:
                order: The order.
            """
            raise AssertionError("a batch never approves")

        return Agent("grok-4", tools=[hold, refund], client=GrokClient.simulated(self.policy),
                     max_turns=max_turns)


async def test_results_come_in_input_order_and_on_result_in_completion_order() -> None:
    model = Model()
    prompts = [f"hold {'x' * i}" for i in range(24)]
    seen: list[str] = []
    results = await run_batch(model.agent(), prompts, concurrency=6,
                              on_result=lambda r: seen.append(r.id))
    assert [r.output for r in results] == [f"echo: {p}" for p in prompts]
    assert [(r.id, r.index) for r in results] == [(str(i), i) for i in range(24)]
    assert all(r.ok and r.error is None and not r.paused for r in results)
    assert all(r.usage.requests == 2 and r.usage.tool_calls == 1 for r in results)
    assert sorted(seen, key=int) == [str(i) for i in range(24)]
    assert seen != sorted(seen, key=int)  # each was reported as it finished
    assert model.most_in_flight == 6


async def test_explicit_ids_and_deps_are_kept() -> None:
    model = Model()
    systems: list[str] = []

    def policy(body: Mapping[str, Any]) -> SimReply:
        systems.append(body["messages"][0]["content"])
        return model.policy(body)

    agent = Agent("grok-4", client=GrokClient.simulated(policy), instructions="Deps: {{ deps }}")
    reported: list[str] = []

    async def record(result: BatchResult[Any]) -> None:  # an async on_result is awaited
        await anyio.lowlevel.checkpoint()
        reported.append(result.id)

    results = await run_batch(agent, [BatchInput("a", id="first", deps={"k": 1}), "b",
                                      BatchInput([{"role": "user", "content": "c"}])],
                              on_result=record, concurrency=1)
    assert [(r.id, r.output) for r in results] == [("first", "echo: a"), ("1", "echo: b"),
                                                   ("2", "echo: c")]
    assert reported == ["first", "1", "2"]
    assert systems == ["Deps: {'k': 1}", "Deps: None", "Deps: None"]


async def test_a_failing_run_is_recorded_and_the_others_go_on() -> None:
    model = Model()
    results = await run_batch(model.agent(max_turns=2), ["one", "please fail", "three"],
                              concurrency=2)
    assert [r.output for r in results] == ["echo: one", None, "echo: three"]
    failed = results[1]
    assert failed.error is not None and failed.error.startswith("MaxTurnsExceeded: ")
    assert "\n" not in failed.error and not failed.ok and not failed.paused
    # What the failed run spent is still counted.
    assert failed.usage.requests == 2 and failed.usage.tool_calls == 2


async def test_a_paused_run_is_an_error_naming_what_it_waits_for() -> None:
    results = await run_batch(Model().agent(), ["refund order 1042", "hello"])
    paused = results[0]
    assert paused.paused and paused.output is None
    assert paused.error == 'paused: waits for approval of refund({"order": 1042})'
    assert paused.usage.requests == 1
    assert results[1].ok and results[1].output == "echo: hello"


async def test_duplicate_ids_in_a_sequence_fail_before_anything_runs() -> None:
    model = Model()
    with pytest.raises(UserError, match=r"batch inputs 0 and 2 have the same id 'a'"):
        await run_batch(model.agent(), [BatchInput("x", id="a"), "y", BatchInput("z", id="a")])
    # A default id is the position, so it can clash with an explicit one too.
    with pytest.raises(UserError, match=r"batch inputs 1 and 2 have the same id '1'"):
        await run_batch(model.agent(), ["x", "y", BatchInput("z", id="1")])
    assert model.requests == []


async def test_a_duplicate_id_from_a_lazy_iterator_stops_the_feed_after_the_runs_in_flight() -> None:
    model = Model()
    seen: list[str] = []

    def inputs() -> Iterator[BatchInput]:
        yield BatchInput("one", id="a")
        yield BatchInput("two", id="b")
        yield BatchInput("three", id="a")
        yield BatchInput("four", id="c")

    with pytest.raises(UserError, match=r"batch input 2 repeats the id 'a'"):
        await run_batch(model.agent(), inputs(), concurrency=1,
                        on_result=lambda r: seen.append(r.id))
    assert seen == ["a", "b"]  # what ran was reported; nothing after the bad item started
    assert model.requests == ["one", "two"]


async def test_an_input_iterator_that_raises_stops_the_batch_with_its_error() -> None:
    model = Model()

    def inputs() -> Iterator[str]:
        yield "one"
        raise RuntimeError("the source broke")

    with pytest.raises(RuntimeError, match="the source broke"):
        await run_batch(model.agent(), inputs(), concurrency=4)
    assert model.requests == ["one"]


@pytest.mark.parametrize("concurrency", [0, -3, 1.5, True])
async def test_concurrency_must_be_a_positive_integer(concurrency: Any) -> None:
    with pytest.raises(ConfigurationError, match="concurrency must be an integer of at least 1"):
        await run_batch(Model().agent(), ["x"], concurrency=concurrency)


async def test_inputs_of_the_wrong_kind_are_user_errors() -> None:
    agent = Model().agent()
    with pytest.raises(UserError, match="not one str; wrap a single prompt in a list"):
        await run_batch(agent, "just one prompt")
    with pytest.raises(UserError, match=r"batch input 1 is a int; give a str prompt"):
        await run_batch(agent, ["x", 5])  # type: ignore[list-item]
    with pytest.raises(UserError, match="ids are strings"):
        await run_batch(agent, [BatchInput("x", id=7)])  # type: ignore[arg-type]
    assert await run_batch(agent, []) == []


async def test_an_on_result_that_raises_cancels_the_batch_and_is_raised() -> None:
    model = Model()

    def broken(result: BatchResult[Any]) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        await run_batch(model.agent(), [f"hold {i}" for i in range(20)], concurrency=4,
                        on_result=broken)
    assert model.requests.count("hold 10") == 0  # the rest never started
    assert model.in_flight == 0


async def test_cancelling_the_batch_cancels_the_runs_in_flight() -> None:
    model = Model(hold_seconds=10.0)
    started = time.monotonic()
    with anyio.move_on_after(0.3):
        await run_batch(model.agent(), [f"hold {i}" for i in range(10)], concurrency=3)
    assert time.monotonic() - started < 3
    assert model.cancelled == 3 and model.in_flight == 0


async def test_a_big_lazy_batch_holds_only_concurrency_runs_and_tasks() -> None:
    model = Model()
    agent = Agent("grok-4", client=GrokClient.simulated(model.policy))
    taken = finished = most_ahead = most_tasks = 0

    @agent.output_validator
    async def pause(output: str) -> str:
        # One wait per run: in-process runs that never wait would never overlap.
        model.in_flight += 1
        model.most_in_flight = max(model.most_in_flight, model.in_flight)
        await anyio.lowlevel.checkpoint()
        model.in_flight -= 1
        return output

    def inputs() -> Iterator[str]:
        nonlocal taken, most_ahead, most_tasks
        for i in range(2000):
            # Read only when a worker is free: what is read but not finished is in flight.
            most_ahead = max(most_ahead, taken - finished)
            most_tasks = max(most_tasks, len(asyncio.all_tasks()))
            taken += 1
            yield f"p{i}"

    def done(result: BatchResult[Any]) -> None:
        nonlocal finished
        finished += 1

    results = await run_batch(agent, inputs(), concurrency=50, on_result=done)
    assert len(results) == 2000 and finished == 2000
    assert all(r.output == f"echo: p{i}" for i, r in enumerate(results))
    assert 40 <= most_ahead <= 50 and 40 <= model.most_in_flight <= 50  # reached, not passed
    assert most_tasks <= 50 + 5  # the workers, the test's own task and a few of the loop's
