"""Flow and job aspects, with the URNs and the shapes DataHub's Airflow plugin gives DAGs and tasks."""

from __future__ import annotations

from collections.abc import Mapping

from datahub.emitter.mce_builder import make_data_flow_urn, make_data_job_urn_with_flow
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import (
    DataFlowInfoClass,
    DataJobInfoClass,
    DataJobInputOutputClass,
    EdgeClass,
)

from bridge.emit.aspects import (
    EMPTY_BROWSE_PATH,
    STATUS_ACTIVE,
    EmitOptions,
    airflow_ownership,
    domains,
    entity_browse_path,
    global_tags,
    present,
    subtypes,
)
from bridge.emit.urns import urn_of
from bridge.model.graph import CosmosTask, Flow, Job, JobKey

ORCHESTRATOR = "airflow"


def flow_urn(dag_id: str, cluster: str) -> str:
    return make_data_flow_urn(ORCHESTRATOR, dag_id, cluster)


def job_urn(key: JobKey) -> str:
    return make_data_job_urn_with_flow(flow_urn(key.dag_id, key.cluster), key.task_id)


def flow_mcps(flow: Flow, options: EmitOptions) -> list[MetadataChangeProposalWrapper]:
    info = DataFlowInfoClass(
        name=flow.dag_id,
        description=flow.description or None,
        customProperties=dict(sorted(flow.properties.items())),
        externalUrl=options.urls.dag(flow.dag_id),
    )
    return present(
        flow_urn(flow.dag_id, flow.cluster),
        info,
        subtypes("DAG"),
        STATUS_ACTIVE,
        EMPTY_BROWSE_PATH,
        airflow_ownership(flow.owners),
        global_tags(flow.tags),
        domains(flow.domain),
    )


def job_mcps(
    job: Job, options: EmitOptions, assertions: Mapping[str, tuple[str, ...]] | None = None
) -> list[MetadataChangeProposalWrapper]:
    """`assertions`: dbt test unique_id -> its assertions' URNs, named on the tasks that run the tests."""
    parent = flow_urn(job.key.dag_id, job.key.cluster)
    info = DataJobInfoClass(
        name=job.key.task_id,
        type="COMMAND",
        flowUrn=parent,
        description=job.description or None,
        customProperties=dict(
            sorted({**job.properties, **_cosmos_properties(job.cosmos), **_test_properties(job, assertions)}.items())
        ),
        externalUrl=options.urls.task(job.key.dag_id, job.key.task_id),
    )
    subtype = "Cosmos dbt task" if job.cosmos is not None else "Task"
    return present(
        job_urn(job.key),
        info,
        _input_output(job),
        subtypes(subtype),
        STATUS_ACTIVE,
        entity_browse_path([parent]),
        airflow_ownership(job.owners),
        global_tags(job.tags),
        domains(job.domain),
    )


def _cosmos_properties(cosmos: CosmosTask | None) -> dict[str, str]:
    return {"cosmos_role": cosmos.role, "cosmos_matched_by": cosmos.matched_by} if cosmos is not None else {}


# More assertions than this on one task (a test task of a whole project) are counted, not listed.
MAX_LISTED_ASSERTIONS = 100


def _test_properties(job: Job, assertions: Mapping[str, tuple[str, ...]] | None) -> dict[str, str]:
    """The dbt tests a Cosmos task runs: how many, and the URNs of their assertions (a link to each)."""
    if not job.dbt_tests:
        return {}
    urns = sorted({urn for test in job.dbt_tests for urn in (assertions or {}).get(test, ())})
    listed = {"dbt_assertions": ", ".join(urns)} if urns and len(urns) <= MAX_LISTED_ASSERTIONS else {}
    return {"dbt_tests": str(len(job.dbt_tests)), **listed}


def _input_output(job: Job) -> DataJobInputOutputClass:
    inputs, outputs = [urn_of(k) for k in job.inputs], [urn_of(k) for k in job.outputs]
    upstream_jobs = [job_urn(k) for k in job.upstream_jobs]
    return DataJobInputOutputClass(
        inputDatasets=inputs,
        outputDatasets=outputs,
        inputDatajobs=upstream_jobs,
        inputDatasetEdges=[EdgeClass(destinationUrn=u) for u in inputs],
        outputDatasetEdges=[EdgeClass(destinationUrn=u) for u in outputs],
        inputDatajobEdges=[EdgeClass(destinationUrn=u) for u in upstream_jobs],
    )
