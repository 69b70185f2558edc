"""Progress of a long operator command (``backup``, ``rekey``, a migration that rewrites rows)
done, the rate and the time left, redrawn on one line. In a pipe or a log it stays quiet, so
scripts and cron mail get only the command's result."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

#: redraw at most this often (seconds); the last state is always drawn
EVERY_S = 0.1


def _clock(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class Progress:
    def __init__(self, label: str, unit: str, stream: TextIO | None = None, *,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._label = label
        self._unit = unit
        self._stream = stream if stream is not None else sys.stderr
        self._monotonic = monotonic
        self.shown = self._stream.isatty()
        self._started = monotonic()
        self._drawn_at: float | None = None
        self._drew = False

    def __call__(self, done: int, total: int) -> None:
        """``done`` of ``total`` units are done."""
        if not self.shown:
            return
        now = self._monotonic()
        if done < total and self._drawn_at is not None and now - self._drawn_at < EVERY_S:
            return
        self._drawn_at = now
        elapsed = max(now - self._started, 1e-6)
        rate = done / elapsed
        left = (total - done) / rate if rate > 0 else 0.0
        share = 100 * done // total if total else 100
        self._stream.write(f"\r{self._label}: {done:,}/{total:,} {self._unit} ({share}%), "
                           f"{rate:,.0f} {self._unit}/s, {_clock(left)} left")
        self._stream.flush()
        self._drew = True

    def finish(self) -> None:
        """End the progress line (on a terminal)."""
        if self.shown and self._drew:
            self._stream.write("\n")
            self._stream.flush()
