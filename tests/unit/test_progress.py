"""Progress lines: a step's result and time, a live count while emitting, and what is said when work stops."""

from __future__ import annotations

import io
import itertools
from contextlib import closing

import pytest

from bridge.progress import Progress


def ticking() -> Progress:
    stream = io.StringIO()
    clock = itertools.count(0.0, 0.25).__next__  # each reading a quarter second later (drawing reads it too)
    return Progress(stream, live=True, clock=clock)


def said(progress: Progress) -> list[str]:
    assert isinstance(progress.stream, io.StringIO)
    return [line.rsplit("\x1b[2K", 1)[-1] for line in progress.stream.getvalue().split("\n") if line]


def test_a_step_ends_as_one_line_with_its_result_and_time() -> None:
    progress = ticking()
    with progress.step("reading dbt") as done:
        done.say("90 manifest nodes")
    assert said(progress) == ["reading dbt: 90 manifest nodes (0.50 s)"]
    assert progress.stream is not None and progress.stream.getvalue().startswith("\r\x1b[2Kreading dbt …")


def test_a_failing_step_says_so_and_the_error_goes_on() -> None:
    progress = ticking()
    with pytest.raises(OSError), progress.step("reading Airflow"):
        raise OSError("no such file")
    assert said(progress) == ["reading Airflow: failed (0.50 s)"]


def test_counted_items_pass_through_with_count_time_and_rate() -> None:
    progress = ticking()
    assert list(progress.counted(range(8), "emitting", "records")) == list(range(8))
    last = said(progress)[-1]
    assert last.startswith("emitting: 8 records in ") and last.endswith("/s)")


def test_work_stopped_part_way_says_how_far_it_got_before_the_error_is_shown() -> None:
    progress = ticking()
    with pytest.raises(RuntimeError), closing(progress.counted(range(100), "emitting", "records")) as items:
        for item in items:
            if item == 4:
                raise RuntimeError("sink full")
    assert said(progress)[-1].startswith("emitting: stopped after 5 records (")


def test_off_says_nothing_and_passes_everything_through() -> None:
    progress = Progress.off()
    with progress.step("joining") as done:
        done.say("x")
    assert list(progress.counted([1, 2], "emitting", "records")) == [1, 2]


@pytest.mark.parametrize(
    ("terminal", "environ", "quiet", "verbose", "shown", "live"),
    [
        (True, {}, False, False, True, True),
        (True, {"CI": "true"}, False, False, False, False),
        (True, {"TERM": "dumb"}, False, False, False, False),
        (False, {}, False, False, False, False),
        (False, {}, False, True, True, False),
        (True, {}, True, False, False, False),
    ],
)
def test_where_progress_shows(
    terminal: bool, environ: dict[str, str], quiet: bool, verbose: bool, shown: bool, live: bool
) -> None:
    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return terminal

    progress = Progress.for_terminal(Stream(), quiet, verbose, environ)
    assert (progress.stream is not None, progress.live) == (shown, live)
