"""Task instances seen from inside a running task on Airflow 3: state and duration known, times not."""

from __future__ import annotations

from bridge.airflow.live import split_state_keys
from bridge.emit.airflow_urls import AirflowUrls
from bridge.emit.runs import run_instance, run_mcps
from bridge.join.runs import task_run
from bridge.model.airflow import TaskInstance
from bridge.times import epoch_us

SEEN = epoch_us("2026-01-05T06:10:00+00:00")
SEEN_MS = 1767593400000


def _events(instance: TaskInstance) -> list[object]:
    run = task_run(instance, None, "prod")
    proposals = run_mcps(run, run_instance(run, AirflowUrls(None, 3)))
    return [p.aspect for p in proposals if p.aspectName == "dataProcessInstanceRunEvent"]


def test_a_finished_instance_seen_without_times_ends_when_seen_with_its_own_duration() -> None:
    seen = TaskInstance("d", "t", "r", "failed", map_index=2, duration=12.3456, seen_us=SEEN)
    (end,) = _events(seen)
    assert end.status == "COMPLETE" and end.result.type == "FAILURE"  # type: ignore[attr-defined]
    assert end.timestampMillis == SEEN_MS and end.durationMillis == 12346  # type: ignore[attr-defined]
    assert task_run(seen, None, "prod").properties == {"state": "failed", "map_index": "2", "duration": "12.346"}


def test_known_times_win_over_the_moment_seen() -> None:
    read = TaskInstance("d", "t", "r", "success", start_us=epoch_us("2026-01-05T06:00:00+00:00"),
                        end_us=epoch_us("2026-01-05T06:00:10+00:00"), duration=10.2, seen_us=SEEN)  # fmt: skip
    _start, end = _events(read)
    assert end.timestampMillis == SEEN_MS - 590_000 and end.durationMillis == 10_000  # type: ignore[attr-defined]


def test_an_unfinished_instance_seen_without_times_has_no_event() -> None:
    assert _events(TaskInstance("d", "t", "r", "running", seen_us=SEEN)) == []


def test_mapped_instances_keyed_by_get_task_states_are_split_back() -> None:
    states = {"extract": "success", "load_1": "failed", "load_0": "success", "run_2": "success", "run": "success"}
    assert split_state_keys(states, {"extract", "load", "run", "run_2"}) == {
        ("extract", -1): "success",
        ("load", 1): "failed",
        ("load", 0): "success",
        ("run_2", -1): "success",  # a task named like a mapped instance stays itself
        ("run", -1): "success",
    }
