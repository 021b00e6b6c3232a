"""`Deadline`: the request path's `move_on_after`, its own timer on asyncio, anyio's elsewhere."""

from __future__ import annotations

import asyncio

import anyio
import anyio.lowlevel
import pytest

from agentkit._deadline import Deadline

pytestmark = pytest.mark.anyio

BACKENDS = ["asyncio", pytest.param("trio", marks=pytest.mark.skipif(
    not __import__("importlib.util").util.find_spec("trio"), reason="trio is not installed"))]


@pytest.fixture(params=BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_block_past_its_deadline_is_cancelled_and_the_code_after_it_runs() -> None:
    reached = []
    with Deadline(0.01) as deadline:
        await anyio.sleep(5)
        reached.append("inside")  # never: the sleep was cancelled
    assert deadline.expired
    assert reached == []
    await anyio.lowlevel.checkpoint()  # no cancellation is left pending on the task


async def test_a_block_that_ends_in_time_is_not_touched() -> None:
    with Deadline(5) as deadline:
        await anyio.sleep(0.001)
    assert not deadline.expired
    await anyio.sleep(0.02)  # the timer was taken down with the block


async def test_an_error_inside_goes_through() -> None:
    with pytest.raises(ValueError, match="boom"), Deadline(5):
        raise ValueError("boom")


async def test_an_outer_scope_cancelled_first_gets_its_cancellation() -> None:
    with anyio.move_on_after(0.01) as outer:
        with Deadline(5) as inner:
            await anyio.sleep(5)
        pytest.fail("the outer cancellation was swallowed by the inner deadline")
    assert outer.cancelled_caught
    assert not inner.expired


async def test_the_inner_deadline_first_leaves_the_outer_scope_running() -> None:
    with anyio.move_on_after(5) as outer:
        with Deadline(0.01) as inner:
            await anyio.sleep(5)
        await anyio.sleep(0.001)  # still inside the outer scope, not cancelled
    assert inner.expired
    assert not outer.cancelled_caught


async def test_nested_deadlines_each_catch_their_own() -> None:
    with Deadline(5) as outer:
        with Deadline(0.01) as inner:
            await anyio.sleep(5)
        with Deadline(0.01) as second:
            await anyio.sleep(5)
    assert inner.expired
    assert second.expired
    assert not outer.expired


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_on_asyncio_a_cancellation_landing_with_the_timer_is_not_swallowed() -> None:
    # The task is cancelled from outside in the very loop pass in which the deadline fires:
    # the block must not take both cancellations for its own.
    loop = asyncio.get_running_loop()
    deadline = Deadline(0.01)

    async def cancelled_with_the_timer() -> None:
        task = asyncio.current_task()
        assert task is not None
        with deadline:
            loop.call_at(deadline._due_at, task.cancel)
            await asyncio.sleep(5)

    task = asyncio.ensure_future(cancelled_with_the_timer())
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not deadline.expired


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_on_asyncio_an_expired_deadline_leaves_the_task_uncancelled() -> None:
    task = asyncio.current_task()
    assert task is not None
    with Deadline(0.01) as deadline:
        await asyncio.sleep(5)
    assert deadline.expired
    assert task.cancelling() == 0


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_on_asyncio_deadlines_due_in_one_tick_share_one_timer() -> None:
    loop = asyncio.get_running_loop()
    timers = 0
    call_at = loop.call_at

    def counting(when: float, callback: object, *args: object, **kwargs: object) -> object:
        nonlocal timers
        timers += 1
        return call_at(when, callback, *args, **kwargs)  # type: ignore[arg-type]

    loop.call_at = counting  # type: ignore[method-assign,assignment]
    try:
        for _ in range(200):  # one after another, as a run's requests come
            with Deadline(30) as deadline:
                await asyncio.sleep(0)
            assert not deadline.expired
        # 30 s deadlines fall due in quarter-second ticks: the 200 made one or two timers.
        assert 1 <= timers <= 2
        started = loop.time()
        with Deadline(0.05) as short:
            await asyncio.sleep(5)
        assert short.expired
        assert 0.05 <= loop.time() - started < 1  # on time, give or take a tick (not at 5 s)
    finally:
        del loop.call_at
