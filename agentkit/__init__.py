"""agentkit: tool-using AI agents on the xAI Grok API.

Users import from here; the names below are the public API.
"""

from __future__ import annotations

from ._call import RunOptions
from ._http import RecordingTransport, ReplayMismatchError, ReplayTransport
from ._iter import AgentIter
from ._limits import RateLimit, RateLimiter
from ._model import ChatModel, ClientModel, StreamedResponse
from ._result import RunResult
from ._retry import RetryPolicy
from ._stream import AgentStream
from ._version import __version__
from .agent import Agent
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
    ContextWindowExceeded,
    GoneError,
    GuardrailTripped,
    InputGuardrailTripped,
    InternalServerError,
    MaxTurnsExceeded,
    ModelRequestBlockedError,
    ModelRetry,
    NotFoundError,
    OutputGuardrailTripped,
    OutputValidationError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    RunStateError,
    SessionError,
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
from .events import (
    AgentEvent,
    AgentHandoff,
    FinalResult,
    PartialOutput,
    ReasoningDelta,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from .guardrails import GuardrailResult
from .handoffs import Handoff, handoff
from .hooks import RunHooks, RunInfo
from .output import OutputMode
from .profiles import ModelProfile, profile_for
from .prompts import PromptTemplate
from .sessions import InMemorySession, Session, SQLiteSession
from .state import Interruption, RunState, ToolCallRequest
from .steps import (
    ModelRequestStep,
    ModelResponseStep,
    OutputStep,
    PausedStep,
    RunStep,
    ToolResultsStep,
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
    "Agent",
    "AgentEvent",
    "AgentHandoff",
    "AgentIter",
    "AgentKitError",
    "AgentRunError",
    "AgentStream",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatModel",
    "ChatStream",
    "ClientModel",
    "CompletionStream",
    "ConfigurationError",
    "ConflictError",
    "ContextWindowExceeded",
    "FinalResult",
    "GoneError",
    "GrokClient",
    "GuardrailResult",
    "GuardrailTripped",
    "Handoff",
    "InMemorySession",
    "InputGuardrailTripped",
    "InternalServerError",
    "Interruption",
    "MaxTurnsExceeded",
    "ModelProfile",
    "ModelRequestBlockedError",
    "ModelRequestStep",
    "ModelResponseStep",
    "ModelRetry",
    "NotFoundError",
    "OutputGuardrailTripped",
    "OutputMode",
    "OutputStep",
    "OutputValidationError",
    "PartialOutput",
    "PausedStep",
    "PermissionDeniedError",
    "PromptTemplate",
    "Provider",
    "QuotaExceededError",
    "RateLimit",
    "RateLimitError",
    "RateLimiter",
    "ReasoningDelta",
    "RecordingTransport",
    "ReplayMismatchError",
    "ReplayTransport",
    "RetryPolicy",
    "RunContext",
    "RunHooks",
    "RunInfo",
    "RunOptions",
    "RunResult",
    "RunState",
    "RunStateError",
    "RunStep",
    "RunUsage",
    "SQLiteSession",
    "Session",
    "SessionError",
    "StreamedResponse",
    "TextDelta",
    "Tool",
    "ToolArgumentsError",
    "ToolCall",
    "ToolCallFinished",
    "ToolCallRequest",
    "ToolCallStarted",
    "ToolDefinitionError",
    "ToolError",
    "ToolResultsStep",
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
    "handoff",
    "profile_for",
    "serialize_result",
    "tool",
]
