"""The lineage graph as DataHub metadata change proposals, in a stable order: entities by URN, then each
entity's aspects by name (a run's start and end events keep their order). Entities are ordered before any
MCP is built, and MCPs are built one entity at a time, so a sink can stream them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import NamedTuple

from datahub.emitter.mce_builder import make_domain_urn
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import DomainPropertiesClass

from bridge.emit.airflow import flow_mcps, flow_urn, job_mcps, job_urn
from bridge.emit.aspects import EmitOptions, mcp
from bridge.emit.datasets import dataset_mcps
from bridge.emit.urns import urn_of
from bridge.model.graph import Domain, LineageGraph

Builder = Callable[[], list[MetadataChangeProposalWrapper]]


class Entity(NamedTuple):
    """One entity to emit: its URN, the graph value its MCPs are made from (what an incremental sync
    compares with the last one), and what builds its MCPs."""

    urn: str
    value: object
    build: Builder


def graph_to_mcps(graph: LineageGraph, options: EmitOptions | None = None) -> Iterator[MetadataChangeProposalWrapper]:
    for entity in graph_entities(graph, options or EmitOptions()):
        yield from entity_mcps(entity)


def entity_mcps(entity: Entity) -> list[MetadataChangeProposalWrapper]:
    return sorted(entity.build(), key=lambda proposal: proposal.aspectName or "")


def graph_entities(graph: LineageGraph, options: EmitOptions) -> list[Entity]:
    """Every entity of the graph, in URN order."""
    return sorted(entity_builders(graph, options), key=lambda entity: entity.urn)


def entity_builders(graph: LineageGraph, options: EmitOptions) -> list[Entity]:
    builders = [Entity(make_domain_urn(d.domain_id), d, partial(_domain, d)) for d in graph.domains]
    builders += [Entity(urn_of(d.key), d, partial(dataset_mcps, d, options)) for d in graph.datasets]
    builders += [Entity(flow_urn(f.dag_id, f.cluster), f, partial(flow_mcps, f, options)) for f in graph.flows]
    checks = assertions_by_test(graph) if graph.assertions and any(j.dbt_tests for j in graph.jobs) else {}
    builders += [  # a job names its tests' assertions: their URNs are part of what its records are made from
        Entity(
            job_urn(j.key),
            (j, tuple(u for t in j.dbt_tests for u in checks.get(t, ()))),
            partial(job_mcps, j, options, checks),
        )
        for j in graph.jobs
    ]
    if graph.runs:
        from bridge.emit.runs import run_instance, run_mcps  # DataHub's run classes import its REST client

        instances = [(run, run_instance(run, options.urls)) for run in graph.runs]
        builders += [Entity(str(instance.urn), run, partial(run_mcps, run, instance)) for run, instance in instances]
    if graph.dbt_results:
        from bridge.emit.dbt_runs import dbt_run_entities  # as above

        builders += [Entity(*entity) for entity in dbt_run_entities(graph)]
    if graph.assertions:
        from bridge.emit.assertions import assertion_mcps, assertion_urn  # DataHub's assertion classes

        builders += [Entity(assertion_urn(a), a, partial(assertion_mcps, a)) for a in graph.assertions]
    return builders


def assertions_by_test(graph: LineageGraph) -> dict[str, tuple[str, ...]]:
    """dbt test unique_id -> the URNs of its assertions (one per node it reads)."""
    from bridge.emit.assertions import assertion_urn  # DataHub's assertion classes

    found: dict[str, list[str]] = {}
    for assertion in graph.assertions:
        if assertion.kind == "test":
            found.setdefault(assertion.dbt_unique_id, []).append(assertion_urn(assertion))
    return {test: tuple(sorted(urns)) for test, urns in found.items()}


def _domain(domain: Domain) -> list[MetadataChangeProposalWrapper]:
    return [mcp(make_domain_urn(domain.domain_id), DomainPropertiesClass(name=domain.name))]
