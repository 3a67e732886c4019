"""Airflow DAGs and tasks -> flows and jobs, with what each task reads and writes and the tasks before it.

A Cosmos task writes its dbt node's warehouse table and reads the tables that node is built from (test and
source tasks only read). Plain tasks read their inlets and write their outlets. Asset events add what a task
was seen writing. The first tasks of an asset-scheduled DAG read the assets it waits for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from bridge.join.assets import AssetResolver
from bridge.join.cosmos_tasks import TaskMatch
from bridge.join.dbt_datasets import materialized_upstreams, warehouse_key
from bridge.join.inventory import inventory_properties
from bridge.join.ownership import airflow_owners, unique
from bridge.join.settings import JoinSettings
from bridge.model.airflow import AirflowDag, AirflowTask, AssetEvent, ConnectionInfo, upstream_ids
from bridge.model.dbt import DbtProject
from bridge.model.graph import WRITING_ROLES, CosmosTask, DatasetKey, Flow, Job, JobKey
from bridge.model.report import Problem


@dataclass(frozen=True, slots=True)
class AirflowContext:
    """What building one DAG's jobs needs besides the DAG itself."""

    projects: Mapping[str, DbtProject]
    matches: Mapping[tuple[str, str], TaskMatch]
    events: Mapping[tuple[str, str], tuple[AssetEvent, ...]]
    resolver: AssetResolver
    settings: JoinSettings
    connections: Mapping[str, ConnectionInfo] = field(default_factory=dict)


def build_flow(dag: AirflowDag, settings: JoinSettings) -> Flow:
    optional = {
        "fileloc": dag.fileloc,
        "schedule": dag.schedule,
        "version_number": str(dag.version_number) if dag.version_number is not None else None,
        "deadline": "; ".join(dag.deadlines) or None,
    }
    properties = {"is_paused": str(dag.is_paused).lower(), "is_active": str(dag.is_active).lower()}
    return Flow(
        dag_id=dag.dag_id,
        cluster=settings.airflow_cluster,
        description=dag.description or dag.doc_md or "",
        owners=airflow_owners(dag.owners),
        tags=unique(dag.tags),
        properties=properties | {k: v for k, v in optional.items() if v},
    )


def build_jobs(dag: AirflowDag, context: AirflowContext) -> tuple[list[Job], list[Problem]]:
    upstream_ids = upstream_task_ids(dag)
    schedule_inputs, problems = _resolve_all([a.uri for a in dag.schedule_assets], context.resolver)
    jobs = []
    for task_id, task in sorted(dag.tasks.items()):
        inputs, outputs, task_problems = _task_io(dag.dag_id, task, context)
        if not upstream_ids[task_id]:
            inputs = inputs | set(schedule_inputs)
        problems.extend(task_problems)
        jobs.append(_job(dag, task, context, inputs, outputs, upstream_ids[task_id]))
    return jobs, problems


def upstream_task_ids(dag: AirflowDag) -> dict[str, set[str]]:
    """Upstream ids per task: those read, and the downstream ids inverted (`upstream_ids`)."""
    inverted = upstream_ids(dag.tasks.values())
    return {task_id: {*task.upstream_task_ids, *inverted.get(task_id, ())} for task_id, task in dag.tasks.items()}


def _job(
    dag: AirflowDag,
    task: AirflowTask,
    context: AirflowContext,
    inputs: set[DatasetKey],
    outputs: set[DatasetKey],
    upstream: set[str],
) -> Job:
    cluster = context.settings.airflow_cluster
    match = context.matches.get((dag.dag_id, task.task_id))
    properties = {"operator_module": task.operator_module, "operator_class": task.operator_class}
    if task.task_group_id:
        properties["task_group"] = task.task_group_id
    if task.sla_seconds is not None:
        properties["sla"] = str(timedelta(seconds=task.sla_seconds))
    properties |= inventory_properties(task, context.connections)
    return Job(
        key=JobKey(dag.dag_id, task.task_id, cluster),
        operator=task.operator_class,
        description=task.doc or "",
        inputs=tuple(sorted(inputs)),
        outputs=tuple(sorted(outputs)),
        upstream_jobs=tuple(JobKey(dag.dag_id, up, cluster) for up in sorted(upstream) if up in dag.tasks),
        dbt_unique_id=match.node_id if match else None,
        dbt_nodes=match.nodes if match else (),
        dbt_tests=match.tests if match else (),
        owners=airflow_owners([task.owner]),
        tags=unique(dag.tags),
        properties=properties,
        cosmos=CosmosTask(match.role, match.method) if match is not None else None,
    )


def _task_io(
    dag_id: str, task: AirflowTask, context: AirflowContext
) -> tuple[set[DatasetKey], set[DatasetKey], list[Problem]]:
    inputs, problems = _resolve_all([a.uri for a in task.inlets], context.resolver)
    outlet_uris = [a.uri for a in task.outlets if a.kind == "asset"]
    outlet_uris += [e.asset_uri for e in context.events.get((dag_id, task.task_id), ())]
    outputs, outlet_problems = _resolve_all(outlet_uris, context.resolver)
    dbt_inputs, dbt_outputs = _cosmos_io(context.matches.get((dag_id, task.task_id)), context)
    return set(inputs) | dbt_inputs, set(outputs) | dbt_outputs, problems + outlet_problems


def _cosmos_io(match: TaskMatch | None, context: AirflowContext) -> tuple[set[DatasetKey], set[DatasetKey]]:
    """A Cosmos task's tables: a writing task writes its nodes' and reads what they are built from (what it
    writes itself aside); a test task reads the tables its tests read; a source task, the sources it checks."""
    if match is None or not match.nodes or match.project_name is None:
        return set(), set()
    project = context.projects[match.project_name]
    nodes = [project.nodes[uid] for uid in match.nodes]
    own = {warehouse_key(n.relation, project.adapter_type, context.settings) for n in nodes if n.relation}
    if match.role not in WRITING_ROLES:
        return own, set()
    read = {
        warehouse_key(up.relation, project.adapter_type, context.settings)
        for node in nodes
        for up in materialized_upstreams(node, project.nodes)
        if up.relation
    }
    return read - own, own


def _resolve_all(uris: list[str], resolver: AssetResolver) -> tuple[list[DatasetKey], list[Problem]]:
    keys, problems = [], []
    for uri in uris:
        key, problem = resolver.resolve(uri)
        keys.append(key)
        if problem:
            problems.append(problem)
    return keys, problems
