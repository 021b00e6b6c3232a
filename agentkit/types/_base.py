"""The base of every wire model: unknown fields survive a parse."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["WireModel"]


class WireModel(BaseModel):
    """A pydantic model for API payloads that keeps fields it does not declare.

    Providers add fields all the time (`reasoning_content`, `citations`, `x_groq`...);
    `model_extra` holds them and `model_dump()` returns them.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)
