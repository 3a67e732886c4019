"""What a sync would emit for the dbt side: every node, its relation and its DataHub dataset URNs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from bridge.config import BridgeConfig
from bridge.emit.urns import urn_of
from bridge.join.dbt_datasets import dbt_key, warehouse_key
from bridge.join.settings import JoinSettings
from bridge.model.dbt import RELATION_TYPES, DbtNode, DbtProject
from bridge.model.graph import DatasetKey, Job, LineageGraph


@dataclass(frozen=True, slots=True)
class PlannedDataset:
    unique_id: str
    resource_type: str
    name: str
    materialized: str | None
    relation: str | None
    dbt_urn: str
    warehouse_urn: str | None


@dataclass(frozen=True, slots=True)
class ProjectPlan:
    manifest_path: str
    project_name: str
    adapter_type: str
    dbt_version: str
    schema_version: int
    datasets: tuple[PlannedDataset, ...]

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(d.resource_type for d in self.datasets).items()))


def plan_project(project: DbtProject, config: BridgeConfig) -> ProjectPlan:
    settings = config.join_settings().for_project(project)
    nodes = project.of_type(*sorted(RELATION_TYPES))
    return ProjectPlan(
        manifest_path=project.manifest_path,
        project_name=project.project_name,
        adapter_type=project.adapter_type,
        dbt_version=project.dbt_version,
        schema_version=project.schema_version,
        datasets=tuple(_planned(node, project.adapter_type, settings) for node in nodes),
    )


def _planned(node: DbtNode, adapter_type: str, settings: JoinSettings) -> PlannedDataset:
    warehouse = warehouse_key(node.relation, adapter_type, settings) if node.relation else None
    return PlannedDataset(
        unique_id=node.unique_id,
        resource_type=node.resource_type,
        name=node.display_name,
        materialized=node.materialized,
        relation=node.relation.dotted if node.relation else None,
        dbt_urn=urn_of(dbt_key(node, settings)),
        warehouse_urn=urn_of(warehouse) if warehouse else None,
    )


def plan_as_json(plans: Iterable[ProjectPlan]) -> dict[str, object]:
    return {"projects": [asdict(plan) for plan in plans]}


def plan_as_text(plans: Iterable[ProjectPlan]) -> str:
    lines: list[str] = []
    for plan in plans:
        counts = ", ".join(f"{kind} {n}" for kind, n in plan.counts().items())
        described = f"manifest v{plan.schema_version}" if plan.schema_version else "bridge export"
        about = f"{plan.adapter_type}, dbt {plan.dbt_version}, {described}"
        lines.append(f"{plan.project_name}  ({about})")
        lines.append(f"  {plan.manifest_path}: {counts}")
        for dataset in plan.datasets:
            where = dataset.relation or f"(no relation: {dataset.materialized})"
            lines.append(f"  {dataset.resource_type:<8} {dataset.name:<40} {where}")
            lines.append(f"  {'':<8}   dbt        {dataset.dbt_urn}")
            if dataset.warehouse_urn:
                lines.append(f"  {'':<8}   warehouse  {dataset.warehouse_urn}")
        lines.append("")
    return "\n".join(lines)


def _dbt_text(job: Job) -> str:
    """The dbt node a task stands for, else how many it writes or tests, else how many tests it runs."""
    if job.dbt_unique_id:
        return f"  [{job.dbt_unique_id}]"
    if job.dbt_nodes:
        return f"  [{len(job.dbt_nodes)} dbt nodes, {len(job.dbt_tests)} tests]"
    return ""


def _key_text(key: DatasetKey) -> str:
    return f"{key.platform}:{key.name}"


def graph_as_text(graph: LineageGraph) -> str:
    """DAG -> task -> what it reads and writes, with domains, then the problems."""
    lines = [f"airflow: {len(graph.flows)} DAGs, {len(graph.jobs)} tasks, {len(graph.runs)} runs"]
    jobs_by_dag: dict[str, list[Job]] = {}
    for job in graph.jobs:
        jobs_by_dag.setdefault(job.key.dag_id, []).append(job)
    for flow in graph.flows:
        lines.append(f"  {flow.dag_id}  (domain {flow.domain or '-'}, owners {', '.join(flow.owners) or '-'})")
        for job in jobs_by_dag.get(flow.dag_id, []):
            lines.append(f"    {job.key.task_id}{_dbt_text(job)}")
            lines += [f"      reads  {_key_text(k)}" for k in job.inputs]
            lines += [f"      writes {_key_text(k)}" for k in job.outputs]
    lines.append(f"problems: {len(graph.problems)}")
    lines += [f"  {problem}" for problem in graph.problems]
    return "\n".join(lines) + "\n"


def datasets_as_text(graph: LineageGraph) -> str:
    """Every dataset with its sibling, upstreams, domain, owners and tags: the data side of the graph."""
    lines = [f"datasets: {len(graph.datasets)}"]
    for dataset in graph.datasets:
        sibling = f" == {_key_text(dataset.sibling)}" if dataset.sibling else ""
        lines.append(f"  {_key_text(dataset.key)} [{dataset.subtype}]{sibling}")
        facts = {"domain": dataset.domain, "owners": ", ".join(dataset.owners), "tags": ", ".join(dataset.tags)}
        described = "  ".join(f"{k} {v}" for k, v in facts.items() if v)
        if described:
            lines.append(f"      {described}")
        lines += [f"      from {_key_text(u)}" for u in dataset.upstreams]
    return "\n".join(lines) + "\n"
