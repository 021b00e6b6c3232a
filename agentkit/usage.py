"""What a run consumed, and the caps a run may not pass."""

from __future__ import annotations

from dataclasses import dataclass, field

from .types.usage import Usage

__all__ = ["RunUsage", "UsageLimits"]


@dataclass
class RunUsage:
    """Everything one agent run consumed, summed over every request (retries included).

    Attributes:
        requests: Chat-completion requests sent.
        prompt_tokens: Prompt tokens, as the server counted them.
        completion_tokens: Visible completion tokens.
        reasoning_tokens: Reasoning tokens (on xAI not part of `completion_tokens`).
        cached_tokens: Prompt tokens served from the provider's cache.
        total_tokens: The servers' own totals, added up.
        tool_calls: Tool calls executed.
        server_tool_calls: Tools the server ran itself (searches, code; Responses API).
        cost_usd: Cost in US dollars: what the server reported (`cost_in_usd_ticks`), or
            for a response it did not price, the model's listed prices times its tokens;
            None while no response had a cost.
        cost_source: Where `cost_usd` came from: `"server"`, `"prices"` (computed from the
            price catalog), `"mixed"` (some of each), or None.
    """

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0
    total_tokens: int = 0
    tool_calls: int = 0
    server_tool_calls: int = 0
    cost_usd: float | None = None
    cost_source: str | None = None
    details: dict[str, int] = field(default_factory=dict)

    def add_response(self, usage: Usage | None) -> None:
        """Count one response (call once per request; `usage` may be missing)."""
        self.requests += 1
        if usage is None:
            return
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        self.reasoning_tokens += usage.reasoning_tokens
        self.cached_tokens += usage.cached_tokens
        self.total_tokens += usage.total_tokens or (
            usage.prompt_tokens + usage.output_tokens
        )
        cost = usage.cost_usd
        if cost is not None:
            self.cost_usd = (self.cost_usd or 0.0) + cost
            self.cost_source = _source(self.cost_source, "server")

    def add_cost(self, usd: float, source: str) -> None:
        """Add a cost found apart from the response (`"prices"`: from the price catalog)."""
        self.cost_usd = (self.cost_usd or 0.0) + usd
        self.cost_source = _source(self.cost_source, source)

    def merge(self, other: RunUsage) -> None:
        """Add another run's usage to this one (an agent used as a tool)."""
        self.requests += other.requests
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.reasoning_tokens += other.reasoning_tokens
        self.cached_tokens += other.cached_tokens
        self.total_tokens += other.total_tokens
        self.tool_calls += other.tool_calls
        self.server_tool_calls += other.server_tool_calls
        if other.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + other.cost_usd
            self.cost_source = _source(self.cost_source, other.cost_source or "server")
        for key, value in other.details.items():
            self.details[key] = self.details.get(key, 0) + value


@dataclass(frozen=True)
class UsageLimits:
    """Caps for one run, checked before each request. None means no cap.

    Attributes:
        request_limit: Most chat-completion requests.
        total_tokens_limit: Most tokens (prompt + output) over the run.
        tool_calls_limit: Most tool calls executed.
        cost_limit_usd: Most US dollars spent, where the server reports cost.
    """

    request_limit: int | None = 50
    total_tokens_limit: int | None = None
    tool_calls_limit: int | None = None
    cost_limit_usd: float | None = None

    def exceeded_by(self, usage: RunUsage, *, next_request: bool = True) -> str | None:
        """Say which cap `usage` has reached (None if none); `next_request` counts one more."""
        requests = usage.requests + (1 if next_request else 0)
        if self.request_limit is not None and requests > self.request_limit:
            return f"the request limit of {self.request_limit} would be passed"
        if self.total_tokens_limit is not None and usage.total_tokens >= self.total_tokens_limit:
            return f"the total tokens limit of {self.total_tokens_limit} was reached ({usage.total_tokens})"
        if self.tool_calls_limit is not None and usage.tool_calls > self.tool_calls_limit:
            return f"the tool calls limit of {self.tool_calls_limit} was passed ({usage.tool_calls})"
        if (
            self.cost_limit_usd is not None
            and usage.cost_usd is not None
            and usage.cost_usd >= self.cost_limit_usd
        ):
            return f"the cost limit of ${self.cost_limit_usd:.4f} was reached (${usage.cost_usd:.4f})"
        return None


def _source(held: str | None, added: str) -> str:
    return added if held is None or held == added else "mixed"
