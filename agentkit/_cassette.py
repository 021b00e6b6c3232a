"""Recorded HTTP exchanges in the conformance-corpus format, for offline replays.

A cassette file is `{"format": "agentkit-cassette/1", "interactions": [...]}`, each
interaction shaped like a file of `shared/conformance/`: `request` (method, path, json) and
`response` (status, allow-listed headers, and `json`, `sse` or `text`). A single conformance
file loads as a one-exchange cassette, so the recorded corpus replays as it is.

Nothing secret is written: request headers are dropped, response headers are reduced to an
allow-list, and the request's bearer token is scrubbed from every string.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import UserError, redact_data

__all__ = ["Cassette", "Interaction", "ReplayMismatchError"]

FORMAT = "agentkit-cassette/1"
_KEPT_HEADERS = ("content-type", "retry-after", "retry-after-ms")
_KEPT_PREFIXES = ("x-ratelimit-",)


class ReplayMismatchError(UserError):
    """A replayed request does not match the next recorded one (or none is left)."""


def _keep_header(name: str) -> bool:
    name = name.lower()
    return name in _KEPT_HEADERS or name.startswith(_KEPT_PREFIXES) or name.endswith("request-id")


_VERSION_SEGMENT = re.compile(r"/v\d+/")


def endpoint_of(path: str) -> str:
    """The API endpoint of a URL path, without the provider's prefix (`/openai/v1/...`,
    `/api/paas/v4/...`)."""
    matches = list(_VERSION_SEGMENT.finditer(path))
    return path[matches[-1].end() :] if matches else path.lstrip("/")


@dataclass
class Interaction:
    """One recorded exchange, as the conformance corpus stores it."""

    data: dict[str, Any]

    @classmethod
    def build(
        cls,
        method: str,
        url: str,
        request_body: bytes,
        status: int,
        headers: dict[str, str],
        response_body: bytes,
        secret: str = "",
    ) -> Interaction:
        """Make an interaction from raw bytes, scrubbing `secret` and key-shaped strings."""
        secrets = (secret,) if secret else ()
        parts = urlsplit(url)
        request: dict[str, Any] = {"method": method, "path": parts.path}
        if request_body:
            try:
                request["json"] = json.loads(request_body)
            except ValueError:
                request["text"] = request_body.decode("utf-8", errors="replace")
        kept = {k.lower(): v for k, v in headers.items() if _keep_header(k)}
        response: dict[str, Any] = {"status": status, "headers": kept}
        text = response_body.decode("utf-8", errors="replace")
        if "text/event-stream" in kept.get("content-type", ""):
            response["sse"] = text
        else:
            try:
                response["json"] = json.loads(text)
            except ValueError:
                response["text"] = text
        model = request.get("json", {}).get("model") if isinstance(request.get("json"), dict) else None
        data = {
            "source": {"recorded_url": f"{parts.scheme}://{parts.netloc}{parts.path}",
                       "format": FORMAT},
            "provider": parts.hostname or "",
            "model": model,
            "request": request,
            "response": response,
        }
        return cls(redact_data(data, secrets))

    @property
    def method(self) -> str:
        return str(self.data["request"].get("method", "POST")).upper()

    @property
    def endpoint(self) -> str:
        return endpoint_of(str(self.data["request"].get("path", "")))

    @property
    def is_stream(self) -> bool:
        return "sse" in self.data["response"]

    def response_bytes(self) -> tuple[int, dict[str, str], bytes]:
        """The status, headers and body to answer with."""
        response = self.data["response"]
        headers = dict(response.get("headers") or {})
        if "sse" in response:
            headers.setdefault("content-type", "text/event-stream")
            return response["status"], headers, str(response["sse"]).encode()
        if "json" in response:
            headers.setdefault("content-type", "application/json")
            return response["status"], headers, json.dumps(response["json"]).encode()
        headers.setdefault("content-type", "text/plain")
        return response["status"], headers, str(response.get("text", "")).encode()


class Cassette:
    """An ordered list of interactions bound to a file."""

    def __init__(self, path: Path | None = None, interactions: list[Interaction] | None = None):
        self.path = path
        self.interactions: list[Interaction] = interactions or []

    @classmethod
    def load(cls, path: Path) -> Cassette:
        """Read a cassette file, or a single conformance file, or a JSON list of exchanges."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ReplayMismatchError(f"no cassette at {path}: record one first") from None
        except ValueError as error:
            raise ReplayMismatchError(f"{path} is not a JSON cassette: {error}") from None
        if isinstance(raw, dict) and "interactions" in raw:
            items = raw["interactions"]
        elif isinstance(raw, dict) and "request" in raw and "response" in raw:
            items = [raw]
        elif isinstance(raw, list):
            items = raw
        else:
            raise ReplayMismatchError(
                f"{path} holds neither a cassette nor a recorded exchange "
                "(expected 'interactions', or 'request' and 'response')"
            )
        return cls(path, [Interaction(item) for item in items])

    def add(self, interaction: Interaction) -> None:
        """Append an exchange and rewrite the file (atomically) if bound to one."""
        self.interactions.append(interaction)
        if self.path is not None:
            self.save(self.path)

    def save(self, path: Path) -> None:
        """Write the cassette to `path`."""
        payload = {"format": FORMAT, "interactions": [i.data for i in self.interactions]}
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=1, ensure_ascii=False)
        os.replace(tmp, path)

    def find(self, method: str, path: str, *, used: set[int], in_order: bool) -> int:
        """The index of the exchange that answers `method path`."""
        endpoint = endpoint_of(path)
        for index, interaction in enumerate(self.interactions):
            if index in used:
                continue
            if interaction.method == method.upper() and interaction.endpoint == endpoint:
                return index
            if in_order:
                raise ReplayMismatchError(
                    f"request {method} {path} does not match recorded exchange #{index} "
                    f"({interaction.method} /{interaction.endpoint}); re-record the cassette "
                    "or pass check_order=False"
                )
        raise ReplayMismatchError(
            f"no recorded exchange left for {method} {path} "
            f"({len(used)} of {len(self.interactions)} used); re-record the cassette"
        )
