"""Domains, owners and tags laid onto the joined entities (precedence documented in domains.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from bridge.join.asset_uris import FILE_PLATFORMS
from bridge.join.domains import agreed_domain, first_rule_match, node_domain
from bridge.join.ownership import node_owners
from bridge.join.settings import JoinSettings
from bridge.model.dbt import DbtProject
from bridge.model.graph import Dataset, DatasetKey, Domain, Flow, Job
from bridge.model.report import Problem


def asset_datasets(jobs: Iterable[Job], known: Iterable[Dataset], settings: JoinSettings) -> list[Dataset]:
    """Datasets that only Airflow names (explicit outlets/inlets, events, schedules)."""
    present = {d.key for d in known}
    keys = {k for job in jobs for k in (*job.inputs, *job.outputs)} - present
    return [Dataset(key=k, display_name=k.short_name, subtype=_subtype(k)) for k in sorted(keys)]


def _subtype(key: DatasetKey) -> str:
    if key.platform in FILE_PLATFORMS:
        return "File"
    return "Asset" if key.platform == "airflow" else "Table"


def assign_dbt_owners(projects: list[DbtProject], datasets: list[Dataset]) -> list[Dataset]:
    owners: dict[str, tuple[str, ...]] = {}
    for project in projects:
        groups = {g.name: g for g in project.groups.values()}
        owners |= {uid: node_owners(node, groups) for uid, node in project.nodes.items()}
    return [_with(d, owners=owners.get(d.dbt_unique_id, d.owners)) if d.dbt_unique_id else d for d in datasets]


def assign_domains(
    projects: list[DbtProject], datasets: list[Dataset], flows: list[Flow], jobs: list[Job], settings: JoinSettings
) -> tuple[list[Dataset], list[Flow], list[Job], list[Problem]]:
    node_domains = {uid: node_domain(n, settings) for p in projects for uid, n in p.nodes.items()}
    flow_domains, problems = _flow_domains(flows, jobs, node_domains, settings)
    jobs = [replace(j, domain=job_domain(j, node_domains) or flow_domains.get(j.key.dag_id)) for j in jobs]
    flows = [replace(f, domain=flow_domains.get(f.dag_id)) for f in flows]
    datasets, asset_problems = _dataset_domains(datasets, node_domains, jobs, flow_domains)
    return datasets, flows, jobs, problems + asset_problems + _models_without_domain(projects, node_domains)


def job_domain(job: Job, node_domains: Mapping[str, str | None]) -> str | None:
    """A Cosmos task's domain: its node's, or the one domain all its nodes that have one agree on."""
    if job.dbt_unique_id:
        return node_domains.get(job.dbt_unique_id)
    found = {node_domains.get(uid) for uid in job.dbt_nodes} - {None}
    return found.pop() if len(found) == 1 else None


def _models_without_domain(projects: list[DbtProject], node_domains: Mapping[str, str | None]) -> list[Problem]:
    message = "has no domain: set meta.domain (or meta.datahub.domain) or a dbt group for it"
    return [
        Problem("model-without-domain", "info", f"model {node.unique_id}", message)
        for project in projects
        for node in project.of_type("model")
        if not node_domains.get(node.unique_id)
    ]


def _flow_domains(
    flows: list[Flow], jobs: list[Job], node_domains: Mapping[str, str | None], settings: JoinSettings
) -> tuple[dict[str, str | None], list[Problem]]:
    domains: dict[str, str | None] = {}
    problems = []
    for flow in flows:
        members = (job_domain(j, node_domains) for j in jobs if j.key.dag_id == flow.dag_id)
        rule = first_rule_match(settings.dag_domain_rules, flow.dag_id)
        domains[flow.dag_id], problem = agreed_domain(f"dag {flow.dag_id}", rule, members)
        problems += [problem] if problem else []
    return domains, problems


def _dataset_domains(
    datasets: list[Dataset],
    node_domains: Mapping[str, str | None],
    jobs: list[Job],
    flow_domains: Mapping[str, str | None],
) -> tuple[list[Dataset], list[Problem]]:
    producers: dict[DatasetKey, set[str]] = {}
    for job in jobs:
        for key in job.outputs:
            producers.setdefault(key, set()).add(job.key.dag_id)
    result, problems = [], []
    for dataset in datasets:
        domain = node_domains.get(dataset.dbt_unique_id) if dataset.dbt_unique_id else None
        if dataset.dbt_unique_id is None:
            members = (flow_domains.get(dag_id) for dag_id in sorted(producers.get(dataset.key, ())))
            domain, problem = agreed_domain(f"asset {dataset.key.platform}:{dataset.key.name}", None, members)
            problems += [problem] if problem else []
        result.append(_with(dataset, domain=domain))
    return result, problems


def _with(dataset: Dataset, **changes: Any) -> Dataset:
    """`dataset` with `changes`, itself when they change nothing (most datasets of a large project: a copy
    of each was a tenth of the join)."""
    return replace(dataset, **changes) if any(getattr(dataset, k) != v for k, v in changes.items()) else dataset


def assign_producer_ownership(datasets: list[Dataset], flows: list[Flow], jobs: list[Job]) -> list[Dataset]:
    """Every dataset a DAG writes takes that DAG's owners and tags, de-duplicated."""
    flows_by_id = {f.dag_id: f for f in flows}
    inherited: dict[DatasetKey, tuple[set[str], set[str]]] = {}
    for job in jobs:
        flow = flows_by_id[job.key.dag_id]
        for key in job.outputs:
            owners, tags = inherited.setdefault(key, (set(), set()))
            owners.update(flow.owners)
            tags.update(flow.tags)
    return [_with_inherited(d, inherited.get(d.key)) for d in datasets]


def _with_inherited(dataset: Dataset, inherited: tuple[set[str], set[str]] | None) -> Dataset:
    if inherited is None:
        return dataset
    owners, tags = inherited
    return replace(
        dataset, owners=tuple(sorted(owners | set(dataset.owners))), tags=tuple(sorted(tags | set(dataset.tags)))
    )


def domain_entities(datasets: Iterable[Dataset], flows: Iterable[Flow], jobs: Iterable[Job]) -> tuple[Domain, ...]:
    entities: list[Dataset | Flow | Job] = [*datasets, *flows, *jobs]
    ids = {e.domain for e in entities if e.domain}
    return tuple(Domain(domain_id=d, name=d) for d in sorted(ids))
