"""The simulated Grok server, minus the wire: one request in, one `SimResponse` out.

`SimCore.handle` is pure: no sockets, no clock except the injected one, ids from a seeded
generator. It answers xAI's real paths (`/v1/chat/completions`, `/v1/completions`,
`/v1/models[/{id}]`, `/v1/embeddings`, `/v1/images/generations`, `/v1/tokenize-text`) and the
product's own names for them (`/v1/images/generate`, `/v1/tokenize`, `/v1/vision/analyze`,
`/v1/health`), plus `GET /v1/images/{id}.png` for images generated with
`response_format: "url"`. Errors are xAI's flat `{"code", "error"}` bodies with xAI's statuses.
Also the model catalog (`/v1/language-models`, `/v1/embedding-models`,
`/v1/image-generation-models`, each `[/{id}]`, in `_catalog`), deferred chat completions
(`GET /v1/chat/deferred-completion/{id}`, in `_deferred`) and `POST /v1/images/edits`.
The Responses API (`/v1/responses`, its stored `{id}` and `{id}/input_items`, and
`/v1/responses/compact`) is `_responses`, on the same policy.

What the assistant says comes from the policy (`SimulatedModel` unless one is given); how it
is written (ids, chunking, usage, cost) is this module's job. An exception raised by the policy
propagates out of `handle`, so a broken script fails the test that used it; the HTTP server
turns it into a 500.
"""

from __future__ import annotations

import base64
import hmac
import json
import random
import struct
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._catalog import CATALOG_ROUTES, SimCatalog, catalog_item
from ._chat import (
    Answer,
    Meta,
    chat_body,
    chat_events,
    prompt_usage,
    shape_answer,
    text_completion_body,
    text_completion_events,
    usage,
)
from ._deferred import DEFERRED_PREFIX, SimDeferred, deferred_requested
from ._ratelimit import SimRateLimits
from ._responses import SimResponses
from ._validate import (
    CHAT_FIELDS,
    COMPLETION_FIELDS,
    EMBEDDING_FIELDS,
    IMAGE_FIELDS,
    LEGACY_UNSUPPORTED,
    TOKENIZE_FIELDS,
    VISION_FIELDS,
    check_chat_request,
    check_context_window,
    check_fields,
    check_unsupported,
    deserialize_error,
    json_kind,
)
from ._wire import ApiError, Code, SimChunk, SimResponse, json_response
from .faults import (
    ERROR_KINDS,
    FAULT_HEADER,
    Fault,
    FaultPlan,
    apply_fault,
    fault_error,
    parse_fault,
)
from .media import (
    IMAGE_TOKENS,
    count_tokens,
    decode_data_url,
    embed,
    inspect_image,
    render_png,
    tokenize,
)
from .models import MODELS, SimModel, index_models
from .policy import SimulatedModel
from .reply import Policy

__all__ = ["SimChunk", "SimCore", "SimResponse"]

_SSE_HEADERS = {"content-type": "text/event-stream", "cache-control": "no-cache"}
_PNG_HEADERS = {"content-type": "image/png", "cache-control": "max-age=86400"}
_ROUTE_NOT_FOUND = (
    "No handler found on route. Please double check your URL and consult "
    "https://api.x.ai/docs for more information."
)
# fmt: off
_ASPECT_RATIOS = frozenset({
    "1:1", "3:4", "4:3", "9:16", "16:9", "2:3", "3:2", "9:19.5", "19.5:9", "9:20", "20:9",
    "1:2", "2:1", "auto",
})
# fmt: on
_IMAGE_SIDE = 256
_DEFAULT_IMAGE_MODEL = "grok-imagine-image"
_DEFAULT_VISION_MODEL = "grok-2-vision-1212"
_DEFAULT_VISION_PROMPT = "Describe this image."


def _mask_key(key: str) -> str:
    """xAI's way of echoing a wrong key: first two and last two characters."""
    return f"{key[:2]}***{key[-2:]}" if len(key) > 4 else "***"


# The routes that run a model, and so count against its rate limits.
_METERED_PATHS = frozenset(
    {"/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/responses/compact"}
)


class _Request:
    """One request as the handlers see it."""

    __slots__ = ("fault", "headers", "param", "raw")

    def __init__(
        self, headers: Mapping[str, str], raw: bytes, fault: Fault | None, param: str
    ) -> None:
        self.headers = headers
        self.raw = raw
        self.fault = fault
        self.param = param

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; 415 and 422 in xAI's words otherwise."""
        content_type = self.headers.get("content-type", "")
        if not self.raw or content_type.split(";", 1)[0].strip().lower() != "application/json":
            raise ApiError(415, "Expected request with `Content-Type: application/json`")
        try:
            body = json.loads(self.raw)
        except (ValueError, UnicodeDecodeError) as exc:
            line, column = getattr(exc, "lineno", 1), getattr(exc, "colno", 1)
            detail = str(getattr(exc, "msg", exc)).lower()
            raise ApiError(
                422,
                "Failed to deserialize the JSON body into the target type: "
                f"{detail} at line {line} column {column}",
            ) from exc
        if not isinstance(body, dict):
            raise deserialize_error(self.raw, f"invalid type: {json_kind(body)}, expected a map")
        return body


_Handler = Callable[[_Request], SimResponse]


class SimCore:
    """A Grok-compatible server as a pure function from requests to responses.

    Args:
        policy: The simulated model; `SimulatedModel()` when None.
        models: The model table to serve (defaults to every model xAI lists).
        api_key: When set, requests must carry `Authorization: Bearer <api_key>`.
        faults: Planned failures; a fresh empty plan when None. Change it at any time
            through `core.faults`.
        clock: Returns Unix time; the only clock the core reads.
        seed: Seeds the generator of completion ids, tool-call ids and image ids.
        base_url: Where generated images are served from (`<base_url>/v1/images/<id>.png`);
            None uses `http://<Host header>`.
        chunk_delay: Seconds before each streamed chunk, to pace streams like a real model.
        max_images: Generated images kept for download; the oldest go first.
        rate_limits: Requests and tokens per minute per model, answered 429 past them.
    """

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        models: Iterable[SimModel] = MODELS,
        api_key: str | None = None,
        faults: FaultPlan | None = None,
        clock: Callable[[], float] = time.time,
        seed: int = 0,
        base_url: str | None = None,
        chunk_delay: float = 0.0,
        max_images: int = 256,
        rate_limits: SimRateLimits | None = None,
    ) -> None:
        self.policy: Policy = policy if policy is not None else SimulatedModel()
        self.models: tuple[SimModel, ...] = tuple(models)
        self.api_key = api_key
        self.faults = faults if faults is not None else FaultPlan()
        self.base_url = base_url.rstrip("/") if base_url else None
        self.chunk_delay = chunk_delay
        self._index = index_models(self.models)
        self._clock = clock
        self._rng = random.Random(seed)
        self._images: OrderedDict[str, bytes] = OrderedDict()
        self._max_images = max_images
        self.rate_limits = rate_limits
        self._last_fault_header: str | None = None
        self.team_id = self._uuid()
        self._routes: dict[str, dict[str, _Handler]] = {
            "/v1/chat/completions": {"POST": self._chat},
            "/v1/completions": {"POST": self._completions},
            "/v1/models": {"GET": self._list_models},
            "/v1/embeddings": {"POST": self._embeddings},
            "/v1/images/generations": {"POST": self._generate_images},
            "/v1/images/generate": {"POST": self._generate_images},
            "/v1/vision/analyze": {"POST": self._analyze_image},
            "/v1/tokenize-text": {"POST": self._tokenize},
            "/v1/tokenize": {"POST": self._tokenize},
            "/v1/health": {"GET": self._health},
        }
        self._catalog = SimCatalog(self.models, self._unknown_model)
        self._deferred = SimDeferred(self._uuid, self._clock)
        self._routes["/v1/images/edits"] = {"POST": self._edit_images}
        for catalog_path, kind in CATALOG_ROUTES.items():
            self._routes[catalog_path] = {"GET": self._catalog.lister(kind)}
        self.responses = SimResponses(self)
        self._routes["/v1/responses"] = {"POST": self.responses.create}
        self._routes["/v1/responses/compact"] = {"POST": self.responses.compact}

    # ------------------------------------------------------------------------ entry point

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> SimResponse:
        """Answer one HTTP request.

        Args:
            method: The HTTP method.
            path: The request target; a query string is ignored.
            headers: Request headers, any case.
            body: The raw request body.

        Returns:
            The response, with its delays and cut-off point for the adapter to honour.
        """
        path = path.split("?", 1)[0]
        lowered = {name.lower(): value for name, value in headers.items()}
        method = method.upper()
        try:
            route, param = self._route(path)
            handler = route.get(method)
            if handler is None:
                allowed = ", ".join(sorted(route))
                raise ApiError(
                    405,
                    f"Method {method} is not allowed on {path}; use {allowed}.",
                    Code.UNIMPLEMENTED,
                    {"allow": allowed},
                )
            if handler == self._download_image:
                # Image URLs are public on xAI too (a CDN), with no key and no rate limit.
                return handler(_Request(lowered, body, None, param))
            if path != "/v1/health":
                self._authenticate(lowered)
            fault = self._draw_fault(lowered)
            limited = self._metered_model(method, path, body)
            if limited is not None and self.rate_limits is not None:
                self.rate_limits.admit(limited, self.team_id)
        except ApiError as exc:
            return exc.response()
        if fault is not None and fault.kind in ERROR_KINDS:
            response = fault_error(fault, self.team_id).response()
        else:
            try:
                response = handler(_Request(lowered, body, fault, param))
            except ApiError as exc:
                response = exc.response()
        if fault is not None:
            apply_fault(response, fault)
        if limited is not None and self.rate_limits is not None:
            self.rate_limits.settle(limited, response, body)
        return response

    def _metered_model(self, method: str, path: str, body: bytes) -> str | None:
        """The model a request runs, when rate limits are on and the route runs one."""
        if self.rate_limits is None or method != "POST" or path not in _METERED_PATHS:
            return None
        try:
            model = json.loads(body).get("model")
        except (ValueError, AttributeError, UnicodeDecodeError):
            return None  # the handler answers the bad body in xAI's words
        return model if isinstance(model, str) and model else None

    def _route(self, path: str) -> tuple[Mapping[str, _Handler], str]:
        route = self._routes.get(path)
        if route is not None:
            return route, ""
        if path.startswith("/v1/models/") and len(path) > len("/v1/models/"):
            return {"GET": self._get_model}, path[len("/v1/models/") :]
        if path.startswith("/v1/images/") and path.endswith(".png"):
            return {"GET": self._download_image}, path[len("/v1/images/") : -len(".png")]
        item = catalog_item(path)
        if item is not None:
            kind, name = item
            return {"GET": lambda _: self._catalog.get_model(kind, name)}, name
        if path.startswith(DEFERRED_PREFIX) and len(path) > len(DEFERRED_PREFIX):
            return {"GET": lambda r: self._deferred.poll(r.param)}, path[len(DEFERRED_PREFIX) :]
        if path.startswith("/v1/responses/"):
            found = self.responses.route(path[len("/v1/responses/") :])
            if found is not None:
                return found
        raise ApiError(404, _ROUTE_NOT_FOUND, Code.NOT_FOUND)

    def _authenticate(self, headers: Mapping[str, str]) -> None:
        if self.api_key is None:
            return
        header = headers.get("authorization")
        if not header:
            raise ApiError(
                401,
                "No API key provided. Send it as `Authorization: Bearer <key>`. "
                "You can obtain an API key from https://console.x.ai.",
                Code.UNAUTHENTICATED,
            )
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(
                401, "The Authorization header must read `Bearer <API key>`.", Code.UNAUTHENTICATED
            )
        if not hmac.compare_digest(token.encode(), self.api_key.encode()):
            raise ApiError(
                400,
                f"Incorrect API key provided: {_mask_key(token)}. "
                "You can obtain an API key from https://console.x.ai.",
            )

    # ------------------------------------------------------------------------ faults

    def _draw_fault(self, headers: Mapping[str, str]) -> Fault | None:
        value = headers.get(FAULT_HEADER)
        if value != self._last_fault_header:
            if value:
                try:
                    fault = parse_fault(value)
                except ValueError as exc:
                    raise ApiError(400, f"Invalid {FAULT_HEADER} header: {exc}") from exc
                self.faults.push(fault, first=True)
            self._last_fault_header = value
        return self.faults.take()

    # ------------------------------------------------------------------------ helpers

    def _uuid(self) -> str:
        digits = f"{self._rng.getrandbits(128):032x}"
        return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"

    def _call_id(self) -> str:
        return f"call_{self._rng.randrange(100_000_000):08d}"

    def _model(self, name: str, kind: str) -> SimModel:
        model = self._index.get(name)
        if model is None:
            raise self._unknown_model(name)
        if model.kind != kind:
            raise ApiError(400, f"Model {model.id} ({model.kind}) cannot serve this endpoint.")
        return model

    def _unknown_model(self, name: str) -> ApiError:
        return ApiError(
            404,
            f"The model {name} does not exist or your team {self.team_id} does not have "
            "access to it.",
            Code.NOT_FOUND,
        )

    def _meta(self, model: SimModel, name: str) -> Meta:
        return Meta(self._uuid(), int(self._clock()), name, model.fingerprint, self.chunk_delay)

    def _base_url(self, headers: Mapping[str, str]) -> str:
        return self.base_url or f"http://{headers.get('host', '127.0.0.1')}"

    def _store_image(self, png: bytes) -> str:
        image_id = self._uuid()
        self._images[image_id] = png
        while len(self._images) > self._max_images:
            self._images.popitem(last=False)
        return image_id

    # ------------------------------------------------------------------------ chat

    def _chat(self, request: _Request) -> SimResponse:
        body = request.json()
        check_fields(body, request.raw, CHAT_FIELDS, ("model", "messages"))
        model = self._model(body["model"], "chat")
        check_chat_request(body, request.raw, model)
        deferred = deferred_requested(body, request.raw)
        text_tokens, image_tokens = prompt_usage(body["messages"], body.get("tools"))
        check_context_window(model, text_tokens + image_tokens)
        reply = self.policy(body)
        answers = [
            shape_answer(reply, body, model, request.fault, self._call_id)
            for _ in range(body.get("n") or 1)
        ]
        usage_ = usage(
            model,
            text_tokens,
            image_tokens,
            sum(a.completion_tokens for a in answers),
            sum(a.reasoning_tokens for a in answers),
        )
        meta = self._meta(model, model.response_name(body.get("reasoning_effort")))
        if body.get("stream"):
            include = bool((body.get("stream_options") or {}).get("include_usage"))
            events = chat_events(meta, answers, usage_ if include else None)
            return SimResponse(200, dict(_SSE_HEADERS), events=events)
        response = SimResponse(
            200, {"content-type": "application/json"}, chat_body(meta, answers, usage_)
        )
        return self._deferred.defer(response) if deferred else response

    def _completions(self, request: _Request) -> SimResponse:
        body = request.json()
        check_fields(body, request.raw, COMPLETION_FIELDS, ("model", "prompt"))
        model = self._model(body["model"], "chat")
        if model.reasoning != "none":
            raise ApiError(
                400,
                f"Model {model.id} does not support the legacy completions endpoint; "
                "use /v1/chat/completions.",
            )
        check_unsupported(body, model, LEGACY_UNSUPPORTED)
        if body.get("stream_options") is not None and body.get("stream") is not True:
            raise ApiError(400, "Argument not supported: stream_options")
        prompt = body["prompt"]
        if isinstance(prompt, list):
            if not prompt or not all(isinstance(p, str) for p in prompt):
                raise deserialize_error(
                    request.raw, "prompt: expected a string or a sequence of strings"
                )
            prompt = prompt[0]
        chat = {
            key: body[key]
            for key in ("max_tokens", "stop", "seed", "temperature", "top_p", "user")
            if body.get(key) is not None
        }
        chat.update(model=model.id, messages=[{"role": "user", "content": prompt}])
        reply = self.policy(chat)
        answers: list[Answer] = [
            shape_answer(reply, chat, model, request.fault, self._call_id)
            for _ in range(body.get("n") or 1)
        ]
        texts = [
            ((prompt if body.get("echo") else "") + a.content, a.finish_reason) for a in answers
        ]
        usage_ = usage(model, count_tokens(prompt), 0, sum(a.completion_tokens for a in answers), 0)
        meta = self._meta(model, model.id)
        if body.get("stream"):
            include = bool((body.get("stream_options") or {}).get("include_usage"))
            events = text_completion_events(meta, texts, usage_ if include else None)
            return SimResponse(200, dict(_SSE_HEADERS), events=events)
        return SimResponse(
            200, {"content-type": "application/json"}, text_completion_body(meta, texts, usage_)
        )

    # ------------------------------------------------------------------------ models

    @staticmethod
    def _model_json(model: SimModel) -> dict[str, Any]:
        return {"id": model.id, "created": model.created, "object": "model", "owned_by": "xai"}

    def _list_models(self, request: _Request) -> SimResponse:
        return json_response({"object": "list", "data": [self._model_json(m) for m in self.models]})

    def _get_model(self, request: _Request) -> SimResponse:
        model = self._index.get(request.param)
        if model is None:
            raise self._unknown_model(request.param)
        return json_response(self._model_json(model))

    def _health(self, request: _Request) -> SimResponse:
        return json_response({"status": "ok", "models": len(self.models)})

    # ------------------------------------------------------------------------ embeddings

    def _embeddings(self, request: _Request) -> SimResponse:
        body = request.json()
        check_fields(body, request.raw, EMBEDDING_FIELDS, ("model", "input"))
        model = self._model(body["model"], "embedding")
        texts = self._embedding_inputs(body["input"], request.raw)
        dimensions = body.get("dimensions") or 256
        if not 1 <= dimensions <= 4096:
            raise ApiError(400, f"dimensions must be between 1 and 4096, got {dimensions}.")
        encoding = body.get("encoding_format") or "float"
        if encoding not in ("float", "base64"):
            raise ApiError(400, f"encoding_format must be 'float' or 'base64', got {encoding!r}.")
        data = []
        for index, text in enumerate(texts):
            vector = embed(text, dimensions)
            value: list[float] | str = vector
            if encoding == "base64":
                value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": value})
        tokens = sum(count_tokens(text) for text in texts)
        return json_response(
            {
                "object": "list",
                "model": model.id,
                "data": data,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    @staticmethod
    def _embedding_inputs(value: Any, raw: bytes) -> list[str]:
        if isinstance(value, str):
            return [value]
        if not value:
            raise ApiError(400, "input must not be empty.")
        if all(isinstance(item, str) for item in value):
            return list(value)
        # Token ids have no detokenizer here; their decimal text embeds just as stably.
        if all(isinstance(item, int) and not isinstance(item, bool) for item in value):
            return [" ".join(map(str, value))]
        if all(isinstance(item, list) and all(isinstance(i, int) for i in item) for item in value):
            return [" ".join(map(str, item)) for item in value]
        raise deserialize_error(
            raw, "input: data did not match any variant of untagged enum EmbeddingInput"
        )

    # ------------------------------------------------------------------------ images

    def _generate_images(self, request: _Request) -> SimResponse:
        body = request.json()
        for unsupported in ("size", "style"):
            if body.get(unsupported) is not None:
                raise ApiError(400, f"Argument not supported: {unsupported}")
        check_fields(body, request.raw, IMAGE_FIELDS, ("prompt",))
        model = self._model(body.get("model") or _DEFAULT_IMAGE_MODEL, "image")
        n = body.get("n") or 1
        if not 1 <= n <= 10:
            raise ApiError(400, f"n must be between 1 and 10, got {n}.")
        fmt = body.get("response_format") or "url"
        if fmt not in ("url", "b64_json"):
            raise ApiError(400, f"response_format must be 'url' or 'b64_json', got {fmt!r}.")
        ratio = body.get("aspect_ratio") or "1:1"
        if ratio not in _ASPECT_RATIOS:
            raise ApiError(400, f"Unsupported aspect_ratio {ratio!r}.")
        if body.get("resolution") not in (None, "1k", "2k"):
            raise ApiError(400, f"resolution must be '1k' or '2k', got {body['resolution']!r}.")
        width, height = self._image_size(ratio)
        png = render_png(body["prompt"], width, height)
        data = []
        for _ in range(n):
            url = b64 = None
            if fmt == "url":
                url = f"{self._base_url(request.headers)}/v1/images/{self._store_image(png)}.png"
            else:
                b64 = base64.b64encode(png).decode()
            data.append(
                {"url": url, "b64_json": b64, "mime_type": "image/png", "revised_prompt": ""}
            )
        ticks = round(n * model.image_price * 10_000_000_000)
        return json_response({"data": data, "usage": {"cost_in_usd_ticks": ticks}})

    def _edit_images(self, request: _Request) -> SimResponse:
        """`POST /v1/images/edits`: JSON with `image: {url}` or `images: [{url}, ...]` (at
        most three), otherwise as generation, which draws the result."""
        body = request.json()
        image, images = body.pop("image", None), body.pop("images", None)
        if (image is None) == (images is None):
            raise ApiError(400, "Provide exactly one of `image` or `images`.")
        sources = [image] if image is not None else images
        if not isinstance(sources, list) or not 1 <= len(sources) <= 3:
            raise ApiError(400, "images must hold between 1 and 3 images.")
        for source in sources:
            url = source.get("url") if isinstance(source, dict) else None
            if not isinstance(url, str) or not url:
                raise deserialize_error(request.raw, "image: missing field `url`")
            if "error" in (info := inspect_image(self._load_image(url))):
                raise ApiError(400, f"Unsupported image: {info['error']}.")
        raw = json.dumps(body).encode()
        response = self._generate_images(_Request(request.headers, raw, request.fault, ""))
        # xAI bills an edit's source images as well as the images it makes.
        model = self._model(body.get("model") or _DEFAULT_IMAGE_MODEL, "image")
        answer = response.json()
        answer["usage"]["cost_in_usd_ticks"] += round(
            len(sources) * model.image_price * 10_000_000_000)
        return json_response(answer)

    @staticmethod
    def _image_size(ratio: str) -> tuple[int, int]:
        # Small images keep simulated runs fast; the aspect ratio is what clients check.
        if ratio == "auto":
            return _IMAGE_SIDE, _IMAGE_SIDE
        wide, high = (float(x) for x in ratio.split(":"))
        if wide >= high:
            return _IMAGE_SIDE, max(1, round(_IMAGE_SIDE * high / wide))
        return max(1, round(_IMAGE_SIDE * wide / high)), _IMAGE_SIDE

    def _download_image(self, request: _Request) -> SimResponse:
        png = self._images.get(request.param)
        if png is None:
            raise ApiError(
                404, f"Image {request.param} does not exist or has expired.", Code.NOT_FOUND
            )
        return SimResponse(200, dict(_PNG_HEADERS), png)

    def _load_image(self, url: str) -> bytes:
        if url.startswith("data:"):
            try:
                return decode_data_url(url)[1]
            except ValueError as exc:
                raise ApiError(400, f"Invalid image data URL: {exc}") from exc
        marker = "/v1/images/"
        if marker in url and url.endswith(".png"):
            image_id = url.rsplit(marker, 1)[1][: -len(".png")]
            png = self._images.get(image_id)
            if png is not None:
                return png
        raise ApiError(
            400,
            f"Could not fetch the image at {url}: the simulator works offline and reads only "
            "data: URLs and the /v1/images URLs it generated.",
        )

    def _analyze_image(self, request: _Request) -> SimResponse:
        body = request.json()
        check_fields(body, request.raw, VISION_FIELDS, ("image",))
        model = self._model(body.get("model") or _DEFAULT_VISION_MODEL, "chat")
        if not model.reads_images:
            raise ApiError(400, f"Model {model.id} does not support image inputs.")
        prompt = body.get("prompt") or _DEFAULT_VISION_PROMPT
        info = inspect_image(self._load_image(body["image"]))
        if "error" in info:
            raise ApiError(400, f"Unsupported image: {info['error']}.")
        description = _describe(info)
        answer = Answer(description, None, 0, completion_tokens=count_tokens(description))
        usage_ = usage(
            model, count_tokens(prompt), IMAGE_TOKENS["auto"], answer.completion_tokens, 0
        )
        meta = self._meta(model, model.id)
        return SimResponse(
            200, {"content-type": "application/json"}, chat_body(meta, [answer], usage_)
        )

    # ------------------------------------------------------------------------ tokenizer

    def _tokenize(self, request: _Request) -> SimResponse:
        body = request.json()
        check_fields(body, request.raw, TOKENIZE_FIELDS, ("model", "text"))
        self._model(body["model"], "chat")
        tokens = [
            {"token_id": token_id, "string_token": text, "token_bytes": list(raw)}
            for token_id, text, raw in tokenize(body["text"])
        ]
        return json_response({"token_ids": tokens})


def _describe(info: Mapping[str, Any]) -> str:
    """Words for what `inspect_image` read from the bytes."""
    kind = str(info.get("format", "unknown")).upper()
    width, height = info.get("width"), info.get("height")
    text = (
        f"The image is a {width}x{height} {kind} image"
        if width and height
        else f"The image is a {kind} image"
    )
    if info.get("color_name"):
        text += f", mostly {info['color_name']} ({info.get('dominant_color')})"
    text += f", {info.get('size_bytes', 0)} bytes."
    if info.get("note"):
        text += f" {str(info['note']).capitalize()}."
    return text
