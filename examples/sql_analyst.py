"""A data analyst that answers questions with read-only SQL over a shop's SQLite database."""

from __future__ import annotations

import anyio

from agentkit import Agent, GrokClient
from agentkit.examples._common import (
    default_client,
    prompt_from_argv,
    usage_line,
)
from agentkit.examples.data.build_shop_db import ensure_shop_db
from agentkit.tools.sqlite import sqlite_tools

DEFAULT_PROMPT = (
    "Which products sold the most units? Run "
    "`SELECT p.name, SUM(o.quantity) AS units FROM orders o JOIN products p "
    "ON p.id = o.product_id GROUP BY p.name ORDER BY units DESC LIMIT 3`"
)

INSTRUCTIONS = """\
You are a data analyst for a small coffee and tea shop. Its SQLite database has the tables
products, customers and orders. Look at the tables before you guess column names, query
with run_query (read-only), and answer in plain words, quoting the numbers you found."""


def build_agent(*, model: str = "grok-4.3", client: GrokClient | None = None) -> Agent[None, str]:
    """An analyst with read-only SQL tools over the bundled shop database."""
    # Built into the temp folder on first use: the repository ships the recipe, not the file.
    database = ensure_shop_db()
    return Agent(
        model,
        client=client or default_client(),
        instructions=INSTRUCTIONS,
        tools=sqlite_tools(database, max_rows=50),
    )


async def main(prompt: str | None = None) -> None:
    """Ask the analyst a question about the shop and print its answer."""
    async with default_client() as client:
        result = await build_agent(client=client).run(prompt or DEFAULT_PROMPT)
    print(result.output)
    print(usage_line(result.usage))


if __name__ == "__main__":
    anyio.run(main, prompt_from_argv())
