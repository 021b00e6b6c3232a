"""The simulated model over several steps: one call per subject of any kind, recovering from
tool errors, following through to every subject, choosing tools by domain and fillable
parameters, answering from the record the question names, and the modules staying small."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentkit.sim._arith import find_expressions
from agentkit.sim._evidence import Evidence
from agentkit.sim._feedback import offered_values, reports_failure
from agentkit.sim._sources import pick_record
from agentkit.sim.policy import SimulatedModel
from agentkit.sim.reply import SimReply

MODEL = SimulatedModel()


def tool(name: str, description: str, properties: dict[str, Any],
         required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "description": description, "parameters": {
        "type": "object", "properties": properties,
        "required": list(properties) if required is None else required}}}


CALCULATE = tool("calculate", "Evaluate a math expression.", {"expression": {"type": "string"}})
FETCH = tool("fetch_url", "Download a web page.", {"url": {"type": "string"}})
QUERY = tool("run_query", "Run a read-only query on the shop database.",
             {"sql": {"type": "string", "description": "One SQL SELECT statement."}})
FORECAST = tool("get_forecast", "Weather forecast for a city.",
                {"city": {"type": "string"}, "days": {"type": "integer", "default": 1}}, ["city"])
WEATHER = tool("get_weather", "Get the current weather for a city.",
               {"city": {"type": "string", "description": "The city name"}})
NOW = tool("now", "Get the current date and time in a time zone.",
           {"timezone": {"type": "string", "description": "An IANA time zone name."}})
SEARCH = tool("search_docs", "Search the documentation.", {"query": {"type": "string"}})
FINAL = tool("final_result", "The final answer.",
             {"city": {"type": "string"}, "day": {"type": "integer"}, "summary": {"type": "string"}})

Batch = list[tuple[str, dict[str, Any], str]]


def converse(question: str, batches: list[Batch], tools: list[dict[str, Any]],
             **extra: Any) -> SimReply:
    """A conversation: the question, then per batch the calls made and their results."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": question}]
    number = 0
    for batch in batches:
        ids = [f"call_{number + i}" for i in range(len(batch))]
        number += len(batch)
        messages.append({"role": "assistant", "content": "", "tool_calls": [
            {"id": call_id, "type": "function",
             "function": {"name": name, "arguments": json.dumps(arguments)}}
            for call_id, (name, arguments, _) in zip(ids, batch, strict=True)]})
        messages += [{"role": "tool", "tool_call_id": call_id, "content": content}
                     for call_id, (_, _, content) in zip(ids, batch, strict=True)]
    return MODEL({"model": "grok-3", "messages": messages, "tools": tools, **extra})


def calls(reply: SimReply) -> list[tuple[str, dict[str, Any]]]:
    return [(c.name, json.loads(c.arguments)) for c in reply.tool_calls]


TWO_SUMS = "What is (3 + 4) * 12? Then take the square root of 84."


# --------------------------------------------------------------------------------------------
# One call per subject, for every kind of subject
# --------------------------------------------------------------------------------------------


def test_two_expressions_get_a_calculation_each() -> None:
    assert calls(converse(TWO_SUMS, [], [CALCULATE])) == [
        ("calculate", {"expression": "(3 + 4) * 12"}), ("calculate", {"expression": "sqrt(84)"})]


def test_two_urls_get_a_fetch_each() -> None:
    reply = converse("Compare https://a.example/pricing and https://b.example/pricing.", [], [FETCH])
    assert calls(reply) == [("fetch_url", {"url": "https://a.example/pricing"}),
                            ("fetch_url", {"url": "https://b.example/pricing"})]


def test_two_backticked_sql_statements_get_a_query_each() -> None:
    reply = converse("Run `SELECT count(*) FROM orders` and `SELECT name FROM products`", [],
                     [QUERY])
    assert calls(reply) == [("run_query", {"sql": "SELECT count(*) FROM orders"}),
                            ("run_query", {"sql": "SELECT name FROM products"})]


def test_one_shaped_value_is_one_call() -> None:
    assert calls(converse("What is (3 + 4) * 12?", [], [CALCULATE])) == [
        ("calculate", {"expression": "(3 + 4) * 12"})]


def test_a_tool_with_two_parameters_of_one_shape_takes_both_values_in_one_call() -> None:
    date = {"type": "string", "format": "date"}
    diff = tool("date_diff", "Count the days between two dates.", {"start": date, "end": date})
    assert calls(converse("Days between 2024-01-01 and 2024-03-15?", [], [diff])) == [
        ("date_diff", {"start": "2024-01-01", "end": "2024-03-15"})]


def test_one_call_per_turn_when_parallel_calls_are_off() -> None:
    reply = converse(TWO_SUMS, [], [CALCULATE], parallel_tool_calls=False)
    assert calls(reply) == [("calculate", {"expression": "(3 + 4) * 12"})]


def test_a_plain_answer_does_every_sum() -> None:
    reply = converse(TWO_SUMS, [], [])
    assert reply.content == "(3 + 4) * 12 = 84\nsqrt(84) = 9.1651513899"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (TWO_SUMS, ["(3 + 4) * 12", "sqrt(84)"]),
        ("the square root of 2 plus 1", ["sqrt(2) + 1"]),
        ("log of 100 and 6 times 7", ["log(100)", "6 * 7"]),
        ("no sums here, just 42", []),
    ],
)
def test_find_expressions_in_order(text: str, expected: list[str]) -> None:
    assert find_expressions(text) == expected


# --------------------------------------------------------------------------------------------
# Following through: subjects no call has answered yet
# --------------------------------------------------------------------------------------------


def test_one_call_a_turn_until_every_expression_is_done() -> None:
    first = ("calculate", {"expression": "(3 + 4) * 12"}, "84")
    second = ("calculate", {"expression": "sqrt(84)"}, "9.16515138991168")
    reply = converse(TWO_SUMS, [[first]], [CALCULATE], parallel_tool_calls=False)
    assert calls(reply) == [("calculate", {"expression": "sqrt(84)"})]
    reply = converse(TWO_SUMS, [[first], [second]], [CALCULATE], parallel_tool_calls=False)
    assert reply.tool_calls == ()
    # Each expression with its value, in the order they were asked.
    assert "(3 + 4) * 12 = 84" in reply.content
    assert reply.content.index("= 84") < reply.content.index("sqrt(84) = 9.16515138991168")


def test_places_are_followed_through_one_a_turn() -> None:
    question = "Compare the weather in Paris, Tokyo and Rome"
    paris = ("get_weather", {"city": "Paris"}, '{"temperature": 21}')
    tokyo = ("get_weather", {"city": "Tokyo"}, '{"temperature": 14}')
    rome = ("get_weather", {"city": "Rome"}, '{"temperature": 25}')
    off = {"parallel_tool_calls": False}
    assert calls(converse(question, [[paris]], [WEATHER], **off)) == [
        ("get_weather", {"city": "Tokyo"})]
    assert calls(converse(question, [[paris], [tokyo]], [WEATHER], **off)) == [
        ("get_weather", {"city": "Rome"})]
    assert converse(question, [[paris], [tokyo], [rome]], [WEATHER], **off).tool_calls == ()


def test_a_then_message_gets_to_its_second_place() -> None:
    question = "What's the weather in Paris? Then in Tokyo."
    paris = ("get_weather", {"city": "Paris"}, '{"temperature": 21}')
    assert calls(converse(question, [], [WEATHER], parallel_tool_calls=False)) == [
        ("get_weather", {"city": "Paris"})]
    assert calls(converse(question, [[paris]], [WEATHER], parallel_tool_calls=False)) == [
        ("get_weather", {"city": "Tokyo"})]
    # "in June" is no second place.
    assert calls(converse("Weather in Paris in June?", [], [WEATHER])) == [
        ("get_weather", {"city": "Paris"})]


@pytest.mark.parametrize(
    ("text", "subjects"),
    [
        ("What's the weather in Paris? Then in Tokyo.", ("Paris", "Tokyo")),
        ("What is the weather in Paris? And in Tokyo?", ("Paris", "Tokyo")),
        ("Weather in Paris, then Rome", ("Paris", "Rome")),
        ("Weather in Paris. Tokyo is nice.", ()),
        ("Ada Lovelace in London", ()),
    ],
)
def test_names_asked_about_one_after_the_other_are_subjects(
        text: str, subjects: tuple[str, ...]) -> None:
    assert Evidence(text).subjects == subjects


def test_missing_subjects_are_called_together_when_parallel_calls_are_on() -> None:
    question = "Compare the weather in Paris, Tokyo and Rome"
    paris = ("get_weather", {"city": "Paris"}, '{"temperature": 21}')
    assert calls(converse(question, [[paris]], [WEATHER])) == [
        ("get_weather", {"city": "Tokyo"}), ("get_weather", {"city": "Rome"})]


def test_every_named_tool_is_called_in_turn() -> None:
    number = {"type": "integer"}
    add = tool("add", "Add two numbers", {"a": number, "b": number})
    multiply = tool("multiply", "Multiply two numbers", {"a": number, "b": number})
    question = "Add and multiply the number 2 and 3"
    done = ("add", {"a": 2, "b": 3}, "5")
    reply = converse(question, [[done]], [add, multiply], parallel_tool_calls=False)
    assert calls(reply) == [("multiply", {"a": 2, "b": 3})]


def test_a_call_with_repaired_arguments_still_answers_its_subject() -> None:
    # The only call of a tool is answered by any call to it, whatever its arguments became.
    reply = converse("Weather in Paris?", [[("get_weather", {"city": "Paris, FR"}, "Sunny")]],
                     [WEATHER])
    assert reply.tool_calls == ()
    assert reply.content.startswith("Paris, FR") and "Sunny" in reply.content


def test_no_follow_through_after_a_final_answer_tool() -> None:
    reply = converse("Weather in Paris and Tokyo?",
                     [[("final_result", {"city": "Paris", "day": 1, "summary": "ok"}, "Done")]],
                     [WEATHER, FINAL])
    assert all(name == "final_result" for name, _ in calls(reply))


# --------------------------------------------------------------------------------------------
# Recovering from tool errors
# --------------------------------------------------------------------------------------------

ZONE_ERROR = "Error: unknown time zone 'Tokyo'. Try one of: 'Asia/Tokyo', 'Europe/Paris' ..."


def test_a_suggested_value_that_contains_the_failed_one_is_tried() -> None:
    reply = converse("What time is it in Tokyo?", [[("now", {"timezone": "Tokyo"}, ZONE_ERROR)]],
                     [NOW])
    assert calls(reply) == [("now", {"timezone": "Asia/Tokyo"})]
    assert reply.content == ""


def test_a_tool_retry_message_with_a_near_spelling_is_followed() -> None:
    error = "Unknown city 'Tokio'; known cities: Paris, Tokyo, Rome."
    reply = converse("Weather in Tokio?", [[("get_weather", {"city": "Tokio"}, error)]], [WEATHER])
    assert calls(reply) == [("get_weather", {"city": "Tokyo"})]


def test_a_json_error_with_suggestions_is_followed() -> None:
    error = json.dumps({"error": "unknown city 'Pariss'", "suggestions": ["Paris", "Pisa"]})
    reply = converse("Weather in Pariss?", [[("get_weather", {"city": "Pariss"}, error)]],
                     [WEATHER])
    assert calls(reply) == [("get_weather", {"city": "Paris"})]


def test_nothing_related_is_suggested_so_the_failure_is_explained() -> None:
    error = "Unknown city 'Atlantis'; known cities: Paris, Tokyo, Rome"
    reply = converse("Weather in Atlantis?", [[("get_weather", {"city": "Atlantis"}, error)]],
                     [WEATHER])
    assert reply.tool_calls == ()
    assert reply.content.startswith("I couldn't get an answer for Atlantis: ")
    assert error in reply.content


def test_at_most_two_retries_of_a_call() -> None:
    def failing(city: str) -> tuple[str, dict[str, Any], str]:
        return ("get_weather", {"city": city},
                f"Unknown city '{city}'; did you mean '{city} City'?")

    question = "Weather in Springfield?"
    one = [[failing("Springfield")]]
    assert calls(converse(question, one, [WEATHER])) == [
        ("get_weather", {"city": "Springfield City"})]
    two = [*one, [failing("Springfield City")]]
    assert calls(converse(question, two, [WEATHER])) == [
        ("get_weather", {"city": "Springfield City City"})]
    three = [*two, [failing("Springfield City City")]]
    reply = converse(question, three, [WEATHER])
    assert reply.tool_calls == ()
    assert reply.content.startswith("I couldn't get an answer:\n- Springfield: Unknown city")
    assert reply.content.count("\n- ") == 3  # the first try and both retries


def test_invalid_argument_feedback_is_bounded_too() -> None:
    error = ("Invalid arguments for tool 'get_weather'; fix them and call it again:\n"
             "- city: String should have at most 3 characters")
    batch = [("get_weather", {"city": "Paris"}, error)]
    assert calls(converse("Weather in Paris?", [batch], [WEATHER]))
    reply = converse("Weather in Paris?", [batch, batch, batch], [WEATHER])
    assert reply.tool_calls == ()
    assert reply.content.startswith("I couldn't get an answer")
    assert "at most 3 characters" in reply.content


def test_a_value_already_tried_is_not_offered_again() -> None:
    first = ("now", {"timezone": "Tokyo"}, ZONE_ERROR)
    second = ("now", {"timezone": "Asia/Tokyo"},
              "Error: unknown time zone 'Asia/Tokyo'. Did you mean 'Tokyo'?")
    reply = converse("What time is it in Tokyo?", [[first], [second]], [NOW])
    assert reply.tool_calls == ()
    assert reply.content.startswith("I couldn't get an answer:")
    assert "- Tokyo: unknown time zone" in reply.content


def test_the_answer_leaves_out_a_failure_a_retry_made_good() -> None:
    failed = ("now", {"timezone": "Tokyo"}, ZONE_ERROR)
    good = ("now", {"timezone": "Asia/Tokyo"}, "2025-03-14T18:26:00+09:00")
    reply = converse("What time is it in Tokyo?", [[failed], [good]], [NOW])
    assert "18:26" in reply.content and "2025-03-14" in reply.content
    assert "Asia/Tokyo" in reply.content
    assert "unknown time zone" not in reply.content


def test_one_subjects_failure_stays_reported_beside_anothers_answer() -> None:
    question = "Weather in Atlantis and Paris?"
    failed = ("get_weather", {"city": "Atlantis"}, "Unknown city 'Atlantis'")
    good = ("get_weather", {"city": "Paris"}, "Sunny")
    reply = converse(question, [[failed, good]], [WEATHER])
    failure = reply.content.index("I couldn't get an answer for Atlantis: Unknown city 'Atlantis'")
    assert failure < reply.content.index("Paris: Sunny")


@pytest.mark.parametrize(
    ("text", "failed"),
    [
        ("Error: unknown city", True),
        ("Unknown city 'Atlantis'; known cities: Paris", True),
        ("no forecast for 'Atlantis'; the cities with forecasts are: Paris, Rome", True),
        ('{"error": "not found"}', True),
        ("No rain expected for Paris", False),
        ('{"temperature": 3, "error": null, "city": "Oslo"}', False),
        ("- temperature: 3\n- wind: strong", False),
    ],
)
def test_reports_failure(text: str, failed: bool) -> None:
    data: Any
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    assert reports_failure(text, data) is failed


def test_offered_values_are_quoted_and_listed_values() -> None:
    assert offered_values(ZONE_ERROR) == ["Tokyo", "Asia/Tokyo", "Europe/Paris"]
    assert offered_values("Unknown city 'Atlantis'; known cities: Paris, Tokyo or New York.") == [
        "Atlantis", "Paris", "Tokyo", "New York"]
    assert offered_values("Error: unknown zone. Did you mean Asia/Tokyo?") == ["Asia/Tokyo"]


# --------------------------------------------------------------------------------------------
# Choosing a tool by domain words and fillable parameters
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "city"),
    [("How hot will it be in Cairo tomorrow?", "Cairo"),
     ("Is it going to be sunny in Madrid?", "Madrid")],
)
def test_a_topic_word_and_a_place_call_the_forecast(message: str, city: str) -> None:
    assert calls(converse(message, [], [FORECAST, SEARCH])) == [("get_forecast", {"city": city})]


@pytest.mark.parametrize(
    "message",
    [
        "Tell me a joke",
        "Tell me a joke about Paris",  # a name, but no topic word and no place preposition
        "Book a table in Rome",  # a place, but nothing about the weather
        "Is it hot in here?",  # a topic word, but no place to fill the city with
        "Will it rain in the next 3 days?",
        "Which city is the capital of France?",
    ],
)
def test_no_forecast_call_without_both_signs(message: str) -> None:
    assert converse(message, [], [FORECAST]).tool_calls == ()


def test_a_topic_word_with_only_free_text_parameters_is_not_enough() -> None:
    assert converse("What's the date tomorrow?", [], [SEARCH]).tool_calls == ()


def test_a_time_word_calls_a_clock_tool_that_only_shares_it_with_a_parameter() -> None:
    date = {"type": "string", "format": "date"}
    diff = tool("date_diff", "Count the time between two dates.", {"start": date, "end": date})
    assert [name for name, _ in calls(converse("What time is it in Tokyo?", [], [diff, NOW]))] == [
        "now"]


def test_a_tool_needing_a_shape_the_message_lacks_is_demoted() -> None:
    date = {"type": "string", "format": "date"}
    diff = tool("date_diff", "Count the time between two dates.", {"start": date, "end": date})
    assert converse("How much time do I have?", [], [diff]).tool_calls == ()


# --------------------------------------------------------------------------------------------
# Answering from the record the question names
# --------------------------------------------------------------------------------------------

WEEK = json.dumps([{"city": "Paris", "day": d, "summary": s, "high_c": h}
                   for d, s, h in [(1, "Rain", 14), (2, "Cloudy", 18), (3, "Sunny", 22)]])


def test_a_number_next_to_a_fields_name_picks_that_record() -> None:
    reply = converse("Will it rain in Paris in 3 days?",
                     [[("get_forecast", {"city": "Paris", "days": 3}, WEEK)]], [FORECAST])
    assert reply.content.startswith("Paris, day 3: Sunny")
    assert "22 °C" in reply.content and "Rain" not in reply.content


def test_a_name_picks_that_record() -> None:
    rows = json.dumps({"rows": [{"name": "Espresso Beans", "units": 24},
                                {"name": "Milk Frother", "units": 12}], "row_count": 2})
    reply = converse("How many milk frother units did we sell?",
                     [[("run_query", {"sql": "SELECT name, units FROM sales"}, rows)]], [QUERY])
    assert reply.tool_calls == ()  # the query is in: no exploring the database again
    assert "Milk Frother" in reply.content and "12" in reply.content
    assert "Espresso" not in reply.content


def test_the_final_answer_comes_from_the_named_record() -> None:
    reply = converse("Will it rain in Paris in 2 days?",
                     [[("get_forecast", {"city": "Paris", "days": 3}, WEEK)]], [FORECAST, FINAL])
    [(name, arguments)] = calls(reply)
    assert name == "final_result"
    assert arguments["day"] == 2 and "Cloudy" in arguments["summary"]


def test_without_a_named_record_the_whole_list_is_kept() -> None:
    records = json.loads(WEEK)
    assert pick_record(records, Evidence("Will it rain in Paris this week?")) is records
    # "Paris" is in every record, so it names none of them.
    assert pick_record(records, Evidence("Paris?")) is records
    assert pick_record(records, Evidence("And on day 2?")) == records[1]
    assert pick_record(records, Evidence("Is it 'Sunny' anywhere?")) == records[2]


# --------------------------------------------------------------------------------------------
# Module sizes
# --------------------------------------------------------------------------------------------

SIM = Path(__file__).resolve().parents[1] / "agentkit" / "sim"


@pytest.mark.parametrize(
    "module",
    ["policy", "_evidence", "_fill", "_conversation", "_repair", "_schemas", "_answers", "_arith",
     "_choice", "_feedback", "_kinds", "_plan", "_recovery", "_sources", "_words", "_database",
     "_entities", "_followup", "_prose", "_sql", "_sqlquestion", "_sqlschema"],
)
def test_policy_modules_stay_under_six_hundred_lines(module: str) -> None:
    lines = (SIM / f"{module}.py").read_text(encoding="utf-8").count("\n")
    assert lines <= 600, f"{module}.py has {lines} lines; split it by concern"
