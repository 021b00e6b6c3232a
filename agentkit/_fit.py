"""Fitting one request to the model: the history processors, then the context policy.

The loop calls `fit` on each request it built and `learn` on each 400 it got back; this module
holds everything in between (counting, calibration, summaries), so `_run.py` only asks.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from ._model import RetryHook
from ._responses_input import to_input_items
from ._responses_model import ResponsesModel, responses_usage
from ._spec import RunSpec
from .client import GrokClient
from .context import RunContext
from .errors import APIError, BadRequestError, ContextWindowExceeded
from .history import (
    Message,
    Overflow,
    apply_processors,
    estimate_tokens,
    parse_overflow,
    summary_request,
)
from .state import RunState
from .usage import RunUsage

__all__ = ["RequestFitter"]

# Where the policy keeps its notes in `RunState.context`.
_MEMO = "context_policy"
# A summary request is cut to this share of the limit, to leave room for its answer.
_SUMMARY_SHARE = 0.8


class RequestFitter:
    """The history processors and context policy of one run.

    Args:
        spec: The agent's run spec (processors, policy, learned windows).
        state: The run's state; the policy's notes live in `state.context`.
        ctx: The run's context, for processors that take it.
        usage: The run's usage, which summary requests add to.
        on_retry: Told of each retried summary request, as for the run's own requests.
    """

    def __init__(
        self, spec: RunSpec, state: RunState, ctx: RunContext[Any], usage: RunUsage,
        on_retry: RetryHook,
    ) -> None:
        self.spec = spec
        self.state = state
        self.ctx = ctx
        self.usage = usage
        self.on_retry = on_retry

    @property
    def active(self) -> bool:
        """Whether there is anything to do: processors, or a policy."""
        return bool(self.spec.history_processors) or self.spec.context_policy is not None

    async def fit(self, request: dict[str, Any]) -> dict[str, Any]:
        """The request with the messages to send in place of the run's conversation."""
        spec = self.spec
        messages: list[Message] = request["messages"]
        if spec.history_processors:
            messages = await apply_processors(spec.history_processors, self.ctx, messages)
        policy = spec.context_policy
        if policy is not None:
            windows = [w for w in (spec.windows.get(spec.model_name),
                                   policy.window_for(spec.model_name)) if w]
            if windows:
                messages = await self._fit_window(min(windows), messages, request)
        if messages is not request["messages"]:
            request = {**request, "messages": messages}
        return request

    def learn(self, error: APIError, request: dict[str, Any]) -> bool:
        """Take in a server's "prompt too long" answer. True when the request should be fitted
        and sent again; raises `ContextWindowExceeded` when there is no policy to fit it."""
        if not isinstance(error, BadRequestError):
            return False
        reported = parse_overflow(error.message)
        if reported is None:
            return False
        window, tokens = reported
        spec = self.spec
        known = spec.windows.get(spec.model_name)
        spec.windows[spec.model_name] = window if known is None else min(known, window)
        memo = self.state.context.setdefault(_MEMO, {})
        estimate = estimate_tokens(request["messages"], request.get("tools") or ())
        if estimate:
            # Our estimate against the server's count: every later count is scaled by it.
            memo["scale"] = max(float(memo.get("scale", 1.0)), tokens / estimate)
        if spec.context_policy is None:
            raise ContextWindowExceeded(
                f"the model's context window is {window} tokens and the request had {tokens}; "
                "give the agent a context policy (Agent(context=DropOldest()) or Summarize()) "
                "to keep going, or shorten the conversation and resume from error.state",
                tokens=tokens, window=window,
            ) from error
        return True

    async def _fit_window(
        self, window: int, messages: list[Message], request: dict[str, Any]
    ) -> list[Message]:
        policy = self.spec.context_policy
        assert policy is not None
        tools: Sequence[Any] = request.get("tools") or ()
        memo: dict[str, Any] = self.state.context.setdefault(_MEMO, {})
        # A window learned from the server may be smaller than the reserve was meant for.
        limit = window - min(policy.reserve, window // 4)
        if policy.count == "tokenize":
            exact = await self._tokenize(messages, tools)
            if exact is not None:
                memo["scale"] = exact / max(1, estimate_tokens(messages, tools))

        async def count(candidate: Sequence[Message]) -> int:
            return math.ceil(estimate_tokens(candidate, tools) * float(memo.get("scale", 1.0)))

        tokens = await count(messages)
        if tokens <= limit:
            return messages
        compact = self._compact if isinstance(self.spec.model, ResponsesModel) else None
        overflow = Overflow(messages, tools, tokens, limit, window, memo, count,
                            lambda part, words: self._summarize(part, words, limit), compact)
        return await policy.fit(overflow)

    async def _tokenize(self, messages: Sequence[Message], tools: Sequence[Any]) -> int | None:
        client = getattr(self.spec.model, "client", None)
        if not isinstance(client, GrokClient):
            return None  # a scripted or custom model: the estimate stands
        text = json.dumps({"messages": list(messages), "tools": list(tools)}, ensure_ascii=False)
        response = await client.tokenize(text=text, model=self.spec.model_name)
        return len(response.token_ids)

    async def _compact(self, messages: Sequence[Message]) -> tuple[list[dict[str, Any]], int]:
        model = self.spec.model
        assert isinstance(model, ResponsesModel)
        compacted = await model.client.responses.compact(
            model=self.spec.model_name, input=to_input_items(messages)
        )
        usage = responses_usage(compacted.usage)
        self.usage.add_response(usage)
        items = [item.model_dump(exclude_none=True) for item in compacted.output]
        if not items:
            raise ContextWindowExceeded(
                "the server compacted the earlier conversation into nothing, so the request "
                "cannot be made to fit; use Summarize() or DropOldest() instead",
                tokens=0, window=0,
            )
        # The tokens the compaction comes to: what the server generated, else a guess from
        # the size of what it compacted (a tenth: compaction keeps the gist).
        size = usage.completion_tokens if usage is not None and usage.completion_tokens else (
            estimate_tokens(messages) // 10)
        return items, size

    async def _summarize(self, messages: Sequence[Message], max_words: int, limit: int) -> str:
        request_messages = summary_request(
            messages, max_words, max_chars=int(limit * _SUMMARY_SHARE * 3)
        )
        request = {"model": self.spec.model_name, "messages": request_messages}
        completion = await self.spec.model.complete(request, on_retry=self.on_retry)
        self.usage.add_response(completion.usage)
        text = completion.choices[0].message.content if completion.choices else None
        if not text or not text.strip():
            raise ContextWindowExceeded(
                "the model gave an empty summary of the earlier conversation, so the request "
                "cannot be made to fit; use DropOldest() instead",
                tokens=0, window=limit,
            )
        return text.strip()
