"""dbt results -> the Cosmos task run that executed them (`DbtResult.parent_run`).

A result of a model, seed or snapshot is linked to a task run when
- the run's job is a Cosmos task that executes the result's node: its `dbt_unique_id` is the node and its
  role runs it (run, seed, snapshot, build; the model's test task does not execute the model), and
- their times meet: the task run's window and the result's (start..end) overlap, one containing the other
  being the usual case; windows that touch meet.

A task run's window is its own start and end. Where Airflow gave only one of them (Airflow 3, read from inside
a task: a finished task is seen finished, not timed), the other is the bound that is known: its DAG run's
start for the start, its DAG run's end for the end, and none (open) while the run has not ended. A task run
without times of its own (queued, scheduled, or never seen) matches nothing, nor does a result without times.
Of several candidates, the one with the largest overlap wins, then the first by key (DAG, run, task, map
index). A result no task run executed stands alone (`parent_run` None).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from bridge.model.graph import DbtResult, Job, JobKey, Run, RunKey

# The resource types whose results are executions of a node with a dataset (tests are assertions).
EXECUTED_TYPES = frozenset({"model", "seed", "snapshot"})
# The Cosmos roles whose task executes its node (see cosmos_tasks.py).
EXECUTING_ROLES = frozenset({"run", "seed", "snapshot", "build"})
_OPEN = float("inf")


@dataclass(frozen=True, slots=True)
class _Window:
    key: RunKey
    start_ms: int
    end_ms: float  # _OPEN while the run has not ended

    def overlap(self, start_ms: int, end_ms: int) -> float | None:
        """Milliseconds both windows share; None when they do not meet."""
        shared = min(self.end_ms, end_ms) - max(self.start_ms, start_ms)
        return shared if shared >= 0 else None


def resource_type(unique_id: str) -> str:
    """`model.jaffle.orders` -> `model`."""
    return unique_id.split(".", 1)[0]


def is_execution(result: DbtResult) -> bool:
    """A result of a node dbt built (model, seed, snapshot), not of a test or an operation."""
    return resource_type(result.unique_id) in EXECUTED_TYPES


def link_dbt_results(results: Sequence[DbtResult], runs: Iterable[Run], jobs: Iterable[Job]) -> tuple[DbtResult, ...]:
    """The results, each execution of a model, seed or snapshot with the task run that executed it."""
    windows = task_windows(list(runs), executing_nodes(jobs))
    return tuple(_linked(result, windows) for result in results)


def executing_nodes(jobs: Iterable[Job]) -> dict[JobKey, str]:
    """Cosmos tasks that execute a node -> that node."""
    return {
        job.key: job.dbt_unique_id
        for job in jobs
        if job.dbt_unique_id and job.properties.get("cosmos_role", "run") in EXECUTING_ROLES
    }


def task_windows(runs: list[Run], nodes: dict[JobKey, str]) -> dict[str, list[_Window]]:
    """node -> the windows of the task runs that executed it (those with times of their own)."""
    dag_runs = {run.key: run for run in runs if run.task_id is None}
    found: dict[str, list[_Window]] = {}
    for run in runs:
        node = nodes.get(JobKey(run.dag_id, run.task_id, run.cluster)) if run.task_id else None
        window = _window(run, dag_runs.get(run.key.dag_run)) if node else None
        if node and window:
            found.setdefault(node, []).append(window)
    return found


def _window(run: Run, dag_run: Run | None) -> _Window | None:
    if run.start_ms is None and run.end_ms is None:
        return None
    start = run.start_ms if run.start_ms is not None else dag_run.start_ms if dag_run else None
    if start is None:
        return None
    end = run.end_ms if run.end_ms is not None else dag_run.end_ms if dag_run else None
    return _Window(run.key, start, _OPEN if end is None else end)


def _linked(result: DbtResult, windows: dict[str, list[_Window]]) -> DbtResult:
    start = result.start_ms if result.start_ms is not None else result.end_ms
    end = result.end_ms if result.end_ms is not None else result.start_ms
    if not is_execution(result) or start is None or end is None:
        return result
    candidates = []
    for window in windows.get(result.unique_id, ()):
        shared = window.overlap(start, end)
        if shared is not None:
            key = window.key
            candidates.append(((-shared, key.dag_id, key.run_id, key.task_id or "", key.map_index), key))
    if not candidates:
        return result
    return replace(result, parent_run=min(candidates, key=lambda pair: pair[0])[1])
