"""Wire models for the endpoints besides chat: completions, models, embeddings, images,
tokenize, and the health probe's report."""

from __future__ import annotations

from typing import Literal

from ._base import WireModel
from .usage import Usage

__all__ = [
    "Completion",
    "CompletionChoice",
    "Embedding",
    "EmbeddingList",
    "GeneratedImage",
    "HealthReport",
    "ImagesResponse",
    "Model",
    "ModelList",
    "Token",
    "TokenizeResponse",
]


class CompletionChoice(WireModel):
    """One choice of a legacy text completion."""

    index: int = 0
    text: str = ""
    finish_reason: str | None = None


class Completion(WireModel):
    """A legacy text completion (`object: "text_completion"`)."""

    id: str = ""
    object: str = "text_completion"
    created: int = 0
    model: str = ""
    choices: list[CompletionChoice]
    usage: Usage | None = None
    system_fingerprint: str | None = None


class Model(WireModel):
    """A model the server offers."""

    id: str
    object: str = "model"
    created: int = 0
    owned_by: str = ""


class ModelList(WireModel):
    """`GET /v1/models`."""

    object: str = "list"
    data: list[Model]


class Embedding(WireModel):
    """One embedding vector (a list of floats, or base64 text with `encoding_format="base64"`)."""

    object: str = "embedding"
    index: int = 0
    embedding: list[float] | str


class EmbeddingList(WireModel):
    """`POST /v1/embeddings`."""

    object: str = "list"
    model: str = ""
    data: list[Embedding]
    usage: Usage | None = None


class GeneratedImage(WireModel):
    """One generated image: a (temporary) URL or base64 data."""

    url: str | None = None
    b64_json: str | None = None
    mime_type: str | None = None
    revised_prompt: str | None = None


class ImagesResponse(WireModel):
    """`POST /v1/images/generations`."""

    created: int = 0
    data: list[GeneratedImage]


class Token(WireModel):
    """One token of `POST /v1/tokenize-text`."""

    token_id: int
    string_token: str = ""
    token_bytes: list[int] = []


class TokenizeResponse(WireModel):
    """`POST /v1/tokenize-text`."""

    token_ids: list[Token]

    @property
    def count(self) -> int:
        """How many tokens the text makes."""
        return len(self.token_ids)


class HealthReport(WireModel):
    """What `client.health()` found: whether the server answered, how, and how fast."""

    status: Literal["ok", "degraded", "down"]
    status_code: int | None = None
    latency_ms: float
    base_url: str
    detail: str = ""
