"""Run by test_bridge_task.py with a release's Python: builds Cosmos DAGs with `add_bridge_task` in each
placement and prints, as JSON, where the bridge task landed. Needs the BRIDGE_E2E_* variables."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "dags"))

from _e2e_settings import MANIFEST, START, execution, profile, project, render
from cosmos import DbtDag, DbtTaskGroup

from bridge.airflow import add_bridge_task

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG
try:
    from airflow.providers.standard.operators.empty import EmptyOperator
except ImportError:  # Airflow 2
    from airflow.operators.empty import EmptyOperator


def facts(task, dag) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "upstream": sorted(task.upstream_task_ids),
        "leaves_before": sorted(t.task_id for t in dag.tasks if not t.downstream_task_ids and t is not task),
        "teardown": bool(task.is_teardown),
        "trigger_rule": str(getattr(task.trigger_rule, "value", task.trigger_rule)),
        "group": task.task_group.group_id if task.task_group else None,
        "manifest": task.manifest_path,
    }


def group_dag(dag_id: str, inside: bool) -> dict[str, object]:
    with DAG(dag_id=dag_id, schedule=None, start_date=START) as dag:
        extract = EmptyOperator(task_id="extract")
        fred = DbtTaskGroup(
            group_id="fred",
            project_config=project(),
            profile_config=profile(),
            execution_config=execution(),
            render_config=render(select=["+fct_fred_observations"]),
        )
        task = add_bridge_task(fred, inside=inside)
        publish = EmptyOperator(task_id="publish")
        extract >> fred >> publish
    found = facts(task, dag)
    found["publish_upstream"] = sorted(publish.upstream_task_ids)
    found["group_leaves"] = sorted(t.task_id for t in fred.get_leaves())
    return found


dbt_dag = DbtDag(
    dag_id="placement_dag",
    project_config=project(),
    profile_config=profile(),
    execution_config=execution(),
    render_config=render(),
    schedule=None,
    start_date=START,
)
dag_leaves = sorted(t.task_id for t in dbt_dag.tasks if not t.downstream_task_ids)
dag_task = add_bridge_task(dbt_dag)
print(
    json.dumps(
        {
            "expected_manifest": str(MANIFEST),
            "dag": {**facts(dag_task, dbt_dag), "leaves_before": dag_leaves},
            "after_group": group_dag("placement_after", inside=False),
            "inside_group": group_dag("placement_inside", inside=True),
        }
    )
)
