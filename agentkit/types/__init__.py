"""Wire models: pydantic, `extra="allow"`, no behaviour beyond reading their own fields."""

from __future__ import annotations

from ._base import WireModel
from .chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    Choice,
    ChoiceDelta,
    ChunkChoice,
    FunctionCall,
    FunctionCallDelta,
    ToolCall,
    ToolCallDelta,
)
from .endpoints import (
    Completion,
    CompletionChoice,
    Embedding,
    EmbeddingList,
    GeneratedImage,
    HealthReport,
    ImagesResponse,
    Model,
    ModelList,
    Token,
    TokenizeResponse,
)
from .usage import TICKS_PER_USD, CompletionTokensDetails, PromptTokensDetails, Usage

__all__ = [
    "TICKS_PER_USD",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "Choice",
    "ChoiceDelta",
    "ChunkChoice",
    "Completion",
    "CompletionChoice",
    "CompletionTokensDetails",
    "Embedding",
    "EmbeddingList",
    "FunctionCall",
    "FunctionCallDelta",
    "GeneratedImage",
    "HealthReport",
    "ImagesResponse",
    "Model",
    "ModelList",
    "PromptTokensDetails",
    "Token",
    "TokenizeResponse",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
    "WireModel",
]
