"""e2e_task_group: a Cosmos DbtTaskGroup (the FRED models) between two plain tasks, the bridge task after
the group."""

from __future__ import annotations

from _e2e_settings import BRIDGE_CONFIG, CONN_ID, START, execution, operator_args, profile, project, render
from cosmos import DbtTaskGroup

from bridge.airflow import add_bridge_task

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG
try:
    from airflow.providers.standard.operators.empty import EmptyOperator
except ImportError:  # Airflow 2
    from airflow.operators.empty import EmptyOperator

with DAG(
    dag_id="e2e_task_group",
    schedule=None,
    start_date=START,
    catchup=False,
    default_args={"owner": "analytics", "retries": 0},
    tags=["e2e"],
) as dag:
    extract = EmptyOperator(task_id="extract")
    fred = DbtTaskGroup(
        group_id="fred",
        project_config=project(),
        profile_config=profile(),
        execution_config=execution(),
        render_config=render(select=["+fct_fred_observations"]),
        operator_args=operator_args(),
    )
    publish = EmptyOperator(task_id="publish")
    extract >> fred >> publish
    add_bridge_task(fred, config=BRIDGE_CONFIG, datahub_conn_id=CONN_ID)
