"""Client-side rate limits (`GrokClient(rate_limits=...)`) and the simulator's (`--rpm`,
`--tpm`): the schedule on a fake clock, what the server's headers teach it, and many
concurrent runs against a simulator that really limits."""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from typing import Any

import anyio
import pytest

from agentkit import Agent, GrokClient, RateLimit, RateLimiter, RateLimitError
from agentkit._limits import estimate_request_tokens, parse_reset
from agentkit.errors import ConfigurationError
from agentkit.sim import SimCore, SimRateLimits, run_in_thread
from agentkit.sim._wire import ApiError, SimResponse

pytestmark = pytest.mark.anyio


class FakeTime:
    """A clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        # Each waiter books its slot before it sleeps, so the clock need not move for the
        # schedule to show; the waits are what the tests read.
        self.sleeps.append(round(seconds, 6))


def limiter(limits: RateLimit | Mapping[str, RateLimit] | None, fake: FakeTime) -> RateLimiter:
    return RateLimiter(limits, clock=fake.clock, sleep=fake.sleep)


# -- the schedule ---------------------------------------------------------------------------


async def test_requests_leave_evenly_spaced_once_they_queue() -> None:
    fake = FakeTime()
    limits = limiter(RateLimit(rpm=60), fake)
    waits = [(await limits.acquire("grok-4.3", 10)).waited for _ in range(5)]
    assert waits == [0.0, 1.0, 2.0, 3.0, 4.0]  # 60 per minute: one a second
    assert limits.held == 4 and limits.waited == pytest.approx(10.0)


async def test_a_request_after_a_quiet_spell_leaves_at_once() -> None:
    fake = FakeTime()
    limits = limiter(RateLimit(rpm=60), fake)
    await limits.acquire("grok-4.3", 10)
    fake.now += 5
    assert (await limits.acquire("grok-4.3", 10)).waited == 0.0


async def test_models_have_schedules_of_their_own_and_unnamed_ones_share_the_default() -> None:
    fake = FakeTime()
    limits = limiter({"grok-4.3": RateLimit(rpm=60), "*": RateLimit(rpm=30)}, fake)
    assert [(await limits.acquire("grok-4.3", 1)).waited for _ in range(2)] == [0.0, 1.0]
    assert [(await limits.acquire("grok-4.5", 1)).waited for _ in range(2)] == [0.0, 2.0]
    free = limiter({"grok-4.3": RateLimit(rpm=60)}, fake)
    assert [(await free.acquire("grok-4.5", 1)).waited for _ in range(3)] == [0.0, 0.0, 0.0]


async def test_tokens_are_paced_and_corrected_by_the_real_usage() -> None:
    fake = FakeTime()
    limits = limiter(RateLimit(tpm=6000), fake)  # 100 tokens a second
    first = await limits.acquire("m", 500)
    assert first.waited == 0.0
    # Guessed 500, used 100: the next request may go 4 s sooner than the guess allowed.
    limits.settle(first, 100)
    assert (await limits.acquire("m", 100)).waited == pytest.approx(1.0)
    # Used more than guessed: the schedule moves on by the difference.
    third = await limits.acquire("m", 100)
    limits.settle(third, 400)
    assert (await limits.acquire("m", 1)).waited == pytest.approx(6.0)


async def test_a_429_holds_a_paced_model_back_until_its_retry_after() -> None:
    fake = FakeTime()
    limits = limiter(RateLimit(rpm=6000), fake)
    assert (await limits.acquire("m", 1)).waited == 0.0
    limits.observe("m", 429, {}, retry_after=2.5)
    assert (await limits.acquire("m", 1)).waited == pytest.approx(2.5)
    # A model with no pace is left to the retry policy.
    free = limiter(None, fake)
    free.observe("m", 429, {}, retry_after=2.5)
    assert (await free.acquire("m", 1)).waited == 0.0


async def test_remaining_zero_holds_until_the_reset_and_limits_are_learned() -> None:
    fake = FakeTime()
    limits = limiter(None, fake)
    limits.observe("m", 200, {"x-ratelimit-limit-requests": "6000",
                              "x-ratelimit-remaining-requests": "0",
                              "x-ratelimit-reset-requests": "1.5s"}, None)
    assert (await limits.acquire("m", 1)).waited == pytest.approx(1.5)
    learned = limiter(None, fake)
    learned.observe("m", 200, {"x-ratelimit-limit-requests": "120"}, None)
    waits = [(await learned.acquire("m", 1)).waited for _ in range(3)]
    assert waits == pytest.approx([0.0, 0.5, 1.0])
    # What the user set is never overridden by a header.
    mine = limiter(RateLimit(rpm=60), fake)
    mine.observe("m", 200, {"x-ratelimit-limit-requests": "6000"}, None)
    assert [(await mine.acquire("m", 1)).waited for _ in range(2)] == [0.0, 1.0]


def test_reset_values_in_the_forms_servers_send() -> None:
    assert parse_reset("1s") == 1.0
    assert parse_reset("6m0s") == 360.0
    assert parse_reset("250ms") == 0.25
    assert parse_reset("1h2m3.5s") == pytest.approx(3723.5)
    assert parse_reset("17") == 17.0
    for bad in ("", None, "soon", "5 s", "-", "nan"):
        assert parse_reset(bad) is None


def test_the_token_guess_counts_the_body_and_the_completion_it_allows() -> None:
    body = b"x" * 350
    assert estimate_request_tokens(body, {}) == 100
    assert estimate_request_tokens(body, {"max_tokens": 50}) == 150
    assert estimate_request_tokens(body, {"max_output_tokens": True}) == 100


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (RateLimit, "must be a RateLimit or a mapping"),
        ({"grok-4.3": 60}, "maps model names to RateLimit"),
        ("60 rpm", "must be a RateLimit or a mapping"),
    ],
)
def test_bad_limits_say_what_to_give(limits: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        GrokClient.simulated(rate_limits=limits)


@pytest.mark.parametrize("value", [0, -5, float("nan"), float("inf"), "60", True])
def test_a_rate_must_be_a_positive_number(value: Any) -> None:
    with pytest.raises(ConfigurationError, match="positive number per minute"):
        RateLimit(rpm=value)


# -- the simulator's limits -------------------------------------------------------------------


def test_the_simulator_allows_a_second_of_burst_then_answers_429_with_retry_after() -> None:
    now = [0.0]
    limits = SimRateLimits(rpm=600, clock=lambda: now[0])  # 10 a second
    for _ in range(11):  # one second of burst, and the request that starts it
        limits.admit("grok-4.3", "team")
    with pytest.raises(ApiError) as refused:
        limits.admit("grok-4.3", "team")
    assert refused.value.status == 429
    assert refused.value.headers["retry-after-ms"] == "100"
    assert refused.value.headers["retry-after"] == "1"
    assert "request rate limit for model grok-4.3" in refused.value.message
    assert limits.refused == 1
    now[0] += 0.1
    limits.admit("grok-4.3", "team")  # came back when told
    limits.admit("grok-4.5", "team")  # another model has its own pace


def test_the_simulator_charges_the_tokens_an_answer_used_and_says_what_is_left() -> None:
    now = [0.0]
    limits = SimRateLimits(tpm=600, clock=lambda: now[0])  # 10 tokens a second
    limits.admit("m", "team")
    response = SimResponse(200, {}, b'{"usage": {"total_tokens": 40}}')
    limits.settle("m", response, b"{}")
    assert response.headers["x-ratelimit-limit-tokens"] == "600"
    assert response.headers["x-ratelimit-reset-tokens"] == "4.000s"
    assert response.headers["x-ratelimit-remaining-tokens"] == "0"
    with pytest.raises(ApiError, match="token rate limit"):
        limits.admit("m", "team")


def test_serve_options_make_the_limits_and_refuse_bad_values() -> None:
    assert SimRateLimits.from_arguments(argparse.Namespace(rpm=None, tpm=None)) is None
    made = SimRateLimits.from_arguments(argparse.Namespace(rpm=60.0, tpm=None))
    assert made is not None and made.rpm == 60.0
    with pytest.raises(ValueError, match="--rpm must be a positive number"):
        SimRateLimits.from_arguments(argparse.Namespace(rpm=0.0, tpm=None))


# -- end to end --------------------------------------------------------------------------------


async def test_500_concurrent_runs_queue_under_the_limit_and_draw_no_429() -> None:
    rpm = 3000  # 50 a second: 500 runs take about ten seconds, well within the machine's pace
    core = SimCore(rate_limits=SimRateLimits(rpm=rpm))
    finished: list[float] = []
    failures: list[BaseException] = []
    with run_in_thread(core) as base_url:
        client = GrokClient(api_key="sim", base_url=f"{base_url}/v1", max_retries=0,
                            rate_limits={"grok-4.3": RateLimit(rpm=rpm)})
        agent = Agent("grok-4.3", client=client)

        async def one(index: int) -> None:
            try:
                await agent.run(f"Say hello to guest number {index}.")
            except Exception as error:
                failures.append(error)
            finished.append(time.monotonic())

        started = time.monotonic()
        with anyio.fail_after(120):
            async with client, anyio.create_task_group() as group:
                for index in range(500):
                    group.start_soon(one, index)
    assert failures == []
    assert core.rate_limits is not None and core.rate_limits.refused == 0
    assert len(finished) == 500
    # The first request leaves at once, then one each 60/rpm seconds.
    observed = (500 - 1) / (max(finished) - started) * 60
    assert abs(observed - rpm) / rpm < 0.10, f"observed {observed:.0f} requests per minute"
    assert client.rate_limiter.held >= 490


async def test_without_the_limiter_the_same_simulator_refuses_a_burst() -> None:
    core = SimCore(rate_limits=SimRateLimits(rpm=600))
    refused: list[RateLimitError] = []
    with run_in_thread(core) as base_url:
        async with GrokClient(api_key="sim", base_url=f"{base_url}/v1", max_retries=0) as client:
            agent = Agent("grok-4.3", client=client)

            async def one() -> None:
                try:
                    await agent.run("Say hello.")
                except RateLimitError as error:
                    refused.append(error)

            with anyio.fail_after(60):
                async with anyio.create_task_group() as group:
                    for _ in range(40):
                        group.start_soon(one)
    assert len(refused) >= 20  # ten a second, with one second of burst
    assert all(error.retry_after is not None and error.retry_after > 0 for error in refused)


async def test_a_client_without_limits_learns_them_from_the_headers_and_retries_the_rest() -> None:
    core = SimCore(rate_limits=SimRateLimits(rpm=1200))
    with run_in_thread(core) as base_url:
        async with GrokClient(api_key="sim", base_url=f"{base_url}/v1", max_retries=5) as client:
            agent = Agent("grok-4.3", client=client)
            await agent.run("Say hello.")  # the first answer carries the limit
            with anyio.fail_after(60):
                async with anyio.create_task_group() as group:
                    for _ in range(60):
                        group.start_soon(agent.run, "Say hello.")
    assert core.rate_limits is not None and core.rate_limits.refused == 0
    assert client.rate_limiter.held > 30


async def test_tokens_per_minute_queue_runs_without_failures() -> None:
    core = SimCore(rate_limits=SimRateLimits(tpm=120_000))
    with run_in_thread(core) as base_url:
        async with GrokClient(api_key="sim", base_url=f"{base_url}/v1", max_retries=3,
                              rate_limits=RateLimit(tpm=120_000)) as client:
            agent = Agent("grok-4.3", client=client)
            with anyio.fail_after(60):
                async with anyio.create_task_group() as group:
                    for index in range(40):
                        group.start_soon(agent.run, f"Write one line about the number {index}.")
    assert client.rate_limiter.held > 0
    assert core.rate_limits is not None and core.rate_limits.refused <= 2


async def test_the_in_process_simulator_limits_too_and_streams_queue() -> None:
    client = GrokClient.simulated(max_retries=0, rate_limits=RateLimit(rpm=600))
    agent = Agent("grok-4.3", client=client)
    async with client:
        for _ in range(3):
            async with agent.run_stream("Say hello.") as stream:
                await stream.get_result()
    assert client.rate_limiter.held == 2
