"""Faults on demand: the header grammar, the plan's queue, and what each kind does."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from agentkit.sim import Fault, FaultPlan, SimCore, SimReply, SimToolCall
from agentkit.sim.core import SimResponse
from agentkit.sim.faults import FAULT_KINDS, parse_fault

USER = [{"role": "user", "content": "hi"}]
TOOLS = [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]


def answer(body: Any) -> SimReply:
    return SimReply(content="Hello there, this is fine.")


def call(body: Any) -> SimReply:
    return SimReply(tool_calls=(SimToolCall("weather", '{"location":"Florence"}'),))


def chat(core: SimCore, fault: str | None = None, **fields: Any) -> SimResponse:
    headers = {"content-type": "application/json"}
    if fault is not None:
        headers["x-sim-fault"] = fault
    body = json.dumps({"model": "grok-4-fast-non-reasoning", "messages": USER, **fields})
    return core.handle("POST", "/v1/chat/completions", headers, body.encode())


def stream(core: SimCore, fault: str | None = None, **fields: Any) -> SimResponse:
    return chat(core, fault, stream=True, stream_options={"include_usage": True}, **fields)


# ----------------------------------------------------------------------------- grammar


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("429", Fault("429")),
        ("503;count=3", Fault("503", count=3)),
        ("429; count=2; retry_after=1.5", Fault("429", count=2, retry_after=1.5)),
        ("slow;delay=0.2", Fault("slow", delay=0.2)),
        ("drop;", Fault("drop")),
    ],
)
def test_parse_fault(value: str, expected: Fault) -> None:
    assert parse_fault(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("418", "unknown fault kind"),
        ("429;times=2", "unknown fault parameter"),
        ("429;count", "needs a value"),
        ("429;count=two", "malformed value"),
        ("429;count=0", "at least 1"),
        ("slow;delay=-1", "non-negative"),
    ],
)
def test_parse_fault_rejects_mistakes(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_fault(value)


def test_slow_waits_a_second_by_default() -> None:
    assert Fault("slow").first_byte_delay == 1.0
    assert Fault("500").first_byte_delay == 0.0
    assert Fault("500", delay=0.3).first_byte_delay == 0.3


def test_plan_is_a_queue_of_counted_faults() -> None:
    plan = FaultPlan([Fault("500", count=2)])
    plan.push(Fault("503"))
    plan.push(Fault("drop"), first=True)
    assert len(plan) == 4
    assert [plan.take() for _ in range(5)] == [
        Fault("drop"),
        Fault("500", count=2),
        Fault("500", count=2),
        Fault("503"),
        None,
    ]
    plan.push(Fault("429"))
    plan.clear()
    assert plan.take() is None and plan.pending == ()


# ----------------------------------------------------------------------------- kinds


def test_429_carries_retry_after() -> None:
    core = SimCore(answer, faults=FaultPlan([Fault("429", retry_after=2)]))
    response = chat(core)
    assert response.status == 429
    assert response.headers["retry-after"] == "2"
    assert response.json()["code"] == "Some resource has been exhausted"
    assert chat(core).status == 200


def test_credits_is_a_429_without_retry_after() -> None:
    response = chat(SimCore(answer), "credits")
    assert response.status == 429
    assert "retry-after" not in response.headers
    assert (
        "used all available credits or reached its monthly spending limit"
        in response.json()["error"]
    )


@pytest.mark.parametrize(("kind", "status"), [("500", 500), ("503", 503)])
def test_server_errors(kind: str, status: int) -> None:
    response = chat(SimCore(answer), kind)
    assert response.status == status
    assert set(response.json()) == {"code", "error"}


def test_faults_apply_to_every_endpoint() -> None:
    core = SimCore(answer)
    assert core.handle("GET", "/v1/models", {"x-sim-fault": "503"}, b"").status == 503


def test_runtime_push_affects_the_next_requests() -> None:
    core = SimCore(answer)
    assert chat(core).status == 200
    core.faults.push(Fault("429", count=2, retry_after=1))
    assert [chat(core).status for _ in range(3)] == [429, 429, 200]


def test_header_count_spoils_the_next_requests_too() -> None:
    core = SimCore(answer)
    statuses = [chat(core, "500;count=3").status] + [chat(core).status for _ in range(3)]
    assert statuses == [500, 500, 500, 200]


def test_a_retry_resending_the_header_does_not_rearm_it() -> None:
    core = SimCore(answer)
    assert [chat(core, "503;count=2").status for _ in range(3)] == [503, 503, 200]
    assert chat(core).status == 200
    assert chat(core, "503;count=2").status == 503  # armed again after a clean request


def test_header_faults_go_ahead_of_the_plan() -> None:
    core = SimCore(answer, faults=FaultPlan([Fault("429")]))
    assert chat(core, "500").status == 500
    assert chat(core, "500").status == 429
    assert chat(core, "500").status == 200


def test_a_malformed_header_is_a_400() -> None:
    response = chat(SimCore(answer), "teapot")
    assert response.status == 400
    assert "x-sim-fault" in response.json()["error"]


def test_drop_cuts_a_stream_after_a_couple_of_chunks_and_a_body_before_it() -> None:
    streamed = stream(SimCore(answer), "drop")
    assert streamed.status == 200 and streamed.drop_after == 2
    plain = chat(SimCore(answer), "drop")
    assert plain.drop_after == 0


def test_slow_delays_the_first_byte() -> None:
    assert chat(SimCore(answer), "slow;delay=0.25").first_byte_delay == 0.25
    assert chat(SimCore(answer), "500;delay=0.1").first_byte_delay == 0.1


def test_bad_tool_args_break_the_arguments_json() -> None:
    body = chat(SimCore(call), "bad_tool_args", tools=TOOLS).json()
    arguments = body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
    with pytest.raises(json.JSONDecodeError):
        json.loads(arguments)


def test_bad_tool_args_make_a_text_answer_call_the_first_tool() -> None:
    body = chat(SimCore(answer), "bad_tool_args", tools=TOOLS).json()
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"][0]["function"]["name"] == "weather"


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        {"type": "object", "properties": {"n": {"type": "integer"}}},
        {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}}},
        {"type": "object"},
    ],
)
def test_bad_output_breaks_the_schema(schema: dict[str, Any]) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "out", "schema": schema}}
    content = chat(SimCore(answer), "bad_output", response_format=fmt).json()["choices"][0][
        "message"
    ]["content"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(json.loads(content), schema)


def test_bad_output_without_schema_is_not_json() -> None:
    content = chat(SimCore(answer), "bad_output").json()["choices"][0]["message"]["content"]
    with pytest.raises(json.JSONDecodeError):
        json.loads(content)


def test_truncate_ends_a_stream_without_finish_or_done() -> None:
    response = stream(SimCore(answer), "truncate")
    data = response.stream_bytes()
    assert b'"content"' in data
    assert b"finish_reason" not in data and b"[DONE]" not in data and b'"usage"' not in data
    assert response.drop_after is None


def test_truncate_cuts_a_plain_body() -> None:
    response = chat(SimCore(answer), "truncate")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.body)


def test_inband_error_is_an_error_event_inside_a_200_stream() -> None:
    response = stream(SimCore(answer), "inband_error")
    assert response.status == 200
    assert response.events is not None
    last = response.events[-1].data.decode()
    assert last.startswith("event: error\ndata: ")
    assert "message" in json.loads(last.split("data: ", 1)[1])["error"]
    assert b"[DONE]" not in response.stream_bytes()
    assert b'"content"' in response.events[0].data


def test_inband_error_in_a_plain_response_is_the_body() -> None:
    response = chat(SimCore(answer), "inband_error")
    assert response.status == 200 and "error" in response.json()


def test_every_kind_is_known_and_documented() -> None:
    import agentkit.sim.faults as faults

    assert faults.__doc__ is not None
    for kind in FAULT_KINDS:
        assert f"`{kind}`" in faults.__doc__
