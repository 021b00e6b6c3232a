"""The async client for Grok and OpenAI-compatible servers."""

from __future__ import annotations

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
