"""The simulated model: tool choice, arguments, answers from results, structured output,
validation feedback, reasoning, vision, and scripted replies."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Mapping
from typing import Any

import jsonschema
import pytest

from agentkit.sim._arith import safe_eval
from agentkit.sim._evidence import Evidence
from agentkit.sim._feedback import parse_field_errors
from agentkit.sim._schemas import generate_from_pattern
from agentkit.sim.media import inspect_image, render_png
from agentkit.sim.policy import (
    ScriptExhaustedError,
    SimulatedModel,
    is_reasoning_model,
    scripted,
)
from agentkit.sim.reply import SimReply, SimToolCall

MODEL = SimulatedModel()


def tool(name: str, description: str, properties: dict[str, Any], required: list[str] | None = None,
         defs: dict[str, Any] | None = None) -> dict[str, Any]:
    parameters: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }
    if defs:
        parameters["$defs"] = defs
    return {"type": "function", "function": {"name": name, "description": description,
                                             "parameters": parameters}}


WEATHER = tool(
    "get_weather",
    "Get the current weather for a city.",
    {
        "city": {"type": "string", "description": "The city name"},
        "days": {"type": "integer", "minimum": 1, "maximum": 14, "default": 3},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
    },
    ["city"],
)
CALCULATOR = tool("calculator", "Evaluate a math expression.", {"expression": {"type": "string"}})
SEARCH = tool(
    "search_docs",
    "Search the documentation.",
    {"query": {"type": "string"}, "limit": {"type": "integer", "default": 5}},
    ["query"],
)
FINAL = tool(
    "final_result",
    "The final answer.",
    {"city": {"type": "string"}, "temperature": {"type": "number"}, "summary": {"type": "string"}},
)


def ask(content: Any, tools: list[dict[str, Any]] | None = None, **extra: Any) -> SimReply:
    body: dict[str, Any] = {"model": "grok-3", "messages": [{"role": "user", "content": content}]}
    if tools is not None:
        body["tools"] = tools
    body.update(extra)
    return MODEL(body)


def calls(reply: SimReply) -> list[tuple[str, dict[str, Any]]]:
    return [(c.name, json.loads(c.arguments)) for c in reply.tool_calls]


def after_results(question: str, results: list[tuple[str, dict[str, Any], str]],
                  tools: list[dict[str, Any]], **extra: Any) -> SimReply:
    """A conversation that ends with the results of the tool calls it made."""
    tool_calls = [
        {"id": f"call_{i}", "type": "function",
         "function": {"name": name, "arguments": json.dumps(arguments)}}
        for i, (name, arguments, _) in enumerate(results)
    ]
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": question},
        {"role": "assistant", "content": "", "tool_calls": tool_calls},
    ]
    messages += [
        {"role": "tool", "tool_call_id": f"call_{i}", "content": content}
        for i, (_, _, content) in enumerate(results)
    ]
    return MODEL({"model": "grok-3", "messages": messages, "tools": tools, **extra})


# --------------------------------------------------------------------------------------------
# Choosing a tool
# --------------------------------------------------------------------------------------------


def test_calls_the_tool_whose_name_the_message_uses() -> None:
    reply = ask("What's the weather in Paris?", [CALCULATOR, WEATHER, SEARCH])
    assert calls(reply) == [("get_weather", {"city": "Paris"})]
    assert reply.content == ""
    assert reply.effective_finish_reason == "tool_calls"


def test_calls_nothing_when_no_tool_fits() -> None:
    reply = ask("Tell me a joke about cats", [WEATHER, CALCULATOR])
    assert reply.tool_calls == ()
    assert reply.content.startswith("You asked: Tell me a joke about cats\n")


def test_description_words_call_a_tool_but_parameter_words_alone_do_not() -> None:
    forecast = tool("get_forecast", "Get the weather forecast for a city.",
                    {"city": {"type": "string"}, "days": {"type": "integer", "default": 1}},
                    ["city"])
    assert calls(ask("What's the weather in Tokyo and Oslo?", [forecast])) == [
        ("get_forecast", {"city": "Tokyo"}), ("get_forecast", {"city": "Oslo"})]
    assert ask("Which city is the capital of France?", [forecast]).tool_calls == ()


def test_a_place_after_a_preposition_is_a_hint_for_tools_taking_places() -> None:
    forecast = tool("get_forecast", "Get the weather forecast for a city.",
                    {"city": {"type": "string"}, "days": {"type": "integer", "default": 1}},
                    ["city"])
    assert calls(ask("Will it rain in Paris in the next 3 days?", [forecast])) == [
        ("get_forecast", {"city": "Paris", "days": 3})]
    assert ask("Will it rain in the next 3 days?", [forecast]).tool_calls == ()


def test_an_expression_in_the_message_selects_the_tool_with_an_expression_parameter() -> None:
    reply = ask("What is (3 + 4) * 12?", [WEATHER, CALCULATOR])
    assert calls(reply) == [("calculator", {"expression": "(3 + 4) * 12"})]


def test_description_words_count_too() -> None:
    reply = ask("Search the docs for retry policies", [WEATHER, SEARCH])
    assert calls(reply) == [("search_docs", {"query": "retry policies"})]


def test_one_call_per_subject() -> None:
    reply = ask("Compare the weather in Paris, Tokyo and Rome", [WEATHER])
    assert calls(reply) == [
        ("get_weather", {"city": "Paris"}),
        ("get_weather", {"city": "Tokyo"}),
        ("get_weather", {"city": "Rome"}),
    ]


def test_subject_calls_share_the_other_arguments() -> None:
    reply = ask("Weather in Paris and Tokyo for 5 days in fahrenheit", [WEATHER])
    assert calls(reply) == [
        ("get_weather", {"city": "Paris", "days": 5, "unit": "fahrenheit"}),
        ("get_weather", {"city": "Tokyo", "days": 5, "unit": "fahrenheit"}),
    ]


def test_quoted_subjects_give_one_call_each() -> None:
    reply = ask('Search the docs for "retries" and "timeouts"', [SEARCH])
    assert calls(reply) == [("search_docs", {"query": "retries"}),
                            ("search_docs", {"query": "timeouts"})]


def test_bullet_list_subjects() -> None:
    reply = ask("Get the weather for these cities:\n- Oslo\n- Lima\n- Cairo", [WEATHER])
    assert [args["city"] for _, args in calls(reply)] == ["Oslo", "Lima", "Cairo"]


def test_numbers_are_subjects_of_a_one_number_tool() -> None:
    prime = tool("is_prime", "Check whether a number is prime.", {"n": {"type": "integer"}})
    reply = ask("Are 7 and 12 prime?", [prime])
    assert calls(reply) == [("is_prime", {"n": 7}), ("is_prime", {"n": 12})]


def test_parallel_tool_calls_false_makes_one_call() -> None:
    reply = ask("Compare the weather in Paris, Tokyo and Rome", [WEATHER], parallel_tool_calls=False)
    assert calls(reply) == [("get_weather", {"city": "Paris"})]


def test_every_tool_the_message_names_is_called() -> None:
    add = tool("add", "Add two numbers", {"a": {"type": "integer", "description": "first number"},
                                          "b": {"type": "integer", "description": "second number"}})
    multiply = tool("multiply", "Multiply two numbers",
                    {"a": {"type": "integer", "description": "first number"},
                     "b": {"type": "integer", "description": "second number"}})
    reply = ask("Add and multiply the number 2 and 3", [add, multiply])
    assert calls(reply) == [("add", {"a": 2, "b": 3}), ("multiply", {"a": 2, "b": 3})]
    single = ask("Add and multiply the number 2 and 3", [add, multiply], parallel_tool_calls=False)
    assert calls(single) == [("add", {"a": 2, "b": 3})]


def test_tool_choice_none_never_calls() -> None:
    reply = ask("What's the weather in Paris?", [WEATHER], tool_choice="none")
    assert reply.tool_calls == ()
    assert "Paris" in reply.content


def test_tool_choice_required_calls_even_on_a_weak_match() -> None:
    reply = ask("Hello there", [CALCULATOR, WEATHER], tool_choice="required")
    assert [name for name, _ in calls(reply)] == ["calculator"]


def test_tool_choice_function_forces_that_tool() -> None:
    choice = {"type": "function", "function": {"name": "search_docs"}}
    reply = ask("What's the weather in Paris?", [WEATHER, SEARCH], tool_choice=choice)
    assert [name for name, _ in calls(reply)] == ["search_docs"]


def test_responses_style_flat_tools_are_understood() -> None:
    flat = {"type": "function", **WEATHER["function"]}
    assert calls(ask("weather in Oslo?", [flat])) == [("get_weather", {"city": "Oslo"})]


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------


def only_call(content: str, *tools: dict[str, Any]) -> dict[str, Any]:
    reply = ask(content, list(tools))
    assert len(reply.tool_calls) == 1, reply
    arguments: dict[str, Any] = json.loads(reply.tool_calls[0].arguments)
    return arguments


def test_numbers_go_to_the_parameter_named_next_to_them_and_are_clamped() -> None:
    assert only_call("Weather in Paris for the next 5 days", WEATHER) == {"city": "Paris", "days": 5}
    assert only_call("Weather in Paris for 30 days", WEATHER) == {"city": "Paris", "days": 14}
    assert only_call("Weather in Paris for 0 days", WEATHER) == {"city": "Paris", "days": 1}


def test_unrelated_numbers_stay_out_of_optional_parameters() -> None:
    assert only_call("Search the docs for HTTP 404 errors", SEARCH) == {"query": "HTTP 404 errors"}
    assert only_call("Search the docs for retries, limit 2", SEARCH)["limit"] == 2


def test_enum_from_the_words_of_the_message() -> None:
    assert only_call("weather in Oslo in Fahrenheit", WEATHER)["unit"] == "fahrenheit"


def test_lowercase_places_after_a_preposition() -> None:
    assert only_call("weather in new york", WEATHER) == {"city": "new york"}


def test_names_after_prepositions_for_person_parameters() -> None:
    biography = tool("get_biography", "Get the biography of a person.",
                     {"person": {"type": "string", "description": "Full name"}})
    assert only_call("Get the biography for Ada Lovelace", biography) == {"person": "Ada Lovelace"}


def test_urls_paths_and_globs() -> None:
    fetch = tool("fetch_url", "Download a web page",
                 {"url": {"type": "string"}, "max_chars": {"type": "integer", "default": 2000}},
                 ["url"])
    assert only_call("Summarize https://example.org/docs/page.html please, max 500 chars", fetch) == {
        "url": "https://example.org/docs/page.html", "max_chars": 500}
    read = tool("read_file", "Read a text file", {"path": {"type": "string", "description": "Path"}})
    assert only_call("Open ./notes/todo.txt and read it", read) == {"path": "./notes/todo.txt"}
    find = tool("glob_files", "Find files matching a glob",
                {"pattern": {"type": "string", "description": "A glob pattern"}})
    assert only_call("Find all *.md files with glob", find) == {"pattern": "*.md"}


@pytest.mark.parametrize(
    ("message", "expression"),
    [
        ("Calculate (3 + 4) * 12", "(3 + 4) * 12"),
        ("calculate 2^10 for me", "2^10"),
        ("Use the calculator on sqrt(16) + 1", "sqrt(16) + 1"),
        ("calculate 6 times 7", "6 * 7"),
    ],
)
def test_expressions(message: str, expression: str) -> None:
    assert only_call(message, CALCULATOR) == {"expression": expression}


def test_sql_for_a_sql_parameter() -> None:
    sql = tool("run_sql", "Run a read-only SQL query",
               {"query": {"type": "string", "description": "SQL SELECT statement"}})
    assert only_call("Run SELECT name FROM users WHERE age > 30; and show me", sql) == {
        "query": "SELECT name FROM users WHERE age > 30;"}


def test_quoted_spans_go_to_the_parameter_named_before_them() -> None:
    email = tool(
        "send_email", "Send an email",
        {"to": {"type": "string", "description": "Recipient email address"},
         "subject": {"type": "string"}, "body": {"type": "string"},
         "urgent": {"type": "boolean", "default": False}},
        ["to", "subject", "body"],
    )
    base = "Send an email to bob@example.com with subject 'Lunch' saying 'See you at noon'"
    assert only_call(base + ", mark it urgent", email) == {
        "to": "bob@example.com", "subject": "Lunch", "body": "See you at noon", "urgent": True}
    assert only_call(base + ", not urgent", email)["urgent"] is False
    assert "urgent" not in only_call(base, email)


def test_key_value_pairs_in_the_message_win() -> None:
    assert only_call("get_weather city=Lyon days=2", WEATHER) == {"city": "Lyon", "days": 2}


def test_key_value_lines_and_phone_numbers() -> None:
    contact = tool("save_contact", "Save a contact",
                   {"name": {"type": "string"}, "phone": {"type": "string"}})
    assert only_call("Save this contact:\nName: Maria Garcia\nPhone: +34 612 345 678", contact) == {
        "name": "Maria Garcia", "phone": "+34 612 345 678"}
    assert only_call("Save contact Bob Stone, call him on (555) 123-4567", contact) == {
        "name": "Bob Stone", "phone": "(555) 123-4567"}


def test_nested_objects_refs_and_nullable_enums() -> None:
    book = tool(
        "book_flight", "Book a flight",
        {"route": {"$ref": "#/$defs/Route"},
         "passengers": {"type": "integer", "minimum": 1, "maximum": 9},
         "cabin": {"anyOf": [{"$ref": "#/$defs/Cabin"}, {"type": "null"}], "default": None}},
        ["route", "passengers"],
        {"Route": {"type": "object", "properties": {
            "origin": {"type": "string", "description": "origin airport"},
            "destination": {"type": "string", "description": "destination city"}},
            "required": ["origin", "destination"]},
         "Cabin": {"type": "string", "enum": ["economy", "business", "first"]}},
    )
    assert only_call("Book a business class flight from London to Tokyo for 2 passengers", book) == {
        "route": {"origin": "London", "destination": "Tokyo"}, "passengers": 2, "cabin": "business"}


def test_arrays_take_the_list_in_one_call() -> None:
    tag = tool("tag_items", "Tag items",
               {"items": {"type": "array", "items": {"type": "string"}},
                "color": {"type": "string", "enum": ["red", "green", "blue"]}})
    assert only_call("Tag 'apple', 'banana' and 'cherry' as green", tag) == {
        "items": ["apple", "banana", "cherry"], "color": "green"}
    average = tool("average", "Average of numbers",
                   {"numbers": {"type": "array", "items": {"type": "number"}}})
    assert only_call("What is the average of 3, 5 and 10?", average) == {"numbers": [3, 5, 10]}


def test_required_parameters_without_evidence_get_valid_fallbacks() -> None:
    strict = tool(
        "make_thing", "Make a thing",
        {"code": {"type": "string", "pattern": "^[A-Z]{3}-\\d{2}$"},
         "count": {"type": "integer", "exclusiveMinimum": 0},
         "ratio": {"type": "number", "minimum": 0.5, "maximum": 0.9},
         "flag": {"type": "boolean"},
         "mode": {"type": "string", "enum": ["fast", "slow"]},
         "when": {"type": "string", "format": "date"},
         "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
         "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2}},
    )
    arguments = only_call("make a thing", strict)
    assert arguments == {"code": "AAA-00", "count": 1, "ratio": 0.5, "flag": False,
                         "mode": "fast", "when": "2024-01-01", "note": "make a thing",
                         "tags": ["make a thing", "value 2"]}
    jsonschema.validate(arguments, strict["function"]["parameters"])


def test_route_ends_follow_from_and_to() -> None:
    convert = CORPUS_TOOLS[4]
    assert only_call("Convert 100 USD to EUR", convert) == {
        "amount": 100, "source": "USD", "target": "EUR"}
    assert only_call("Convert 5 into GBP from JPY", convert) == {
        "amount": 5, "source": "JPY", "target": "GBP"}


def test_from_and_to_in_parameter_names() -> None:
    convert = tool("convert_units", "Convert a quantity between units",
                   {"value": {"type": "number"}, "from_unit": {"type": "string"},
                    "to_unit": {"type": "string"}})
    assert only_call("Convert 5 miles to km", convert) == {
        "value": 5, "from_unit": "miles", "to_unit": "km"}
    assert only_call("What's 72 fahrenheit in celsius? convert it", convert) == {
        "value": 72, "from_unit": "fahrenheit", "to_unit": "celsius"}


def test_a_tool_with_a_parameter_for_each_date_wins() -> None:
    date = {"type": "string", "format": "date"}
    add = tool("date_add", "Add days to a date.", {"start": date, "days": {"type": "integer"}})
    diff = tool("date_diff", "Count the days between two dates.", {"start": date, "end": date})
    reply = ask("How many days between 2024-01-01 and 2024-03-15?", [add, diff])
    assert calls(reply) == [("date_diff", {"start": "2024-01-01", "end": "2024-03-15"})]
    reply = ask("Add 10 days to 2024-01-01", [add, diff])
    assert calls(reply) == [("date_add", {"start": "2024-01-01", "days": 10})]


def test_lists_of_shaped_values_take_every_match() -> None:
    event = CORPUS_TOOLS[5]
    assert only_call(
        "Create an event 'Team sync' on 2025-03-14 with ann@example.com and bob@example.com", event
    ) == {"title": "Team sync", "date": "2025-03-14",
          "attendees": ["ann@example.com", "bob@example.com"]}


def test_objects_per_subject_leave_the_parents_numbers_alone() -> None:
    trip = CORPUS_TOOLS[7]
    assert only_call("Plan a trip to Rome, Florence and Venice with a budget of 2000", trip) == {
        "stops": [{"city": "Rome", "nights": 1}, {"city": "Florence", "nights": 1},
                  {"city": "Venice", "nights": 1}],
        "budget": 2000,
    }


def test_numbers_snap_to_multiple_of_and_enums_come_through_refs() -> None:
    thermostat = CORPUS_TOOLS[6]
    assert only_call("Set the thermostat to 21.3 degrees in cool mode, eco yes", thermostat) == {
        "temperature": 21.5, "mode": "cool", "eco": True}


# A corpus of tool schemas (the shapes pydantic and hand-written tools produce) and messages:
# whatever the message, the arguments must validate against the schema.
CORPUS_TOOLS = [
    WEATHER, CALCULATOR, SEARCH, FINAL,
    tool("convert_currency", "Convert an amount between currencies",
         {"amount": {"type": "number", "exclusiveMinimum": 0},
          "source": {"type": "string", "pattern": "^[A-Z]{3}$"},
          "target": {"type": "string", "pattern": "^[A-Z]{3}$"}}),
    tool("create_event", "Create a calendar event",
         {"title": {"type": "string", "minLength": 3, "maxLength": 20},
          "date": {"type": "string", "format": "date"},
          "attendees": {"type": "array", "items": {"type": "string", "format": "email"},
                        "minItems": 1, "maxItems": 3},
          "reminder": {"anyOf": [{"type": "integer", "minimum": 5, "maximum": 60},
                                 {"type": "null"}], "default": None}},
         ["title", "date", "attendees"]),
    tool("set_thermostat", "Set the thermostat",
         {"temperature": {"type": "number", "minimum": 10, "maximum": 30, "multipleOf": 0.5},
          "mode": {"$ref": "#/$defs/Mode"}, "eco": {"type": "boolean"}},
         defs={"Mode": {"type": "string", "enum": ["heat", "cool", "auto"]}}),
    tool("plan_trip", "Plan a trip",
         {"stops": {"type": "array", "items": {"$ref": "#/$defs/Stop"}, "minItems": 1},
          "budget": {"type": ["integer", "null"], "minimum": 0}},
         ["stops", "budget"],
         {"Stop": {"type": "object", "properties": {
             "city": {"type": "string"}, "nights": {"type": "integer", "minimum": 1}},
             "required": ["city", "nights"], "additionalProperties": False}}),
    tool("tree", "Build a tree",
         {"root": {"$ref": "#/$defs/Node"}},
         defs={"Node": {"type": "object", "properties": {
             "label": {"type": "string"},
             "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
             "required": ["label", "children"]}}),
    tool("rate", "Rate something",
         {"score": {"type": "integer", "enum": [1, 2, 3, 4, 5]},
          "verdict": {"const": "done"},
          "meta": {"type": "object", "additionalProperties": {"type": "string"}},
          "anything": {}}),
    tool("strict_mode", "OpenAI strict-mode style",
         {"query": {"type": "string"}, "max_results": {"type": ["integer", "null"]},
          "lang": {"anyOf": [{"type": "string", "enum": ["en", "fr"]}, {"type": "null"}]}},
         ["query", "max_results", "lang"]),
]
CORPUS_MESSAGES = [
    "What's the weather in Paris for 5 days?",
    "Convert 100 USD to EUR",
    "Convert -5 dollars please",
    "Create an event 'Team sync' on 2025-03-14 with ann@example.com and bob@example.com",
    "Set the thermostat to 21.3 degrees in cool mode, eco yes",
    "Plan a trip to Rome, Florence and Venice with a budget of 2000",
    "Build a tree",
    "Rate it 4 please",
    "Rate it 9",
    "",
    "   ",
    "🙂 ünïcödé \"quoted\" and 'single' `back` https://x.y/z?q=1 ./a/b.txt 2^8",
    "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17",
    "Paris, Tokyo, Rome, Oslo, Lima",
]


@pytest.mark.parametrize("message", CORPUS_MESSAGES)
@pytest.mark.parametrize("definition", CORPUS_TOOLS, ids=lambda t: t["function"]["name"])
def test_arguments_validate_against_the_schema(definition: dict[str, Any], message: str) -> None:
    choice = {"type": "function", "function": {"name": definition["function"]["name"]}}
    reply = ask(message, [definition], tool_choice=choice)
    assert reply.tool_calls
    for call in reply.tool_calls:
        jsonschema.validate(json.loads(call.arguments), definition["function"]["parameters"])


# --------------------------------------------------------------------------------------------
# After tool results
# --------------------------------------------------------------------------------------------


def test_answers_in_text_from_the_results() -> None:
    reply = after_results(
        "What's the weather in Paris?",
        [("get_weather", {"city": "Paris"}, '{"temperature": 21, "conditions": "sunny"}')],
        [WEATHER],
    )
    assert reply.tool_calls == ()
    # A sentence about Paris that quotes the result, not a dump of the call.
    assert reply.content.startswith("Paris") and "21" in reply.content
    assert "sunny" in reply.content and "get_weather" not in reply.content


def test_summarizes_each_result_of_parallel_calls() -> None:
    reply = after_results(
        "Weather in Paris and Tokyo?",
        [("get_weather", {"city": "Paris"}, '{"temperature": 21}'),
         ("get_weather", {"city": "Tokyo"}, "Rain, 14 degrees")],
        [WEATHER],
    )
    paris, tokyo = reply.content.index("Paris"), reply.content.index("Tokyo")
    assert paris < reply.content.index("21") < tokyo < reply.content.index("Rain, 14 degrees")
    assert "get_weather" not in reply.content


def test_reports_a_failed_tool() -> None:
    reply = after_results("Weather in Atlantis?",
                          [("get_weather", {"city": "Atlantis"}, "Error: unknown city")], [WEATHER])
    assert reply.content.startswith("I couldn't get an answer for Atlantis")
    assert reply.content.rstrip(".").endswith("unknown city") and "Error:" not in reply.content


OUTPUT_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "temperature": {"type": "number"},
        "conditions": {"type": "string"},
        "summary": {"type": "string"},
    },
    "required": ["city", "temperature", "conditions", "summary"],
}


def test_json_schema_output_is_filled_from_the_results() -> None:
    reply = after_results(
        "What's the weather in Paris?",
        [("get_weather", {"city": "Paris"}, '{"temp_c": "21.5", "conditions": "sunny"}')],
        [WEATHER],
        response_format={"type": "json_schema",
                         "json_schema": {"name": "Weather", "schema": OUTPUT_SCHEMA}},
    )
    answer = json.loads(reply.content)
    jsonschema.validate(answer, OUTPUT_SCHEMA)
    summary = answer.pop("summary")
    assert answer == {"city": "Paris", "temperature": 21.5, "conditions": "sunny"}
    assert "Paris" in summary and "21.5" in summary and "sunny" in summary


def test_final_answer_tool_gets_the_results_as_arguments() -> None:
    reply = after_results(
        "What's the weather in Paris?",
        [("get_weather", {"city": "Paris"}, '{"city": "Paris", "temperature": 18}')],
        [WEATHER, FINAL],
    )
    [(name, arguments)] = calls(reply)
    assert name == "final_result"
    assert arguments["city"] == "Paris" and arguments["temperature"] == 18
    assert "Paris" in arguments["summary"] and "18" in arguments["summary"]


def test_final_answer_tool_is_called_at_once_when_there_is_nothing_to_look_up() -> None:
    reply = ask("Summarize: the sky is blue", [WEATHER, FINAL])
    assert [name for name, _ in calls(reply)] == ["final_result"]
    jsonschema.validate(calls(reply)[0][1], FINAL["function"]["parameters"])


def test_a_lookup_comes_before_the_final_answer_tool() -> None:
    assert calls(ask("What's the weather in Paris?", [WEATHER, FINAL])) == [
        ("get_weather", {"city": "Paris"})]


def test_forced_function_after_results_gets_the_answer() -> None:
    choice = {"type": "function", "function": {"name": "final_result"}}
    reply = after_results("Weather in Rome?",
                          [("get_weather", {"city": "Rome"}, '{"temperature": 25}')],
                          [WEATHER, FINAL], tool_choice=choice)
    assert calls(reply)[0][0] == "final_result"
    assert calls(reply)[0][1]["temperature"] == 25


def test_json_object_output() -> None:
    reply = after_results("Weather in Rome?",
                          [("get_weather", {"city": "Rome"}, '{"temperature": 25}')],
                          [WEATHER], response_format={"type": "json_object"})
    answer = json.loads(reply.content)
    assert answer["sources"] == ["get_weather"]
    assert "Rome" in answer["answer"] and "25" in answer["answer"]


def test_structured_output_without_tools_comes_from_the_message() -> None:
    schema = {"type": "object", "properties": {
        "name": {"type": "string", "description": "person name"},
        "age": {"type": "integer", "minimum": 0},
        "languages": {"type": "array", "items": {"type": "string"}}},
        "required": ["name", "age", "languages"]}
    reply = ask("Ada Lovelace was 36 and knew English, French and Italian", response_format={
        "type": "json_schema", "json_schema": {"name": "Person", "schema": schema}})
    assert json.loads(reply.content) == {
        "name": "Ada Lovelace", "age": 36, "languages": ["English", "French", "Italian"]}


def test_prompted_schema_in_the_instructions() -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"},
                                               "confidence": {"type": "number", "minimum": 0,
                                                              "maximum": 1}},
              "required": ["answer", "confidence"]}
    body = {"model": "grok-3", "messages": [
        {"role": "system", "content": "Answer with one JSON value that matches this JSON Schema:\n"
                                      + json.dumps(schema)},
        {"role": "user", "content": "Is the sky blue?"}]}
    answer = json.loads(MODEL(body).content)
    jsonschema.validate(answer, schema)


# --------------------------------------------------------------------------------------------
# Validation feedback
# --------------------------------------------------------------------------------------------


def test_structured_answer_is_fixed_where_the_errors_say() -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"},
                                               "rating": {"type": "integer"},
                                               "unit": {"type": "string"}},
              "required": ["name", "rating"]}
    body = {"model": "grok-3", "response_format": {
        "type": "json_schema", "json_schema": {"name": "X", "schema": schema}}, "messages": [
        {"role": "user", "content": "Describe Paris"},
        {"role": "assistant", "content": '{"name": "Paris is a lovely city", "rating": 30, "x": 1}'},
        {"role": "user", "content": (
            "Your answer does not match the required JSON Schema:\n"
            '- name: String should have at most 10 characters (got "Paris is a lovely city")\n'
            "- rating: Input should be less than or equal to 5 (got 30)\n"
            "- x: Extra inputs are not permitted (got 1)\n"
            "- unit: Input should be 'metric' or 'imperial' (got None)\n"
            "Answer again with only the corrected JSON.")}]}
    assert json.loads(MODEL(body).content) == {"name": "Paris is a", "rating": 5, "unit": "metric"}


def test_missing_fields_are_added_on_retry() -> None:
    body = {"model": "grok-3", "response_format": {"type": "json_schema", "json_schema": {
        "name": "X", "schema": {"type": "object", "properties": {"city": {"type": "string"}}}}},
        "messages": [
            {"role": "user", "content": "Where is the Louvre? In Paris."},
            {"role": "assistant", "content": "{}"},
            {"role": "user", "content": "Your answer does not match the required JSON Schema:\n"
                                        "- city: Field required\nAnswer again."}]}
    assert json.loads(MODEL(body).content) == {"city": "Paris"}


def test_tool_arguments_are_fixed_after_an_error_result() -> None:
    reply = after_results(
        "Weather in Paris for 20 days",
        [("get_weather", {"city": "Paris", "days": 20, "units": "c"},
          "Invalid arguments for tool 'get_weather'; fix them and call it again:\n"
          "- days: Input should be less than or equal to 10 (got 20)\n"
          "- units: Extra inputs are not permitted (got \"c\")")],
        [WEATHER],
    )
    assert calls(reply) == [("get_weather", {"city": "Paris", "days": 10})]


def test_final_tool_arguments_are_fixed_after_feedback() -> None:
    reply = after_results(
        "Weather in Paris?",
        [("final_result", {"city": "Paris", "temperature": "warm", "summary": "ok"},
          "Invalid arguments for final_result:\n"
          "- temperature: Input should be a valid number, unable to parse string as a number\n"
          "Call final_result again with arguments that match its schema.")],
        [WEATHER, FINAL],
    )
    name, arguments = calls(reply)[0]
    assert name == "final_result"
    assert arguments["city"] == "Paris" and isinstance(arguments["temperature"], int | float)


def test_a_tool_output_with_dashes_is_not_mistaken_for_feedback() -> None:
    reply = after_results("Weather in Oslo?", [
        ("get_weather", {"city": "Oslo"}, "- temperature: 3\n- wind: strong")], [WEATHER])
    assert reply.tool_calls == ()
    assert reply.content.startswith("Oslo") and "temperature 3" in reply.content
    assert "wind strong" in reply.content


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Invalid:\n- days: Input should be less than 5 (got 9)", [(("days",), "Input should be less than 5")]),
        ("1 validation error for M\nitems.0.name\n  Field required [type=missing, input_value={}]",
         [(("items", 0, "name"), "Field required")]),
        ('Validation failed: [{"loc": ["a", 1], "msg": "bad"}]', [(("a", 1), "bad")]),
        ("- answer: Invalid JSON: EOF", [((), "Invalid JSON: EOF")]),
        ("- temperature: 21\n- wind: strong", []),
        ("no errors here", []),
    ],
)
def test_parse_field_errors(text: str, expected: list[tuple[tuple[Any, ...], str]]) -> None:
    assert [(e.path, e.message) for e in parse_field_errors(text)] == expected


# --------------------------------------------------------------------------------------------
# Text, arithmetic, vision, reasoning
# --------------------------------------------------------------------------------------------


def test_plain_text_echoes_the_question() -> None:
    reply = ask("What is the capital of France?")
    first, second = reply.content.split("\n")
    assert first == "You asked: What is the capital of France?"
    assert "simulated" in second and second.endswith("capital, france.")
    assert reply.reasoning is None
    assert reply.effective_finish_reason == "stop"


def test_arithmetic_is_evaluated_safely() -> None:
    assert ask("What is (3 + 4) * 12?").content == "(3 + 4) * 12 = 84"
    assert ask("And 2^10?").content == "2^10 = 1024"
    assert safe_eval("9 ** 9 ** 9") is None
    assert safe_eval("__import__('os')") is None
    assert safe_eval("1 / 0") is None
    assert safe_eval("sqrt(16) + pi - pi") == 4.0


def test_replies_are_deterministic() -> None:
    body = {"model": "grok-3", "messages": [{"role": "user", "content": "Weather in Paris?"}],
            "tools": [WEATHER, SEARCH]}
    assert MODEL(body) == SimulatedModel()(json.loads(json.dumps(body)))


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def test_vision_describes_what_the_bytes_say() -> None:
    png = render_png("a red square", 64, 32)
    colour = inspect_image(png)["dominant_color"]
    assert colour.startswith("#d")
    reply = ask([{"type": "text", "text": "What is in this picture?"},
                 {"type": "image_url", "image_url": {"url": data_url(png)}}])
    # What the bytes say, as a sentence: format, size and colour.
    assert reply.content.startswith("It is a PNG image, 64x32 pixels")
    assert f"the dominant colour is red ({colour})" in reply.content


def test_vision_says_what_it_cannot_read() -> None:
    reply = ask([{"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                 {"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}},
                 {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}])
    lines = reply.content.splitlines()
    assert lines[0] == ("Image 1 (https://example.com/cat.jpg) is a remote URL; the offline "
                        "simulator reads only data: URLs.")
    assert lines[1].startswith("Image 2 (data:image/png;base64,@@@) could not be decoded")
    assert lines[2] == "Image 3: not an image I can read (3 bytes of unknown format)."


def test_structured_output_about_an_image() -> None:
    schema = {"type": "object", "properties": {"width": {"type": "integer"},
                                               "color_name": {"type": "string"}},
              "required": ["width", "color_name"]}
    reply = ask([{"type": "text", "text": "Describe the image"},
                 {"type": "image_url", "image_url": {"url": data_url(render_png("blue sea", 40, 40))}}],
                response_format={"type": "json_schema", "json_schema": {"name": "I", "schema": schema}})
    assert json.loads(reply.content) == {"width": 40, "color_name": "blue"}


@pytest.mark.parametrize(
    ("model", "reasons"),
    [
        ("grok-3", False), ("grok-3-mini", True), ("grok-3-mini-fast", True), ("grok-4", True),
        ("grok-4-0709", True), ("grok-4-latest", True), ("grok-4-fast-reasoning", True),
        ("grok-4-fast-non-reasoning", False), ("grok-4-1-fast-non-reasoning", False),
        ("grok-code-fast-1", True), ("grok-4.3", True), ("grok-4.5-latest", True),
        ("grok-4.6", True), ("grok-4.20-0309-non-reasoning", False), ("grok-2-vision-1212", False),
        ("x-ai/grok-4", True), ("grok-4-fast", False),
    ],
)
def test_reasoning_only_for_reasoning_models(model: str, reasons: bool) -> None:
    assert is_reasoning_model(model) is reasons
    reply = MODEL({"model": model, "messages": [{"role": "user", "content": "Weather in Oslo?"}],
                   "tools": [WEATHER]})
    assert (reply.reasoning is not None) is reasons
    if reasons:
        assert reply.reasoning == ("The user asks: Weather in Oslo?. The best fitting tools: "
                                   "`get_weather` (matching: weather).")


def test_reasoning_effort_none_turns_reasoning_off() -> None:
    reply = MODEL({"model": "grok-4.3", "reasoning_effort": "none",
                   "messages": [{"role": "user", "content": "hi"}]})
    assert reply.reasoning is None


def test_malformed_requests_do_not_crash() -> None:
    for body in ({}, {"messages": "nope"}, {"messages": [None, 3, {"role": "user"}]},
                 {"messages": [{"role": "tool", "content": None}], "tools": [None, {"x": 1}]}):
        assert isinstance(MODEL(body), SimReply)


def test_a_typical_request_takes_well_under_a_millisecond() -> None:
    body = {"model": "grok-3", "tools": [WEATHER, CALCULATOR, SEARCH],
            "messages": [{"role": "user", "content": "What's the weather in Paris for 3 days?"}]}
    MODEL(body)
    runs = 300
    start = time.perf_counter()
    for _ in range(runs):
        MODEL(body)
    # Generous bound (shared CI machines); a typical run is ~0.2 ms.
    assert (time.perf_counter() - start) / runs < 0.003


# --------------------------------------------------------------------------------------------
# Evidence and pattern helpers
# --------------------------------------------------------------------------------------------


def test_evidence_reads_names_subjects_and_numbers() -> None:
    ev = Evidence("What's the weather in New York and Los Angeles for 1,000 days?")
    assert [span.value for span, _, _ in ev.names] == ["New York", "Los Angeles"]
    assert ev.subjects == ("New York", "Los Angeles")
    assert [n.value for n in ev.numbers] == [1000]
    assert Evidence("Book a table at 2024-05-01 10:30").numbers == ()


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [("^[A-Z]{3}$", "AAA"), (r"^\d{3}-\d{4}$", "000-0000"), ("^(yes|no)$", "yes"),
     ("^[^0-9]+$", "a"), (r"(\w)\1", None)],
)
def test_generate_from_pattern(pattern: str, expected: str | None) -> None:
    assert generate_from_pattern(pattern) == expected


# --------------------------------------------------------------------------------------------
# Scripted policies
# --------------------------------------------------------------------------------------------


def test_scripted_list_is_consumed_in_order_then_raises() -> None:
    call = SimReply(tool_calls=(SimToolCall("get_weather", '{"city":"Oslo"}'),))
    policy = scripted([call, "It is sunny."])
    assert policy({}) is call
    assert policy({}) == SimReply(content="It is sunny.")
    with pytest.raises(ScriptExhaustedError, match="holds 2 replies and request 3"):
        policy({})


def test_scripted_function_sees_the_request() -> None:
    seen: list[Mapping[str, Any]] = []

    def reply(request: Mapping[str, Any]) -> str:
        seen.append(request)
        return f"model={request['model']}"

    policy = scripted(reply)
    assert policy({"model": "grok-3"}) == SimReply(content="model=grok-3")
    assert seen == [{"model": "grok-3"}]


def test_scripted_rejects_a_bare_string_and_bad_items() -> None:
    with pytest.raises(TypeError, match="list of replies"):
        scripted("hello")
    with pytest.raises(TypeError, match="SimReply or a str"):
        scripted([42])  # type: ignore[list-item]


def test_scripted_list_is_thread_safe() -> None:
    policy = scripted([str(i) for i in range(200)])
    seen: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            content = policy({}).content
            with lock:
                seen.append(content)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen, key=int) == [str(i) for i in range(200)]
