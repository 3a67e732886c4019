"""The join, step by step: dbt projects + an Airflow snapshot -> one lineage graph and its problems.

    0. dbt checks              a project given as manifest and export is one; a node defined by several
                               manifests (the first by path is used); nodes without a schema
    1. dbt datasets           every node's dbt entity and warehouse table, siblings and lineage; columns
                               from catalogs
    2. Cosmos matches          every Cosmos task -> its dbt node, or a reported reason
    3. flows and jobs          DAGs and tasks with their inputs, outputs and upstream tasks
    4. asset datasets          datasets named only by Airflow assets (explicit outlets, events, schedules)
    5. domains                 nodes, then tables, tasks, DAGs and assets (see domains.py)
    6. owners and tags         assets inherit those of the DAGs that produce them
    7. runs                    DAG runs and task runs; dbt results (run_results, on-run-end exports), each
                               model, seed and snapshot with the Cosmos task run that executed it; dbt
                               tests and source freshness as assertions with their results (dbt_tests.py)
    8. legacy comparison       where the old prefix mapping would have put each model
    9. import errors           DAG files Airflow could not import, named in the report
Before them, the snapshot is scoped (`scope.py`): assets left out when not captured, runs capped per DAG.
Pure: no I/O; the same inputs always give the same graph.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bridge.join.airflow_jobs import AirflowContext, build_flow, build_jobs
from bridge.join.assets import AssetResolver
from bridge.join.cosmos_tasks import TaskMatch, match_cosmos_tasks
from bridge.join.dbt_artifacts import dbt_results, with_catalog
from bridge.join.dbt_checks import duplicate_node_problems, missing_relation_problems, node_owners, one_per_project
from bridge.join.dbt_datasets import project_datasets
from bridge.join.dbt_runs import link_dbt_results, with_task_runs
from bridge.join.dbt_tests import dbt_assertions
from bridge.join.enrich import (
    asset_datasets,
    assign_dbt_owners,
    assign_domains,
    assign_producer_ownership,
    domain_entities,
)
from bridge.join.legacy import legacy_prefix_problems
from bridge.join.merge import merge_datasets
from bridge.join.runs import build_runs
from bridge.join.scope import scoped
from bridge.join.settings import JoinSettings
from bridge.model.airflow import AirflowSnapshot, AssetEvent
from bridge.model.dbt import CatalogTable, DbtProject, RunResults
from bridge.model.graph import Dataset, Flow, Job, LineageGraph
from bridge.model.report import Problem


def join_lineage(
    projects: list[DbtProject],
    snapshot: AirflowSnapshot | None,
    settings: JoinSettings,
    run_results: Sequence[RunResults] = (),
    catalog: Mapping[str, CatalogTable] | None = None,
) -> LineageGraph:
    projects, problems = one_per_project(sorted(projects, key=lambda p: p.manifest_path))
    owners = node_owners(projects)
    problems += [*duplicate_node_problems(projects, owners), *missing_relation_problems(projects)]
    datasets = merge_datasets([d for p in projects for d in project_datasets(p, settings, owned_by=owners)])
    datasets = with_catalog(datasets, owners, catalog or {})
    snapshot = snapshot or AirflowSnapshot(source="db", airflow_version=None, schema_revision=None, dags={})
    snapshot = scoped(snapshot, settings.capture_assets, settings.max_runs_per_dag)
    matches = match_cosmos_tasks(snapshot.dags, projects)
    flows, jobs, airflow_problems = _flows_and_jobs(projects, snapshot, matches, datasets, settings)
    problems += airflow_problems
    datasets = merge_datasets(datasets + asset_datasets(jobs, datasets, settings))
    datasets, flows, jobs, domain_problems = assign_domains(projects, datasets, flows, jobs, settings)
    datasets = assign_producer_ownership(assign_dbt_owners(projects, datasets), flows, jobs)
    runs = build_runs(snapshot.dag_runs, snapshot.task_instances, {j.key: j for j in jobs}, settings.airflow_cluster)
    problems += [*snapshot.problems, *_unmatched(matches), *domain_problems, *_limitations(snapshot)]
    problems += _import_errors(snapshot)
    problems += legacy_prefix_problems(projects, settings.legacy_prefix_mapping)
    tested = {uid: owner.nodes[uid].depends_on for uid, owner in owners.items() if uid.startswith("test.")}
    results = link_dbt_results(dbt_results(run_results, owners, settings), runs, jobs, tested)
    return LineageGraph(
        datasets=tuple(sorted(datasets, key=lambda d: d.key)),
        flows=tuple(sorted(flows, key=lambda f: f.dag_id)),
        jobs=tuple(sorted(jobs, key=lambda j: j.key)),
        domains=domain_entities(datasets, flows, jobs),
        runs=tuple(runs),
        dbt_results=results,
        problems=tuple(sorted(set(problems), key=lambda p: (p.code, p.location, p.message))),
        assertions=with_task_runs(dbt_assertions(projects, owners, run_results, catalog or {}, settings), results),
    )


def _flows_and_jobs(
    projects: list[DbtProject],
    snapshot: AirflowSnapshot,
    matches: list[TaskMatch],
    datasets: list[Dataset],
    settings: JoinSettings,
) -> tuple[list[Flow], list[Job], list[Problem]]:
    warehouse = [d for d in datasets if d.key.platform != "dbt"]
    context = AirflowContext(
        projects={p.project_name: p for p in projects},
        matches={(m.dag_id, m.task_id): m for m in matches},
        events=_events_by_task(snapshot.asset_events),
        resolver=AssetResolver.over(warehouse, settings),
        settings=settings,
        connections={c.conn_id: c for c in snapshot.connections},
    )
    flows, jobs, problems = [], [], []
    for _, dag in sorted(snapshot.dags.items()):
        flows.append(build_flow(dag, settings))
        dag_jobs, dag_problems = build_jobs(dag, context)
        jobs.extend(dag_jobs)
        problems.extend(dag_problems)
    return flows, jobs, problems


def _events_by_task(events: tuple[AssetEvent, ...]) -> dict[tuple[str, str], tuple[AssetEvent, ...]]:
    grouped: dict[tuple[str, str], list[AssetEvent]] = {}
    for event in events:
        if event.source_dag_id and event.source_task_id:
            grouped.setdefault((event.source_dag_id, event.source_task_id), []).append(event)
    return {key: tuple(found) for key, found in grouped.items()}


def _unmatched(matches: list[TaskMatch]) -> list[Problem]:
    """Cosmos tasks matched to nothing: a command that builds no table (info), a selection the manifest cannot
    evaluate (warning), or one that finds nothing the command runs (error: the DAG and manifest disagree)."""
    found = []
    for m in (m for m in matches if not m.matched):
        where = f"dag {m.dag_id}, task {m.task_id}"
        if m.role == "operation":
            found.append(Problem("cosmos-task-builds-nothing", "info", where, m.reason))
        elif not m.evaluable:
            found.append(Problem("cosmos-selector-not-evaluated", "warning", where, m.reason))
        else:
            found.append(Problem("unmatched-cosmos-task", "error", where, m.reason))
    return found


def _import_errors(snapshot: AirflowSnapshot) -> list[Problem]:
    """DAG files Airflow could not import: their DAGs are missing from Airflow, so from the graph too."""
    found = []
    for error in snapshot.import_errors:
        lines = [line.strip() for line in error.message.splitlines() if line.strip()]
        cause = lines[-1][:300] if lines else "no message"
        message = f"Airflow could not import it ({cause}); the DAGs it defines are missing. Fix the file"
        found.append(Problem("dag-import-error", "warning", f"file {error.filename}", message))
    return found


def _limitations(snapshot: AirflowSnapshot) -> list[Problem]:
    """What the Airflow source could not provide (REST), as info lines of the report."""
    return [Problem("source-limitation", "info", f"airflow {snapshot.source}", text) for text in snapshot.limitations]
