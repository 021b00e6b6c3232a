"""Describes a bundled picture through a tool that calls Grok's image understanding."""

from __future__ import annotations

import anyio

from agentkit import Agent, GrokClient, RunContext, ToolRetry, tool
from agentkit.examples._common import (
    DATA,
    default_client,
    prompt_from_argv,
    usage_line,
)

DEFAULT_PROMPT = "Describe the image `sunset.png`: what colours and shapes are in it?"

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def build_agent(*, model: str = "grok-4.3", client: GrokClient | None = None) -> Agent[None, str]:
    """An agent that can look at the images in the examples' data folder."""
    client = client or default_client()  # the tool calls the vision API with it too
    images = sorted(p.name for p in DATA.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)

    @tool
    async def describe_image(
        ctx: RunContext[None], file: str, question: str = "Describe this image."
    ) -> str:
        """Look at an image file and describe it, or answer a question about it.

        Args:
            file: The image's file name, e.g. "sunset.png".
            question: What to ask about the image.
        """
        if file not in images:  # only the bundled images: a name, never a path to elsewhere
            raise ToolRetry(f"no image named {file!r}; the images are: {', '.join(images)}")
        completion = await client.vision.analyze(image=DATA / file, prompt=question)
        ctx.usage.add_response(completion.usage)  # count the vision request in the run's usage
        return completion.message.content or "(the vision model gave no description)"

    return Agent(
        model,
        client=client,
        instructions=(
            "You help people understand pictures. Use describe_image to look at an image; "
            "describe only what it reports, in two or three plain sentences."
        ),
        tools=[describe_image],
    )


async def main(prompt: str | None = None) -> None:
    """Ask about the bundled sunset picture and print the description."""
    async with default_client() as client:
        result = await build_agent(client=client).run(prompt or DEFAULT_PROMPT)
    print(result.output)
    print(usage_line(result.usage))


if __name__ == "__main__":
    anyio.run(main, prompt_from_argv())
