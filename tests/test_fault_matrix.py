"""The fault matrix: every simulated fault, plain and streamed, against the client and an agent run.

`CELLS` is the specification: one row per (fault, mode, scope) with the outcome we promise,
either recovery within the retry budget after an exact number of HTTP requests, an exact
exception class, or (for content faults seen by the client alone) the spoiled answer returned
as it came. `docs/fault-matrix.md` is rendered from the same rows; `test_the_doc_matches_the_
matrix` keeps it true (`AGENTKIT_WRITE_FAULT_MATRIX=1 pytest tests/test_fault_matrix.py`
rewrites it).

Every cell runs on `SimTransport` behind `_Wire`, which counts requests and response streams
and keeps a fake clock: a first byte later than the request's read timeout raises httpx2's
`ReadTimeout` at once (what httpcore raises on a socket), so no cell really waits. After each
cell, every response the transport opened has been closed and no task is left behind.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import anyio
import anyio.lowlevel
import httpx2
import pytest
from pydantic import BaseModel, ValidationError

from agentkit._retry import RetryPolicy
from agentkit.agent import Agent
from agentkit.client import GrokClient
from agentkit.errors import (
    AgentRunError,
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    InternalServerError,
    QuotaExceededError,
    RateLimitError,
)
from agentkit.sim import SimCore, SimReply, SimTransport
from agentkit.sim.faults import parse_fault
from agentkit.tool import tool

Mode = Literal["plain", "stream"]
Scope = Literal["client", "agent"]

MODEL = "grok-4"
PROMPT = "Forecast for Paris, please: summary and high in Celsius."
TIMEOUT = 0.2  # the client's timeout; `slow` waits 1 s (on the fake clock) for its first byte
MAX_RETRIES = 2
DOC = Path(__file__).resolve().parent.parent / "docs" / "fault-matrix.md"
CONTENT_KINDS = frozenset({"bad_tool_args", "bad_output"})
BEGIN, END = "<!-- fault-matrix:begin -->", "<!-- fault-matrix:end -->"


class Forecast(BaseModel):
    city: str
    summary: str
    high_c: float


ANSWER = Forecast(city="Paris", summary="Rain", high_c=14.5)


@tool
def get_forecast(city: str) -> dict[str, Any]:
    """Get the weather forecast for a city.

    Args:
        city: The city.
    """
    return ANSWER.model_dump()


def forecaster(body: Mapping[str, Any]) -> SimReply:
    """A model that answers the forecast at once: a healthy run is one request."""
    return SimReply(content=ANSWER.model_dump_json())


# ------------------------------------------------------------------------------ the matrix


@dataclass(frozen=True)
class Recovered:
    """The call (or run) succeeds after exactly `requests` HTTP requests; the client retried
    each failure of class `retried`, or (None) nothing was retried: the agent sent the
    problem back to the model."""

    requests: int
    retried: type[APIError] | None = None

    def describe(self) -> str:
        done = f"recovered after {_requests(self.requests)}"
        if self.retried is None:
            return f"{done} (the error went back to the model)"
        return f"{done} (retried `{self.retried.__name__}`)"


@dataclass(frozen=True)
class Raises:
    """The call (or run) raises exactly `error`, after exactly `requests` HTTP requests."""

    error: type[Exception]
    requests: int
    match: str | None = None
    """A regex the message must match (the server's own words, say)."""

    def describe(self) -> str:
        return f"raises `{self.error.__name__}` after {_requests(self.requests)}"


@dataclass(frozen=True)
class ReturnsAsIs:
    """Not the client's business: the spoiled answer is returned as the server sent it."""

    what: str
    requests: int = 1

    def describe(self) -> str:
        return f"returns {self.what} as sent ({_requests(self.requests)})"


Outcome = Recovered | Raises | ReturnsAsIs


def _requests(n: int) -> str:
    return f"{n} request" + ("" if n == 1 else "s")


@dataclass(frozen=True)
class Cell:
    """One cell: the `x-sim-fault` value armed for the first request, where, and the promise.

    `bug` names a library bug that keeps the cell from holding (the test is a strict xfail).
    """

    fault: str
    mode: Mode
    scope: Scope
    outcome: Outcome
    bug: str | None = None

    @property
    def id(self) -> str:
        return f"{self.fault}-{self.mode}-{self.scope}"


BAD_JSON = ReturnsAsIs("the schema-breaking JSON")
BAD_ARGS = ReturnsAsIs("the malformed tool arguments")
SERVER_SAID = "stopped generating because of an internal error"

# fmt: off
CELLS: tuple[Cell, ...] = (
    # 429 with Retry-After: retried once, after waiting exactly what the server asked.
    Cell("429;retry_after=7", "plain",  "client", Recovered(2, RateLimitError)),
    Cell("429;retry_after=7", "plain",  "agent",  Recovered(2, RateLimitError)),
    Cell("429;retry_after=7", "stream", "client", Recovered(2, RateLimitError)),
    Cell("429;retry_after=7", "stream", "agent",  Recovered(2, RateLimitError)),
    # One 500: retried once.
    Cell("500", "plain",  "client", Recovered(2, InternalServerError)),
    Cell("500", "plain",  "agent",  Recovered(2, InternalServerError)),
    Cell("500", "stream", "client", Recovered(2, InternalServerError)),
    Cell("500", "stream", "agent",  Recovered(2, InternalServerError)),
    # A burst of two 503s: both retries are spent, the third request succeeds.
    Cell("503;count=2", "plain",  "client", Recovered(3, InternalServerError)),
    Cell("503;count=2", "plain",  "agent",  Recovered(3, InternalServerError)),
    Cell("503;count=2", "stream", "client", Recovered(3, InternalServerError)),
    Cell("503;count=2", "stream", "agent",  Recovered(3, InternalServerError)),
    # A burst of three 503s outlasts the budget: the last error is raised, nothing more sent.
    Cell("503;count=3", "plain",  "client", Raises(InternalServerError, 3)),
    Cell("503;count=3", "plain",  "agent",  Raises(InternalServerError, 3)),
    Cell("503;count=3", "stream", "client", Raises(InternalServerError, 3)),
    Cell("503;count=3", "stream", "agent",  Raises(InternalServerError, 3)),
    # Credits exhausted: a 429 that no wait will cure, never retried.
    Cell("credits", "plain",  "client", Raises(QuotaExceededError, 1)),
    Cell("credits", "plain",  "agent",  Raises(QuotaExceededError, 1)),
    Cell("credits", "stream", "client", Raises(QuotaExceededError, 1)),
    Cell("credits", "stream", "agent",  Raises(QuotaExceededError, 1)),
    # The connection drops: before any byte of a plain response (retried), or after the
    # first chunks of a stream (already handed to the caller: never retried).
    Cell("drop", "plain",  "client", Recovered(2, APIConnectionError)),
    Cell("drop", "plain",  "agent",  Recovered(2, APIConnectionError)),
    Cell("drop", "stream", "client", Raises(APIConnectionError, 1)),
    Cell("drop", "stream", "agent",  Raises(APIConnectionError, 1)),
    # Truncation: a plain body cut in half is not a ChatCompletion; a stream that ends with
    # neither finish_reason nor [DONE] is a broken connection (after yielding: not retried).
    Cell("truncate", "plain",  "client", Raises(APIResponseValidationError, 1)),
    Cell("truncate", "plain",  "agent",  Raises(APIResponseValidationError, 1)),
    Cell("truncate", "stream", "client", Raises(APIConnectionError, 1)),
    Cell("truncate", "stream", "agent",  Raises(APIConnectionError, 1)),
    # An error object in a 200: in a stream an `event: error` (never retried). As a plain
    # body it is the server's error too, as the stream decoder already treats a data line
    # holding {"error": ...}: the class `make_status_error` gives a 200, with the server's
    # message, not a complaint that `choices` is missing.
    Cell("inband_error", "plain",  "client", Raises(APIStatusError, 1, SERVER_SAID)),
    Cell("inband_error", "plain",  "agent",  Raises(APIStatusError, 1, SERVER_SAID)),
    Cell("inband_error", "stream", "client", Raises(APIStreamError, 1, SERVER_SAID)),
    Cell("inband_error", "stream", "agent",  Raises(APIStreamError, 1, SERVER_SAID)),
    # The first byte comes later than the client's timeout: a timeout, retried once.
    Cell("slow;delay=1", "plain",  "client", Recovered(2, APITimeoutError)),
    Cell("slow;delay=1", "plain",  "agent",  Recovered(2, APITimeoutError)),
    Cell("slow;delay=1", "stream", "client", Recovered(2, APITimeoutError)),
    Cell("slow;delay=1", "stream", "agent",  Recovered(2, APITimeoutError)),
    # Malformed tool arguments: the client returns them; the agent sends the error back to
    # the model (within tool_retries), which answers on the next turn.
    Cell("bad_tool_args", "plain",  "client", BAD_ARGS),
    Cell("bad_tool_args", "plain",  "agent",  Recovered(2)),
    Cell("bad_tool_args", "stream", "client", BAD_ARGS),
    Cell("bad_tool_args", "stream", "agent",  Recovered(2)),
    # An answer that breaks the output schema: the client returns it; the agent sends the
    # validation errors back (within output_retries), and the next answer validates.
    Cell("bad_output", "plain",  "client", BAD_JSON),
    Cell("bad_output", "plain",  "agent",  Recovered(2)),
    Cell("bad_output", "stream", "client", BAD_JSON),
    Cell("bad_output", "stream", "agent",  Recovered(2)),
)
# fmt: on


# ------------------------------------------------------------------------------ the wire


class _Counted(httpx2.AsyncByteStream):
    """A response body that tells the wire when it is closed."""

    def __init__(self, inner: httpx2.AsyncByteStream, wire: _Wire) -> None:
        self._inner = inner
        self._wire = wire
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._wire.closed += 1
        await self._inner.aclose()


class _Wire(httpx2.AsyncBaseTransport):
    """`SimTransport` with a request counter, a response-stream meter and a fake clock."""

    def __init__(self, core: SimCore) -> None:
        self.requests = 0
        self.opened = 0
        self.closed = 0
        self.waited: list[float] = []
        self._request: httpx2.Request | None = None
        self._inner = SimTransport(core, sleep=self._sleep)

    async def _sleep(self, seconds: float) -> None:
        # What a socket read with a timeout does when the bytes come too late, minus the wait.
        assert self._request is not None
        read_timeout = self._request.extensions.get("timeout", {}).get("read")
        if read_timeout is not None and seconds > read_timeout:
            raise httpx2.ReadTimeout("timed out waiting for the first byte", request=self._request)
        self.waited.append(seconds)
        await anyio.lowlevel.checkpoint()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.requests += 1
        self._request = request
        response = await self._inner.handle_async_request(request)
        self.opened += 1
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        return httpx2.Response(
            response.status_code,
            headers=response.headers,
            stream=_Counted(response.stream, self),
            request=request,
            extensions=response.extensions,
        )


# ------------------------------------------------------------------------------ one cell


@dataclass
class _RecordingPolicy(RetryPolicy):
    """A retry policy that remembers each failure it computed a wait for."""

    failures: list[BaseException] = field(default_factory=list)

    def delay(self, attempt: int, error: BaseException | None) -> float:
        assert error is not None
        self.failures.append(error)
        return super().delay(attempt, error)


@dataclass
class _Run:
    """What a cell produced: a value, or the exception that ended it."""

    value: Any = None
    error: BaseException | None = None


def _request_body() -> dict[str, Any]:
    """The request an agent run sends first, so the client cells see the same faults."""
    return {
        "model": MODEL,
        "messages": [{"role": "user", "content": PROMPT}],
        "tools": [get_forecast.definition("grok")],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "Forecast", "schema": Forecast.model_json_schema()},
        },
    }


async def _client_call(client: GrokClient, mode: Mode) -> Any:
    if mode == "plain":
        return await client.chat.completions.create(**_request_body())
    stream = await client.chat.completions.create(**_request_body(), stream=True)
    async with stream:
        return await stream.final()


async def _agent_run(client: GrokClient, mode: Mode) -> Any:
    agent = Agent(MODEL, tools=[get_forecast], output_type=Forecast, client=client)
    if mode == "plain":
        return await agent.run(PROMPT)
    async with agent.run_stream(PROMPT) as stream:
        return await stream.get_result()


def retry_policy() -> tuple[_RecordingPolicy, list[tuple[float, type[BaseException]]]]:
    """A policy that sleeps on no clock, and the (wait, failure class) of each retry."""
    retry_waits: list[tuple[float, type[BaseException]]] = []

    async def fake_sleep(seconds: float) -> None:
        # The policy computed this wait (and recorded its failure) just before sleeping.
        retry_waits.append((seconds, type(policy.failures[-1])))
        await anyio.lowlevel.checkpoint()

    policy = _RecordingPolicy(max_retries=MAX_RETRIES, sleep=fake_sleep)
    return policy, retry_waits


async def run_cell(cell: Cell, client: GrokClient) -> _Run:
    """The cell's call or run on `client`: what it returned, or what it raised."""
    run = _Run()
    with anyio.fail_after(5):
        try:
            if cell.scope == "client":
                run.value = await _client_call(client, cell.mode)
            else:
                run.value = await _agent_run(client, cell.mode)
        except Exception as error:  # judged by the cell, below
            run.error = error
    return run


async def _play(cell: Cell) -> tuple[_Run, _Wire, list[tuple[float, type[BaseException]]]]:
    core = SimCore(forecaster)
    core.faults.push(parse_fault(cell.fault))
    wire = _Wire(core)
    policy, retry_waits = retry_policy()
    client = GrokClient(
        "k",
        base_url="http://sim.test/v1",
        transport=wire,
        timeout=TIMEOUT,
        retry_policy=policy,
    )
    try:
        run = await run_cell(cell, client)
        # Nothing left open before the pool closes, and nothing after.
        assert wire.closed == wire.opened, "a response was left open"
    finally:
        await client.aclose()
    assert client._http._client.is_closed
    assert wire.closed == wire.opened
    return run, wire, retry_waits


def _check_returned(cell: Cell, value: Any) -> None:
    message = value.choices[0].message
    if cell.outcome is BAD_JSON:
        assert not message.tool_calls
        with pytest.raises(ValidationError):
            Forecast.model_validate_json(message.content)
    else:
        (call,) = message.tool_calls
        assert call.function.name == get_forecast.name
        with pytest.raises(json.JSONDecodeError):
            json.loads(call.function.arguments)


def _marks(cell: Cell) -> list[pytest.MarkDecorator]:
    return [pytest.mark.xfail(strict=True, reason=cell.bug)] if cell.bug else []


@pytest.mark.anyio
@pytest.mark.parametrize(
    "cell", [pytest.param(cell, id=cell.id, marks=_marks(cell)) for cell in CELLS]
)
async def test_fault_cell(cell: Cell) -> None:
    baseline = len(asyncio.all_tasks())
    run, wire, retry_waits = await _play(cell)
    judge(cell, run, wire.requests, retry_waits)
    if parse_fault(cell.fault).kind == "slow":
        assert wire.waited == []  # the fake clock raised the timeout instead of waiting
    assert len(asyncio.all_tasks()) == baseline, "a task outlived the cell"


def judge(
    cell: Cell, run: _Run, requests: int, retry_waits: list[tuple[float, type[BaseException]]]
) -> None:
    """What the cell promises, of a run that made `requests` HTTP requests."""
    outcome = cell.outcome
    assert requests == outcome.requests, f"the server saw {requests} requests"
    if isinstance(outcome, Raises):
        assert run.error is not None, f"expected {outcome.error.__name__}, got {run.value!r}"
        assert type(run.error) is outcome.error, repr(run.error)
        if outcome.match is not None:
            assert re.search(outcome.match, str(run.error)), str(run.error)
        if cell.scope == "agent":
            assert isinstance(run.error, APIError | AgentRunError)
            assert run.error.messages, "the conversation so far went missing"
            assert run.error.messages[0] == {"role": "user", "content": PROMPT}
    else:
        if run.error is not None:
            raise run.error
        if isinstance(outcome, ReturnsAsIs):
            _check_returned(cell, run.value)
        elif cell.scope == "client":
            assert Forecast.model_validate_json(run.value.choices[0].message.content) == ANSWER
        else:
            assert run.value.output == ANSWER
            assert run.value.messages[0] == {"role": "user", "content": PROMPT}

    # Every request beyond the run's turns was a retry of the expected failure, after one
    # wait of the policy; a 429 waited exactly what its Retry-After said.
    fault = parse_fault(cell.fault)
    turns = 2 if cell.scope == "agent" and fault.kind in CONTENT_KINDS else 1
    assert len(retry_waits) == requests - turns
    retried = outcome.retried if isinstance(outcome, Recovered) else getattr(outcome, "error", None)
    assert all(kind is retried for _, kind in retry_waits), retry_waits
    if fault.kind == "429":
        assert [wait for wait, _ in retry_waits] == [fault.retry_after]


def test_the_matrix_is_complete() -> None:
    faults = {cell.fault for cell in CELLS}
    assert {parse_fault(f).kind for f in faults} == {
        "429", "500", "503", "credits", "drop", "truncate", "inband_error", "slow",
        "bad_tool_args", "bad_output",
    }
    keys = [(cell.fault, cell.mode, cell.scope) for cell in CELLS]
    assert len(keys) == len(set(keys)) == len(faults) * 4
    assert all(not isinstance(cell.outcome, ReturnsAsIs) or cell.scope == "client"
               for cell in CELLS)


# ------------------------------------------------------------------------------ the doc


def render_table() -> str:
    """The Markdown table of `CELLS`: one line per fault and mode."""
    by_key = {(cell.fault, cell.mode, cell.scope): cell for cell in CELLS}
    lines = [
        "| fault (`x-sim-fault`) | mode | client alone | agent run |",
        "|---|---|---|---|",
    ]
    bugs: list[str] = []
    for fault in dict.fromkeys(cell.fault for cell in CELLS):
        for mode in ("plain", "stream"):
            texts = []
            for scope in ("client", "agent"):
                cell = by_key[(fault, mode, scope)]
                text = cell.outcome.describe()
                if cell.bug:
                    if cell.bug not in bugs:
                        bugs.append(cell.bug)
                    text += f" **(known bug [{bugs.index(cell.bug) + 1}])**"
                texts.append(text)
            lines.append(f"| `{fault}` | {mode} | {texts[0]} | {texts[1]} |")
    if bugs:
        heading = "Known bugs (the cell states the correct behaviour; its test is a strict xfail):"
        lines += ["", heading, ""]
        lines.extend(f"{n}. {text}" for n, text in enumerate(bugs, 1))
    return "\n".join(lines)


def _section(text: str) -> re.Match[str]:
    match = re.search(rf"{re.escape(BEGIN)}\n(.*?)\n{re.escape(END)}", text, re.DOTALL)
    assert match, f"{DOC} lost its {BEGIN} ... {END} markers"
    return match


def test_the_doc_matches_the_matrix() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = render_table()
    if os.environ.get("AGENTKIT_WRITE_FAULT_MATRIX") == "1":
        section = _section(text)
        text = text[: section.start(1)] + table + text[section.end(1) :]
        DOC.write_text(text, encoding="utf-8")
    assert _section(text).group(1) == table, (
        "docs/fault-matrix.md is out of date: AGENTKIT_WRITE_FAULT_MATRIX=1 pytest "
        "tests/test_fault_matrix.py rewrites it"
    )


# ------------------------------------------------------------------------------ beyond the matrix
# Bugs the matrix brought up that no cell's outcome shows.



@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["plain", "stream"])
async def test_run_usage_counts_the_requests_the_client_retried(mode: Mode) -> None:
    cell = Cell("503;count=2", mode, "agent", Recovered(3, InternalServerError))
    run, wire, _ = await _play(cell)
    assert run.error is None and wire.requests == 3
    assert run.value.usage.requests == wire.requests


@pytest.mark.anyio
async def test_no_retry_is_announced_once_the_budget_is_spent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="agentkit.client")
    cell = Cell("503;count=3", "plain", "client", Raises(InternalServerError, 3))
    run, _, waits = await _play(cell)
    assert type(run.error) is InternalServerError and len(waits) == 2
    announced = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying")]
    assert len(announced) == len(waits), announced
