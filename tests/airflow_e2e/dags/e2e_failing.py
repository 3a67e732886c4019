"""e2e_failing: a DbtDag whose model fails for real. Its target (`no_raw`) reads the sources from a schema
that does not exist, so dbt's `stg_employees` fails; the bridge task still runs and reports the failure."""

from __future__ import annotations

from _e2e_settings import BRIDGE_CONFIG, CONN_ID, START, execution, operator_args, profile, project, render
from cosmos import DbtDag

from bridge.airflow import add_bridge_task

e2e_failing = DbtDag(
    dag_id="e2e_failing",
    project_config=project(),
    profile_config=profile("no_raw"),
    execution_config=execution(),
    render_config=render(select=["stg_employees"]),
    operator_args=operator_args(),
    schedule=None,
    start_date=START,
    catchup=False,
    default_args={"owner": "hr-analytics", "retries": 0},
    tags=["e2e"],
)
add_bridge_task(e2e_failing, config=BRIDGE_CONFIG, datahub_conn_id=CONN_ID)
