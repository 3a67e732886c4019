"""DataHub URNs equal to those DataHub's own dbt source and Airflow plugin make, so we complete, not copy.

Facts taken from acryl-datahub 1.7 (`ingestion/source/dbt`): a dbt node's dataset name is
`database.schema.<alias or name>` with quotes removed, lower-cased by default (`convert_urns_to_lowercase`);
sources are named by their logical `name` there. The warehouse dataset, as the warehouse's own connector
names it, uses the physical identifier (a source's `identifier`), which is what we emit on that side.
"""

from __future__ import annotations

from datahub.emitter.mce_builder import (
    make_data_flow_urn,
    make_data_job_urn_with_flow,
    make_dataset_urn_with_platform_instance,
)

from bridge.model.dbt import DbtNode, Relation

DBT_PLATFORM = "dbt"

# dbt adapter type -> DataHub platform name, where they differ.
_PLATFORM_OF_ADAPTER = {"databricks": "databricks", "spark": "databricks", "sqlserver": "mssql", "fabric": "mssql"}


def warehouse_platform(adapter_type: str) -> str:
    return _PLATFORM_OF_ADAPTER.get(adapter_type.lower(), adapter_type.lower())


def dataset_urn(platform: str, name: str, env: str, platform_instance: str | None, lowercase: bool) -> str:
    return make_dataset_urn_with_platform_instance(
        platform=platform,
        name=name.lower() if lowercase else name,
        platform_instance=platform_instance,
        env=env,
    )


def dbt_dataset_name(node: DbtNode) -> str:
    """The name DataHub's dbt source gives the node: where dbt places it, logical name for sources."""
    location = node.location
    if location is None:
        return node.unique_id
    name = node.name if node.resource_type == "source" else location.identifier
    return Relation(location.database, location.schema, name).dotted


def data_flow_urn(dag_id: str, cluster: str) -> str:
    return make_data_flow_urn("airflow", dag_id, cluster)


def data_job_urn(flow_urn: str, task_id: str) -> str:
    return make_data_job_urn_with_flow(flow_urn, task_id)
