"""dbt results -> the Cosmos task run that executed them (`DbtResult.parent_run`).

A result of a model, seed or snapshot is linked to a task run when
- the run's job is a Cosmos task that executes the result's node: the node is among its `dbt_nodes` and its
  role runs it (run, seed, snapshot, build; the model's test task does not execute the model), and
- their times meet: the task run's window and the result's (start..end) overlap, one containing the other
  being the usual case; windows that touch meet.

A task run's window is its own start and end. Where Airflow gave only one of them (Airflow 3, read from inside
a task: a finished task is seen finished, not timed), the other is the bound that is known: its DAG run's
start for the start, its DAG run's end for the end, and none (open) while the run has not ended. A task run
without times of its own (queued, scheduled, or never seen) matches nothing, nor does a result without times.
Of several candidates, the one with the largest overlap wins, then the first by key (DAG, run, task, map
index). When the best overlaps tie and the windows are not the runs' own times (a task whose start Airflow did
not record spans its DAG run's start to its end), the task that ended first after dbt did ran it; if they
ended at the same moment (Airflow 3 inside a task: all seen finished at once), none is chosen. A result no
task run executed, or whose task run cannot be told, stands alone (`parent_run` None).

A test's result is linked the same way to the Cosmos task run that ran it: a task whose selection runs that
test (its `dbt_tests`), else (a task matched without knowing its tests) a test task (`<model>.test`, AFTER_EACH)
or a build task (BUILD) of a node the test reads. `with_task_runs` then puts that task run on
the test's assertion runs, so the assertion's result names the Airflow task run that produced it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from bridge.model.graph import TESTING_ROLES, WRITING_ROLES, Assertion, DbtResult, Job, JobKey, Run, RunKey

_OPEN = float("inf")


@dataclass(frozen=True, slots=True)
class _Window:
    key: RunKey
    start_ms: int
    end_ms: float  # _OPEN while the run has not ended
    exact: bool = True  # both bounds are the task run's own times

    def overlap(self, start_ms: int, end_ms: int) -> float | None:
        """Milliseconds both windows share; None when they do not meet."""
        shared = min(self.end_ms, end_ms) - max(self.start_ms, start_ms)
        return shared if shared >= 0 else None


def link_dbt_results(
    results: Sequence[DbtResult],
    runs: Iterable[Run],
    jobs: Iterable[Job],
    tested: Mapping[str, Sequence[str]] | None = None,
) -> tuple[DbtResult, ...]:
    """The results, each execution of a model, seed or snapshot with the task run that executed it, and each
    test's result with the task run that ran it. `tested`: test unique_id -> the nodes it reads."""
    jobs, runs = list(jobs), list(runs)
    windows = task_windows(runs, executing_nodes(jobs, WRITING_ROLES))
    by_test = task_windows(runs, {job.key: job.dbt_tests for job in jobs if job.dbt_tests})
    by_read = task_windows(runs, executing_nodes(jobs, TESTING_ROLES))
    return tuple(
        _linked(result, windows, (result.unique_id,))
        if result.is_execution
        else _linked(result, by_test, (result.unique_id,))
        if result.unique_id in by_test
        else _linked(result, by_read, (tested or {}).get(result.unique_id, ()))
        for result in results
    )


def with_task_runs(assertions: Iterable[Assertion], results: Iterable[DbtResult]) -> tuple[Assertion, ...]:
    """Assertions whose runs name the Cosmos task run that ran the test in that invocation, where one did."""
    ran = {(r.invocation_id, r.unique_id): r.parent_run for r in results if r.parent_run is not None}
    if not ran:
        return tuple(assertions)
    return tuple(
        replace(a, runs=tuple(replace(run, task_run=ran.get((run.run_id, a.dbt_unique_id))) for run in a.runs))
        if a.kind == "test"
        else a
        for a in assertions
    )


def executing_nodes(jobs: Iterable[Job], roles: frozenset[str]) -> dict[JobKey, tuple[str, ...]]:
    """Cosmos tasks in one of these roles -> the nodes they write or test."""
    return {
        job.key: job.dbt_nodes or ((job.dbt_unique_id,) if job.dbt_unique_id else ())
        for job in jobs
        if (job.dbt_nodes or job.dbt_unique_id) and (job.cosmos.role if job.cosmos else "run") in roles
    }


def task_windows(runs: list[Run], nodes: dict[JobKey, tuple[str, ...]]) -> dict[str, list[_Window]]:
    """node -> the windows of the task runs that executed it (those with times of their own)."""
    dag_runs = {run.key: run for run in runs if run.task_id is None}
    found: dict[str, list[_Window]] = {}
    for run in runs:
        executed = nodes.get(JobKey(run.dag_id, run.task_id, run.cluster), ()) if run.task_id else ()
        window = _window(run, dag_runs.get(run.key.dag_run)) if executed else None
        if window is None:
            continue
        for node in executed:
            found.setdefault(node, []).append(window)
    return found


def _window(run: Run, dag_run: Run | None) -> _Window | None:
    if run.start_ms is None and run.end_ms is None:
        return None
    start = run.start_ms if run.start_ms is not None else dag_run.start_ms if dag_run else None
    if start is None:
        return None
    end = run.end_ms if run.end_ms is not None else dag_run.end_ms if dag_run else None
    exact = run.start_ms is not None and run.end_ms is not None
    return _Window(run.key, start, _OPEN if end is None else end, exact)


def _linked(result: DbtResult, windows: dict[str, list[_Window]], nodes: Iterable[str]) -> DbtResult:
    """The result with the task run, among those of `nodes`, whose window meets it best."""
    start = result.start_ms if result.start_ms is not None else result.end_ms
    end = result.end_ms if result.end_ms is not None else result.start_ms
    if start is None or end is None:
        return result
    candidates: list[tuple[tuple[float, str, str, str, int], _Window]] = []
    for window in (w for node in nodes for w in windows.get(node, ())):
        shared = window.overlap(start, end)
        if shared is not None:
            key = window.key
            candidates.append(((-shared, key.dag_id, key.run_id, key.task_id or "", key.map_index), window))
    if not candidates:
        return result
    candidates.sort(key=lambda pair: pair[0])
    window = candidates[0][1]
    tied = [w for rank, w in candidates if rank[0] == candidates[0][0][0]]
    if len(tied) > 1 and not all(w.exact for w in tied):
        # Windows bounded by their DAG run, not by their own start: the task that ended first after dbt did ran
        # it; when they ended alike (Airflow 3 inside a task: all seen finished at once), it is unknown.
        tied.sort(key=lambda w: w.end_ms)
        if tied[0].end_ms == tied[1].end_ms:
            return result
        window = tied[0]
    return replace(result, parent_run=window.key)
