"""Every exception agentkit raises, under one root.

```
AgentKitError
├── UserError                       developer misuse: fix the code or the configuration
│   ├── ConfigurationError          a missing key, a bad base URL, a bad option
│   ├── InvalidRequestError         a request that cannot be sent as asked (also a ValueError)
│   ├── ToolDefinitionError         a function that cannot become a tool
│   ├── RunStateError               a saved run state that cannot be resumed by this agent
│   └── ModelRequestBlockedError    a real model request where they are switched off (tests)
├── APIError                        the server or the network failed us
│   ├── APIConnectionError          could not connect, or the connection broke
│   │   └── APITimeoutError         a connect, read, write or pool timeout
│   │       └── DeferredTimeoutError  a deferred completion not ready in time
│   ├── APIResponseValidationError  the server answered something we cannot parse
│   ├── APIStreamError              an error event inside a 200 event stream
│   └── APIStatusError              a 4xx/5xx answer, one subclass per status
│       ├── BadRequestError (400), AuthenticationError (401), PermissionDeniedError (403)
│       ├── NotFoundError (404), ConflictError (409), GoneError (410)
│       │   └── DeferredNotFoundError  a deferred id unknown, expired or already fetched
│       ├── UnprocessableEntityError (422), InternalServerError (5xx)
│       └── RateLimitError (429)
│           └── QuotaExceededError  credits or the spending limit are exhausted: never retried
├── ModelRetry                      "try again" sent back to the model, with a hint
│   └── ToolRetry                   raised by a tool
├── ToolError                       a tool call that failed; fed back to the model
│   ├── ToolArgumentsError          the model's arguments do not validate
│   └── ToolTimeoutError            the tool ran past its timeout
├── SessionError                    a session store that cannot be read or written
└── AgentRunError                   a run that cannot go on; carries the messages so far
    ├── MaxTurnsExceeded
    ├── UsageLimitExceeded
    ├── ToolRetriesExceeded
    └── OutputValidationError       the final answer never validated
```

Messages say what went wrong and what to do. No message ever contains an API key: the
client never puts one in, and `redact` scrubs any that a server echoes back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .state import RunState

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "AgentKitError",
    "AgentRunError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "ContextWindowExceeded",
    "DeferredNotFoundError",
    "DeferredTimeoutError",
    "GoneError",
    "GuardrailTripped",
    "InputGuardrailTripped",
    "InternalServerError",
    "InvalidRequestError",
    "MaxTurnsExceeded",
    "ModelRequestBlockedError",
    "ModelRetry",
    "NotFoundError",
    "OutputGuardrailTripped",
    "OutputValidationError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitError",
    "RunStateError",
    "SessionError",
    "ToolArgumentsError",
    "ToolDefinitionError",
    "ToolError",
    "ToolRetriesExceeded",
    "ToolRetry",
    "ToolTimeoutError",
    "UnprocessableEntityError",
    "UsageLimitExceeded",
    "UserError",
    "embedded_status",
    "make_status_error",
    "redact",
    "redact_data",
]

# Bearer tokens and the key shapes of the providers we serve (xAI, OpenAI, OpenRouter).
_SECRET_PATTERNS = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._\-]{8,}|\b(xai|sk|sk-or(-v1)?)-[A-Za-z0-9_\-]{12,}"
)


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """Return `text` with bearer tokens, key-shaped strings and the given secrets masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[REDACTED]")

    def _mask(match: re.Match[str]) -> str:
        return f"{match.group(1)}[REDACTED]" if match.group(1) else "[REDACTED]"

    return _SECRET_PATTERNS.sub(_mask, text)


def redact_data(value: Any, secrets: Sequence[str] = ()) -> Any:
    """`value` (parsed JSON) with every string in it passed through `redact`."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, list):
        return [redact_data(item, secrets) for item in value]
    if isinstance(value, dict):
        return {key: redact_data(item, secrets) for key, item in value.items()}
    return value


class AgentKitError(Exception):
    """The root of every exception agentkit raises.

    Every one pickles whole (its attributes too), although most take keyword-only arguments:
    a durable engine records a failed step's exception that way, and process pools send them.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_error, (type(self), self.args, self.__dict__))


def _restore_error(cls: type[AgentKitError], args: tuple[Any, ...], attributes: dict[str, Any]) -> AgentKitError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(attributes)
    return error


class UserError(AgentKitError):
    """The code or configuration using agentkit is wrong; the message says how to fix it."""


class ConfigurationError(UserError):
    """A client or agent was configured with a missing or invalid setting."""


class InvalidRequestError(UserError, ValueError):
    """A request that cannot be sent as asked (an empty `messages` list, `image` and
    `images` together...); nothing was sent. A `ValueError` too, as a bad argument is."""


class ToolDefinitionError(UserError):
    """A function cannot be turned into a tool (missing annotation, `*args`, bad name...)."""


class RunStateError(UserError):
    """A saved `RunState` that this agent cannot resume: not a run state, a format version this
    agentkit does not read, made by another agent, or edited into something the agent would not
    do (a call to a tool it does not have). Nothing has run when this is raised."""


class ModelRequestBlockedError(UserError):
    """A request for a real model while real model requests are switched off (in tests:
    `AGENTKIT_ALLOW_MODEL_REQUESTS=0` or `agentkit.testing.block_model_requests()`). Raised
    before anything is sent; the simulator, replays and loopback servers are never blocked."""


class SessionError(AgentKitError):
    """A session store that cannot be used: a file that is not an agentkit session database
    (corrupt, or another program's), a newer schema, or items that cannot be stored. Nothing
    is reset or overwritten when this is raised."""


class APIError(AgentKitError):
    """A request to the model server failed.

    Attributes:
        message: What happened, in words.
        method: The HTTP method of the failed request, when known.
        url: The URL of the failed request (never carries credentials), when known.
        messages: When the failure ended an agent run, the conversation up to it (so it can
            be sent again as `message_history`); empty otherwise.
        state: When the failure ended an agent run, the run's state: resume it with
            `agent.run(state=error.state)` once the server is back; None otherwise.
    """

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None):
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url
        self.messages: list[dict[str, Any]] = []
        self.state: RunState | None = None


class APIConnectionError(APIError):
    """The connection could not be made, or broke before the answer was complete."""


class APITimeoutError(APIConnectionError):
    """The server did not answer within the timeout."""


class DeferredTimeoutError(APITimeoutError):
    """A deferred completion was still pending when `result(timeout=...)` ran out.

    The completion is not lost: xAI keeps it for 24 hours, so poll again later with
    `client.chat.deferred(error.deferred_id).result()`.

    Attributes:
        deferred_id: The deferred request's id.
        waited: Seconds spent polling.
    """

    def __init__(self, message: str, *, deferred_id: str, waited: float,
                 method: str | None = None, url: str | None = None):
        super().__init__(message, method=method, url=url)
        self.deferred_id = deferred_id
        self.waited = waited


class APIResponseValidationError(APIError):
    """The server answered with a body that is not what the API promises.

    Attributes:
        status_code: The HTTP status of the answer.
        body: The raw body text (cut to 2,000 characters).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: str,
        method: str | None = None,
        url: str | None = None,
    ):
        super().__init__(message, method=method, url=url)
        self.status_code = status_code
        self.body = body[:2000]


class APIStatusError(APIError):
    """The server answered with an error status.

    Attributes:
        status_code: The HTTP status.
        code: The provider's error code (`"invalid_api_key"`, xAI's gRPC phrases...), if any.
        body: The parsed JSON body, or the raw text when it was not JSON.
        request_id: The provider's request id from the headers, if any.
        retry_after: Seconds the server asked us to wait, if it said.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        body: Any = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        method: str | None = None,
        url: str | None = None,
    ):
        super().__init__(message, method=method, url=url)
        self.status_code = status_code
        self.code = code
        self.body = body
        self.request_id = request_id
        self.retry_after = retry_after


class BadRequestError(APIStatusError):
    """400: an invalid argument, an unsupported parameter, or (on xAI) a wrong API key."""


class AuthenticationError(APIStatusError):
    """401: the Authorization header is missing or invalid."""


class PermissionDeniedError(APIStatusError):
    """403: the key or team may not use this endpoint or model."""


class NotFoundError(APIStatusError):
    """404: unknown model, route or id."""


class DeferredNotFoundError(NotFoundError):
    """404 for a deferred completion: the id is unknown, expired (results are kept 24 hours)
    or its result was already fetched (each is served once).

    Attributes:
        deferred_id: The deferred request's id that was asked for.
    """

    def __init__(
        self,
        message: str,
        *,
        deferred_id: str,
        status_code: int = 404,
        code: str | None = None,
        body: Any = None,
        request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ):
        super().__init__(message, status_code=status_code, code=code, body=body,
                         request_id=request_id, method=method, url=url)
        self.deferred_id = deferred_id


class ConflictError(APIStatusError):
    """409: the request conflicts with the server's state; retried."""


class GoneError(APIStatusError):
    """410: the feature was removed (xAI's Live Search `search_parameters`)."""


class UnprocessableEntityError(APIStatusError):
    """422: the body could not be deserialised into the request type."""


class RateLimitError(APIStatusError):
    """429: too many requests; retried after `retry_after` or a backoff."""


class QuotaExceededError(RateLimitError):
    """429 because credits or the monthly spending limit are exhausted; never retried."""


class InternalServerError(APIStatusError):
    """5xx: the server failed; retried."""


class APIStreamError(APIStatusError):
    """The server sent an error event inside a 200 event stream.

    `status_code` is the status the event names (or 200 when it names none).
    """


class ModelRetry(AgentKitError):
    """Ask the model to try again; the message is sent to it as the reason."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ToolRetry(ModelRetry):
    """Raised by a tool to ask the model to call again with better arguments."""


class ToolError(AgentKitError):
    """A tool call failed in a way the model should hear about.

    Attributes:
        tool_name: The tool's name.
    """

    def __init__(self, message: str, *, tool_name: str):
        super().__init__(message)
        self.message = message
        self.tool_name = tool_name


class ToolArgumentsError(ToolError):
    """The model's arguments for a tool are not valid JSON or do not validate.

    Attributes:
        errors: One entry per bad field: `{"loc": "days", "msg": "...", "input": ...}`.
    """

    def __init__(self, message: str, *, tool_name: str, errors: Sequence[Mapping[str, Any]] = ()):
        super().__init__(message, tool_name=tool_name)
        self.errors = [dict(error) for error in errors]


class ToolTimeoutError(ToolError):
    """A tool ran past its `timeout`."""


class AgentRunError(AgentKitError):
    """An agent run stopped before it could finish.

    Attributes:
        messages: The conversation up to the failure, every tool call answered, so nothing
            is lost and it can be sent again as `message_history`.
        state: The run's state (usage spent so far included): resume it with
            `agent.run(state=error.state, ...)` after raising the limit that stopped it.
    """

    def __init__(self, message: str, *, messages: Sequence[Mapping[str, Any]] = ()):
        super().__init__(message)
        self.message = message
        self.messages = [dict(m) for m in messages]
        self.state: RunState | None = None


class MaxTurnsExceeded(AgentRunError):
    """The run used `max_turns` model requests without reaching a final answer."""


class UsageLimitExceeded(AgentRunError):
    """A `UsageLimits` cap (requests, tokens, tool calls or cost) would be passed."""


class ToolRetriesExceeded(AgentRunError):
    """A tool failed more times than its retry budget allows."""


class GuardrailTripped(AgentRunError):
    """A guardrail stopped the run.

    Attributes:
        guardrail: The guardrail's name.
        result: What it concluded (`agentkit.guardrails.GuardrailResult`: `reason`, `info`).
    """

    def __init__(
        self, message: str, *, guardrail: str, result: Any,
        messages: Sequence[Mapping[str, Any]] = (),
    ):
        super().__init__(message, messages=messages)
        self.guardrail = guardrail
        self.result = result


class InputGuardrailTripped(GuardrailTripped):
    """An input guardrail refused the prompt; no tool ran and the first request was
    cancelled (or its answer dropped)."""


class OutputGuardrailTripped(GuardrailTripped):
    """An output guardrail refused the final output, which the run did not return."""


class ContextWindowExceeded(AgentRunError):
    """The request would not fit the model's context window, and the agent's context policy
    could not (or was told not to) make it fit. `state` resumes the run once it can.

    Attributes:
        tokens: The request's prompt tokens, as counted (or as the server counted them).
        window: The model's context window.
    """

    def __init__(
        self, message: str, *, tokens: int, window: int,
        messages: Sequence[Mapping[str, Any]] = (),
    ):
        super().__init__(message, messages=messages)
        self.tokens = tokens
        self.window = window


class OutputValidationError(AgentRunError):
    """The model's final answer did not validate within `output_retries`.

    Attributes:
        raw_text: The last answer the model gave, as it gave it.
        errors: The validation errors of that answer.
    """

    def __init__(
        self,
        message: str,
        *,
        raw_text: str,
        errors: Sequence[Mapping[str, Any]] = (),
        messages: Sequence[Mapping[str, Any]] = (),
    ):
        super().__init__(message, messages=messages)
        self.raw_text = raw_text
        self.errors = [dict(error) for error in errors]


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

_QUOTA_WORDS = ("credit", "spending limit", "quota", "billing", "insufficient_quota")


def make_status_error(
    status_code: int,
    body: Any,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
    method: str | None = None,
    url: str | None = None,
    stream_event: bool = False,
    secrets: Sequence[str] = (),
) -> APIStatusError:
    """Map a status and an error body (xAI flat, OpenAI nested, or text) to the right class.

    The body is kept on the exception, scrubbed like the message: a server may echo the key.
    """
    body = redact_data(body, secrets)
    code, text = _error_code_and_text(body)
    if stream_event:
        cls: type[APIStatusError] = APIStreamError
    elif status_code >= 500:
        cls = InternalServerError
    else:
        cls = _STATUS_CLASSES.get(status_code, APIStatusError)
    if cls is RateLimitError and any(w in f"{code} {text}".lower() for w in _QUOTA_WORDS):
        cls = QuotaExceededError
    parts = [f"{'stream error' if stream_event else 'HTTP'} {status_code}"]
    if code:
        parts.append(f"[{code}]")
    parts.append(text or "(no error message in the response body)")
    if request_id:
        parts.append(f"(request id {request_id})")
    return cls(
        redact(" ".join(parts), secrets),
        status_code=status_code,
        code=code,
        body=body,
        request_id=request_id,
        retry_after=retry_after,
        method=method,
        url=url,
    )


def embedded_status(body: Any, default: int) -> int:
    """The HTTP status an error object names inside a 200 answer (`status_code`, `status` or a
    numeric `code`), or `default`."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        for key in ("status_code", "status", "code"):
            value = error.get(key)
            if isinstance(value, int) and 100 <= value <= 599:
                return value
    return default


def _error_code_and_text(body: Any) -> tuple[str | None, str]:
    """Read `(code, message)` from any error body shape the providers send."""
    if isinstance(body, str):
        return None, body.strip()[:500]
    if not isinstance(body, Mapping):
        return None, "" if body is None else str(body)[:500]
    error = body.get("error")
    if isinstance(error, Mapping):  # OpenAI, OpenRouter, Groq: {"error": {...}}
        code = error.get("code") or error.get("type")
        text = str(error.get("message") or "")
        metadata = error.get("metadata")
        if isinstance(metadata, Mapping) and metadata.get("raw"):
            text = f"{text}: {metadata['raw']}" if text else str(metadata["raw"])
        return (None if code is None else str(code)), text
    # xAI: {"code": "...", "error": "..."}; some replies carry only one of the two.
    code = body.get("code")
    text = error if isinstance(error, str) else str(body.get("message") or body.get("detail") or "")
    return (None if code is None else str(code)), text
