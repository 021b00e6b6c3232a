"""The client's resources, in the OpenAI SDK's shape: `client.chat.completions.create(...)`."""

from __future__ import annotations

import base64
import builtins
import mimetypes
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypedDict, Unpack, overload
from urllib.parse import quote

import anyio

from ..errors import APIError, ConfigurationError, InvalidRequestError
from ..types.chat import ChatCompletion
from ..types.endpoints import Completion, EmbeddingList, ImagesResponse, Model, ModelList
from ..types.models import (
    EmbeddingModel,
    EmbeddingModelList,
    ImageGenerationModel,
    ImageGenerationModelList,
    LanguageModel,
    LanguageModelList,
)
from ._deferred import DeferredCompletion, DeferredTicket
from ._streaming import ChatStream, CompletionStream

if TYPE_CHECKING:
    from ._client import GrokClient

__all__ = [
    "Chat",
    "ChatCompletions",
    "ChatOptions",
    "CompletionOptions",
    "Completions",
    "Embeddings",
    "ImageInput",
    "Images",
    "Models",
    "Vision",
    "image_url",
]

MAX_IMAGE_BYTES = 20 * 1024 * 1024
"""xAI's limit for one image part."""

DEFAULT_VISION_MODEL = "grok-4.3"
DEFAULT_IMAGE_MODEL = "grok-imagine-image"

ImageInput: TypeAlias = str | Path | bytes | Mapping[str, Any]
"""An image to send: an http(s) or data URL, a local path, raw bytes, or an image object
sent as is (`{"file_id": ...}`)."""

_EMPTY_MESSAGES = (
    "messages is empty: pass at least one message, e.g. "
    "messages=[{\"role\": \"user\", \"content\": \"Hello\"}]"
)


def _put(body: dict[str, Any], **fields: Any) -> None:
    """Add the fields that were given; None means "leave it to the server"."""
    for key, value in fields.items():
        if value is not None:
            body[key] = value


class ChatOptions(TypedDict, total=False):
    """Optional fields of a chat-completion request; those not given are not sent."""

    tools: Iterable[Mapping[str, Any]] | None
    tool_choice: str | Mapping[str, Any] | None
    parallel_tool_calls: bool | None
    response_format: Mapping[str, Any] | None
    reasoning_effort: str | None
    temperature: float | None
    top_p: float | None
    max_tokens: int | None
    max_completion_tokens: int | None
    stop: str | Sequence[str] | None
    seed: int | None
    n: int | None
    presence_penalty: float | None
    frequency_penalty: float | None
    logprobs: bool | None
    top_logprobs: int | None
    user: str | None
    stream_options: Mapping[str, Any] | None
    extra_body: Mapping[str, Any] | None
    """Fields the signature does not name (`deferred`...), added last: they win."""
    extra_headers: Mapping[str, str] | None
    timeout: float | None
    on_retry: Callable[[APIError], None] | None
    """Told of each failure that will be retried (for accounting); not sent."""


class ChatCompletions:
    """`client.chat.completions`."""

    def __init__(self, client: GrokClient) -> None:
        self._client = client

    @overload
    async def create(
        self, *, model: str, messages: Sequence[Mapping[str, Any]],
        stream: Literal[False] = False, deferred: Literal[False] = False,
        **options: Unpack[ChatOptions],
    ) -> ChatCompletion: ...

    @overload
    async def create(
        self, *, model: str, messages: Sequence[Mapping[str, Any]],
        stream: Literal[True], deferred: Literal[False] = False,
        **options: Unpack[ChatOptions],
    ) -> ChatStream: ...

    @overload
    async def create(
        self, *, model: str, messages: Sequence[Mapping[str, Any]],
        stream: Literal[False] = False, deferred: Literal[True],
        **options: Unpack[ChatOptions],
    ) -> DeferredCompletion: ...

    async def create(
        self,
        *,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        stream: bool = False,
        deferred: bool = False,
        **options: Unpack[ChatOptions],
    ) -> ChatCompletion | ChatStream | DeferredCompletion:
        """Create a chat completion (POST `/chat/completions`).

        Options left out or None are not sent (see `ChatOptions`). With `stream=True` the
        result is a `ChatStream`: iterate it for chunks and `await stream.final()` for the
        assembled completion; usage is requested (`stream_options.include_usage`) unless
        you pass `stream_options`. With `deferred=True` (xAI) the server answers at once
        with a request id and computes the completion in the background: the result is a
        `DeferredCompletion`; `await handle.result()` for the completion.

        Raises:
            InvalidRequestError: `messages` is empty, or `deferred` asked for with
                `stream` or through `extra_body`.
        """
        if not messages:
            raise InvalidRequestError(_EMPTY_MESSAGES)
        unknown = options.keys() - ChatOptions.__annotations__.keys()
        if unknown:
            raise ConfigurationError(
                f"unknown option(s) {sorted(unknown)}; pass provider-specific fields in "
                "extra_body={...}"
            )
        if deferred and stream:
            raise InvalidRequestError(
                "a deferred completion cannot be streamed: pass deferred=True or stream=True, "
                "not both"
            )
        if (options.get("extra_body") or {}).get("deferred") is True:
            # The answer would be a request id where a completion is expected.
            raise InvalidRequestError(
                "pass deferred=True to create() instead of extra_body={'deferred': True}: "
                "it returns a DeferredCompletion to poll"
            )
        extra_body = options.pop("extra_body", None)
        extra_headers = options.pop("extra_headers", None)
        timeout = options.pop("timeout", None)
        on_retry = options.pop("on_retry", None)
        stream_options = options.pop("stream_options", None)
        body: dict[str, Any] = {
            "model": self._client.provider.model_id(model),
            "messages": list(messages),
        }
        for key, value in options.items():
            if value is not None:
                body[key] = list(value) if key == "tools" else value  # type: ignore[call-overload]
        if stream:
            body["stream"] = True
            body["stream_options"] = dict(stream_options or {"include_usage": True})
        if extra_body:
            body.update(extra_body)
        if stream:
            return await self._client.request_stream(
                "/chat/completions", body, ChatStream, timeout=timeout,
                extra_headers=extra_headers, on_retry=on_retry,
            )
        if deferred:
            body["deferred"] = True
            ticket = await self._client.request(
                "POST", "/chat/completions", body, DeferredTicket, timeout=timeout,
                extra_headers=extra_headers, on_retry=on_retry,
            )
            return DeferredCompletion(self._client, ticket.request_id)
        return await self._client.request(
            "POST", "/chat/completions", body, ChatCompletion, timeout=timeout,
            extra_headers=extra_headers, on_retry=on_retry,
        )


class Chat:
    """`client.chat`."""

    def __init__(self, client: GrokClient) -> None:
        self._client = client
        self.completions = ChatCompletions(client)

    def deferred(
        self,
        request_id: str,
        *,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> DeferredCompletion:
        """The handle of a deferred completion from its saved `request_id` (no request is
        sent until you poll); `sleep` and `clock` as for `DeferredCompletion`."""
        return DeferredCompletion(self._client, request_id, sleep=sleep, clock=clock)


class CompletionOptions(TypedDict, total=False):
    """Optional fields of a legacy text-completion request."""

    max_tokens: int | None
    temperature: float | None
    top_p: float | None
    n: int | None
    stop: str | Sequence[str] | None
    seed: int | None
    echo: bool | None
    user: str | None
    extra_body: Mapping[str, Any] | None
    timeout: float | None


class Completions:
    """`client.completions`: the legacy text-completion endpoint (non-reasoning models)."""

    def __init__(self, client: GrokClient) -> None:
        self._client = client

    @overload
    async def create(
        self, *, model: str, prompt: str | Sequence[str], stream: Literal[False] = False,
        **options: Unpack[CompletionOptions],
    ) -> Completion: ...

    @overload
    async def create(
        self, *, model: str, prompt: str | Sequence[str], stream: Literal[True],
        **options: Unpack[CompletionOptions],
    ) -> CompletionStream: ...

    async def create(
        self,
        *,
        model: str,
        prompt: str | Sequence[str],
        stream: bool = False,
        **options: Unpack[CompletionOptions],
    ) -> Completion | CompletionStream:
        """Create a text completion (POST `/completions`)."""
        unknown = options.keys() - CompletionOptions.__annotations__.keys()
        if unknown:
            raise ConfigurationError(
                f"unknown option(s) {sorted(unknown)}; pass other fields in extra_body={{...}}"
            )
        extra_body = options.pop("extra_body", None)
        timeout = options.pop("timeout", None)
        body: dict[str, Any] = {
            "model": self._client.provider.model_id(model),
            "prompt": prompt if isinstance(prompt, str) else list(prompt),
        }
        body.update({key: value for key, value in options.items() if value is not None})
        if extra_body:
            body.update(extra_body)
        if stream:
            body["stream"] = True
            return await self._client.request_stream(
                "/completions", body, CompletionStream, timeout=timeout
            )
        return await self._client.request("POST", "/completions", body, Completion,
                                          timeout=timeout)


class Models:
    """`client.models`."""

    def __init__(self, client: GrokClient) -> None:
        self._client = client

    async def list(self) -> ModelList:
        """The models the server offers (GET `/models`)."""
        return await self._client.request("GET", "/models", None, ModelList)

    async def retrieve(self, model: str) -> Model:
        """One model (GET `/models/{id}`); `NotFoundError` when it does not exist."""
        return await self._client.request("GET", _model_path("/models", model), None, Model)

    # `builtins.list`: inside this class `list` is the method above.
    async def language_models(self) -> builtins.list[LanguageModel]:
        """The chat models with their prices and aliases (GET `/language-models`, xAI)."""
        listing = await self._client.request("GET", "/language-models", None, LanguageModelList)
        return listing.models

    async def language_model(self, model: str) -> LanguageModel:
        """One language model by id or alias (GET `/language-models/{id}`); `NotFoundError`
        when the server does not know it."""
        path = _model_path("/language-models", model)
        return await self._client.request("GET", path, None, LanguageModel)

    async def embedding_models(self) -> builtins.list[EmbeddingModel]:
        """The embedding models (GET `/embedding-models`, xAI)."""
        listing = await self._client.request("GET", "/embedding-models", None,
                                             EmbeddingModelList)
        return listing.models

    async def embedding_model(self, model: str) -> EmbeddingModel:
        """One embedding model (GET `/embedding-models/{id}`); `NotFoundError` when unknown."""
        path = _model_path("/embedding-models", model)
        return await self._client.request("GET", path, None, EmbeddingModel)

    async def image_models(self) -> builtins.list[ImageGenerationModel]:
        """The image generation models (GET `/image-generation-models`, xAI)."""
        listing = await self._client.request("GET", "/image-generation-models", None,
                                             ImageGenerationModelList)
        return listing.models

    async def image_model(self, model: str) -> ImageGenerationModel:
        """One image generation model (GET `/image-generation-models/{id}`); `NotFoundError`
        when unknown."""
        path = _model_path("/image-generation-models", model)
        return await self._client.request("GET", path, None, ImageGenerationModel)


def _model_path(route: str, model: str) -> str:
    if not isinstance(model, str) or not model.strip():
        raise ConfigurationError("model must be a model id such as 'grok-4.3'")
    # Quoted whole: an id is one path segment, never a way to another route.
    return f"{route}/{quote(model.strip(), safe='')}"


class Embeddings:
    """`client.embeddings`."""

    def __init__(self, client: GrokClient) -> None:
        self._client = client

    async def create(
        self,
        *,
        model: str,
        input: str | Sequence[str] | Sequence[int] | Sequence[Sequence[int]],
        encoding_format: Literal["float", "base64"] | None = None,
        dimensions: int | None = None,
        user: str | None = None,
        timeout: float | None = None,
    ) -> EmbeddingList:
        """Embed text (POST `/embeddings`)."""
        body: dict[str, Any] = {
            "model": self._client.provider.model_id(model),
            "input": input if isinstance(input, str) else list(input),
        }
        _put(body, encoding_format=encoding_format, dimensions=dimensions, user=user)
        return await self._client.request("POST", "/embeddings", body, EmbeddingList,
                                          timeout=timeout)


class Images:
    """`client.images`."""

    def __init__(self, client: GrokClient) -> None:
        self._client = client

    async def generate(
        self,
        *,
        prompt: str,
        model: str = DEFAULT_IMAGE_MODEL,
        n: int | None = None,
        response_format: Literal["url", "b64_json"] | None = None,
        aspect_ratio: str | None = None,
        resolution: Literal["1k", "2k"] | None = None,
        user: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> ImagesResponse:
        """Generate images (POST `/images/generations`; the product list's `/images/generate`).

        xAI rejects OpenAI's `size` and `style`; use `aspect_ratio` and `resolution`.
        """
        body = self._body(prompt, model, n)
        _put(body, n=n, response_format=response_format, aspect_ratio=aspect_ratio,
             resolution=resolution, user=user)
        if extra_body:
            body.update(extra_body)
        return await self._client.request("POST", "/images/generations", body, ImagesResponse,
                                          timeout=timeout)

    async def edit(
        self,
        *,
        prompt: str,
        image: ImageInput | None = None,
        images: Sequence[ImageInput] | None = None,
        model: str = DEFAULT_IMAGE_MODEL,
        n: int | None = None,
        response_format: Literal["url", "b64_json"] | None = None,
        aspect_ratio: str | None = None,
        resolution: Literal["1k", "2k"] | None = None,
        user: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> ImagesResponse:
        """Edit an image, or compose several, as `prompt` says (POST `/images/edits`).

        Give `image` (one source) or `images` (several, named `<IMAGE_0>`, `<IMAGE_1>`... in
        the prompt), each an http(s) or data URL, a local path, bytes, or an image object
        sent as is (`{"file_id": ...}`); files and bytes go as data URLs. xAI takes JSON
        here, not the multipart form of OpenAI's `images.edit()`. Other options as for
        `generate`.

        Raises:
            InvalidRequestError: Neither `image` nor `images`, both, or an empty `images`.
        """
        if (image is None) == (images is None):
            raise InvalidRequestError(
                "images.edit() needs the picture to edit: pass image=<URL, path or bytes> for "
                "one, or images=[...] for several (not both)"
            )
        if images is not None and (isinstance(images, str | bytes) or not images):
            raise InvalidRequestError(
                "images must be a non-empty list of images, e.g. images=['a.png', 'b.png']; "
                "for a single image pass image=..."
            )
        body = self._body(prompt, model, n)
        if image is not None:
            body["image"] = await _image_object(image)
        else:
            assert images is not None  # narrowed by the checks above
            body["images"] = [await _image_object(item) for item in images]
        _put(body, n=n, response_format=response_format, aspect_ratio=aspect_ratio,
             resolution=resolution, user=user)
        if extra_body:
            body.update(extra_body)
        return await self._client.request("POST", "/images/edits", body, ImagesResponse,
                                          timeout=timeout)

    def _body(self, prompt: str, model: str, n: int | None) -> dict[str, Any]:
        if not prompt.strip():
            raise ConfigurationError("prompt must not be empty")
        if n is not None and not 1 <= n <= 10:
            raise ConfigurationError(f"n must be between 1 and 10, got {n}")
        return {"prompt": prompt, "model": self._client.provider.model_id(model)}


async def _image_object(image: ImageInput) -> dict[str, Any]:
    """The `{"url": ...}` object an image goes in; an object given is sent as it is."""
    if isinstance(image, Mapping):
        return dict(image)
    return {"url": await image_url(image)}


class Vision:
    """`client.vision`: image understanding through chat completions.

    xAI has no `/vision/analyze` route; an image goes to a vision-capable model as an
    `image_url` content part (a data URL for local files and bytes).
    """

    def __init__(self, client: GrokClient) -> None:
        self._client = client

    async def analyze(
        self,
        *,
        image: str | Path | bytes,
        prompt: str = "Describe this image.",
        model: str = DEFAULT_VISION_MODEL,
        detail: Literal["auto", "low", "high"] | None = None,
        timeout: float | None = None,
    ) -> ChatCompletion:
        """Ask a vision model about one image: a path, raw bytes, or an http(s)/data URL."""
        url = await image_url(image)
        part: dict[str, Any] = {"type": "image_url", "image_url": {"url": url}}
        if detail:
            part["image_url"]["detail"] = detail
        messages = [{"role": "user", "content": [part, {"type": "text", "text": prompt}]}]
        return await self._client.chat.completions.create(
            model=model, messages=messages, timeout=timeout
        )


_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def _sniff(data: bytes) -> str:
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise ConfigurationError(
        "the image bytes are not PNG, JPEG, GIF or WebP; xAI accepts JPEG and PNG"
    )


async def image_url(image: str | Path | bytes) -> str:
    """The URL to send for `image`: URLs pass through, files and bytes become data URLs."""
    if isinstance(image, bytes):
        data = image
        mime = _sniff(data)
    else:
        location = os.fspath(image)
        if location.startswith(("http://", "https://", "data:")):
            return location
        try:
            data = await anyio.Path(location).read_bytes()
        except FileNotFoundError:
            raise ConfigurationError(f"no image file at {location!r}") from None
        except IsADirectoryError:
            raise ConfigurationError(f"{location!r} is a directory, not an image") from None
        mime = mimetypes.guess_type(location)[0] or _sniff(data)
    if len(data) > MAX_IMAGE_BYTES:
        raise ConfigurationError(
            f"the image is {len(data) / 1048576:.1f} MiB; xAI accepts at most 20 MiB per image"
        )
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
