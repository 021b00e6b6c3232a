"""Answers from a folder of notes, with semantic search and read-only file tools."""

from __future__ import annotations

import anyio

from agentkit import Agent, GrokClient
from agentkit.examples._common import (
    DATA,
    default_client,
    prompt_from_argv,
    usage_line,
)
from agentkit.tools.files import file_tools
from agentkit.tools.retrieval import embedder_for, retrieval_tools

DEFAULT_PROMPT = "Search the documents: how much water should I use for pour-over coffee?"

INSTRUCTIONS = """\
You answer questions from a small library of notes. Start with search_documents; when a
passage is not enough, read the whole file with read_file. Answer only from what you found,
and name the file you took each fact from. If the notes do not say, say so."""


def build_agent(*, model: str = "grok-4.3", client: GrokClient | None = None) -> Agent[None, str]:
    """A research agent over the bundled `data/docs` folder."""
    client = client or default_client()
    docs = DATA / "docs"
    return Agent(
        model,
        client=client,
        instructions=INSTRUCTIONS,
        tools=[
            # The index is built on the first search, with the same client's embeddings.
            *retrieval_tools(docs, embed=embedder_for(client), top_k=3),
            *file_tools(docs),  # read-only: no write_file unless allow_write=True
        ],
    )


async def main(prompt: str | None = None) -> None:
    """Ask the research agent a question and print its answer."""
    async with default_client() as client:
        result = await build_agent(client=client).run(prompt or DEFAULT_PROMPT)
    print(result.output)
    print(usage_line(result.usage))


if __name__ == "__main__":
    anyio.run(main, prompt_from_argv())
