"""dbt tests and source freshness as DataHub assertions, equal to those DataHub's dbt source writes
(acryl-datahub 1.7, default configuration: `include_env_in_assertion_guid` off, no graph, so no notes).

Id: the md5 guid (`datahub_guid`) of {platform: dbt, name: the node's unique id (a source's followed by
`_freshness`), instance: the dbt platform instance when set, on_dbt_upstream: the node a test is about,
only when the test reads several}. The env is not part of it, as in the dbt source by default.

Aspects: `assertionInfo` (CUSTOM, source EXTERNAL, the check of `bridge.join.dbt_test_checks` as a
custom assertion of type `dbt`, `dbt Freshness` for freshness), `dataPlatformInstance` (dbt),
`status`, `ownership` of a test's `meta.owner`, and one `assertionRunEvent` (COMPLETE) per evaluation.
"""

from __future__ import annotations

from datahub.emitter.mce_builder import (
    datahub_guid,
    make_assertion_urn,
    make_data_platform_urn,
    make_dataplatform_instance_urn,
    make_schema_field_urn,
)
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import (
    AssertionInfoClass,
    AssertionResultClass,
    AssertionRunEventClass,
    AssertionRunStatusClass,
    AssertionSourceClass,
    AssertionSourceTypeClass,
    AssertionStdParameterClass,
    AssertionStdParametersClass,
    AssertionTypeClass,
    CustomAssertionInfoClass,
    DataPlatformInstanceClass,
)

from bridge.emit.aspects import STATUS_ACTIVE, dataset_ownership, mcp, present
from bridge.emit.urns import urn_of
from bridge.model.graph import Assertion, AssertionCheck, AssertionParameter, AssertionRun, RunKey

DBT = "dbt"


def assertion_urn(assertion: Assertion) -> str:
    name = f"{assertion.dbt_unique_id}_freshness" if assertion.kind == "freshness" else assertion.dbt_unique_id
    guid_of = {"platform": DBT, "name": name, "instance": assertion.dbt_platform_instance}
    if assertion.names_upstream:
        guid_of["on_dbt_upstream"] = assertion.upstream_unique_id
    return make_assertion_urn(datahub_guid({key: value for key, value in guid_of.items() if value is not None}))


def assertion_mcps(assertion: Assertion) -> list[MetadataChangeProposalWrapper]:
    urn = assertion_urn(assertion)
    events = [mcp(urn, run_event(urn, assertion, run)) for run in assertion.runs]
    aspects = present(urn, assertion_info(assertion), platform_instance(assertion), dataset_ownership(assertion.owners))
    return [*aspects, mcp(urn, STATUS_ACTIVE), *events]


def assertion_info(assertion: Assertion) -> AssertionInfoClass:
    entity = urn_of(assertion.assertee)
    custom = (
        custom_check(entity, assertion.check)
        if assertion.check
        else CustomAssertionInfoClass(type="dbt Freshness", entity=entity)
    )
    return AssertionInfoClass(
        type=AssertionTypeClass.CUSTOM,
        customProperties=dict(assertion.properties),
        description=assertion.description,
        source=AssertionSourceClass(type=AssertionSourceTypeClass.EXTERNAL),
        customAssertion=custom,
    )


def custom_check(entity: str, check: AssertionCheck) -> CustomAssertionInfoClass:
    fields = [make_schema_field_urn(entity, check.column)] if check.column else None
    return CustomAssertionInfoClass(
        type=DBT,
        entity=entity,
        field=fields[0] if fields else None,
        fields=fields,
        scope=check.scope,
        operator=check.operator,
        aggregation=check.aggregation,
        parameters=_parameters(check),
        nativeType=check.native_type,
        logic=check.logic,
        nativeParameters=dict(check.native_parameters),
    )


def _parameters(check: AssertionCheck) -> AssertionStdParametersClass | None:
    if not (check.value or check.min_value or check.max_value):
        return None
    return AssertionStdParametersClass(
        value=_parameter(check.value), minValue=_parameter(check.min_value), maxValue=_parameter(check.max_value)
    )


def _parameter(parameter: AssertionParameter | None) -> AssertionStdParameterClass | None:
    return AssertionStdParameterClass(value=parameter.value, type=parameter.type) if parameter else None


def platform_instance(assertion: Assertion) -> DataPlatformInstanceClass:
    platform = make_data_platform_urn(DBT)
    instance = assertion.dbt_platform_instance
    return DataPlatformInstanceClass(
        platform=platform, instance=make_dataplatform_instance_urn(platform, instance) if instance else None
    )


def run_event(urn: str, assertion: Assertion, run: AssertionRun) -> AssertionRunEventClass:
    return AssertionRunEventClass(
        timestampMillis=run.timestamp_ms,
        assertionUrn=urn,
        asserteeUrn=urn_of(assertion.assertee),
        runId=run.run_id,
        result=AssertionResultClass(type=run.result, severity=run.severity, nativeResults=dict(run.native_results)),
        status=AssertionRunStatusClass.COMPLETE,
        runtimeContext=_task_run(run.task_run),
    )


def _task_run(task_run: RunKey | None) -> dict[str, str] | None:
    """The Cosmos task run that ran the test: its process instance, DAG, task and run (none when dbt ran alone)."""
    if task_run is None:
        return None
    from bridge.emit.runs import instance_urn

    given = {"airflowTaskRun": str(instance_urn(task_run)), "dagId": task_run.dag_id, "taskId": task_run.task_id}
    return {k: v for k, v in (given | {"runId": task_run.run_id}).items() if v is not None}
