"""Where a client sends its requests: xAI, OpenRouter, CometAPI, Cloudflare AI Gateway, or
any OpenAI-compatible server. A provider is data, not behaviour."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = [
    "COMETAPI",
    "OPENAI_COMPATIBLE",
    "OPENROUTER",
    "XAI",
    "XAI_BASE_URL",
    "Provider",
    "cloudflare_provider",
]

XAI_BASE_URL = "https://api.x.ai/v1"


@dataclass(frozen=True)
class Provider:
    """A route to Grok (or to another OpenAI-compatible model server).

    Attributes:
        name: Short name, shown in reprs and errors.
        base_url: The URL the endpoint paths are appended to (ends before `/chat/...`).
        api_key_env: The environment variable the key is read from when none is passed.
        key_required: Whether a request without a key is pointless (a clear error is raised
            at construction instead of a 401 later).
        model_prefix: Prepended to model names without a `/` (OpenRouter's `x-ai/`).
        headers: Extra headers sent on every request.
    """

    name: str
    base_url: str
    api_key_env: str | None = "XAI_API_KEY"
    key_required: bool = True
    model_prefix: str = ""
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def model_id(self, model: str) -> str:
        """The model name as this provider spells it (`grok-4` -> `x-ai/grok-4` on OpenRouter)."""
        if self.model_prefix and "/" not in model:
            return self.model_prefix + model
        return model


XAI = Provider(name="xai", base_url=XAI_BASE_URL)
OPENROUTER = Provider(
    name="openrouter",
    base_url="https://openrouter.ai/api/v1",
    api_key_env="OPENROUTER_API_KEY",
    model_prefix="x-ai/",
)
COMETAPI = Provider(name="cometapi", base_url="https://api.cometapi.com/v1", api_key_env="COMETAPI_KEY")
OPENAI_COMPATIBLE = Provider(
    name="openai-compatible", base_url="", api_key_env=None, key_required=False
)


def cloudflare_provider(account_id: str, gateway_id: str) -> Provider:
    """Cloudflare AI Gateway's `grok` route; it forwards the xAI key to xAI."""
    return Provider(
        name="cloudflare",
        base_url=f"https://gateway.ai.cloudflare.com/v1/{account_id}/{gateway_id}/grok/v1",
    )
