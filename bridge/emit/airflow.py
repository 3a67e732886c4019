"""Flow and job aspects, with the URNs DataHub's Airflow plugin gives DAGs and tasks."""

from __future__ import annotations

from datahub.emitter.mce_builder import make_data_flow_urn, make_data_job_urn_with_flow
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import (
    DataFlowInfoClass,
    DataJobInfoClass,
    DataJobInputOutputClass,
    EdgeClass,
    OwnershipTypeClass,
)

from bridge.emit.airflow_urls import AirflowUrls
from bridge.emit.common import mcp, shared_aspects, subtypes
from bridge.emit.urns import urn_of
from bridge.model.graph import Flow, Job, JobKey

ORCHESTRATOR = "airflow"


def flow_urn(dag_id: str, cluster: str) -> str:
    return make_data_flow_urn(ORCHESTRATOR, dag_id, cluster)


def job_urn(key: JobKey) -> str:
    return make_data_job_urn_with_flow(flow_urn(key.dag_id, key.cluster), key.task_id)


def flow_mcps(flow: Flow, urls: AirflowUrls) -> list[MetadataChangeProposalWrapper]:
    urn = flow_urn(flow.dag_id, flow.cluster)
    info = DataFlowInfoClass(
        name=flow.dag_id,
        description=flow.description or None,
        customProperties=dict(sorted(flow.properties.items())),
        externalUrl=urls.dag(flow.dag_id),
    )
    aspects = [mcp(urn, info), mcp(urn, subtypes("DAG"))]
    return aspects + shared_aspects(urn, flow.owners, OwnershipTypeClass.DEVELOPER, flow.tags, flow.domain)


def job_mcps(job: Job, urls: AirflowUrls) -> list[MetadataChangeProposalWrapper]:
    urn = job_urn(job.key)
    info = DataJobInfoClass(
        name=job.key.task_id,
        type="COMMAND",
        flowUrn=flow_urn(job.key.dag_id, job.key.cluster),
        description=job.description or None,
        customProperties=dict(sorted(job.properties.items())),
        externalUrl=urls.task(job.key.dag_id, job.key.task_id),
    )
    inputs, outputs = [urn_of(k) for k in job.inputs], [urn_of(k) for k in job.outputs]
    upstream_jobs = [job_urn(k) for k in job.upstream_jobs]
    io = DataJobInputOutputClass(
        inputDatasets=inputs,
        outputDatasets=outputs,
        inputDatajobs=upstream_jobs,
        inputDatasetEdges=[EdgeClass(destinationUrn=u) for u in inputs],
        outputDatasetEdges=[EdgeClass(destinationUrn=u) for u in outputs],
        inputDatajobEdges=[EdgeClass(destinationUrn=u) for u in upstream_jobs],
    )
    subtype = "Cosmos dbt task" if "cosmos_role" in job.properties else "Task"
    aspects = [mcp(urn, info), mcp(urn, io), mcp(urn, subtypes(subtype))]
    return aspects + shared_aspects(urn, job.owners, OwnershipTypeClass.DEVELOPER, job.tags, job.domain)
