"""The settings the join needs, as plain values (built from `BridgeConfig` at the edge)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from bridge.model.dbt import DbtProject


@dataclass(frozen=True, slots=True)
class JoinSettings:
    env: str = "PROD"
    platform_instance: str | None = None  # the warehouse's instance in DataHub
    dbt_platform_instance: str | None = None
    # Each project's dbt platform instance is its project_name (DataHub's dbt source with a globbed manifest_path)
    dbt_platform_instance_from_project: bool = False
    airflow_cluster: str = "prod"
    lowercase_urns: bool = True
    # Domain rules, in the precedence documented in bridge/join/domains.py.
    dag_domain_rules: Mapping[str, str] = field(default_factory=dict)  # dag_id regex -> domain
    path_domain_rules: Mapping[str, str] = field(default_factory=dict)  # file path or fqn regex -> domain
    schema_domain_rules: Mapping[str, str] = field(default_factory=dict)  # schema regex -> domain
    legacy_prefix_mapping: Mapping[str, str] = field(default_factory=dict)  # `stg_` -> `raw.staging`
    capture_assets: bool = True  # False: no Airflow asset, event, outlet or inlet in the graph
    max_runs_per_dag: int | None = None  # the most recent runs kept per DAG; None: all that were read

    def for_project(self, project: DbtProject) -> JoinSettings:
        """The settings a project's nodes are named with: its own dbt platform instance when each project has one."""
        if not self.dbt_platform_instance_from_project:
            return self
        return replace(self, dbt_platform_instance=project.project_name)
