"""A snapshot restricted to the DAGs a `dag_pattern` allows, for the facts both readers fetch for all DAGs at
once (asset references, schedules, events): what an excluded DAG declares, produced or waits on is left out,
as if the DAG were not there. Assets themselves stay; they belong to no DAG."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from bridge.model.airflow import AirflowSnapshot, Asset, DagRuns, TaskInstances


def only_allowed(snapshot: AirflowSnapshot, allowed: Collection[str]) -> AirflowSnapshot:
    return replace(
        snapshot,
        dags={dag_id: dag for dag_id, dag in snapshot.dags.items() if dag_id in allowed},
        assets={uri: _asset(asset, allowed) for uri, asset in snapshot.assets.items()},
        asset_events=tuple(e for e in snapshot.asset_events if e.source_dag_id is None or e.source_dag_id in allowed),
        dag_runs=DagRuns(r for r in snapshot.dag_runs if r.dag_id in allowed),
        task_instances=TaskInstances(ti for ti in snapshot.task_instances if ti.dag_id in allowed),
    )


def _asset(asset: Asset, allowed: Collection[str]) -> Asset:
    return replace(
        asset,
        producing_tasks=tuple(t for t in asset.producing_tasks if t[0] in allowed),
        consuming_tasks=tuple(t for t in asset.consuming_tasks if t[0] in allowed),
        scheduled_dags=tuple(d for d in asset.scheduled_dags if d in allowed),
    )
