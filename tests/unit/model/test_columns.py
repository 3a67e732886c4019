"""Run history held as columns: what goes in comes out, in order, whatever the values (None in every kind,
tens of thousands of distinct ids); times are epoch microseconds, never text."""

from __future__ import annotations

import pickle

import pytest

from bridge.model.airflow import NO_CONF, AirflowSnapshot, DagRun, DagRuns, TaskInstance, TaskInstances


def _instances() -> list[TaskInstance]:
    return [
        TaskInstance("d", "load", "r1", "success", 2, -1, 1_767_592_800_123_456, 1_767_592_801_000_000, 0.877544,
                     "PythonOperator", "worker-1"),
        TaskInstance("d", "fan", "r1", None, map_index=3, duration=0.0, seen_us=1_767_593_400_000_000),
        TaskInstance("e", "load", "r2", "failed", try_number=1, start_us=-5),
    ]  # fmt: skip


def test_task_instances_read_back_as_given_in_order() -> None:
    given = _instances()
    held = TaskInstances(given)
    assert list(held) == given and len(held) == 3
    assert held == tuple(given) and tuple(given) == held and held != given[:2]
    assert held[-1] == given[2] and held[1:] == tuple(given[1:])
    assert held[1].state is None and held[1].start_us is None and held[1].duration == 0.0
    with pytest.raises(IndexError):
        held[3]


def test_records_made_from_field_values_equal_records_given() -> None:
    given = _instances()
    from_values = TaskInstances.from_values(
        (t.dag_id, t.task_id, t.run_id, t.state, t.try_number, t.map_index, t.start_us, t.end_us, t.duration,
         t.operator, t.hostname, t.seen_us)
        for t in given
    )  # fmt: skip
    assert from_values == TaskInstances(given)
    with pytest.raises(ValueError, match="12 fields"):
        TaskInstances.from_values([("d", "t", "r")])


def test_tens_of_thousands_of_distinct_ids_keep_their_values() -> None:
    runs = [DagRun(f"dag_{i % 300}", f"run_{i}", "success", "scheduled", i, i + 1, None) for i in range(70_000)]
    held = DagRuns(runs)
    assert held == runs
    assert held[66_000].run_id == "run_66000" and held[299].dag_id == "dag_299"


def test_small_and_large_ints_keep_their_values() -> None:
    tries = [0, 1, 127, 128, -129, 40_000, -(2**31), 2**40, 3]
    held = TaskInstances(TaskInstance("d", "t", "r", None, try_number=n, map_index=-n) for n in tries)
    assert [(t.try_number, t.map_index) for t in held] == [(n, -n) for n in tries]
    with pytest.raises(OverflowError):
        TaskInstances([TaskInstance("d", "t", "r", None, try_number=2**64)])


def test_an_empty_history_equals_an_empty_tuple() -> None:
    assert TaskInstances() == () and DagRuns([]) == () and not TaskInstances()
    snapshot = AirflowSnapshot("db", None, None, {})
    assert snapshot.dag_runs == () and snapshot.task_instances == ()


def test_a_run_conf_is_kept_as_given_and_an_absent_one_shared() -> None:
    runs = DagRuns([DagRun("d", "r1", None), DagRun("d", "r2", None, conf={"full_refresh": True}),
                    DagRun("d", "r3", None, conf=None)])  # fmt: skip
    assert [r.conf for r in runs] == [{}, {"full_refresh": True}, None]
    assert runs[0].conf is NO_CONF


def test_a_snapshot_holds_any_run_history_it_is_given_as_columns() -> None:
    snapshot = AirflowSnapshot("api", None, None, {}, dag_runs=(DagRun("d", "r1", "success"),),
                               task_instances=tuple(_instances()))  # fmt: skip
    assert isinstance(snapshot.dag_runs, DagRuns) and isinstance(snapshot.task_instances, TaskInstances)
    assert list(snapshot.task_instances) == _instances()


def test_a_time_given_as_iso_text_is_refused() -> None:
    with pytest.raises(TypeError):
        TaskInstances([TaskInstance("d", "t", "r", "success", start_us="2026-01-05T06:00:00+00:00")])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        DagRuns([DagRun("d", "r", "success", logical_us="2026-01-05T06:00:00+00:00")])  # type: ignore[arg-type]


def test_a_history_survives_pickling() -> None:
    held = TaskInstances(_instances())
    assert pickle.loads(pickle.dumps(held)) == held
