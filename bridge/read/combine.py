"""`combine_snapshots`: one Airflow snapshot from the DB reader and the REST reader of the same Airflow.

The DB wins for structure (DAGs, tasks, assets: it has task groups, template values and alias outlets);
the API fills what the DB reader was not given: DAGs and assets the DB snapshot lacks (e.g. a DAG whose
serialized row could not be decoded), runs, task instances and events it did not read, and the exact
Airflow version (the DB only knows the first release of its schema). Pure: snapshots in, snapshot out.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

from bridge.model.airflow import AirflowSnapshot, DagRuns, TaskInstances

T = TypeVar("T")


def combine_snapshots(db: AirflowSnapshot, api: AirflowSnapshot) -> AirflowSnapshot:
    filled_dags = sorted(set(api.dags) - set(db.dags))
    return AirflowSnapshot(
        source="db+api",
        airflow_version=api.airflow_version or db.airflow_version,
        schema_revision=db.schema_revision,
        dags=dict(sorted({**api.dags, **db.dags}.items())),
        assets=dict(sorted({**api.assets, **db.assets}.items())),
        asset_events=_union(db.asset_events, api.asset_events, lambda e: (e.asset_uri, e.timestamp, e.source_run_id)),
        dag_runs=DagRuns(_union(db.dag_runs, api.dag_runs, lambda r: (r.dag_id, r.run_id))),
        task_instances=TaskInstances(
            _union(db.task_instances, api.task_instances, lambda t: (t.dag_id, t.task_id, t.run_id, t.map_index))
        ),
        import_errors=_union(db.import_errors, api.import_errors, lambda e: e.filename.rsplit("/", 1)[-1]),
        connections=_union(db.connections, api.connections, lambda c: c.conn_id),
        variables=_union(db.variables, api.variables, lambda v: v.key),
        problems=db.problems + api.problems,
        # REST's limits matter only where the API supplied structure: the DAGs the DB did not have.
        limitations=tuple(
            f"{text} (DAGs read through the API only: {', '.join(filled_dags)})" for text in api.limitations
        )
        if filled_dags
        else (),
    )


def _union(first: Iterable[T], second: Iterable[T], key: Callable[[T], Hashable]) -> tuple[T, ...]:
    """`first`, then what `second` has that `first` lacks (by `key`)."""
    items = list(first)
    seen = {key(item) for item in items}
    return tuple(items + [item for item in second if key(item) not in seen])
