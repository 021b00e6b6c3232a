"""Generates a picture with Grok Imagine through a tool and saves it as a PNG file."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import anyio
from pydantic import BaseModel, Field

from agentkit import Agent, GrokClient, ToolRetry, tool
from agentkit.examples._common import (
    default_client,
    prompt_from_argv,
    usage_line,
)

DEFAULT_PROMPT = 'Generate an image of "a red lighthouse on a green cliff at night".'


class SavedImage(BaseModel):
    """The answer: where the picture was saved, and what it shows."""

    path: str = Field(description="The PNG file's path, exactly as generate_image returned it.")
    caption: str = Field(description="One sentence saying what the picture shows.")


def build_agent(
    *, model: str = "grok-4.3", client: GrokClient | None = None
) -> Agent[None, SavedImage]:
    """An agent that generates images into `AGENTKIT_OUTPUT_DIR` (or the current folder)."""
    client = client or default_client()
    # Read once, when the agent is built; an explicit folder beats the working directory.
    folder = Path(os.environ.get("AGENTKIT_OUTPUT_DIR") or ".").resolve()

    @tool
    async def generate_image(description: str) -> dict[str, str]:
        """Generate an image from a text description and save it as a PNG file.

        Args:
            description: What the picture should show, in detail.
        """
        response = await client.images.generate(prompt=description, response_format="b64_json")
        data = response.data[0].b64_json if response.data else None
        if not data:
            raise ToolRetry("the image service returned no image; try a simpler description")
        # A file name from the description's first words: readable and stable across runs.
        slug = "-".join(re.findall(r"[a-z0-9]+", description.lower())[:8]) or "image"
        path = anyio.Path(folder / f"{slug}.png")
        await path.parent.mkdir(parents=True, exist_ok=True)
        await path.write_bytes(base64.b64decode(data))
        return {"path": str(path), "description": description}

    return Agent(
        model,
        client=client,
        instructions=(
            "You make pictures. Call generate_image with a vivid, specific description, then "
            "answer with the saved file's path and a one-sentence caption."
        ),
        tools=[generate_image],
        output_type=SavedImage,
    )


async def main(prompt: str | None = None) -> None:
    """Generate the picture, then print its path and caption."""
    async with default_client() as client:
        result = await build_agent(client=client).run(prompt or DEFAULT_PROMPT)
    print(f"Saved {result.output.path}")
    print(result.output.caption)
    print(usage_line(result.usage))


if __name__ == "__main__":
    anyio.run(main, prompt_from_argv())
