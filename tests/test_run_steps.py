"""`agent.iter` (stopping after every kind of step and resuming), per-run overrides, tool
`prepare` functions, output functions and `Agent.as_tool`, through the real client on the
simulated server."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from pydantic import BaseModel

from agentkit import (
    Agent,
    GrokClient,
    ModelRequestStep,
    ModelResponseStep,
    ModelRetry,
    OutputStep,
    PausedStep,
    RunContext,
    RunState,
    ToolResultsStep,
    UsageLimitExceeded,
    UsageLimits,
    UserError,
    tool,
)
from agentkit.errors import ConfigurationError, ToolDefinitionError
from agentkit.sim.reply import SimReply, SimToolCall

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("both_apis")]


def call(name: str, **arguments: Any) -> SimToolCall:
    return SimToolCall(name, json.dumps(arguments))


class Counter:
    def __init__(self) -> None:
        self.runs: dict[str, int] = {}

    def hit(self, name: str) -> None:
        self.runs[name] = self.runs.get(name, 0) + 1


def two_turn_agent(counter: Counter, client: GrokClient) -> Agent[Any, str]:
    @tool
    def lookup(city: str) -> str:
        """Look a city up.

        Args:
            city: The city.
        """
        counter.hit(f"lookup:{city}")
        return f"{city} is sunny"

    return Agent("grok-4", name="weather", tools=[lookup], client=client)


def two_turn_model(body: Mapping[str, Any]) -> SimReply:
    """Looks up Paris and Rome in parallel, then Oslo, then answers."""
    results = [m["content"] for m in body["messages"] if m["role"] == "tool"]
    if not results:
        return SimReply(tool_calls=(call("lookup", city="Paris"), call("lookup", city="Rome")))
    if len(results) == 2:
        return SimReply(tool_calls=(call("lookup", city="Oslo"),))
    return SimReply(content="; ".join(results))


async def test_iter_yields_every_kind_of_step_in_order() -> None:
    counter = Counter()
    async with GrokClient.simulated(two_turn_model) as client:
        agent = two_turn_agent(counter, client)
        async with agent.iter("weather?") as run:
            kinds = [step.kind async for step in run]
        result = run.result
    assert kinds == [
        "model_request", "model_response", "tool_results",
        "model_request", "model_response", "tool_results",
        "model_request", "model_response", "output",
    ]
    assert result.output == "Paris is sunny; Rome is sunny; Oslo is sunny"


@pytest.mark.parametrize("stop_after", range(8))
async def test_stopping_after_any_step_and_resuming_gives_the_same_run(stop_after: int) -> None:
    counter = Counter()
    async with GrokClient.simulated(two_turn_model) as client:
        agent = two_turn_agent(counter, client)
        async with agent.iter("weather?") as run:
            index = 0
            async for step in run:
                if index == stop_after:
                    assert step.state is not None
                    saved = step.state.to_json()
                    stopped_at = step
                    break
                index += 1
        # A fresh agent object, as another process would have.
        again = two_turn_agent(counter, client)
        result = await again.run(state=RunState.from_json(saved))
    assert result.output == "Paris is sunny; Rome is sunny; Oslo is sunny"
    assert counter.runs == {"lookup:Paris": 1, "lookup:Rome": 1, "lookup:Oslo": 1}, stopped_at
    assert result.usage.requests == 3 and result.usage.tool_calls == 3


async def test_step_contents_and_states_are_snapshots() -> None:
    counter = Counter()
    async with GrokClient.simulated(two_turn_model) as client:
        agent = two_turn_agent(counter, client)
        steps = []
        async with agent.iter("weather?") as run:
            async for step in run:
                steps.append(step)
    request, response, results = steps[0], steps[1], steps[2]
    assert isinstance(request, ModelRequestStep) and request.turn == 1
    assert isinstance(response, ModelResponseStep)
    assert [c.function.name for c in response.tool_calls] == ["lookup", "lookup"]
    assert isinstance(results, ToolResultsStep)
    assert [r.result for r in results.results] == ["Paris is sunny", "Rome is sunny"]
    assert isinstance(steps[-1], OutputStep)
    # Each state is the run as it was then, not as it ended.
    assert request.state is not None and request.state.turns == 0
    assert response.state is not None and response.state.messages[-1]["role"] == "assistant"
    assert results.state is not None and len(results.state.messages) == len(response.state.messages) + 2
    assert steps[-1].state is not None and steps[-1].state.finished


async def test_iter_pauses_for_approval_and_records_no_partial_session() -> None:
    @tool(requires_approval=True)
    def delete(path: str) -> str:
        """Delete a file.

        Args:
            path: The file.
        """
        return f"deleted {path}"

    def model(body: Mapping[str, Any]) -> SimReply:
        if body["messages"][-1]["role"] == "tool":
            return SimReply(content=body["messages"][-1]["content"])
        return SimReply(tool_calls=(call("delete", path="a.txt"),))

    async with GrokClient.simulated(model) as client:
        agent = Agent("grok-4", tools=[delete], client=client)
        async with agent.iter("clean up") as run:
            steps = [step async for step in run]
        assert isinstance(steps[-1], PausedStep)
        assert run.result.paused
        state = steps[-1].state
        assert state is not None
        state.approve_all()
        done = await agent.run(state=state)
    assert done.output == "deleted a.txt"


async def test_iter_errors_carry_the_state_and_the_result_needs_an_end() -> None:
    async with GrokClient.simulated(two_turn_model) as client:
        agent = two_turn_agent(Counter(), client)
        with pytest.raises(UserError, match="has not started"):
            _ = agent.iter("x").state
        async with agent.iter("weather?", max_turns=1) as run:
            with pytest.raises(UserError, match="has not ended"):
                _ = run.result
            with pytest.raises(Exception, match="max_turns=1") as info:
                async for _ in run:
                    pass
    assert getattr(info.value, "state", None) is not None


# -- per-run overrides ---------------------------------------------------------------------


class Recorder:
    def __init__(self, reply: SimReply | None = None) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.reply = reply or SimReply(content="ok")

    def __call__(self, body: Mapping[str, Any]) -> SimReply:
        self.bodies.append(dict(body))
        return self.reply


@tool
def alpha(x: int) -> int:
    """Alpha.

    Args:
        x: X.
    """
    return x


@tool
def beta(x: int) -> int:
    """Beta.

    Args:
        x: X.
    """
    return x


def tool_names(body: Mapping[str, Any]) -> list[str]:
    return [t["function"]["name"] for t in body.get("tools", [])]


async def test_per_run_model_settings_tools_and_limits() -> None:
    recorder = Recorder()
    async with GrokClient.simulated(recorder) as client:
        agent = Agent("grok-4", tools=[alpha], client=client, model_settings={"temperature": 0.1, "max_tokens": 50})
        await agent.run("a")
        await agent.run("b", model="grok-3-mini", model_settings={"temperature": 0.9})
        await agent.run("c", tools=[beta])
        await agent.run("d", tools=[beta], replace_tools=True)
        await agent.run("e")  # the overrides did not stick
        with pytest.raises(UsageLimitExceeded):
            await agent.run("f", usage_limits=UsageLimits(request_limit=0))
        with pytest.raises(ConfigurationError, match="max_turns must be at least 1"):
            await agent.run("g", max_turns=0)
        with pytest.raises(ConfigurationError, match="may not set messages"):
            await agent.run("h", model_settings={"messages": []})
        with pytest.raises(ToolDefinitionError, match="two tools are named 'alpha'"):
            await agent.run("i", tools=[tool(beta.function, name="alpha")])
    first, second, third, fourth, fifth = recorder.bodies
    assert (first["model"], first["temperature"], first["max_tokens"]) == ("grok-4", 0.1, 50)
    assert (second["model"], second["temperature"], second["max_tokens"]) == ("grok-3-mini", 0.9, 50)
    assert tool_names(third) == ["alpha", "beta"]
    assert tool_names(fourth) == ["beta"]
    assert (fifth["model"], fifth["temperature"], tool_names(fifth)) == ("grok-4", 0.1, ["alpha"])


class City(BaseModel):
    name: str
    country: str


async def test_per_run_output_type() -> None:
    recorder = Recorder(SimReply(content='{"name": "Paris", "country": "France"}'))
    async with GrokClient.simulated(recorder) as client:
        agent = Agent("grok-4", client=client)
        result = await agent.run("where?", output_type=City)
        assert result.output == City(name="Paris", country="France")
        text = await agent.run("again")
        assert text.output == '{"name": "Paris", "country": "France"}'
    assert "response_format" in recorder.bodies[0] and "response_format" not in recorder.bodies[1]


async def test_run_sync_takes_the_same_options() -> None:
    recorder = Recorder(SimReply(content='{"name": "Oslo", "country": "Norway"}'))
    agent = Agent("grok-4", client=GrokClient.simulated(recorder))
    # A script's thread: no event loop runs there.
    result = await anyio.to_thread.run_sync(
        lambda: agent.run_sync("where?", output_type=City, model="grok-3")
    )
    assert result.output.country == "Norway"
    assert recorder.bodies[0]["model"] == "grok-3"


# -- prepare -------------------------------------------------------------------------------


async def test_prepare_hides_a_tool_or_edits_its_definition_per_turn() -> None:
    def only_for_admins(ctx: RunContext[dict[str, bool]], definition: dict[str, Any]) -> dict[str, Any] | None:
        return definition if ctx.deps["admin"] else None

    async def louder(ctx: RunContext[Any], definition: dict[str, Any]) -> dict[str, Any]:
        function = dict(definition["function"], description=f"turn {len(ctx.messages)}")
        return {**definition, "function": function}

    @tool(prepare=only_for_admins)
    def shutdown() -> str:
        """Shut the system down."""
        return "down"

    @tool(prepare=louder)
    def status() -> str:
        """Report the status."""
        return "up"

    recorder = Recorder(SimReply(tool_calls=(SimToolCall("shutdown", "{}"),)))
    async with GrokClient.simulated(recorder) as client:
        agent = Agent("grok-4", tools=[shutdown, status], client=client, max_turns=2)
        with pytest.raises(Exception, match="max_turns"):
            await agent.run("stop it", deps={"admin": False})
        hidden = recorder.bodies[:]
        recorder.bodies.clear()
        recorder.reply = SimReply(content="fine")
        await agent.run("stop it", deps={"admin": True})
    assert [tool_names(b) for b in hidden] == [["status"], ["status"]]
    # The hidden tool was called anyway: the model is told it has no such tool, nothing ran.
    assert "there is no tool named 'shutdown'" in hidden[1]["messages"][-1]["content"]
    assert hidden[0]["tools"][0]["function"]["description"] == "turn 1"
    assert tool_names(recorder.bodies[0]) == ["shutdown", "status"]


async def test_prepare_must_keep_the_name() -> None:
    @tool(prepare=lambda ctx, d: {"type": "function", "function": {"name": "other"}})
    def thing() -> str:
        """A thing."""
        return "x"

    async with GrokClient.simulated(Recorder()) as client:
        with pytest.raises(UserError, match="prepare function of tool 'thing' must return its definition"):
            await Agent("grok-4", tools=[thing], client=client).run("go")


# -- output functions ----------------------------------------------------------------------


class Ticket(BaseModel):
    title: str
    priority: int


def open_ticket(title: str, priority: int) -> Ticket:
    """Open a support ticket.

    Args:
        title: What it is about.
        priority: 1 (urgent) to 4.
    """
    if not 1 <= priority <= 4:
        raise ModelRetry("priority must be between 1 and 4")
    return Ticket(title=title, priority=priority)


async def open_ticket_async(title: str, priority: int) -> Ticket:
    """Open a support ticket.

    Args:
        title: What it is about.
        priority: 1 (urgent) to 4.
    """
    await anyio.lowlevel.checkpoint()
    return open_ticket(title, priority)


@pytest.mark.parametrize("function", [open_ticket, open_ticket_async])
@pytest.mark.parametrize("mode", ["native", "tool", "prompted"])
async def test_output_functions_sync_and_async_with_model_retry(function: Any, mode: Any) -> None:
    answers = [{"title": "Printer on fire", "priority": 9}, {"title": "Printer on fire", "priority": "x"},
               {"title": "Printer on fire", "priority": 1}]

    def model(body: Mapping[str, Any]) -> SimReply:
        answer = json.dumps(answers[len([m for m in body["messages"] if m["role"] in ("user", "tool")]) - 1])
        if mode == "tool":
            return SimReply(tool_calls=(SimToolCall(function.__name__, answer),))
        return SimReply(content=answer)

    async with GrokClient.simulated(model) as client:
        agent = Agent("grok-4", output_type=function, output_mode=mode, client=client, output_retries=3)
        with anyio.fail_after(5):
            result = await agent.run("The printer is on fire")
    assert result.output == Ticket(title="Printer on fire", priority=1)
    feedback = [m["content"] for m in result.messages if m["role"] in ("user", "tool")][1:]
    assert "priority must be between 1 and 4" in feedback[0]
    assert "priority" in feedback[1] and "integer" in feedback[1]


async def test_output_function_schema_is_its_signature() -> None:
    recorder = Recorder(SimReply(content='{"title": "t", "priority": 2}'))
    async with GrokClient.simulated(recorder) as client:
        result = await Agent("grok-4", output_type=open_ticket, client=client).run("x")
    assert result.output == Ticket(title="t", priority=2)
    schema = recorder.bodies[0]["response_format"]["json_schema"]
    assert schema["name"] == "open_ticket"
    assert set(schema["schema"]["properties"]) == {"title", "priority"}


# -- agents as tools -----------------------------------------------------------------------


async def test_as_tool_adds_the_inner_usage_and_keeps_its_messages() -> None:
    def translator(body: Mapping[str, Any]) -> SimReply:
        return SimReply(content=body["messages"][-1]["content"].upper())

    def boss(body: Mapping[str, Any]) -> SimReply:
        last = body["messages"][-1]
        if last["role"] == "tool":
            return SimReply(content=f"The translator said: {last['content']}")
        return SimReply(tool_calls=(call("translate", request="bonjour"),))

    async with GrokClient.simulated(translator) as inner_client, GrokClient.simulated(boss) as outer_client:
        inner = Agent("grok-4", name="translate", instructions="Translate.", client=inner_client)
        outer = Agent("grok-4", tools=[inner.as_tool(description="Translates text.")], client=outer_client)
        result = await outer.run("Translate bonjour")
        alone = await inner.run("bonjour")
    assert result.output == "The translator said: BONJOUR"
    assert result.usage.requests == 2 + alone.usage.requests
    assert result.usage.total_tokens > alone.usage.total_tokens
    assert result.usage.tool_calls == 1
    [(call_id, sub)] = result.sub_results.items()
    assert sub.output == "BONJOUR"
    assert [m["role"] for m in sub.messages] == ["system", "user", "assistant"]
    assert call_id == result.messages[1]["tool_calls"][0]["id"]
    definition = outer.tools[0].definition()
    assert definition["function"]["description"] == "Translates text."
    assert list(definition["function"]["parameters"]["properties"]) == ["request"]


def test_as_tool_needs_a_name() -> None:
    with pytest.raises(ConfigurationError, match="as_tool\\(\\) needs a name"):
        Agent("grok-4").as_tool()
