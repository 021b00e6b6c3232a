"""agentkit: tool-using AI agents on the xAI Grok API.

Users import from here; the names below are the public API. Each is imported from its
submodule on first use (`_lazy.py`), so `import agentkit` stays cheap; a new name goes into
both the `TYPE_CHECKING` imports and `_EXPORTS` (a test checks that they agree).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._version import __version__

if TYPE_CHECKING:
    from ._call import RunOptions
    from ._http import RecordingTransport, ReplayMismatchError, ReplayTransport
    from ._iter import AgentIter
    from ._limits import RateLimit, RateLimiter
    from ._model import ChatModel, ClientModel, StreamedResponse
    from ._result import RunResult
    from ._retry import RetryPolicy
    from ._stream import AgentStream
    from .agent import Agent
    from .citations import Citation, ServerToolUse
    from .client import AsyncStream, ChatStream, CompletionStream, GrokClient, Provider
    from .client._deferred import DeferredCompletion
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
        DeferredNotFoundError,
        DeferredTimeoutError,
        GoneError,
        GuardrailTripped,
        InputGuardrailTripped,
        InternalServerError,
        InvalidRequestError,
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
        ServerToolCalled,
        TextDelta,
        ToolCallFinished,
        ToolCallStarted,
    )
    from .guardrails import GuardrailResult
    from .handoffs import Handoff, handoff
    from .hooks import RunHooks, RunInfo
    from .output import OutputMode
    from .pricing import Cost, PriceCatalog, cost_of
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
    from .types import (
        ChatCompletion,
        ChatCompletionChunk,
        ChatCompletionMessage,
        EmbeddingModel,
        ImageGenerationModel,
        LanguageModel,
        ToolCall,
        Usage,
    )
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
    "Citation",
    "ClientModel",
    "CompletionStream",
    "ConfigurationError",
    "ConflictError",
    "ContextWindowExceeded",
    "Cost",
    "DeferredCompletion",
    "DeferredNotFoundError",
    "DeferredTimeoutError",
    "EmbeddingModel",
    "FinalResult",
    "GoneError",
    "GrokClient",
    "GuardrailResult",
    "GuardrailTripped",
    "Handoff",
    "ImageGenerationModel",
    "InMemorySession",
    "InputGuardrailTripped",
    "InternalServerError",
    "Interruption",
    "InvalidRequestError",
    "LanguageModel",
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
    "PriceCatalog",
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
    "ServerToolCalled",
    "ServerToolUse",
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
    "cost_of",
    "handoff",
    "profile_for",
    "serialize_result",
    "tool",
]

# Where each name is imported from on first use (PEP 562); the same as the imports above.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "._call": ("RunOptions",),
    "._http": ("RecordingTransport", "ReplayMismatchError", "ReplayTransport"),
    "._iter": ("AgentIter",),
    "._limits": ("RateLimit", "RateLimiter"),
    "._model": ("ChatModel", "ClientModel", "StreamedResponse"),
    "._result": ("RunResult",),
    "._retry": ("RetryPolicy",),
    "._stream": ("AgentStream",),
    ".agent": ("Agent",),
    ".client": ("AsyncStream", "ChatStream", "CompletionStream", "GrokClient", "Provider"),
    ".client._deferred": ("DeferredCompletion",),
    ".citations": ("Citation", "ServerToolUse"),
    ".context": ("RunContext",),
    ".errors": (
        "AgentKitError", "AgentRunError", "APIConnectionError", "APIError",
        "APIResponseValidationError", "APIStatusError", "APIStreamError", "APITimeoutError",
        "AuthenticationError", "BadRequestError", "ConfigurationError", "ConflictError",
        "ContextWindowExceeded", "DeferredNotFoundError", "DeferredTimeoutError", "GoneError",
        "GuardrailTripped", "InputGuardrailTripped", "InternalServerError", "InvalidRequestError",
        "MaxTurnsExceeded", "ModelRequestBlockedError", "ModelRetry", "NotFoundError",
        "OutputGuardrailTripped", "OutputValidationError", "PermissionDeniedError",
        "QuotaExceededError", "RateLimitError", "RunStateError", "SessionError",
        "ToolArgumentsError", "ToolDefinitionError", "ToolError", "ToolRetriesExceeded",
        "ToolRetry", "ToolTimeoutError", "UnprocessableEntityError", "UsageLimitExceeded",
        "UserError",
    ),
    ".events": (
        "AgentEvent", "AgentHandoff", "FinalResult", "PartialOutput", "ReasoningDelta",
        "ServerToolCalled", "TextDelta", "ToolCallFinished", "ToolCallStarted",
    ),
    ".guardrails": ("GuardrailResult",),
    ".handoffs": ("Handoff", "handoff"),
    ".hooks": ("RunHooks", "RunInfo"),
    ".output": ("OutputMode",),
    ".pricing": ("Cost", "PriceCatalog", "cost_of"),
    ".profiles": ("ModelProfile", "profile_for"),
    ".prompts": ("PromptTemplate",),
    ".sessions": ("InMemorySession", "Session", "SQLiteSession"),
    ".state": ("Interruption", "RunState", "ToolCallRequest"),
    ".steps": (
        "ModelRequestStep", "ModelResponseStep", "OutputStep", "PausedStep", "RunStep",
        "ToolResultsStep",
    ),
    ".tool": ("Tool", "Toolset", "serialize_result", "tool"),
    ".types": (
        "ChatCompletion", "ChatCompletionChunk", "ChatCompletionMessage", "EmbeddingModel",
        "ImageGenerationModel", "LanguageModel", "ToolCall", "Usage",
    ),
    ".usage": ("RunUsage", "UsageLimits"),
}

if not TYPE_CHECKING:
    from . import _lazy

    __getattr__, __dir__ = _lazy.attach(__name__, _EXPORTS)
