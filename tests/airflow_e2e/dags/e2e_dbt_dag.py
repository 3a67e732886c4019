"""e2e_dbt_dag: the whole bundled dbt project as a Cosmos DbtDag (Airflow DAG), the bridge task appended."""

from __future__ import annotations

from _e2e_settings import BRIDGE_CONFIG, CONN_ID, START, execution, operator_args, profile, project, render
from cosmos import DbtDag

from bridge.airflow import add_bridge_task

e2e_dbt_dag = DbtDag(
    dag_id="e2e_dbt_dag",
    project_config=project(),
    profile_config=profile(),
    execution_config=execution(),
    render_config=render(),
    operator_args=operator_args(),
    schedule="@daily",
    start_date=START,
    catchup=False,
    default_args={"owner": "data-platform", "retries": 0},
    tags=["dbt", "e2e"],
)
add_bridge_task(e2e_dbt_dag, config=BRIDGE_CONFIG, datahub_conn_id=CONN_ID)
