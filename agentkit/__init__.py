"""agentkit: tool-using AI agents on the xAI Grok API.

Users import from here; the names below are the public API.
"""

from __future__ import annotations

from ._http import RecordingTransport, ReplayMismatchError, ReplayTransport
from ._retry import RetryPolicy
from ._version import __version__
from .client import AsyncStream, ChatStream, CompletionStream, GrokClient, Provider
from .context import RunContext
from .errors import (
    AgentKitError,
    AgentRunError,
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    GoneError,
    InternalServerError,
    MaxTurnsExceeded,
    ModelRetry,
    NotFoundError,
    OutputValidationError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ToolArgumentsError,
    ToolDefinitionError,
    ToolError,
    ToolRetriesExceeded,
    ToolRetry,
    ToolTimeoutError,
    UnprocessableEntityError,
    UsageLimitExceeded,
    UserError,
)
from .tool import Tool, Toolset, serialize_result, tool
from .types import ChatCompletion, ChatCompletionChunk, ChatCompletionMessage, ToolCall, Usage
from .usage import RunUsage, UsageLimits

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "AgentKitError",
    "AgentRunError",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatStream",
    "CompletionStream",
    "ConfigurationError",
    "ConflictError",
    "GoneError",
    "GrokClient",
    "InternalServerError",
    "MaxTurnsExceeded",
    "ModelRetry",
    "NotFoundError",
    "OutputValidationError",
    "PermissionDeniedError",
    "Provider",
    "QuotaExceededError",
    "RateLimitError",
    "RecordingTransport",
    "ReplayMismatchError",
    "ReplayTransport",
    "RetryPolicy",
    "RunContext",
    "RunUsage",
    "Tool",
    "ToolArgumentsError",
    "ToolCall",
    "ToolDefinitionError",
    "ToolError",
    "ToolRetriesExceeded",
    "ToolRetry",
    "ToolTimeoutError",
    "Toolset",
    "UnprocessableEntityError",
    "Usage",
    "UsageLimitExceeded",
    "UsageLimits",
    "UserError",
    "__version__",
    "serialize_result",
    "tool",
]
