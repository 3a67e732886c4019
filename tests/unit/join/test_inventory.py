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
            "env": {"A": "{{ var.value.get('with_default', 'x') }}", "B": "{{ var.json['indexed'] }}"},
        },
    )
    assert inventory_properties(task, CONNECTIONS) == {
        "connections": "gone_conn (not defined in Airflow's connections), warehouse_pg (postgres, db.internal.example)",
        "variables": "indexed, limits, owner_email, reporting_threshold, with_default",
    }


def test_a_task_that_uses_neither_has_no_inventory() -> None:
    assert inventory_properties(AirflowTask("t", "EmptyOperator", "airflow.operators.empty"), CONNECTIONS) == {}


def test_a_host_written_as_a_url_with_user_info_is_masked() -> None:
    partner = {"partner": ConnectionInfo("partner", "http", "https://svc:s3cr3tT0ken@api.example.com/v1")}
    task = AirflowTask("ping", "HttpOperator", "airflow.providers.http.operators.http", conn_ids=("partner",))
    assert inventory_properties(task, partner)["connections"] == "partner (http, https://***@api.example.com/v1)"
