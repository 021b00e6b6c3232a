"""What a run sends of its history: processors you write, and policies for a full context
window.

```python
from agentkit import Agent
from agentkit.history import DropOldest, Summarize

agent = Agent("grok-4.3", context=DropOldest())            # or Summarize(), RaiseOnOverflow()
agent = Agent("grok-4.3", api="responses", context=Compact())
agent = Agent("grok-4.3", history_processors=[keep_last_20])  # (messages) or (ctx, messages)
```

Before each model request the loop hands a copy of the conversation to each history processor
in turn; what the last returns is what is sent. The run's own conversation (`result.messages`,
the run state) is never changed by them: it keeps everything, and only the request is cut.

Then the context policy, when the agent has one, measures the request against the model's
context window (known for Grok models, or given as `window=`), less `reserve` tokens for the
answer. Counting is a fast local estimate by default, `count="tokenize"` asks the server's
tokenizer (`POST /v1/tokenize-text`) for the exact figure. When the request does not fit:

- `DropOldest` leaves out the oldest turns, never separating a tool call from its result, and
  never the last user message or what followed it; a note tells the model what was left out.
- `Summarize` replaces the oldest turns by a summary the model writes (one extra request, kept
  in the run state and reused until the conversation outgrows it again).
- `Compact` (Responses API) has the server compact the oldest turns (`/v1/responses/compact`)
  into opaque items sent in their place, kept in the run state and reused like a summary.
- `RaiseOnOverflow` raises `ContextWindowExceeded` before sending, with the run's state.

Whatever the policy, a server that answers that the prompt is too long (xAI's 400) teaches the
run the real window: the policy fits the request to it and the request is sent again, or,
without a policy, the run raises `ContextWindowExceeded` carrying its state.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .errors import ConfigurationError, ContextWindowExceeded, UserError
from .profiles import profile_for

if TYPE_CHECKING:
    from .context import RunContext

__all__ = [
    "COMPACTION_ROLE",
    "Compact",
    "ContextPolicy",
    "DropOldest",
    "HistoryProcessor",
    "Overflow",
    "RaiseOnOverflow",
    "Summarize",
    "apply_processors",
    "compaction_message",
    "estimate_tokens",
    "parse_overflow",
    "summary_request",
    "turns",
]

Message = dict[str, Any]
HistoryProcessor = Callable[..., "list[Message] | Awaitable[list[Message]]"]
"""`(messages) -> messages` or `(ctx, messages) -> messages`, plain or async."""

Counting = Literal["estimate", "tokenize"]

# Generous on purpose: a policy that thinks a prompt is a little longer than it is cuts a
# little early; one that thinks it shorter gets a 400 from the server.
_BYTES_PER_TOKEN = 3.2
_PER_MESSAGE_TOKENS = 4
_OVERFLOW = re.compile(
    r"maximum (?:prompt|context) length is (\d+)[^\d]+?(?:contains|requested|has|resulted in) "
    r"(\d+) tokens",
    re.IGNORECASE,
)
_SUMMARY_PROMPT = """\
You compress conversations. Summarise the conversation below for the assistant that will
continue it: what the user asked and wants, the facts and figures found (with tool results
that still matter), decisions made, and what is still open. Plain prose, at most {words} words.
Write only the summary."""


def estimate_tokens(messages: Sequence[Message], tools: Sequence[Any] = ()) -> int:
    """A fast local estimate of a prompt's tokens, on the generous side."""
    known = 0
    if any(m.get("role") == COMPACTION_ROLE for m in messages):
        # Compaction items are opaque blobs: their bytes say nothing of what the model reads;
        # the server said how many tokens they stand for.
        known = sum(int(m.get("tokens") or 0) for m in messages if m.get("role") == COMPACTION_ROLE)
        messages = [m for m in messages if m.get("role") != COMPACTION_ROLE]
    size = len(json.dumps(messages, ensure_ascii=False, separators=(",", ":")).encode())
    if tools:
        size += len(json.dumps(list(tools), separators=(",", ":")).encode())
    return known + math.ceil(size / _BYTES_PER_TOKEN) + _PER_MESSAGE_TOKENS * len(messages)


def parse_overflow(message: str) -> tuple[int, int] | None:
    """(window, prompt tokens) from a server's "prompt too long" error text, if it is one."""
    match = _OVERFLOW.search(message)
    return (int(match.group(1)), int(match.group(2))) if match else None


def turns(messages: Sequence[Message]) -> tuple[list[Message], list[list[Message]]]:
    """Split a conversation into its leading system messages and its turns: a user message,
    or an assistant message with the tool results that answer it (never split apart)."""
    start = 0
    while start < len(messages) and messages[start].get("role") in ("system", "developer"):
        start += 1
    groups: list[list[Message]] = []
    for message in messages[start:]:
        if message.get("role") == "tool" and groups:
            groups[-1].append(message)
        else:
            groups.append([message])
    return list(messages[:start]), groups


@dataclass
class Overflow:
    """A request that does not fit, as a policy sees it.

    Attributes:
        messages: What would be sent (after the history processors).
        tools: The request's tool definitions (they count against the window too).
        tokens: The request's tokens as counted.
        limit: The most prompt tokens allowed: the window less the reserve.
        window: The model's context window.
        memo: The policy's own notes in the run state (kept across turns and resumes).
        count: Counts the tokens of other messages, the same way.
        summarize: Asks the model for a summary of messages, in at most so many words.
        compact: Has the server compact messages (`/v1/responses/compact`) into opaque items,
            with the tokens they stand for; None when the model is not on the Responses API.
    """

    messages: list[Message]
    tools: Sequence[Any]
    tokens: int
    limit: int
    window: int
    memo: dict[str, Any]
    count: Callable[[Sequence[Message]], Awaitable[int]]
    summarize: Callable[[Sequence[Message], int], Awaitable[str]]
    compact: Callable[[Sequence[Message]], Awaitable[tuple[list[dict[str, Any]], int]]] | None = None


@dataclass
class ContextPolicy(ABC):
    """What to do when a request would not fit the model's context window.

    Attributes:
        window: The context window in tokens; None takes the model's known one.
        reserve: Tokens kept free for the answer (and reasoning); at most a quarter of the
            window is kept.
        count: `"estimate"` (local, free) or `"tokenize"` (exact, one request each time).
    """

    window: int | None = None
    reserve: int = 4096
    count: Counting = "estimate"

    def __post_init__(self) -> None:
        if self.window is not None and (not isinstance(self.window, int) or self.window <= 0):
            raise ConfigurationError(f"window must be a positive number of tokens, not {self.window!r}")
        if not isinstance(self.reserve, int) or self.reserve < 0:
            raise ConfigurationError(f"reserve must be 0 or more tokens, not {self.reserve!r}")
        if self.count not in ("estimate", "tokenize"):
            raise ConfigurationError(f"count must be 'estimate' or 'tokenize', not {self.count!r}")
        if self.window is not None and self.reserve >= self.window:
            raise ConfigurationError(
                f"reserve ({self.reserve}) leaves nothing of the window ({self.window}) "
                "for the prompt; lower reserve"
            )

    def window_for(self, model: str) -> int | None:
        """The window to measure against: `window=`, else the model's known one."""
        return self.window if self.window is not None else profile_for(model).context_window

    @abstractmethod
    async def fit(self, overflow: Overflow) -> list[Message]:
        """Messages that fit `overflow.limit`; raise `ContextWindowExceeded` if none can."""


@dataclass
class RaiseOnOverflow(ContextPolicy):
    """Send nothing that would not fit: raise `ContextWindowExceeded` with the run's state."""

    async def fit(self, overflow: Overflow) -> list[Message]:
        raise ContextWindowExceeded(
            f"the request has about {overflow.tokens} tokens, over the {overflow.limit} the "
            f"context window of {overflow.window} leaves (reserve {self.reserve}); shorten "
            "the conversation, or give the agent context=DropOldest() or Summarize()",
            tokens=overflow.tokens, window=overflow.window,
        )


@dataclass
class DropOldest(ContextPolicy):
    """Leave out the oldest turns until the request fits; tool calls keep their results,
    and the last user message and everything after it always stay."""

    async def fit(self, overflow: Overflow) -> list[Message]:
        system, groups = turns(overflow.messages)
        protected = _last_user_turn(groups)
        candidate = overflow.messages
        for dropped in range(1, protected + 1):
            candidate = [*system, _note(len(_flatten(groups[:dropped]))),
                         *_flatten(groups[dropped:])]
            if await overflow.count(candidate) <= overflow.limit:
                return candidate
        # Only the last user message and what followed it are left, and they do not fit.
        tokens = await overflow.count(candidate)
        raise ContextWindowExceeded(
            f"even the last user message and what followed it take about {tokens} tokens, "
            f"over the {overflow.limit} the context window of {overflow.window} leaves; "
            "shorten that message or the tool results (Agent(max_result_chars=...))",
            tokens=tokens, window=overflow.window,
        )


@dataclass
class Summarize(ContextPolicy):
    """Replace the oldest turns by a summary the model writes, keeping the newest turns whole.

    Attributes:
        keep_fraction: The share of the limit the newest turns may keep; the rest of the
            conversation goes into the summary.
        max_words: The summary's length, as asked of the model.
    """

    keep_fraction: float = 0.5
    max_words: int = 300

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 < self.keep_fraction < 1:
            raise ConfigurationError(f"keep_fraction must be between 0 and 1, not {self.keep_fraction!r}")
        if self.max_words < 20:
            raise ConfigurationError(f"max_words must be 20 or more, not {self.max_words!r}")

    async def fit(self, overflow: Overflow) -> list[Message]:
        system, groups = turns(overflow.messages)
        protected = _last_user_turn(groups)
        memo = overflow.memo
        # A summary made on an earlier turn is reused while the turns it covers still lead
        # the conversation unchanged.
        covered = memo.get("covers", 0)
        if covered and covered <= protected and memo.get("digest") == _digest(groups[:covered]):
            candidate = [*system, _summary_message(memo["text"]), *_flatten(groups[covered:])]
            if await overflow.count(candidate) <= overflow.limit:
                return candidate
        budget = int(overflow.limit * self.keep_fraction)
        keep_from = protected
        while keep_from > 0:
            trial = [*system, *_flatten(groups[keep_from - 1 :])]
            if await overflow.count(trial) > budget:
                break
            keep_from -= 1
        if keep_from == 0:
            keep_from = min(1, protected)  # something must go into the summary
        if keep_from == 0:
            return await DropOldest(self.window, self.reserve, self.count).fit(overflow)
        text = await overflow.summarize(_flatten(groups[:keep_from]), self.max_words)
        memo.update({"covers": keep_from, "digest": _digest(groups[:keep_from]), "text": text})
        candidate = [*system, _summary_message(text), *_flatten(groups[keep_from:])]
        tokens = await overflow.count(candidate)
        if tokens <= overflow.limit:
            return candidate
        raise ContextWindowExceeded(
            f"after summarising, the request still takes about {tokens} tokens, over the "
            f"{overflow.limit} the context window of {overflow.window} leaves; shorten the "
            "last message or the tool results",
            tokens=tokens, window=overflow.window,
        )


@dataclass
class Compact(ContextPolicy):
    """Have the server compact the oldest turns (`POST /v1/responses/compact`): what it gives
    back stands in for them, opaque to us, readable by the model. Responses API only
    (`Agent(..., api="responses")`).

    Attributes:
        keep_fraction: The share of the limit the newest turns may keep, left as they are.
    """

    keep_fraction: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 < self.keep_fraction < 1:
            raise ConfigurationError(f"keep_fraction must be between 0 and 1, not {self.keep_fraction!r}")

    async def fit(self, overflow: Overflow) -> list[Message]:
        if overflow.compact is None:
            raise ContextWindowExceeded(
                "Compact() needs the Responses API: Agent(..., api='responses'); on chat "
                "completions use Summarize() or DropOldest()",
                tokens=overflow.tokens, window=overflow.window,
            )
        system, groups = turns(overflow.messages)
        protected = _last_user_turn(groups)
        memo = overflow.memo
        covered = memo.get("covers", 0)
        if covered and covered <= protected and memo.get("digest") == _digest(groups[:covered]):
            stand_in = compaction_message(memo["items"], memo["tokens"])
            candidate = [*system, stand_in, *_flatten(groups[covered:])]
            if await overflow.count(candidate) <= overflow.limit:
                return candidate
        budget = int(overflow.limit * self.keep_fraction)
        keep_from = protected
        while keep_from > 0 and await overflow.count(
                [*system, *_flatten(groups[keep_from - 1:])]) <= budget:
            keep_from -= 1
        keep_from = keep_from or min(1, protected)
        if keep_from == 0:
            return await DropOldest(self.window, self.reserve, self.count).fit(overflow)
        items, size = await overflow.compact([*system, *_flatten(groups[:keep_from])])
        memo.update({"covers": keep_from, "digest": _digest(groups[:keep_from]), "items": items,
                     "tokens": size})
        candidate = [*system, compaction_message(items, size), *_flatten(groups[keep_from:])]
        tokens = await overflow.count(candidate)
        if tokens <= overflow.limit:
            return candidate
        raise ContextWindowExceeded(
            f"after compacting, the request still takes about {tokens} tokens, over the "
            f"{overflow.limit} the context window of {overflow.window} leaves; shorten the "
            "last message or the tool results",
            tokens=tokens, window=overflow.window,
        )


COMPACTION_ROLE = "compaction"
"""The role of the message that carries a server's compaction items in a request (only the
Responses adapter sends it: as the items themselves)."""


def compaction_message(items: Sequence[dict[str, Any]], tokens: int) -> Message:
    """The stand-in message for compacted turns: the server's items, carried whole, and the
    tokens the server said they come to (what `estimate_tokens` counts them as)."""
    return {"role": COMPACTION_ROLE, "content": "", "items": list(items), "tokens": tokens}


def summary_request(
    messages: Sequence[Message], max_words: int, *, max_chars: int | None = None
) -> list[Message]:
    """The messages of the request that asks the model for a summary; a transcript longer
    than `max_chars` loses its middle (the start says what was asked, the end where it got)."""
    lines = []
    for message in messages:
        role = message.get("role", "?")
        content = message.get("content")
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        calls = message.get("tool_calls") or []
        for call in calls:
            function = call.get("function") or {}
            text += f"\n[calls {function.get('name')}({function.get('arguments')})]"
        lines.append(f"{role}: {text}".strip())
    transcript = "\n\n".join(lines)
    if max_chars is not None and len(transcript) > max_chars:
        half = max(1, max_chars // 2)
        transcript = f"{transcript[:half]}\n\n[... middle left out ...]\n\n{transcript[-half:]}"
    return [
        {"role": "system", "content": _SUMMARY_PROMPT.format(words=max_words)},
        {"role": "user", "content": transcript},
    ]


async def apply_processors(
    processors: Sequence[HistoryProcessor], ctx: RunContext[Any], messages: list[Message]
) -> list[Message]:
    """Run the processors in turn over a copy of the messages."""
    current = [dict(m) for m in messages]
    for processor in processors:
        outcome = processor(ctx, current) if _takes_context(processor) else processor(current)
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if not isinstance(outcome, list) or not all(isinstance(m, dict) for m in outcome):
            raise UserError(
                f"history processor {_name(processor)} must return a list of message dicts, "
                f"got {type(outcome).__name__}"
            )
        if not outcome:
            raise UserError(
                f"history processor {_name(processor)} returned no messages; keep at least "
                "the last user message"
            )
        current = outcome
    return current


def _takes_context(processor: HistoryProcessor) -> bool:
    try:
        parameters = [
            p for p in inspect.signature(processor).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return False
    return len(parameters) >= 2


def _name(processor: HistoryProcessor) -> str:
    return getattr(processor, "__qualname__", None) or repr(processor)


def _last_user_turn(groups: Sequence[Sequence[Message]]) -> int:
    for index in range(len(groups) - 1, -1, -1):
        if groups[index][0].get("role") == "user":
            return index
    return len(groups) - 1 if groups else 0


def _flatten(groups: Sequence[Sequence[Message]]) -> list[Message]:
    return [message for group in groups for message in group]


def _note(left_out: int) -> Message:
    return {"role": "system", "content": (
        f"({left_out} earlier message{'s' if left_out != 1 else ''} of this conversation "
        f"{'were' if left_out != 1 else 'was'} left out to fit the context window.)")}


def _summary_message(text: str) -> Message:
    return {"role": "system", "content": f"Summary of the earlier conversation:\n{text}"}


def _digest(groups: Sequence[Sequence[Message]]) -> str:
    data = json.dumps([list(g) for g in groups], sort_keys=True, default=str).encode()
    return hashlib.sha256(data).hexdigest()

