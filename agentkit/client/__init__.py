"""The async client for Grok and OpenAI-compatible servers."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._client import SIMULATED_NOTICE, GrokClient
    from ._providers import COMETAPI, OPENAI_COMPATIBLE, OPENROUTER, XAI, Provider
    from ._resources import image_url
    from ._streaming import AsyncStream, ChatStream, CompletionStream

__all__ = [
    "COMETAPI",
    "OPENAI_COMPATIBLE",
    "OPENROUTER",
    "SIMULATED_NOTICE",
    "XAI",
    "AsyncStream",
    "ChatStream",
    "CompletionStream",
    "GrokClient",
    "Provider",
    "image_url",
]

# Where each name is imported from on first use (PEP 562); the same as the imports above.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "._client": ("SIMULATED_NOTICE", "GrokClient"),
    "._providers": ("COMETAPI", "OPENAI_COMPATIBLE", "OPENROUTER", "XAI", "Provider"),
    "._resources": ("image_url",),
    "._streaming": ("AsyncStream", "ChatStream", "CompletionStream"),
}

if not TYPE_CHECKING:
    from .. import _lazy

    __getattr__, __dir__ = _lazy.attach(__name__, _EXPORTS)
