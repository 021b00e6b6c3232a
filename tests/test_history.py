"""History processors and context-window policies (`agentkit.history`), end to end through
the real client and a simulator whose model has a small context window."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from agentkit import Agent, ContextWindowExceeded, GrokClient, RunContext, RunState, UserError
from agentkit.errors import ConfigurationError
from agentkit.history import (
    Compact,
    DropOldest,
    RaiseOnOverflow,
    Summarize,
    estimate_tokens,
    parse_overflow,
    turns,
)
from agentkit.sim import SimCore, SimTransport, SimulatedModel
from agentkit.sim.models import MODELS

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("both_apis")]

WINDOW = 1500


class Recorder:
    """The simulated model, writing down every request body it is asked."""

    def __init__(self) -> None:
        self.inner = SimulatedModel()
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, body: dict[str, Any]) -> Any:
        self.bodies.append(body)
        return self.inner(body)


def small_window_client(recorder: Recorder) -> GrokClient:
    models = [dataclasses.replace(m, context_window=WINDOW) if m.id == "grok-4.3" else m
              for m in MODELS]
    return GrokClient.simulated(transport=SimTransport(SimCore(recorder, models=models)))


def long_history(rounds: int = 12) -> list[dict[str, Any]]:
    """An earlier conversation with a tool call and a long result in every round."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You are a travel helper."}]
    for index in range(rounds):
        call_id = f"call_{index:04d}"
        messages += [
            {"role": "user", "content": f"What is the weather in city number {index}?"},
            {"role": "assistant", "content": "", "tool_calls": [{
                "id": call_id, "type": "function",
                "function": {"name": "get_weather", "arguments": json.dumps({"city": index})},
            }]},
            {"role": "tool", "tool_call_id": call_id,
             "content": f"City {index}: " + "sunny and mild with a light breeze, " * 12},
            {"role": "assistant", "content": f"City {index} is sunny and mild."},
        ]
    return messages


def assert_pairs_whole(messages: list[dict[str, Any]]) -> None:
    """Every tool result follows the assistant message that called it."""
    open_calls: set[str] = set()
    for message in messages:
        if message.get("role") == "assistant":
            open_calls = {c["id"] for c in message.get("tool_calls") or []}
        elif message.get("role") == "tool":
            assert message["tool_call_id"] in open_calls, "a tool result lost its call"


# -- pure parts ------------------------------------------------------------------------------


def test_turns_keep_tool_calls_with_their_results() -> None:
    system, groups = turns(long_history(2))
    assert [m["role"] for m in system] == ["system"]
    assert [[m["role"] for m in g] for g in groups] == [
        ["user"], ["assistant", "tool"], ["assistant"], ["user"], ["assistant", "tool"], ["assistant"],
    ]


def test_overflow_messages_in_the_forms_servers_write() -> None:
    assert parse_overflow("This model's maximum prompt length is 131072 but the request "
                          "contains 144606 tokens.") == (131072, 144606)
    assert parse_overflow("This model's maximum context length is 8192 tokens. However, your "
                          "messages resulted in 9000 tokens.") == (8192, 9000)
    assert parse_overflow("Incorrect API key provided") is None


def test_the_estimate_grows_with_the_conversation_and_the_tools() -> None:
    short, long = long_history(1), long_history(4)
    assert 0 < estimate_tokens(short) < estimate_tokens(long)
    assert estimate_tokens(short, [{"type": "function", "function": {"name": "x"}}]) > estimate_tokens(short)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: DropOldest(window=0), "window must be a positive"),
        (lambda: DropOldest(reserve=-1), "reserve must be 0 or more"),
        (lambda: DropOldest(window=100, reserve=100), "leaves nothing of the window"),
        (lambda: DropOldest(count="exact"), "count must be 'estimate' or 'tokenize'"),
        (lambda: Summarize(keep_fraction=1.5), "keep_fraction must be between 0 and 1"),
    ],
)
def test_bad_policy_options_say_what_to_change(make: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        make()


def test_an_agent_refuses_what_is_not_a_policy_or_a_function() -> None:
    with pytest.raises(ConfigurationError, match="context must be a policy"):
        Agent("grok-4.3", context="drop")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="history_processors takes functions"):
        Agent("grok-4.3", history_processors=[42])  # type: ignore[list-item]


# -- end to end ------------------------------------------------------------------------------


async def test_without_a_policy_the_servers_400_becomes_context_window_exceeded_with_state() -> None:
    recorder = Recorder()
    agent = Agent("grok-4.3", client=small_window_client(recorder))
    history = long_history()
    with pytest.raises(ContextWindowExceeded) as raised:
        await agent.run("And in city 99?", message_history=history)
    error = raised.value
    assert error.window == WINDOW and error.tokens > WINDOW
    assert "Agent(context=DropOldest())" in str(error)
    assert error.state is not None and len(error.state.messages) == len(history) + 1
    assert recorder.bodies == []  # the simulator refused before its model saw anything
    # The state resumes on an agent that can fit it; nothing of the conversation was lost.
    fitting = Agent("grok-4.3", client=small_window_client(recorder), context=DropOldest())
    result = await fitting.run(state=RunState.from_json(error.state.to_json()))
    assert result.output
    assert result.messages[: len(history)] == history


async def test_drop_oldest_learns_the_window_from_the_server_and_keeps_pairs_whole() -> None:
    recorder = Recorder()
    client = small_window_client(recorder)
    agent = Agent("grok-4.3", client=client, context=DropOldest(reserve=200))
    history = long_history()
    result = await agent.run("And in city 99?", message_history=history)
    assert result.usage.requests == 2  # the refused one, then the fitted one
    sent = recorder.bodies[-1]["messages"]
    assert len(sent) < len(history)
    assert sent[0]["content"] == "You are a travel helper."
    assert "left out to fit the context window" in sent[1]["content"]
    assert sent[-1] == {"role": "user", "content": "And in city 99?"}
    assert_pairs_whole(sent)
    assert result.messages[: len(history)] == history  # the run keeps everything
    # The next run of the agent fits before sending: the window was learned.
    again = await agent.run("And in city 98?", message_history=result.messages)
    assert again.usage.requests == 1


async def test_drop_oldest_with_a_known_window_never_draws_the_400() -> None:
    recorder = Recorder()
    agent = Agent("grok-4.3", client=small_window_client(recorder),
                  context=DropOldest(window=WINDOW, reserve=300))
    result = await agent.run("And in city 99?", message_history=long_history())
    assert result.usage.requests == 1
    assert_pairs_whole(recorder.bodies[0]["messages"])


async def test_tool_calls_made_in_the_run_itself_stay_with_their_results() -> None:
    recorder = Recorder()

    def lookup(city: str) -> str:
        """Look up facts about a city."""
        return f"{city}: " + "a long and detailed description of the place, " * 6

    agent = Agent("grok-4.3", client=small_window_client(recorder), tools=[lookup],
                  context=DropOldest(window=WINDOW, reserve=300))
    result = await agent.run("Look up Paris, then Rome, then Oslo.",
                             message_history=long_history(6))
    assert result.output
    for body in recorder.bodies:
        assert_pairs_whole(body["messages"])
        assert body["messages"][-1]["role"] in ("user", "tool")


async def test_summarize_asks_the_model_once_and_reuses_the_summary() -> None:
    recorder = Recorder()
    agent = Agent("grok-4.3", client=small_window_client(recorder),
                  context=Summarize(window=WINDOW, reserve=300))
    history = long_history()
    result = await agent.run("And in city 99?", message_history=history)
    summary_asks = [b for b in recorder.bodies if "You compress conversations" in b["messages"][0]["content"]]
    assert len(summary_asks) == 1
    sent = recorder.bodies[-1]["messages"]
    assert sent[1]["content"].startswith("Summary of the earlier conversation:")
    assert_pairs_whole(sent)
    assert result.usage.requests == 2  # the summary is paid for like any request
    memo = result.state.context["context_policy"]
    assert memo["covers"] > 0 and memo["text"]
    # Resuming from the state reuses the summary rather than asking again.
    recorder.bodies.clear()
    state = RunState.from_json(result.state.to_json())
    state.messages.append({"role": "user", "content": "Thanks. And city 98?"})
    state.finished = False
    again = await agent.run(state=state)
    assert again.output
    assert not any("You compress conversations" in b["messages"][0]["content"] for b in recorder.bodies)


async def test_raise_on_overflow_sends_nothing_and_carries_the_state() -> None:
    recorder = Recorder()
    agent = Agent("grok-4.3", client=small_window_client(recorder),
                  context=RaiseOnOverflow(window=WINDOW, reserve=300))
    with pytest.raises(ContextWindowExceeded) as raised:
        await agent.run("And in city 99?", message_history=long_history())
    assert recorder.bodies == []
    assert raised.value.state is not None and raised.value.state.usage.requests == 0
    assert raised.value.window == WINDOW


async def test_a_last_message_too_long_for_any_window_is_a_clear_error() -> None:
    recorder = Recorder()
    agent = Agent("grok-4.3", client=small_window_client(recorder),
                  context=DropOldest(window=WINDOW, reserve=300))
    with pytest.raises(ContextWindowExceeded, match="even the last user message"):
        await agent.run("word " * 5000)


async def test_exact_counts_through_the_tokenizer() -> None:
    recorder = Recorder()
    agent = Agent("grok-4.3", client=small_window_client(recorder),
                  context=DropOldest(window=WINDOW, reserve=300, count="tokenize"))
    result = await agent.run("And in city 99?", message_history=long_history())
    assert result.usage.requests == 1
    scale = result.state.context["context_policy"]["scale"]
    assert 0 < scale < 1.0  # the local estimate is generous; the tokenizer says by how much


async def test_history_processors_shape_the_request_but_not_the_run() -> None:
    recorder = Recorder()
    seen: list[int] = []

    def last_four(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [messages[0], *messages[-4:]]

    async def note(ctx: RunContext[Any], messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen.append(len(messages))
        return messages

    agent = Agent("grok-4.3", client=small_window_client(recorder),
                  history_processors=[last_four, note])
    history = long_history()
    result = await agent.run("And in city 99?", message_history=history)
    assert seen == [5]
    assert len(recorder.bodies[0]["messages"]) == 5
    assert len(result.messages) == len(history) + 2


async def test_a_processor_that_returns_nothing_usable_is_named() -> None:
    agent = Agent("grok-4.3", client=GrokClient.simulated(), history_processors=[lambda m: None])
    with pytest.raises(UserError, match="must return a list of message dicts"):
        await agent.run("Hello")
    empty = Agent("grok-4.3", client=GrokClient.simulated(), history_processors=[lambda m: []])
    with pytest.raises(UserError, match="returned no messages"):
        await empty.run("Hello")


async def test_compact_on_the_responses_api_stands_the_servers_items_in_for_old_turns() -> None:
    recorder = Recorder()
    wire = _SeeingPaths(SimCore(recorder, models=_small_models()))
    client = GrokClient.simulated(transport=wire)
    agent = Agent("grok-4.3", api="responses", client=client,
                  context=Compact(window=WINDOW, reserve=300))
    history = long_history()
    result = await agent.run("And in city 99?", message_history=history)
    assert result.output
    assert wire.paths.count("/v1/responses/compact") == 1
    memo = result.state.context["context_policy"]
    assert memo["covers"] > 0 and memo["items"][0]["type"] == "compaction"
    sent = recorder.bodies[-1]["messages"]
    assert_pairs_whole(sent)
    assert sent[-1]["content"] == "And in city 99?"
    assert result.usage.requests == 2  # the compaction is paid for like any request
    assert result.messages[: len(history)] == history
    # Resuming reuses the compaction instead of asking again.
    state = RunState.from_json(result.state.to_json())
    state.messages.append({"role": "user", "content": "Thanks. And city 98?"})
    state.finished = False
    again = await agent.run(state=state)
    assert again.output
    # The kept compaction is reused while it still fits; a longer conversation compacts
    # again, over more turns.
    compactions = wire.paths.count("/v1/responses/compact")
    assert compactions in (1, 2)
    if compactions == 2:
        assert again.state.context["context_policy"]["covers"] > memo["covers"]


def test_compact_needs_the_responses_api() -> None:
    with pytest.raises(ConfigurationError, match="api='responses'"):
        Agent("grok-4.3", api="chat", context=Compact())


class _SeeingPaths(SimTransport):
    def __init__(self, core: SimCore) -> None:
        super().__init__(core)
        self.paths: list[str] = []

    async def handle_async_request(self, request: Any) -> Any:
        self.paths.append(request.url.path)
        return await super().handle_async_request(request)


def _small_models() -> list[Any]:
    return [dataclasses.replace(m, context_window=WINDOW) if m.id == "grok-4.3" else m
            for m in MODELS]
