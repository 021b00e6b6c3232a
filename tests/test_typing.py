"""Static types users rely on, checked by `mypy --strict` in CI (`assert_type` is a no-op at
run time, so pytest runs the same code for real on a scripted model).

A line marked `# type: ignore[...]` must be an error: under `--strict`, mypy reports an ignore
that is not needed, so these lines fail CI if the types ever stop catching the mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, assert_type

import pytest
from pydantic import BaseModel

from agentkit import Agent, AgentIter, AgentStream, RunContext, RunResult, RunState, tool
from agentkit.testing import ScriptedModel, call

pytestmark = pytest.mark.anyio


@dataclass
class Deps:
    user: str


class City(BaseModel):
    name: str


@tool
def whoami(ctx: RunContext[Deps]) -> str:
    """Say who is asking."""
    assert_type(ctx.deps, Deps)
    return ctx.deps.user


def city(name: str) -> City:
    """Make a city.

    Args:
        name: Its name.
    """
    return City(name=name)


async def make_city(name: str) -> City:
    """Make a city, asynchronously.

    Args:
        name: Its name.
    """
    return City(name=name)


async def test_deps_type_and_output_type_flow_into_runs() -> None:
    model = ScriptedModel([call("whoami"), "hello ada"])
    agent = Agent("grok-4", deps_type=Deps, tools=[whoami], client=model)
    assert_type(agent, Agent[Deps, str])
    result = await agent.run("who am I?", deps=Deps("ada"))
    assert_type(result, RunResult[str])
    assert_type(result.output, str)
    assert result.output == "hello ada"
    assert_type(result.state, RunState)

    async def wrong_deps() -> None:  # type-checked, never run: the wrong deps are an error
        await agent.run("x", deps="ada")  # type: ignore[call-overload]

    assert callable(wrong_deps)


async def test_structured_agents_and_per_run_output_types() -> None:
    agent = Agent("grok-4", output_type=City, client=ScriptedModel(['{"name": "Oslo"}'] * 4))
    assert_type(agent, Agent[Any, City])
    out = await agent.run("where?")
    assert_type(out.output, City)
    as_text = await agent.run("where?", output_type=str)
    assert_type(as_text.output, str)
    from_function = await agent.run("where?", output_type=city)
    assert_type(from_function.output, City)
    from_async = await agent.run("where?", output_type=make_city)
    assert_type(from_async.output, City)
    assert from_async.output == City(name="Oslo")


async def test_function_output_agents_and_streams_and_iter() -> None:
    agent = Agent("grok-4", deps_type=Deps, output_type=make_city,
                  client=ScriptedModel(['{"name": "Rome"}'] * 2))
    assert_type(agent, Agent[Deps, City])
    stream = agent.run_stream("where?", deps=Deps("x"))
    assert_type(stream, AgentStream[City])
    async with stream:
        assert_type(await stream.get_result(), RunResult[City])
    steps = agent.iter("where?", deps=Deps("x"))
    assert_type(steps, AgentIter[City])
    async with steps as run:
        async for _ in run:
            pass
    assert_type(run.result.output, City)
    assert run.result.output == City(name="Rome")
