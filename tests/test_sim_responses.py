"""The simulated `/v1/responses`: shapes, the store, streaming, server-side tools, usage and
every refusal, straight through `SimCore.handle`."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any

import pytest

from agentkit.sim import SimCore, SimReply, SimToolCall
from agentkit.sim._ratelimit import SimRateLimits
from agentkit.sim._responses_input import seal, unseal
from agentkit.sim.core import SimResponse
from agentkit.sim.media import render_png
from agentkit.sim.models import MODELS

JSON_HEADERS = {"Content-Type": "application/json"}
FAST = "grok-4-fast-non-reasoning"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "The city."}},
        "required": ["city"],
    },
}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def post(
    core: SimCore, path: str, body: Any, headers: Mapping[str, str] | None = None
) -> SimResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return core.handle("POST", path, dict(headers if headers is not None else JSON_HEADERS), raw)


def create(core: SimCore, **fields: Any) -> SimResponse:
    body = {"model": FAST, "input": "Say hello to the world.", **fields}
    return post(core, "/v1/responses", body)


def ok(response: SimResponse) -> dict[str, Any]:
    assert response.status == 200, response.body
    body: dict[str, Any] = response.json()
    return body


def error(response: SimResponse, status: int) -> str:
    assert response.status == status, (response.status, response.body)
    body = response.json()
    assert set(body) <= {"code", "error"} and isinstance(body["error"], str)
    return str(body["error"])


def events(response: SimResponse) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) of every SSE event."""
    out = []
    for chunk in response.events or []:
        for block in chunk.data.decode().split("\n\n"):
            if not block.strip():
                continue
            name = next(line[7:] for line in block.splitlines() if line.startswith("event: "))
            data = next(line[6:] for line in block.splitlines() if line.startswith("data: "))
            out.append((name, json.loads(data)))
    return out


def output_text(body: Mapping[str, Any]) -> str:
    return "".join(
        part["text"]
        for item in body["output"]
        if item["type"] == "message"
        for part in item["content"]
        if part["type"] == "output_text"
    )


# -------------------------------------------------------------------------- plain responses


def test_a_response_has_xais_shape_and_usage_that_adds_up() -> None:
    core = SimCore()
    body = ok(create(core))
    assert UUID.match(body["id"])
    assert body["object"] == "response" and body["status"] == "completed"
    assert body["model"] == FAST and body["store"] is True
    assert body["completed_at"] == body["created_at"]
    (message,) = body["output"]
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["id"] == f"msg_{body['id']}"
    assert "hello" in output_text(body).lower()
    usage = body["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["output_tokens_details"]["reasoning_tokens"] == 0
    assert usage["num_server_side_tools_used"] == 0
    model = next(m for m in MODELS if m.id == FAST)
    expected = round(
        usage["input_tokens"] * model.input_price * 10_000
        + usage["output_tokens"] * model.output_price * 10_000
    )
    assert usage["cost_in_usd_ticks"] == expected


def test_the_same_seed_gives_the_same_response() -> None:
    assert ok(create(SimCore(clock=lambda: 7.0))) == ok(create(SimCore(clock=lambda: 7.0)))


def test_reasoning_counts_inside_output_tokens_and_encrypted_content_only_on_request() -> None:
    core = SimCore()
    plain = ok(create(core, model="grok-4.3"))
    reasoning = plain["output"][0]
    assert reasoning["type"] == "reasoning" and reasoning["summary"] == []  # hidden reasoning
    assert "encrypted_content" not in reasoning
    details = plain["usage"]["output_tokens_details"]
    assert 0 < details["reasoning_tokens"] < plain["usage"]["output_tokens"]

    asked = ok(create(core, model="grok-4.3", include=["reasoning.encrypted_content"]))
    blob = asked["output"][0]["encrypted_content"]
    assert blob and "reasoning" not in blob  # opaque to the client
    assert isinstance(unseal(blob)["reasoning"], str)

    visible = ok(create(core, model="grok-3-mini"))
    assert visible["output"][0]["summary"][0]["text"]  # grok-3-mini shows its reasoning


def test_encrypted_reasoning_goes_back_in_a_stateless_conversation() -> None:
    core = SimCore()
    first = ok(
        create(
            core,
            model="grok-4.3",
            input="What is the weather in Paris?",
            tools=[WEATHER],
            store=False,
            include=["reasoning.encrypted_content"],
        )
    )
    call = next(item for item in first["output"] if item["type"] == "function_call")
    follow = [
        {"role": "user", "content": "What is the weather in Paris?"},
        *first["output"],
        {
            "type": "function_call_output",
            "call_id": call["call_id"],
            "output": json.dumps({"city": "Paris", "temperature_c": 21}),
        },
    ]
    second = ok(create(core, model="grok-4.3", input=follow, tools=[WEATHER], store=False))
    assert "21" in output_text(second)
    assert len(core.responses) == 0  # store=false keeps nothing


def test_json_schema_text_format_is_filled_from_the_question() -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city", "population"],
        "additionalProperties": False,
    }
    body = ok(
        create(
            core := SimCore(),
            input="Paris has a population of 2100000.",
            text={"format": {"type": "json_schema", "name": "City", "schema": schema}},
        )
    )
    assert json.loads(output_text(body)) == {"city": "Paris", "population": 2100000}
    assert body["text"]["format"]["name"] == "City"
    broken = create(
        core,
        text={
            "format": {
                "type": "json_schema",
                "schema": {
                    "type": "object",
                    "properties": {"a": {"type": "string", "minLength": 2}},
                },
            }
        },
    )
    assert "minLength" in error(broken, 400)


def test_max_output_tokens_cuts_the_answer_and_marks_it_incomplete() -> None:
    whole = ok(create(SimCore(), input="Tell me a long story about dragons and castles."))
    cut = ok(
        create(
            SimCore(), input="Tell me a long story about dragons and castles.", max_output_tokens=5
        )
    )
    assert cut["status"] == "incomplete" and cut["completed_at"] is None
    assert cut["incomplete_details"] == {"reason": "max_output_tokens"}
    assert cut["usage"]["output_tokens"] == 5
    assert output_text(whole).startswith(output_text(cut)) and output_text(cut) != output_text(
        whole
    )
    # Reasoning spends the budget first (it is part of max_output_tokens).
    spent = ok(create(SimCore(), model="grok-4.3", max_output_tokens=1))
    assert spent["status"] == "incomplete" and output_text(spent) == ""


# -------------------------------------------------------------------------- the store


def test_previous_response_id_continues_the_stored_conversation() -> None:
    core = SimCore()
    first = ok(create(core, input="What is the weather in Paris?", tools=[WEATHER]))
    (call,) = [item for item in first["output"] if item["type"] == "function_call"]
    assert json.loads(call["arguments"]) == {"city": "Paris"}
    output = {
        "type": "function_call_output",
        "call_id": call["call_id"],
        "output": json.dumps({"temperature_c": 17, "conditions": "drizzle"}),
    }
    second = ok(create(core, previous_response_id=first["id"], input=[output], tools=[WEATHER]))
    assert "17" in output_text(second) and "drizzle" in output_text(second)
    assert second["previous_response_id"] == first["id"]
    # The stored prefix is billed as cached input.
    assert (
        0
        < second["usage"]["input_tokens_details"]["cached_tokens"]
        < second["usage"]["input_tokens"]
    )
    # A follow-up leans on the stored question: the model asks about the new city.
    third = ok(
        create(core, previous_response_id=second["id"], input="And in Tokyo?", tools=[WEATHER])
    )
    (again,) = [item for item in third["output"] if item["type"] == "function_call"]
    assert json.loads(again["arguments"]) == {"city": "Tokyo"}


def test_retrieve_input_items_and_delete() -> None:
    core = SimCore()
    body = ok(
        create(
            core,
            input=[
                {"role": "developer", "content": "Be brief."},
                {"role": "user", "content": [{"type": "input_text", "text": "Say hello."}]},
            ],
        )
    )
    got = core.handle("GET", f"/v1/responses/{body['id']}", {}, b"")
    assert ok(got) == body
    items = ok(core.handle("GET", f"/v1/responses/{body['id']}/input_items", {}, b""))
    assert items["object"] == "list" and items["has_more"] is False
    assert [(i["type"], i["role"]) for i in items["data"]] == [
        ("message", "developer"),
        ("message", "user"),
    ]
    assert [p["type"] for p in items["data"][0]["content"]] == ["input_text"]
    assert (
        items["first_id"] == items["data"][0]["id"] and items["last_id"] == items["data"][-1]["id"]
    )
    deleted = ok(core.handle("DELETE", f"/v1/responses/{body['id']}", {}, b""))
    assert deleted == {"id": body["id"], "object": "response", "deleted": True}
    for method in ("GET", "DELETE"):
        gone = core.handle(method, f"/v1/responses/{body['id']}", {}, b"")
        assert body["id"] in error(gone, 404)


def test_store_false_and_unknown_ids_answer_404_in_xais_shape() -> None:
    core = SimCore()
    body = ok(create(core, store=False))
    assert body["store"] is False
    assert error(core.handle("GET", f"/v1/responses/{body['id']}", {}, b""), 404)
    missing = create(core, previous_response_id="no-such-response")
    assert "no-such-response" in error(missing, 404)
    assert missing.json()["code"] == "Some requested entity was not found"


def test_the_store_keeps_the_newest_responses() -> None:
    core = SimCore()
    core.responses.max_stored = 2
    ids = [ok(create(core))["id"] for _ in range(3)]
    assert core.handle("GET", f"/v1/responses/{ids[0]}", {}, b"").status == 404
    assert all(core.handle("GET", f"/v1/responses/{i}", {}, b"").status == 200 for i in ids[1:])


def test_routes_under_responses() -> None:
    core = SimCore()
    assert core.handle("GET", "/v1/responses", {}, b"").status == 405
    assert core.handle("GET", "/v1/responses/compact", {}, b"").status == 405
    assert core.handle("GET", "/v1/responses/a/b", {}, b"").status == 404
    assert core.handle("POST", "/v1/responses/some-id", JSON_HEADERS, b"{}").status == 405


def test_compaction_stands_in_for_the_conversation() -> None:
    core = SimCore()
    first = ok(create(core, input="What is the weather in Paris?", tools=[WEATHER]))
    call = next(item for item in first["output"] if item["type"] == "function_call")
    output = {"type": "function_call_output", "call_id": call["call_id"], "output": "Sunny, 24 C"}
    second = ok(create(core, previous_response_id=first["id"], input=[output], tools=[WEATHER]))
    compacted = ok(
        post(core, "/v1/responses/compact", {"model": FAST, "previous_response_id": second["id"]})
    )
    assert compacted["object"] == "response.compaction"
    (item,) = compacted["output"]
    assert item["type"] == "compaction" and "Paris" not in item["encrypted_content"]
    assert compacted["usage"]["input_tokens"] > 0
    follow = ok(
        create(core, input=[item, {"role": "user", "content": "And in Tokyo?"}], tools=[WEATHER])
    )
    call = next(i for i in follow["output"] if i["type"] == "function_call")
    assert json.loads(call["arguments"]) == {"city": "Tokyo"}
    assert "input" in error(post(core, "/v1/responses/compact", {"model": FAST}), 422)
    forged = create(core, input=[{"type": "compaction", "encrypted_content": "not ours"}])
    assert "compaction" in error(forged, 400)


def test_seal_round_trips_and_refuses_foreign_text() -> None:
    value = {"messages": [{"role": "user", "content": "héllo"}]}
    assert unseal(seal(value)) == value
    with pytest.raises(ValueError, match="not made by this server"):
        unseal("gAAAAB-someone-elses-blob")


# -------------------------------------------------------------------------- streaming


def test_a_stream_tells_the_same_response_event_by_event() -> None:
    # Two servers with the same seed and a clock that stands still: the same response.
    plain = ok(create(SimCore(clock=lambda: 7.0), model="grok-3-mini",
                      include=["reasoning.encrypted_content"]))
    streamed = create(SimCore(clock=lambda: 7.0), model="grok-3-mini",
                      include=["reasoning.encrypted_content"], stream=True)
    assert streamed.headers["content-type"] == "text/event-stream"
    seen = events(streamed)
    names = [name for name, _ in seen]
    assert all(name == data["type"] for name, data in seen)
    assert [data["sequence_number"] for _, data in seen] == list(range(len(seen)))
    assert names[:2] == ["response.created", "response.in_progress"]
    assert (
        seen[0][1]["response"]["status"] == "in_progress" and seen[0][1]["response"]["output"] == []
    )
    assert names[-1] == "response.completed"
    assert seen[-1][1]["response"] == plain
    deltas = "".join(d["delta"] for n, d in seen if n == "response.output_text.delta")
    assert deltas == output_text(plain)
    summary = "".join(d["delta"] for n, d in seen if n == "response.reasoning_summary_text.delta")
    assert summary == plain["output"][0]["summary"][0]["text"]
    done = [d["item"] for n, d in seen if n == "response.output_item.done"]
    assert done == plain["output"]
    added = [d["item"] for n, d in seen if n == "response.output_item.added"]
    assert "encrypted_content" not in added[0]  # it comes with the finished item


def test_a_streamed_function_call_comes_whole() -> None:
    seen = events(create(SimCore(), input="Weather in Oslo?", tools=[WEATHER], stream=True))
    deltas = [d for n, d in seen if n == "response.function_call_arguments.delta"]
    (done,) = [d for n, d in seen if n == "response.function_call_arguments.done"]
    assert [d["delta"] for d in deltas] == [done["arguments"]]
    assert json.loads(done["arguments"]) == {"city": "Oslo"} and done["name"] == "get_weather"


def test_an_incomplete_stream_ends_with_response_incomplete() -> None:
    seen = events(
        create(
            SimCore(), input="Tell me a long story about dragons.", max_output_tokens=3, stream=True
        )
    )
    assert seen[-1][0] == "response.incomplete"
    assert seen[-1][1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


# -------------------------------------------------------------------------- server-side tools


def search(core: SimCore, question: str, **tool: Any) -> dict[str, Any]:
    return ok(create(core, input=question, tools=[{"type": "web_search", **tool}]))


def test_web_search_runs_when_the_question_asks_for_it_and_cites_its_sources() -> None:
    core = SimCore()
    body = search(core, "Search the web for the latest news about solar panels.")
    kinds = [item["type"] for item in body["output"]]
    assert kinds == ["web_search_call", "message"]
    call = body["output"][0]
    assert call["status"] == "completed" and call["id"].startswith("ws_")
    query, sources = call["action"]["query"], call["action"]["sources"]
    assert "solar" in query.lower()
    assert len(sources) == 3 and len({s["url"] for s in sources}) == 3
    assert all(s["url"].startswith("https://example.") for s in sources)
    assert all("Solar" in s["title"] for s in sources)  # titled from the query's words
    annotations = body["output"][1]["content"][0]["annotations"]
    assert [a["url"] for a in annotations] == [s["url"] for s in sources]
    assert all(
        a["type"] == "url_citation" and a["end_index"] == len(output_text(body))
        for a in annotations
    )
    usage = body["usage"]
    assert usage["num_server_side_tools_used"] == 1
    assert usage["server_side_tool_usage_details"]["web_search_calls"] == 1
    # A greeting calls for no search.
    assert [i["type"] for i in search(core, "Say hello.")["output"]] == ["message"]


def test_search_results_depend_on_the_query_and_honour_domain_filters() -> None:
    core = SimCore()
    first = search(core, "Search the web for news about solar panels.")
    other = search(core, "Search the web for news about wind turbines.")
    again = search(core, "Search the web for news about solar panels.")

    def urls(body: dict[str, Any]) -> list[str]:
        return [s["url"] for s in body["output"][0]["action"]["sources"]]

    assert urls(first) == urls(again) and not set(urls(first)) & set(urls(other))
    allowed = search(
        core, "Search the web for news about solar panels.", allowed_domains=["energy.example"]
    )
    assert all(u.startswith("https://energy.example/") for u in urls(allowed))
    excluded = search(
        core,
        "Search the web for news about solar panels.",
        excluded_domains=["example.com", "example.org"],
    )
    assert not any(
        u.startswith(("https://example.com/", "https://example.org/")) for u in urls(excluded)
    )


def test_each_server_tool_makes_its_own_item() -> None:
    core = SimCore()
    cases = [
        (
            {"type": "x_search", "allowed_x_handles": ["solarfan"]},
            "What are people saying on X about solar panels?",
            "x_search_call",
        ),
        ({"type": "code_interpreter"}, "Run code to compute 17 * 23.", "code_interpreter_call"),
        (
            {"type": "file_search", "vector_store_ids": ["vs_manuals"]},
            "Search my documents for the refund policy.",
            "file_search_call",
        ),
        (
            {
                "type": "mcp",
                "server_url": "https://mcp.example.com/mcp",
                "server_label": "wiki",
                "allowed_tools": ["ask_question"],
                "authorization": "Bearer top-secret",
            },
            "Ask the wiki question tool about photosynthesis.",
            "mcp_call",
        ),
    ]
    for tool, question, kind in cases:
        body = ok(create(core, input=question, tools=[tool]))
        item = body["output"][0]
        assert item["type"] == kind, (kind, body["output"])
        assert body["usage"]["num_server_side_tools_used"] == 1
        if kind == "x_search_call":
            sources = item["action"]["sources"]
            assert all(s["url"].startswith("https://x.com/solarfan/status/") for s in sources)
            assert all(len(s["url"].rsplit("/", 1)[1]) == 19 for s in sources)
            assert output_text(body)
        elif kind == "code_interpreter_call":
            assert item["outputs"] == [{"type": "logs", "logs": str(17 * 23)}]
            assert str(17 * 23) in output_text(body)
        elif kind == "file_search_call":
            assert item["results"] and all("vs_manuals" in r["text"] for r in item["results"])
        else:
            assert item["server_label"] == "wiki" and item["name"] == "ask_question"
            echoed = body["tools"][0]
            assert "authorization" not in echoed and "top-secret" not in json.dumps(body)


def test_server_tools_and_client_functions_in_one_request() -> None:
    core = SimCore()
    body = ok(
        create(
            core,
            input="Search the web for the weather in Paris.",
            tools=[WEATHER, {"type": "web_search"}],
            tool_choice="required",
        )
    )
    assert body["output"], body
    assert body["usage"]["num_server_side_tools_used"] == sum(
        item["type"] == "web_search_call" for item in body["output"]
    )


def test_a_streamed_search_reports_its_progress() -> None:
    seen = events(
        create(
            SimCore(),
            input="Search the web for news about solar panels.",
            tools=[{"type": "web_search"}],
            stream=True,
        )
    )
    names = [n for n, _ in seen]
    progress = [n for n in names if n.startswith("response.web_search_call.")]
    assert progress == [
        "response.web_search_call.in_progress",
        "response.web_search_call.searching",
        "response.web_search_call.completed",
    ]
    assert names.count("response.output_text.annotation.added") == 3
    added = next(d["item"] for n, d in seen if n == "response.output_item.added")
    assert added["status"] == "in_progress" and added["action"]["sources"] == []


def test_max_turns_bounds_the_server_side_loop() -> None:
    asked: list[int] = []

    def always_search(body: Mapping[str, Any]) -> SimReply:
        asked.append(len(body["messages"]))
        if any(t["function"]["name"] == "web_search" for t in body.get("tools") or ()):
            return SimReply(tool_calls=(SimToolCall("web_search", '{"query": "more"}'),))
        return SimReply(content="Done searching.")

    body = ok(create(SimCore(always_search), tools=[{"type": "web_search"}], max_turns=2))
    assert [i["type"] for i in body["output"]] == ["web_search_call"] * 2 + ["message"]
    assert output_text(body) == "Done searching." and len(asked) == 3


# -------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"model": None}, 422, "missing field `model`"),
        ({"input": None}, 422, "missing field `input`"),
        ({"input": 5}, 422, "input: invalid type"),
        ({"input": []}, 400, "at least one"),
        ({"input": [{"type": "telepathy"}]}, 422, "unknown variant `telepathy`"),
        ({"input": [{"role": "robot", "content": "hi"}]}, 422, "unknown variant `robot`"),
        ({"input": [{"role": "user", "content": [{"type": "input_text"}]}]}, 422, "`text`"),
        (
            {"input": [{"type": "function_call_output", "call_id": "call_1", "output": "x"}]},
            400,
            "call_1",
        ),
        ({"model": "grok-nine"}, 404, "grok-nine"),
        ({"tools": [{"type": "function"}]}, 422, "missing field `name`"),
        ({"tools": [{"type": "teleport"}]}, 422, "unknown variant `teleport`"),
        ({"tools": [{"name": "x"}]}, 422, "missing field `type`"),
        (
            {
                "tools": [
                    {
                        "type": "web_search",
                        "allowed_domains": ["a.com"],
                        "excluded_domains": ["b.com"],
                    }
                ]
            },
            400,
            "cannot be set together",
        ),
        (
            {"tools": [{"type": "web_search", "allowed_domains": [f"d{i}.com" for i in range(6)]}]},
            400,
            "at most 5",
        ),
        (
            {"tools": [{"type": "x_search", "from_date": "2025-10-10", "to_date": "2025-10-01"}]},
            400,
            "after",
        ),
        ({"tools": [{"type": "x_search", "from_date": "yesterday"}]}, 400, "YYYY-MM-DD"),
        ({"tools": [{"type": "file_search"}]}, 422, "vector_store_ids"),
        ({"tools": [{"type": "mcp"}]}, 422, "server_url"),
        ({"tools": [{"type": "mcp", "server_url": "ftp://x"}]}, 400, "http(s)"),
        (
            {"tools": [WEATHER, {**WEATHER, "name": "web_search"}, {"type": "web_search"}]},
            400,
            "taken",
        ),
        ({"text": {"format": {"type": "yaml"}}}, 422, "unknown variant `yaml`"),
        ({"text": {"format": {"type": "json_schema"}}}, 422, "missing field `schema`"),
        ({"max_output_tokens": 0}, 400, "at least 1"),
        ({"temperature": 3}, 400, "temperature"),
        ({"model": "grok-4-0709", "reasoning": {"effort": "high"}}, 400, "reasoningEffort"),
        (
            {
                "input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f1"}]}],
                "model": "grok-4.3",
            },
            400,
            "data: URL",
        ),
        (
            {
                "model": "grok-3",
                "input": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "input_image", "image_url": "data:image/png;base64,AA=="}
                        ],
                    }
                ],
            },
            400,
            "image",
        ),
    ],
)
def test_refusals_in_xais_words(fields: dict[str, Any], status: int, words: str) -> None:
    body = {"model": FAST, "input": "Hello", **fields}
    body = {k: v for k, v in body.items() if v is not None}
    assert words in error(post(SimCore(), "/v1/responses", body), status)


def test_an_empty_body_and_a_wrong_content_type() -> None:
    assert post(SimCore(), "/v1/responses", b"").status == 415
    assert post(SimCore(), "/v1/responses", b"[1]").status == 422


def test_responses_count_against_the_rate_limit() -> None:
    core = SimCore(rate_limits=SimRateLimits(rpm=1, clock=lambda: 0.0))
    answers = [create(core) for _ in range(3)]  # the clock stands still: a burst, then 429
    assert answers[0].status == 200 and answers[0].headers["x-ratelimit-limit-requests"] == "1"
    limited = answers[-1]
    assert limited.status == 429 and "retry-after" in limited.headers
    compact = post(core, "/v1/responses/compact", {"model": FAST, "input": "Hello"})
    assert compact.status == 429
    assert core.handle("GET", "/v1/models", {}, b"").status == 200  # only model routes count


def test_an_input_image_is_read_from_its_bytes_and_billed() -> None:
    url = "data:image/png;base64," + base64.b64encode(render_png("x", 32, 16)).decode()
    image = {"type": "input_image", "image_url": url, "detail": "low"}
    question = [
        {"role": "user", "content": [{"type": "input_text", "text": "Describe this."}, image]}
    ]
    with_image = ok(create(SimCore(), model="grok-4.3", input=question))
    text_only = ok(create(SimCore(), model="grok-4.3", input="Describe this."))
    assert "32x16" in output_text(with_image)
    assert with_image["usage"]["input_tokens"] > text_only["usage"]["input_tokens"]
