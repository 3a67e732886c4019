"""The compiled aspect JSON equals DataHub's own, also for the schema shapes the bridge does not emit today:
ambiguous unions, unions inside arrays and maps, unions of primitives, a union with aliases, defaults."""

from __future__ import annotations

from typing import Any

import pytest
from datahub.emitter.serialization_helper import pre_json_transform
from datahub.metadata.schema_classes import (
    AuditStampClass,
    ChangeAuditStampsClass,
    ChartInfoClass,
    CostClass,
    CostCostClass,
    CostCostDiscriminatorClass,
    CostTypeClass,
    DataJobInfoClass,
    DatasetFieldMappingClass,
    DatasetUpstreamLineageClass,
    EdgeClass,
    MLHyperParamClass,
    MLModelPropertiesClass,
    MySqlDDLClass,
    NumberTypeClass,
    SchemaFieldClass,
    SchemaFieldDataTypeClass,
    SchemaMetadataClass,
    StringTypeClass,
    StructuredPropertiesClass,
    StructuredPropertyValueAssignmentClass,
    TransformationTypeClass,
    UDFTransformerClass,
)

from bridge.emit.aspect_json import aspect_to_json

STAMP = AuditStampClass(time=1, actor="urn:li:corpuser:x")
ASPECTS: list[Any] = [
    SchemaMetadataClass(
        schemaName="s",
        platform="urn:li:dataPlatform:snowflake",
        version=0,
        hash="",
        platformSchema=MySqlDDLClass(tableSchema=""),
        fields=[
            SchemaFieldClass(fieldPath="a", type=SchemaFieldDataTypeClass(NumberTypeClass()), nativeDataType="int"),
            SchemaFieldClass(fieldPath="b", type=SchemaFieldDataTypeClass(StringTypeClass()), nativeDataType="text"),
        ],
    ),
    ChartInfoClass(
        title="c",
        description="",
        lastModified=ChangeAuditStampsClass(created=STAMP),
        inputs=["urn:li:dataset:(urn:li:dataPlatform:x,a,PROD)"],
        inputEdges=[EdgeClass(destinationUrn="urn:li:dataset:(urn:li:dataPlatform:x,b,PROD)")],
        customProperties={"k": "v"},
    ),
    StructuredPropertiesClass(
        properties=[StructuredPropertyValueAssignmentClass(propertyUrn="urn:li:structuredProperty:p", values=["a", 1])]
    ),
    MLModelPropertiesClass(
        hyperParameters={"rate": 0.1, "name": "x", "on": True, "n": 3},
        hyperParams=[MLHyperParamClass(name="rate", value="0.1")],
    ),
    CostClass(
        costType=CostTypeClass.ORG_COST_TYPE,
        cost=CostCostClass(fieldDiscriminator=CostCostDiscriminatorClass.costCode, costCode="cc-1"),
    ),
    DatasetUpstreamLineageClass(
        fieldMappings=[
            DatasetFieldMappingClass(
                created=STAMP,
                transformation=TransformationTypeClass.IDENTITY,
                sourceFields=["urn:li:datasetField:(urn:li:dataset:(urn:li:dataPlatform:x,a,PROD),c)"],
                destinationField="urn:li:datasetField:(urn:li:dataset:(urn:li:dataPlatform:x,b,PROD),c)",
            ),
            DatasetFieldMappingClass(
                created=STAMP,
                transformation=UDFTransformerClass(udf="f"),
                sourceFields=[],
                destinationField="urn:li:datasetField:(urn:li:dataset:(urn:li:dataPlatform:x,b,PROD),d)",
            ),
        ]
    ),
    DataJobInfoClass(name="j", type="COMMAND", customProperties={"a": "1"}),
]


@pytest.mark.parametrize("aspect", ASPECTS, ids=lambda aspect: type(aspect).__name__)
def test_compiled_json_equals_datahubs(aspect: Any) -> None:
    assert aspect_to_json(aspect) == pre_json_transform(aspect.to_obj())
