"""Progress of long work (reading, joining, emitting) for the person at the terminal.

On a terminal, each step shows a live line (`emitting: 12,400 records, 8,100/s`) and ends as one line saying
what it did and how long it took. Piped, in CI (`CI` set, as every CI service sets it) or with `--quiet`,
nothing is shown; `--verbose` shows the finished steps also when piped, as plain lines (no live counters), so
Airflow's task log and CI logs can keep them. Progress goes to stderr: stdout stays the command's output.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO, TypeVar

T = TypeVar("T")
_REFRESH_S = 0.1  # the live line is redrawn at most this often


@dataclass
class Progress:
    """Reports steps; `Progress.off()` (the default everywhere) reports nothing and costs nothing."""

    stream: TextIO | None = None
    live: bool = False  # redraw a line in place (a terminal)
    clock: Callable[[], float] = time.monotonic
    _drawn_at: float = field(default=0.0, init=False)
    _dirty: bool = field(default=False, init=False)

    @classmethod
    def off(cls) -> Progress:
        return cls()

    @classmethod
    def for_terminal(
        cls, stream: TextIO, quiet: bool, verbose: bool, environ: Mapping[str, str] = os.environ
    ) -> Progress:
        """Live on a terminal outside CI; finished steps only with `verbose` elsewhere; nothing when `quiet`."""
        if quiet:
            return cls()
        live = _is_terminal(stream) and not environ.get("CI") and environ.get("TERM") != "dumb"
        return cls(stream, live) if live or verbose else cls()

    @contextmanager
    def step(self, doing: str) -> Iterator[StepResult]:
        """`with progress.step("reading Airflow") as done: ...; done.say("6 DAGs, 68 tasks")`."""
        result = StepResult()
        if self.stream is None:
            yield result
            return
        started = self.clock()
        self._draw(f"{doing} …", force=True)
        try:
            yield result
        except BaseException:
            self._finish(f"{doing}: failed ({_seconds(self.clock() - started)})")
            raise
        self._finish(f"{doing}: {result.text or 'done'} ({_seconds(self.clock() - started)})")

    def counted(self, items: Iterable[T], doing: str, unit: str) -> Generator[T, None, None]:
        """`items`, passed through while a live line counts them (`emitting: 1,200 records, 3,400/s`); a
        last line says how many there were, how long they took and the rate, or, when the consumer stopped
        early (close the iterator: `contextlib.closing`), how far it got."""
        if self.stream is None:
            yield from items
            return
        started = self.clock()
        count = 0
        finished = False
        try:
            for count, item in enumerate(items, 1):
                if self.live and self.clock() - self._drawn_at >= _REFRESH_S:
                    self._draw(f"{doing}: {count:,} {unit}, {_rate(count, self.clock() - started)}")
                yield item
            finished = True
        finally:
            took = self.clock() - started
            if finished:
                self._finish(f"{doing}: {count:,} {unit} in {_seconds(took)} ({_rate(count, took)})")
            else:
                self._finish(f"{doing}: stopped after {count:,} {unit} ({_seconds(took)})")

    def _draw(self, text: str, force: bool = False) -> None:
        if not self.live or self.stream is None:
            return
        now = self.clock()
        if not force and now - self._drawn_at < _REFRESH_S:
            return
        self._drawn_at = now
        self.stream.write(f"\r\x1b[2K{text}")
        self.stream.flush()
        self._dirty = True

    def _finish(self, text: str) -> None:
        assert self.stream is not None
        self.stream.write(f"\r\x1b[2K{text}\n" if self._dirty else f"{text}\n")
        self.stream.flush()
        self._dirty = False


@dataclass
class StepResult:
    """What a finished step says about itself (`6 DAGs, 68 tasks`)."""

    text: str = ""

    def say(self, text: str) -> None:
        self.text = text


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _seconds(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.0f} s"


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s" if seconds > 0 else "-"


def stderr_progress(quiet: bool, verbose: bool) -> Progress:
    return Progress.for_terminal(sys.stderr, quiet, verbose)
