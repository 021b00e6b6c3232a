"""The progress report of `agentkit batch`, as text: no I/O, so tests need no terminal.

`BatchProgress` is told what happened (a run finished, time passed) and answers with the text
to write to stderr, often nothing. On a terminal that is one line redrawn in place with `\\r`,
at most about ten times a second, then a final line; elsewhere (a log file, CI) it is plain
lines, one per tenth of the batch or per five seconds, whichever comes first, so that a big
batch does not flood the log and a slow one still shows it is alive. Both end with a summary:

    agentkit: batch done: 98 ok, 2 failed, 0 skipped (already done), 12.3 runs/s, $0.0123
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

__all__ = ["BatchProgress"]

_BAR_WIDTH = 20


class BatchProgress:
    """Counts of a batch and when to show them.

    Args:
        total: Lines this invocation accounts for: the runs to do and the malformed lines.
        tty: Draw a bar redrawn in place (a terminal) instead of plain lines.
        skipped: Lines already done by an earlier invocation (not part of `total`).
        malformed: Lines that cannot run; counted as done and failed from the start.
        clock: Seconds, monotonic; the only clock read.
        columns: The terminal's width: a longer line would wrap, and `\\r` would then
            redraw only its last part.
        redraw_every: Least seconds between two redraws of the bar.
        log_every: Most seconds between two plain lines while runs go on.
    """

    def __init__(
        self,
        total: int,
        *,
        tty: bool,
        skipped: int = 0,
        malformed: int = 0,
        clock: Callable[[], float] = time.monotonic,
        columns: int = 80,
        redraw_every: float = 0.1,
        log_every: float = 5.0,
    ) -> None:
        self.total = total
        self.tty = tty
        self.skipped = skipped
        self.ok = 0
        self.failed = malformed
        self.cost_usd: float | None = None
        self._malformed = malformed
        self._clock = clock
        self._columns = max(columns, 20)
        self._redraw_every = redraw_every
        self._log_every = log_every
        self._started = clock()
        self._shown_at = self._started
        # Plain lines: one each time the count passes another tenth of the batch.
        self._step = max(1, math.ceil(total / 10))
        self._shown_steps = malformed // self._step
        self._width = 0  # of the bar on screen, 0 when none is
        self._finished = False

    @property
    def done(self) -> int:
        """Lines accounted for so far (malformed ones included)."""
        return self.ok + self.failed

    def start(self) -> str:
        """The text to write before the first run."""
        if self.tty:
            return self._draw()
        runs = self.total - self._malformed
        return f"agentkit: batch: {runs} to run, {self.skipped} skipped (already done)\n"

    def finished(self, *, ok: bool, cost_usd: float | None) -> str:
        """Count one finished run; the text to write now ("" most of the time)."""
        if ok:
            self.ok += 1
        else:
            self.failed += 1
        if cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + cost_usd
        if self.tty:
            return self.tick()
        if self.done >= self.total:
            return ""  # the summary follows
        steps = self.done // self._step
        if steps > self._shown_steps:
            self._shown_steps = steps
            return self._line()
        return self.tick()

    def tick(self) -> str:
        """The text to write when time has passed (rate and ETA change with no run ending)."""
        now = self._clock()
        if self._finished:
            return ""
        if self.tty:
            return self._draw() if now - self._shown_at >= self._redraw_every else ""
        if now - self._shown_at >= self._log_every and self.done < self.total:
            return self._line()
        return ""

    def finish(self) -> str:
        """The final text: the bar's last state on its own line (on a terminal), the summary."""
        text = self._draw() + "\n" if self.tty else ""
        self._finished = True
        self._width = 0
        cost = f", {_dollars(self.cost_usd)}" if self.cost_usd is not None else ""
        malformed = f" ({self._malformed} malformed)" if self._malformed else ""
        return (f"{text}agentkit: batch done: {self.ok} ok, {self.failed} failed{malformed}, "
                f"{self.skipped} skipped (already done), {self._rate():.1f} runs/s{cost}\n")

    def interrupted(self) -> str:
        """The text to write when the batch stops early: end the bar's line, if one is drawn."""
        self._finished = True
        drawn, self._width = self._width, 0
        return "\n" if drawn else ""

    # -- rendering ------------------------------------------------------------------------

    def _rate(self) -> float:
        elapsed = self._clock() - self._started
        runs = self.done - self._malformed
        return runs / elapsed if elapsed > 0 and runs else 0.0

    def _status(self) -> str:
        rate = self._rate()
        parts = [f"{self.failed} failed", f"{rate:.1f} runs/s"]
        if self.cost_usd is not None:
            parts.append(_dollars(self.cost_usd))
        left = self.total - self.done
        if left:
            parts.append(f"ETA {_duration(left / rate)}" if rate > 0 else "ETA ?")
        return ", ".join(parts)

    def _draw(self) -> str:
        self._shown_at = self._clock()
        filled = _BAR_WIDTH * self.done // self.total if self.total else _BAR_WIDTH
        bar = "#" * filled + "." * (_BAR_WIDTH - filled)
        text = f"agentkit: [{bar}] {self.done}/{self.total}, {self._status()}"
        text = text[: self._columns - 1]
        # Pad over what a longer previous line left on screen.
        padded = text.ljust(self._width)
        self._width = len(text)
        return "\r" + padded

    def _line(self) -> str:
        self._shown_at = self._clock()
        return f"agentkit: batch: {self.done}/{self.total} done, {self._status()}\n"


def _dollars(cost: float) -> str:
    # Four decimals as a bill would show; more for the fractions of a cent of a small batch.
    return f"${cost:.4f}" if cost >= 0.01 or cost == 0 else f"${cost:.6f}"


def _duration(seconds: float) -> str:
    whole = math.ceil(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
