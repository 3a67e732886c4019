"""The lineage graph as DataHub metadata change proposals, sorted so the same graph gives the same bytes."""

from __future__ import annotations

from collections.abc import Iterator

from datahub.emitter.mce_builder import make_domain_urn
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import DomainPropertiesClass

from bridge.emit.airflow import flow_mcps, job_mcps
from bridge.emit.airflow_urls import AirflowUrls
from bridge.emit.common import mcp
from bridge.emit.datasets import dataset_mcps
from bridge.model.graph import LineageGraph


def graph_to_mcps(
    graph: LineageGraph, airflow_base_url: str | None = None, airflow_major: int | None = None
) -> Iterator[MetadataChangeProposalWrapper]:
    """Every aspect of every entity, ordered by entity URN (runs' events keep their start-end order)."""
    urls = AirflowUrls(airflow_base_url, airflow_major)
    proposals: list[MetadataChangeProposalWrapper] = []
    for domain in graph.domains:
        proposals.append(mcp(make_domain_urn(domain.domain_id), DomainPropertiesClass(name=domain.name)))
    for dataset in graph.datasets:
        proposals += dataset_mcps(dataset)
    for flow in graph.flows:
        proposals += flow_mcps(flow, urls)
    for job in graph.jobs:
        proposals += job_mcps(job, urls)
    if graph.runs:
        from bridge.emit.runs import run_mcps  # DataHub's run classes pull in its REST client: only when needed

        for run in graph.runs:
            proposals += run_mcps(run, urls)
    proposals.sort(key=lambda p: (p.entityUrn or "", p.aspectName or ""))
    yield from proposals
