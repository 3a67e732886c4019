"""A task's inventory: the connections it names (type and host, never a secret) and the Variables its
templates read (names only)."""

from __future__ import annotations

from bridge.join.inventory import inventory_properties
from bridge.model.airflow import AirflowTask, ConnectionInfo

CONNECTIONS = {"warehouse_pg": ConnectionInfo("warehouse_pg", "postgres", "db.internal.example")}


def test_connections_and_variables_a_task_uses() -> None:
    task = AirflowTask(
        "load",
        "SQLExecuteQueryOperator",
        "airflow.providers.common.sql.operators.sql",
        conn_ids=("gone_conn", "warehouse_pg"),
        template_fields={
            "sql": "SELECT * FROM t WHERE n > {{ var.value.reporting_threshold }} AND {{ var.json.limits.max }}",
            "parameters": {"who": "{{ Variable.get('owner_email') }}", "more": ["{{ var.value.reporting_threshold }}"]},
        },
    )
    assert inventory_properties(task, CONNECTIONS) == {
        "connections": "gone_conn (not defined in Airflow's connections), warehouse_pg (postgres, db.internal.example)",
        "variables": "limits, owner_email, reporting_threshold",
    }


def test_a_task_that_uses_neither_has_no_inventory() -> None:
    assert inventory_properties(AirflowTask("t", "EmptyOperator", "airflow.operators.empty"), CONNECTIONS) == {}
