"""The simulated model on phrasings the examples do not ship with.

Every test runs an example's real agent on `GrokClient.simulated()` (or the CLI in-process)
and checks what a user would: the tool that was called and with which argument, the values
the structured answer holds, and that the answer's sentence says the result. Expected values
come from the example's own data (the shop database is queried directly), not from the
simulator.
"""

from __future__ import annotations

import datetime
import importlib
import io
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import BaseModel, Field

from agentkit import Agent, GrokClient
from agentkit.cli import main as cli_main

pytestmark = pytest.mark.anyio


def example(name: str) -> Any:
    return importlib.import_module(f"agentkit.examples.{name}")


async def run(name: str, *prompts: str, deps: Any = None) -> list[Any]:
    """Run an example's agent on each prompt in turn, one conversation; the results."""
    results = []
    async with GrokClient.simulated() as client:
        agent = example(name).build_agent(client=client)
        history = None
        for prompt in prompts:
            with anyio.fail_after(20):
                result = await agent.run(prompt, message_history=history, deps=deps)
            history = result.messages
            results.append(result)
    return results


async def ask(name: str, prompt: str, deps: Any = None) -> Any:
    return (await run(name, prompt, deps=deps))[0]


def calls(result: Any) -> list[tuple[str, dict[str, Any]]]:
    """The tool calls a run made, in order: `(name, arguments)`."""
    made = []
    for message in result.new_messages():
        for call in message.get("tool_calls") or ():
            made.append((call["function"]["name"], json.loads(call["function"]["arguments"])))
    return made


def json_objects(text: str) -> list[Any]:
    """The JSON values printed one after the other (the CLI's structured answers)."""
    decoder, values, position = json.JSONDecoder(), [], 0
    while True:
        start = text.find("{", position)
        if start < 0:
            return values
        value, position = decoder.raw_decode(text, start)
        values.append(value)


# --------------------------------------------------------------------------------------------
# The three commands a first-time user tries
# --------------------------------------------------------------------------------------------


def test_sql_analyst_answers_which_customer_spent_the_most_from_the_cli(shop: Shop) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cli_main(["run", "sql_analyst", "Which customer spent the most?"],
                    stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    name, spent, orders = shop.top_spender()
    answer = out.getvalue()
    assert "nothing to look this up with" not in answer
    assert answer.startswith(name) and f"${spent:,.2f}" in answer and f"{orders} orders" in answer
    # It looked at the database before it queried it.
    shown = err.getvalue()
    assert shown.index("-> list_tables(") < shown.index("-> describe_table(")
    assert shown.index("-> describe_table(") < shown.index("-> run_query(")


def test_extraction_tells_the_person_from_the_company_from_the_cli() -> None:
    out, err = io.StringIO(), io.StringIO()
    prompt = "Bob Smith, bob@acme.io, works at Acme, wants a demo"
    assert cli_main(["run", "extraction", prompt], stdout=out, stderr=err) == 0, err.getvalue()
    [contact] = json_objects(out.getvalue())
    assert contact["name"] == "Bob Smith"
    assert contact["email"] == "bob@acme.io"
    assert contact["company"] == "Acme"
    assert contact["phone"] is None  # the message gives none
    assert contact["topics"] == ["demo"]


def test_weather_chat_follow_up_asks_the_same_about_another_city() -> None:
    out, err = io.StringIO(), io.StringIO()
    feed: Iterator[str] = iter(["Will it rain in Paris tomorrow?", "And in Tokyo?", ""])
    code = cli_main(["chat", "weather"], stdout=out, stderr=err,
                    read_line=lambda: next(feed, None))
    assert code == 0, err.getvalue()
    first, second = json_objects(out.getvalue())
    assert first["city"] == "Paris" and second["city"] == "Tokyo"
    assert second["summary"] != "And in Tokyo" and second["day"] == 1
    assert '-> get_forecast({"city":"Tokyo"})' in err.getvalue()
    tokyo = weather_table()["tokyo"][0]
    assert (second["summary"], second["high_c"], second["low_c"]) == (
        tokyo["summary"], tokyo["high_c"], tokyo["low_c"])


# --------------------------------------------------------------------------------------------
# weather
# --------------------------------------------------------------------------------------------


def weather_table() -> dict[str, list[dict[str, Any]]]:
    table: dict[str, list[dict[str, Any]]] = example("weather")._load_table()
    return table


@pytest.mark.parametrize(
    ("prompt", "city", "day"),
    [
        ("How hot will it be in Cairo tomorrow?", "Cairo", 1),
        ("What's the forecast for New York in 3 days?", "New York", 3),
        ("Do I need an umbrella in London on day 2?", "London", 2),
        ("Is it going to be sunny in Sydney?", "Sydney", 1),
        ("weather tokyo", "Tokyo", 1),
        ("Temperature in Berlin the day after tomorrow?", "Berlin", 2),
        ("Paris weather please", "Paris", 1),
        ("Will it snow in Reykjavik?", "Reykjavik", 1),
        ("Rain chances in Mumbai in two days?", "Mumbai", 2),
        ("How cold does it get in Toronto over the next 5 days, on day 4?", "Toronto", 4),
        # A capitalised first word that is the tool's own subject is not the city.
        ("Weather in Paris?", "Paris", 1),
        ("Forecast for Madrid tomorrow", "Madrid", 1),
    ],
)
async def test_weather_phrasings_call_the_forecast_for_the_city_and_day(
    prompt: str, city: str, day: int
) -> None:
    result = await ask("weather", prompt)
    [(name, arguments)] = calls(result)
    assert name == "get_forecast" and arguments["city"].lower() == city.lower()
    assert arguments.get("days", 1) >= day  # enough days fetched to reach the one asked about
    expected = weather_table()[city.lower()][day - 1]
    forecast = result.output
    assert (forecast.city, forecast.day) == (city, day)
    assert (forecast.summary, forecast.high_c, forecast.rain_probability) == (
        expected["summary"], expected["high_c"], expected["rain_probability"])


@pytest.mark.parametrize(
    ("prompt", "cities"),
    [
        ("Weather in Paris and Tokyo?", ["Paris", "Tokyo"]),
        ("Compare Rome and Madrid tomorrow", ["Rome", "Madrid"]),
        ("Will it rain in London, Berlin or Paris tomorrow?", ["London", "Berlin", "Paris"]),
    ],
)
async def test_several_cities_are_looked_up_in_one_turn_of_parallel_calls(
    prompt: str, cities: list[str]
) -> None:
    result = await ask("weather", prompt)
    assert [(n, a["city"]) for n, a in calls(result)] == [("get_forecast", c) for c in cities]
    assert result.usage.requests == 2  # all calls in one turn, then the answer
    assert result.output.city == cities[0]


async def test_an_unknown_city_is_explained_with_the_ones_the_tool_knows() -> None:
    result = await ask("weather", "Forecast for Atlantis")
    assert calls(result)[0] == ("get_forecast", {"city": "Atlantis"})
    assert result.output.city == "Atlantis"
    assert "Atlantis" in result.output.summary and "Tokyo" in result.output.summary


async def test_follow_ups_lean_on_the_question_before() -> None:
    first, tokyo, pair, later = await run(
        "weather", "Will it rain in Paris tomorrow?", "And in Tokyo?",
        "What about London and Berlin?", "And the day after?",
    )
    assert [a["city"] for _, a in calls(first)] == ["Paris"]
    assert [a["city"] for _, a in calls(tokyo)] == ["Tokyo"] and tokyo.output.city == "Tokyo"
    assert [a["city"] for _, a in calls(pair)] == ["London", "Berlin"]
    # "the day after" still means London and Berlin, now two days ahead.
    assert [(a["city"], a.get("days")) for _, a in calls(later)] == [("London", 2), ("Berlin", 2)]
    assert (later.output.city, later.output.day) == ("London", 2)
    assert later.output.summary == weather_table()["london"][1]["summary"]


async def test_a_question_of_its_own_is_not_taken_for_a_follow_up() -> None:
    _, second = await run("weather", "Will it rain in Paris tomorrow?",
                          "And how warm will it be in Cairo in 3 days?")
    assert [a["city"] for _, a in calls(second)] == ["Cairo"]
    assert (second.output.city, second.output.day) == ("Cairo", 3)


# --------------------------------------------------------------------------------------------
# extraction
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("Hi, I'm Jane Doe from Globex Corporation. Reach me at jane.doe@globex.com or "
         "+1 (555) 123-4567. I'd like to discuss pricing and onboarding.",
         {"name": "Jane Doe", "email": "jane.doe@globex.com", "company": "Globex Corporation",
          "phone": "+1 (555) 123-4567", "topics": ["pricing", "onboarding"]}),
        ("Please add Carlos Mendez (carlos@initech.example), he works for Initech and is "
         "interested in API access",
         {"name": "Carlos Mendez", "email": "carlos@initech.example", "company": "Initech",
          "phone": None, "topics": ["API access"]}),
        ("My name is Li Wei. Email li.wei@example.cn. Company: Tencent. Phone 138 0013 8000. "
         "Topics: security review, SSO",
         {"name": "Li Wei", "email": "li.wei@example.cn", "company": "Tencent",
          "phone": "138 0013 8000", "topics": ["security review", "SSO"]}),
        ("Contact: Anna Müller <anna.mueller@siemens.de>, Siemens AG, tel. +49 89 636 00",
         {"name": "Anna Müller", "email": "anna.mueller@siemens.de", "company": "Siemens AG",
          "phone": "+49 89 636 00", "topics": []}),
        ("Sarah O'Connor here, CTO at Cyberdyne Systems, call me on 555-0199 about a partnership",
         {"name": "Sarah O'Connor", "email": None, "company": "Cyberdyne Systems",
          "phone": "555-0199", "topics": ["partnership"]}),
        ("From: Priya Natarajan <priya@stark.example>\nSubject: Enterprise plan\n\nHi team, I "
         "work for Stark Industries and we'd like to talk about enterprise pricing and SSO.\n"
         "Thanks,\nPriya Natarajan",
         {"name": "Priya Natarajan", "email": "priya@stark.example",
          "company": "Stark Industries", "phone": None}),
        ("Name: Tom Baker; email tom.baker@gmail.com; company: BBC; phone 020 7946 0018; "
         "interested in a partnership",
         {"name": "Tom Baker", "email": "tom.baker@gmail.com", "company": "BBC",
          "phone": "020 7946 0018", "topics": ["partnership"]}),
        ("this is ken watanabe from sony, ken@sony.co.jp",
         {"name": "ken watanabe", "email": "ken@sony.co.jp", "company": "sony", "phone": None}),
        ("Hello! I'm Dr. Elena Rossi, head of research at Ferrari S.p.A. You can reach me on "
         "+39 0536 949111. We need help with data pipelines.",
         {"name": "Elena Rossi", "phone": "+39 0536 949111", "topics": ["data pipelines"]}),
        ("Jean-Luc Picard (jl.picard@starfleet.org) asked about onboarding, training and pricing",
         {"name": "Jean-Luc Picard", "email": "jl.picard@starfleet.org", "company": None,
          "topics": ["onboarding", "training", "pricing"]}),
        ("Call Olivia Chen at 415-555-0132, she works at Initrode and wants a quote",
         {"name": "Olivia Chen", "email": None, "company": "Initrode", "phone": "415-555-0132",
          "topics": ["quote"]}),
        ("I'm interested in your API, Mark Twain, mark@twain.example",
         {"name": "Mark Twain", "email": "mark@twain.example", "company": None,
          "topics": ["API"]}),
    ],
)
async def test_extraction_phrasings_fill_each_field_from_what_the_message_says(
    prompt: str, expected: dict[str, Any]
) -> None:
    contact = (await ask("extraction", prompt)).output.model_dump()
    assert {key: contact[key] for key in expected} == expected
    assert "company" not in expected or contact["name"] != contact["company"]


class Lead(BaseModel):
    """A schema of its own: the rules read field names and descriptions, not the example."""

    contact_name: str = Field(description="Who wrote in.")
    organization: str | None = Field(default=None, description="Their employer.")
    budget_usd: float | None = Field(default=None, description="Their budget in dollars.")
    meeting_date: datetime.date | None = Field(default=None, description="When to meet.")
    interests: list[str] = Field(default_factory=list, description="What they asked about.")


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("Hi, I'm Sam Lee from Wayne Enterprises. We have a budget of $25,000 and would like "
         "to meet on 12 March 2026 to discuss analytics and dashboards.",
         Lead(contact_name="Sam Lee", organization="Wayne Enterprises", budget_usd=25000,
              meeting_date=datetime.date(2026, 3, 12), interests=["analytics", "dashboards"])),
        ("Carla Diaz (carla@umbrella.example) works at Umbrella Corp, budget 5k USD, wants to "
         "meet 2026-04-02 about the API",
         Lead(contact_name="Carla Diaz", organization="Umbrella Corp", budget_usd=5000,
              meeting_date=datetime.date(2026, 4, 2), interests=["API"])),
    ],
)
async def test_dates_amounts_and_interests_fill_a_schema_of_another_shape(
    prompt: str, expected: Lead
) -> None:
    async with GrokClient.simulated() as client:
        agent = Agent("grok-4.3", client=client, output_type=Lead,
                      instructions="Extract the lead from the message.")
        assert (await agent.run(prompt)).output == expected


# --------------------------------------------------------------------------------------------
# sql_analyst
# --------------------------------------------------------------------------------------------


class Shop:
    """The example's database, queried directly for what the answers should say."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.path) as connection:
            found = connection.execute(sql).fetchall()
        connection.close()
        return found

    def spending(self) -> list[tuple[str, float, int]]:
        return [(n, round(s, 2), c) for n, s, c in self.rows(
            "SELECT c.name, SUM(o.quantity * p.price_usd), COUNT(*) FROM customers c "
            "JOIN orders o ON o.customer_id = c.id JOIN products p ON p.id = o.product_id "
            "GROUP BY c.id ORDER BY 2 DESC")]

    def top_spender(self) -> tuple[str, float, int]:
        return self.spending()[0]


@pytest.fixture
def shop() -> Shop:
    from agentkit.examples.data.build_shop_db import ensure_shop_db

    return Shop(ensure_shop_db())


def money(value: float) -> str:
    return f"${value:,.2f}"


async def test_sql_every_step_is_a_real_look_at_the_schema_then_one_query(shop: Shop) -> None:
    result = await ask("sql_analyst", "Who spent the most?")
    names = [name for name, _ in calls(result)]
    assert names[0] == "list_tables" and names[-1] == "run_query"
    described = {a["table"] for n, a in calls(result) if n == "describe_table"}
    assert described == {"customers", "orders", "products"}
    sql = calls(result)[-1][1]["sql"]
    assert re.search(r"\bSUM\(.*quantity.*price_usd.*\)", sql) and "GROUP BY" in sql
    name, spent, _ = shop.top_spender()
    assert result.output.startswith(f"{name} spent the most: {money(spent)}")
    assert "columns" not in result.output and "run_query" not in result.output


@pytest.mark.parametrize(
    ("prompt", "expected_sql", "says"),
    [
        ("Which products sold the most units?",
         "SELECT p.name, SUM(o.quantity) FROM products p JOIN orders o ON o.product_id = p.id "
         "GROUP BY p.id ORDER BY 2 DESC, p.name LIMIT 1", lambda r: [f"{r[0][0]} sold the most units"]),
        ("What are the top 3 products by revenue?",
         "SELECT p.name, SUM(o.quantity * p.price_usd) FROM products p JOIN orders o "
         "ON o.product_id = p.id GROUP BY p.id ORDER BY 2 DESC LIMIT 3",
         lambda r: [name for name, _ in r]),
        ("How many customers are there?", "SELECT COUNT(*) FROM customers",
         lambda r: [f"There are {r[0][0]} customers"]),
        ("How many orders did Ada Lovelace place?",
         "SELECT COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id "
         "WHERE c.name = 'Ada Lovelace'", lambda r: [f"{r[0][0]} orders", "Ada Lovelace"]),
        ("How much did Grace Hopper spend?",
         "SELECT SUM(o.quantity * p.price_usd) FROM orders o JOIN customers c ON c.id = "
         "o.customer_id JOIN products p ON p.id = o.product_id WHERE c.name = 'Grace Hopper'",
         lambda r: [money(r[0][0]), "Grace Hopper"]),
        ("What is the most expensive product?",
         "SELECT name, price_usd FROM products ORDER BY price_usd DESC LIMIT 1",
         lambda r: [f"The most expensive product is {r[0][0]}", money(r[0][1])]),
        ("What's the cheapest product?",
         "SELECT name, price_usd FROM products ORDER BY price_usd LIMIT 1",
         lambda r: [r[0][0], money(r[0][1])]),
        ("How many customers live in Boston?",
         "SELECT COUNT(*) FROM customers WHERE city = 'Boston'",
         lambda r: [f"There are {r[0][0]} customers in Boston"]),
        ("What was the revenue in March?",
         "SELECT SUM(o.quantity * p.price_usd) FROM orders o JOIN products p ON p.id = "
         "o.product_id WHERE o.ordered_on LIKE '2024-03-%'", lambda r: [money(r[0][0]), "March"]),
        ("List the tea products", "SELECT name FROM products WHERE category = 'tea'",
         lambda r: [name for (name,) in r]),
        ("Which customers spent more than 200?",
         "SELECT c.name FROM customers c JOIN orders o ON o.customer_id = c.id JOIN products p "
         "ON p.id = o.product_id GROUP BY c.id HAVING SUM(o.quantity * p.price_usd) > 200",
         lambda r: [name for (name,) in r]),
        ("Products under $10", "SELECT name FROM products WHERE price_usd < 10",
         lambda r: [name for (name,) in r]),
        ("Total revenue per category",
         "SELECT p.category, SUM(o.quantity * p.price_usd) FROM products p JOIN orders o ON "
         "o.product_id = p.id GROUP BY p.category",
         lambda r: [f"{c} ({money(v)})" for c, v in r]),
        ("Which city has the most customers?",
         "SELECT city FROM customers GROUP BY city ORDER BY COUNT(*) DESC LIMIT 1",
         lambda r: [f"{r[0][0]} has the most customers"]),
    ],
)
async def test_sql_phrasings_compose_a_query_whose_rows_the_answer_reads(
    shop: Shop, prompt: str, expected_sql: str, says: Any
) -> None:
    result = await ask("sql_analyst", prompt)
    assert calls(result)[-1][0] == "run_query"
    answer = result.output
    for part in says(shop.rows(expected_sql)):
        assert part in answer, (part, answer)
    assert "You asked" not in answer and "{" not in answer


async def test_sql_follow_ups_reuse_the_schema_they_have_seen(shop: Shop) -> None:
    most, least, boston, vienna = await run(
        "sql_analyst", "Which customer spent the most?", "And the least?",
        "How many customers live in Boston?", "And in Vienna?",
    )
    assert [n for n, _ in calls(least)] == ["run_query"]  # no second look at the tables
    spending = shop.spending()
    assert most.output.startswith(spending[0][0])
    assert least.output.startswith(f"{spending[-1][0]} spent the least: {money(spending[-1][1])}")
    [(in_boston,)] = shop.rows("SELECT COUNT(*) FROM customers WHERE city = 'Boston'")
    assert f"There are {in_boston} customers in Boston" in boston.output
    [(count,)] = shop.rows("SELECT COUNT(*) FROM customers WHERE city = 'Vienna'")
    assert [n for n, _ in calls(vienna)] == ["run_query"]
    assert "vienna" in calls(vienna)[0][1]["sql"].lower()
    assert f"{count} customer" in vienna.output and "Vienna" in vienna.output


async def test_sql_the_tables_question_is_answered_by_listing_them() -> None:
    result = await ask("sql_analyst", "What tables are there?")
    assert [n for n, _ in calls(result)] == ["list_tables"]
    assert result.output == "Found 3 tables: customers, orders and products."


async def test_sql_a_question_the_database_cannot_answer_is_not_queried() -> None:
    result = await ask("sql_analyst", "Tell me a joke")
    assert calls(result) == []
    assert "run_query" in result.output and "nothing to look this up with" not in result.output


# --------------------------------------------------------------------------------------------
# math_tutor
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "expressions", "value"),
    [
        ("What's 15% of 240?", ["15 / 100 * 240"], "36"),
        ("Add 12.5 and 7.25", ["12.5 + 7.25"], "19.75"),
        ("What is the square root of 144?", ["sqrt(144)"], "12"),
        ("How much is 2 to the power of 10?", ["2 ^ 10"], "1024"),
        ("What is 100 divided by 8?", ["100 / 8"], "12.5"),
        ("What is the average of 4, 8 and 15?", ["(4 + 8 + 15) / 3"], "9"),
        ("Subtract 3 from 10", ["10 - 3"], "7"),
        ("Multiply 6 by 7", ["6 * 7"], "42"),
        ("What is 12 squared?", ["12^2"], "144"),
        ("Compute 17 * 23 and then divide the result by 7", ["17 * 23", "(17 * 23) / 7"],
         "55.857142857142854"),
        ("Calculate (18 + 24) / 6, then 2^8", ["(18 + 24) / 6", "2^8"], "256"),
    ],
)
async def test_math_phrasings_send_each_step_to_the_calculator(
    prompt: str, expressions: list[str], value: str
) -> None:
    result = await ask("math_tutor", prompt)
    assert calls(result) == [("calculate", {"expression": e}) for e in expressions]
    assert f"{expressions[-1]} = {value}" in result.output


# --------------------------------------------------------------------------------------------
# research
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "source", "quote"),
    [
        ("How often should I water a cactus?", "houseplants.md", "Succulents and cacti"),
        ("What is a good feeding schedule for a sourdough starter?", "sourdough.md",
         "feed it once or twice a day"),
        ("How many eggs does a queen bee lay?", "honeybees.md", "2,000 eggs a day"),
        ("How long should I train for a marathon?", "marathon-training.md", "16 to 20 weeks"),
        ("How do I size a solar system for my house?", "solar-panels.md", "kilowatt-hours"),
        ("What ratio of coffee to water for pour-over?", "coffee-brewing.md", "16 grams of water"),
        ("What does the library say about watering ferns?", "houseplants.md", "ferns"),
        ("How long does a worker bee live?", "honeybees.md", "six weeks"),
        ("Find information about solar panels", "solar-panels.md", "yearly electricity use"),
    ],
)
async def test_research_questions_are_searched_and_answered_from_the_right_file(
    prompt: str, source: str, quote: str
) -> None:
    result = await ask("research", prompt)
    assert [n for n, _ in calls(result)] == ["search_documents"]
    assert result.output.startswith(f"From {source}: ") and quote in result.output


# --------------------------------------------------------------------------------------------
# streaming_chat (calculator, units, clock)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "arguments", "says"),
    [
        ("How many feet are in 3 metres?", {"value": 3, "from_unit": "metres", "to_unit": "feet"},
         "3 m = 9.842519685 ft"),
        ("How many kilograms is 150 pounds?",
         {"value": 150, "from_unit": "pounds", "to_unit": "kilograms"}, "150 lb = 68.0388555 kg"),
        ("What is 5 km in miles?", {"value": 5, "from_unit": "km", "to_unit": "miles"},
         "5 km = 3.106855961 mi"),
        ("what's 30 celsius in fahrenheit",
         {"value": 30, "from_unit": "celsius", "to_unit": "fahrenheit"}, "30 °C = 86 °F"),
        ("Convert 10 litres to gallons", {"value": 10, "from_unit": "litres", "to_unit": "gallons"},
         "10 l = "),
    ],
)
async def test_unit_phrasings_convert_with_the_units_the_right_way_round(
    prompt: str, arguments: dict[str, Any], says: str
) -> None:
    result = await ask("streaming_chat", prompt)
    assert calls(result) == [("convert_units", arguments)]
    assert says in result.output


async def test_the_time_somewhere_is_told_as_a_time() -> None:
    result = await ask("streaming_chat", "What time is it in Tokyo?")
    assert calls(result)[-1] == ("now", {"timezone": "Asia/Tokyo"})
    assert re.fullmatch(r"It is \d\d:\d\d \(UTC\+09:00\) on \d{4}-\d\d-\d\d in Asia/Tokyo\.",
                        result.output)


# --------------------------------------------------------------------------------------------
# multi_agent
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "asked", "says"),
    [
        ("Will it rain in Tokyo tomorrow, and what is 6 * 7?",
         {"ask_weather_expert": "Will it rain in Tokyo tomorrow", "ask_math_tutor": "6 * 7"},
         ["6 * 7 = 42", "Tokyo"]),
        ("What is 2+2? Also, how hot will it be in Cairo?",
         {"ask_math_tutor": "2+2", "ask_weather_expert": "how hot will it be in Cairo"},
         ["2+2 = 4", "Cairo", "30 °C"]),
        ("Ask the math tutor for the square root of 2", {"ask_math_tutor": "sqrt(2)"},
         ["sqrt(2) = 1.4142135623730951"]),
        ("How warm will it be in Rome in 2 days?",
         {"ask_weather_expert": "How warm will it be in Rome in 2 days"}, ["Rome, day 2"]),
    ],
)
async def test_each_part_of_a_question_goes_to_the_specialist_for_it(
    prompt: str, asked: dict[str, str], says: list[str]
) -> None:
    result = await ask("multi_agent", prompt)
    assert {name: a["question"] for name, a in calls(result)} == asked
    for part in says:
        assert part in result.output


# --------------------------------------------------------------------------------------------
# vision and image_generation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt",
    ["What's in sunset.png?", "Describe sunset.png", "What colour is the sky in the sunset picture?",
     "Is there a sun in sunset.png?"],
)
async def test_vision_phrasings_look_at_the_bundled_picture(prompt: str) -> None:
    result = await ask("vision", prompt)
    assert [(n, a["file"]) for n, a in calls(result)] == [("describe_image", "sunset.png")]
    assert "320x200" in result.output and "orange" in result.output


@pytest.fixture
def output_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AGENTKIT_OUTPUT_DIR", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(
    ("prompt", "description"),
    [
        ("Draw a cat wearing a hat", "a cat wearing a hat"),
        ("Make me a picture of a mountain lake at dawn", "a mountain lake at dawn"),
        ("Can you create an image of a robot reading a book?", "a robot reading a book"),
        ("Generate a photo of a lighthouse in a storm", "a lighthouse in a storm"),
    ],
)
async def test_image_phrasings_describe_the_picture_not_the_request(
    output_dir: Path, prompt: str, description: str
) -> None:
    result = await ask("image_generation", prompt)
    assert calls(result) == [("generate_image", {"description": description})]
    saved = Path(result.output.path)
    assert saved.parent == output_dir and saved.is_file()
    assert result.output.caption == description[:1].upper() + description[1:] + "."


# --------------------------------------------------------------------------------------------
# support_desk
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "order", "status"),
    [
        ("Where is my order 1043?", 1043, "shipped"),
        ("Can you check order 1044 for me?", 1044, "processing"),
        ("What did I order? My order number is 1041.", 1041, "delivered"),
    ],
)
async def test_order_questions_look_the_order_up(prompt: str, order: int, status: str) -> None:
    result = await ask("support_desk", prompt)
    assert calls(result) == [("look_up_order", {"order_id": order})]
    assert result.output.startswith(f"Order {order}: {status}")


@pytest.mark.parametrize(
    ("prompt", "reason"),
    [
        ("Order 1043 arrived damaged, I want my money back", "arrived damaged"),
        ("Refund order 1043 because the box was crushed", "the box was crushed"),
        ("Please refund order 1043, it never arrived", "never arrived"),
    ],
)
async def test_refund_phrasings_give_the_reason_in_a_few_words(prompt: str, reason: str) -> None:
    refunds: list[Any] = []
    result = await ask("support_desk", prompt, deps=refunds)
    assert calls(result) == [("refund_order", {"order_id": 1043, "reason": reason})]
    assert [(r.order_id, r.reason) for r in refunds] == [(1043, reason)]
    assert "19.9" in result.output
