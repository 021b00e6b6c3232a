"""`GrokClient`: configuration, authentication, and the one request path every resource uses."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Self, TextIO, TypeVar
from urllib.parse import urlsplit

import pydantic_core
from pydantic import BaseModel, ValidationError

from .._backends import HTTPLibrary, open_backend
from .._http import HTTPStream, RecordingTransport, ReplayTransport, Transport
from .._limits import RateLimit, RateLimiter, estimate_request_tokens
from .._retry import RetryPolicy, parse_retry_after
from .._version import __version__
from ..errors import (
    APIError,
    APIResponseValidationError,
    ConfigurationError,
    embedded_status,
    make_status_error,
)
from ..pricing import CatalogCache, PriceCatalog
from ..types.endpoints import HealthReport, TokenizeResponse
from ._providers import (
    COMETAPI,
    OPENAI_COMPATIBLE,
    OPENROUTER,
    XAI,
    XAI_BASE_URL,
    Provider,
    cloudflare_provider,
)
from ._resources import Chat, Completions, Embeddings, Images, Models, Vision
from ._streaming import AsyncStream

if TYPE_CHECKING:
    import httpx2

    from ..sim.reply import Policy
    from ._responses import Responses

__all__ = ["SIMULATED_NOTICE", "GrokClient"]

SIMULATED_NOTICE = "agentkit: no XAI_API_KEY set; using the local simulated Grok model (offline)"
"""The one line said on stderr whenever agentkit falls back to the simulated model."""

ModelT = TypeVar("ModelT", bound=BaseModel)
StreamT = TypeVar("StreamT", bound=AsyncStream[Any])

_log = logging.getLogger("agentkit.client")


class GrokClient:
    """An async client for the xAI Grok REST API and OpenAI-compatible servers.

    Args:
        api_key: The API key; defaults to the provider's environment variable
            (`XAI_API_KEY` for xAI). Never shown in a repr, a log line or an error.
        base_url: Where to send requests; defaults to `XAI_BASE_URL` or `https://api.x.ai/v1`.
        timeout: Seconds to wait for a response (reasoning models can think for minutes).
        max_retries: Retries for transient failures (connection errors, timeouts, 408, 409,
            429, 5xx); 0 disables them.
        default_headers: Headers sent with every request.
        transport: An httpx2 transport to send through (the simulator's, a replay, a mock).
            With `http="aiohttp"`, only a `RecordingTransport` made without `inner=` (records
            the network) or a `ReplayTransport` (answers from its cassette).
        http_client: An `httpx2.AsyncClient` to use instead of creating one (not closed by us).
        http: The HTTP library: `"httpx2"` (the default) or `"aiohttp"` (needs
            `agentkit[aiohttp]`). Retries, timeouts, errors and redaction are the same on both.
        provider: The route preset; see the `openrouter`, `cometapi`, `cloudflare` and
            `openai_compatible` constructors.
        retry_policy: Full control over retries (backoff, caps, the sleep used).
        rate_limits: Requests and tokens per minute, for every model (`RateLimit(rpm=...)`)
            or per model (`{"grok-4.3": RateLimit(rpm=480, tpm=2_000_000)}`): every run on
            this client queues for its turn instead of drawing 429s. Or a `RateLimiter` to
            share between clients.

    Explicit arguments win over the environment, which is read once, here.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 600.0,
        max_retries: int = 2,
        default_headers: Mapping[str, str] | None = None,
        transport: Transport | None = None,
        http_client: httpx2.AsyncClient | None = None,
        provider: Provider | None = None,
        retry_policy: RetryPolicy | None = None,
        rate_limits: RateLimit | Mapping[str, RateLimit] | RateLimiter | None = None,
        http: HTTPLibrary = "httpx2",
    ) -> None:
        provider = provider or XAI
        if api_key is None and provider.api_key_env:
            api_key = os.environ.get(provider.api_key_env) or None
        if base_url is None:
            env_base = os.environ.get("XAI_BASE_URL") if provider is XAI else None
            base_url = env_base or provider.base_url
        if not base_url:
            raise ConfigurationError(
                f"{provider.name} needs a base_url, e.g. base_url='http://127.0.0.1:11434/v1'"
            )
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(
                f"base_url must be an http(s) URL such as {XAI_BASE_URL!r}, got {base_url!r}"
            )
        if not api_key and provider.key_required and transport is None and http_client is None:
            variable = provider.api_key_env or "the API key"
            raise ConfigurationError(
                f"no API key for {provider.name}: set {variable} or pass api_key=...; "
                "to run offline, use GrokClient.simulated()"
            )
        if timeout <= 0:
            raise ConfigurationError(f"timeout must be a positive number of seconds, got {timeout}")
        self._api_key = api_key or ""
        self.base_url = base_url.rstrip("/")
        self.provider = provider
        self.timeout = timeout
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        headers = {
            "accept": "application/json",
            "content-type": "application/json",
            "user-agent": f"agentkit/{__version__}",
            **{k.lower(): v for k, v in provider.headers.items()},
            **{k.lower(): v for k, v in (default_headers or {}).items()},
        }
        if self._api_key:
            headers["authorization"] = f"Bearer {self._api_key}"
        # Read-only so that nothing can slip a header in (or the key out) by mutation.
        self._headers: Mapping[str, str] = MappingProxyType(headers)
        self._stream_headers: Mapping[str, str] = MappingProxyType(
            {**headers, "accept": "text/event-stream"}
        )
        # Always present: without limits it only listens to the server's rate-limit headers.
        self.rate_limiter = (rate_limits if isinstance(rate_limits, RateLimiter)
                             else RateLimiter(rate_limits))
        self._http = open_backend(http, timeout=timeout, transport=transport,
                                  http_client=http_client,
                                  secrets=(self._api_key,) if self._api_key else ())
        self.chat = Chat(self)
        self.completions = Completions(self)
        self.models = Models(self)
        self.embeddings = Embeddings(self)
        self.images = Images(self)
        self.vision = Vision(self)
        self._prices = CatalogCache()

    @functools.cached_property
    def responses(self) -> Responses:
        """The Responses API (`/v1/responses`): create, stream, retrieve, delete, compact."""
        # Imported on first use: its wire models are most of agentkit's import time.
        from ._responses import Responses

        return Responses(self)

    # -- presets -------------------------------------------------------------------------

    @classmethod
    def openrouter(
        cls,
        api_key: str | None = None,
        *,
        app_url: str | None = None,
        app_name: str | None = "agentkit",
        **options: Any,
    ) -> GrokClient:
        """Grok through OpenRouter (`OPENROUTER_API_KEY`); `grok-4` becomes `x-ai/grok-4`.

        `app_url` and `app_name` are OpenRouter's attribution headers (`HTTP-Referer`,
        `X-Title`).
        """
        headers = {}
        if app_url:
            headers["HTTP-Referer"] = app_url
        if app_name:
            headers["X-Title"] = app_name
        provider = Provider(**{**OPENROUTER.__dict__, "headers": MappingProxyType(headers)})
        return cls(api_key, provider=provider, **options)

    @classmethod
    def cometapi(cls, api_key: str | None = None, **options: Any) -> GrokClient:
        """Grok through CometAPI (`COMETAPI_KEY`)."""
        return cls(api_key, provider=COMETAPI, **options)

    @classmethod
    def cloudflare(
        cls,
        *,
        account_id: str,
        gateway_id: str,
        api_key: str | None = None,
        gateway_token: str | None = None,
        **options: Any,
    ) -> GrokClient:
        """Grok through Cloudflare AI Gateway; the xAI key (`XAI_API_KEY`) is forwarded.

        `gateway_token` (or `CF_AIG_TOKEN`) authenticates to an authenticated gateway, sent
        as `cf-aig-authorization`.
        """
        if not account_id or not gateway_id:
            raise ConfigurationError("cloudflare() needs account_id and gateway_id")
        token = gateway_token or os.environ.get("CF_AIG_TOKEN")
        headers = dict(options.pop("default_headers", None) or {})
        if token:
            headers["cf-aig-authorization"] = f"Bearer {token}"
        return cls(
            api_key,
            provider=cloudflare_provider(account_id, gateway_id),
            default_headers=headers,
            **options,
        )

    @classmethod
    def openai_compatible(
        cls, base_url: str, api_key: str | None = None, **options: Any
    ) -> GrokClient:
        """Any OpenAI-compatible server by URL (Ollama, vLLM, llama.cpp, `agentkit serve`)."""
        return cls(api_key, base_url=base_url, provider=OPENAI_COMPATIBLE, **options)

    @classmethod
    def simulated(
        cls, policy: Policy | None = None, *, transport: Transport | None = None, **options: Any
    ) -> GrokClient:
        """A client wired in-process to the local simulated Grok: no network, no key.

        Args:
            policy: What the simulated model says: `SimulatedModel()` when None, or your own
                replies with `scripted([...])`.
            transport: To record or replay instead of only simulating: a `RecordingTransport`
                made without `inner=` records the simulator's answers to its cassette; a
                `ReplayTransport` answers from a cassette in the simulator's place. A
                `SimTransport` (or a recording of one) brings a simulator you configured.
            **options: As for `GrokClient`: `timeout`, `max_retries`, `default_headers`,
                `retry_policy` (not `http="aiohttp"`: the simulator is in-process; serve it
                and use `openai_compatible(url, http="aiohttp")` instead).
        """
        from ..sim import SimCore, SimTransport

        taken = sorted(set(options) & {"api_key", "base_url", "provider", "http_client"})
        if taken:
            raise ConfigurationError(
                f"GrokClient.simulated() sets {', '.join(taken)} itself; for another server "
                "use GrokClient(...) or GrokClient.openai_compatible(base_url)"
            )
        recorded = transport.inner if isinstance(transport, RecordingTransport) else transport
        if recorded is not None and not isinstance(recorded, SimTransport | ReplayTransport):
            raise ConfigurationError(
                "GrokClient.simulated(transport=...) takes a RecordingTransport (to record the "
                "simulator), a ReplayTransport (to replay a cassette) or a SimTransport, got "
                f"{type(recorded).__name__}; to send through another transport, use "
                "GrokClient(api_key, base_url=..., transport=...)"
            )
        if policy is not None and recorded is not None:
            raise ConfigurationError(
                f"GrokClient.simulated() got a policy and a {type(recorded).__name__}, which "
                "answers without it: give the policy to the SimCore you made, or drop one"
            )
        if transport is None:
            transport = SimTransport(SimCore(policy))
        elif isinstance(transport, RecordingTransport) and recorded is None:
            transport._attach(SimTransport(SimCore(policy)))
        return cls(
            "sim-key",
            base_url="http://simulated.grok.local/v1",
            provider=OPENAI_COMPATIBLE,
            transport=transport,
            **options,
        )

    @classmethod
    def from_environment(cls, *, notice: TextIO | None = None, **options: Any) -> GrokClient:
        """xAI when `XAI_API_KEY` is set; otherwise the local simulated model, saying so in one
        line on `notice` (stderr by default) so that nobody mistakes a simulated answer for
        Grok's."""
        if os.environ.get("XAI_API_KEY"):
            return cls(**options)
        print(SIMULATED_NOTICE, file=notice or sys.stderr)
        return cls.simulated(**options)

    # -- lifecycle -----------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connection pool (not an `http_client` that was handed in)."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        key = "set" if self._api_key else "none"
        return f"GrokClient(provider={self.provider.name!r}, base_url={self.base_url!r}, api_key={key})"

    # -- endpoints that are not resources ------------------------------------------------

    async def tokenize(self, *, text: str, model: str, timeout: float | None = None) -> TokenizeResponse:
        """Split `text` into the model's tokens (POST `/tokenize-text`)."""
        return await self.request(
            "POST", "/tokenize-text", {"text": text, "model": self.provider.model_id(model)},
            TokenizeResponse, timeout=timeout,
        )

    async def price_catalog(self, *, refresh: bool = False) -> PriceCatalog:
        """The prices of the server's language models (GET `/language-models`), fetched on
        the first call and kept for this client's life; `refresh=True` fetches them again.

        Concurrent first callers share one request; a failed fetch is not kept.
        """
        return await self._prices.get(self.models.language_models, refresh=refresh)

    async def health(self, *, timeout: float = 10.0) -> HealthReport:
        """Probe the server cheaply (GET `/models`; xAI has no health route) and report.

        Never raises for a failed probe: the report says `ok` (2xx), `degraded` (it answered
        with an error status) or `down` (no answer), with the latency.
        """
        started = time.perf_counter()
        try:
            response = await self._http.send(
                "GET", self._url("/models"), headers=self._headers, timeout=timeout
            )
        except APIError as error:
            return HealthReport(
                status="down", latency_ms=(time.perf_counter() - started) * 1000,
                base_url=self.base_url, detail=error.message,
            )
        latency = (time.perf_counter() - started) * 1000
        if 200 <= response.status_code < 300:
            return HealthReport(status="ok", status_code=response.status_code,
                                latency_ms=latency, base_url=self.base_url)
        failure = self._status_error("GET", self._url("/models"), response.status_code,
                                     response.headers, response.content)
        return HealthReport(status="degraded", status_code=response.status_code,
                            latency_ms=latency, base_url=self.base_url, detail=failure.message)

    # -- the request path ----------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _encode(self, body: Mapping[str, Any] | None) -> bytes | None:
        if body is None:
            return None
        try:
            return pydantic_core.to_json(body)
        except pydantic_core.PydanticSerializationError as error:
            raise ConfigurationError(f"the request body cannot be sent as JSON: {error}") from None

    def _headers_with(
        self, extra: Mapping[str, str] | None, *, streaming: bool = False
    ) -> Mapping[str, str]:
        base = self._stream_headers if streaming else self._headers
        if not extra:
            return base
        return {**base, **{k.lower(): v for k, v in extra.items()}}

    def _observe_limits(self, model: str, status: int, headers: Mapping[str, str]) -> None:
        # Cheap when the server says nothing about its limits, the common case.
        if status == 429 or not _LIMIT_HEADERS.isdisjoint(map(str.lower, headers)):
            lowered = {k.lower(): v for k, v in headers.items()}
            self.rate_limiter.observe(model, status, lowered, parse_retry_after(lowered))

    def _status_error(
        self, method: str, url: str, status: int, headers: Mapping[str, str], content: bytes
    ) -> APIError:
        body: Any = _json_or_none(content) if content else None
        if body is None and content:
            body = content.decode("utf-8", errors="replace")
        request_id = next(
            (v for k, v in headers.items() if k.lower().endswith("request-id")), None
        )
        return make_status_error(
            status, body, request_id=request_id, retry_after=parse_retry_after(headers),
            method=method, url=url, secrets=(self._api_key,) if self._api_key else (),
        )

    async def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        cast_to: type[ModelT],
        *,
        timeout: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
        on_retry: Callable[[APIError], None] | None = None,
    ) -> ModelT:
        """Send a request (with retries) and parse the JSON answer into `cast_to`.

        The generic door for routes without a resource: `await client.request("GET",
        "/language-models", None, MyModel)`.
        """
        url = self._url(path)
        content = self._encode(body)
        headers = self._headers_with(extra_headers)
        model = _metered_model(method, path, body)

        async def attempt() -> ModelT:
            reservation = None
            if model is not None and content is not None and body is not None:
                reservation = await self.rate_limiter.acquire(
                    model, estimate_request_tokens(content, body))
            response = await self._http.send(
                method, url, headers=headers, body=content, timeout=timeout
            )
            _log.debug("%s %s -> %d in %.1f ms", method, url, response.status_code,
                       response.elapsed * 1000)
            if model is not None:
                self._observe_limits(model, response.status_code, response.headers)
            if response.status_code >= 400:
                raise self._status_error(method, url, response.status_code, response.headers,
                                         response.content)
            try:
                parsed = _parse(cast_to, response.status_code, response.headers,
                                response.content, method, url)
                if reservation is not None:
                    self.rate_limiter.settle(reservation, _total_tokens(parsed))
                return parsed
            except APIResponseValidationError:
                # Some servers answer 200 with an error object ({"error": {...}}): report
                # what they said rather than the missing fields.
                answer = _json_or_none(response.content)
                if isinstance(answer, dict) and answer.get("error"):
                    raise self._status_error(method, url, embedded_status(answer, 200),
                                             response.headers, response.content) from None
                raise

        return await self.retry_policy.call(attempt, on_retry=on_retry)

    async def request_stream(
        self,
        path: str,
        body: Mapping[str, Any],
        stream_type: type[StreamT],
        *,
        timeout: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
        on_retry: Callable[[APIError], None] | None = None,
    ) -> StreamT:
        """POST a streaming request; retried until the first event has been read."""
        url = self._url(path)
        content = self._encode(body)
        headers = self._headers_with(extra_headers, streaming=True)
        model = _metered_model("POST", path, body)

        async def attempt() -> StreamT:
            if model is not None and content is not None:
                # A stream's usage comes at its end, past this door: its estimate stands.
                await self.rate_limiter.acquire(model, estimate_request_tokens(content, body))
            response = await self._http.open_stream(
                "POST", url, headers=headers, body=content, timeout=timeout
            )
            if model is not None:
                self._observe_limits(model, response.status_code, response.headers)
            try:
                if response.status_code >= 400:
                    data = await response.read()
                    raise self._status_error("POST", url, response.status_code,
                                             response.headers, data)
                _expect_event_stream(response, url)
                stream = stream_type(response, secrets=(self._api_key,) if self._api_key else ())
                await stream._prime()
            except BaseException:
                await response.aclose()
                raise
            return stream

        return await self.retry_policy.call(attempt, on_retry=on_retry)


# The routes that run a model, and so count against its rate limits.
_METERED_PATHS = frozenset(
    {"chat/completions", "completions", "responses", "responses/compact", "messages"}
)
_LIMIT_HEADERS = frozenset({
    "retry-after", "x-ratelimit-remaining-requests", "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-tokens", "x-ratelimit-limit-tokens",
})


def _metered_model(method: str, path: str, body: Mapping[str, Any] | None) -> str | None:
    if method != "POST" or body is None or path.strip("/") not in _METERED_PATHS:
        return None
    model = body.get("model")
    return model if isinstance(model, str) and model else None


def _total_tokens(parsed: BaseModel) -> int | None:
    usage = getattr(parsed, "usage", None)
    total = getattr(usage, "total_tokens", None)
    return total if isinstance(total, int) else None


def _json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


def _expect_event_stream(response: HTTPStream, url: str) -> None:
    content_type = response.headers.get("content-type", "")
    if "text/event-stream" not in content_type and "json" not in content_type:
        raise APIResponseValidationError(
            f"expected an event stream from POST {url}, got {content_type or 'no content type'}"
            " (a proxy or gateway may have answered instead of the model server)",
            status_code=response.status_code, body="", method="POST", url=url,
        )


def _parse(
    cast_to: type[ModelT], status: int, headers: Mapping[str, str], content: bytes,
    method: str, url: str,
) -> ModelT:
    try:
        return cast_to.model_validate_json(content)
    except ValidationError as error:
        text = content.decode("utf-8", errors="replace")
        content_type = headers.get("content-type", "") or "no content type"
        first = error.errors()[0]
        if first["type"] == "json_invalid":
            problem = f"the body is not JSON ({content_type}): {text[:120]!r}"
        else:
            fields = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}"
                for e in error.errors()[:5]
            )
            problem = f"the body does not have the shape of a {cast_to.__name__}: {fields}"
        raise APIResponseValidationError(
            f"{method} {url} answered HTTP {status} but {problem}",
            status_code=status, body=text, method=method, url=url,
        ) from None
