"""A catalog gives each dbt entity its columns, written as DataHub's own dbt source writes them: both tools run
on the bundled project's real manifest and catalog (dbt docs generate on PostgreSQL), and every dbt entity's
`schemaMetadata` is compared, field for field.

DataHub's source also gives ephemeral models (in no catalog) a schema it infers by parsing their compiled SQL
(`infer_dbt_schemas`); the bridge parses no SQL, so those are the one difference, and the test names them.

Field order is compared as a set: the committed catalog is normalised with sorted keys, and DataHub's source
follows the file's key order while the bridge follows the catalog's column `index` (the table's own order,
which is also the key order of a catalog dbt writes).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import POSTGRES_ARTIFACTS

pytestmark = pytest.mark.integration
MANIFEST, CATALOG = POSTGRES_ARTIFACTS / "manifest.json", POSTGRES_ARTIFACTS / "catalog.json"


def dbt_schemas(path: Path) -> dict[str, dict[str, Any]]:
    """urn -> schemaMetadata of every dbt entity in a file sink's output (MCPs or MCE snapshots)."""
    text = path.read_text().replace("com.linkedin.pegasus2avro.", "com.linkedin.")
    found: dict[str, dict[str, Any]] = {}
    for record in json.loads(text):
        if record.get("aspectName") == "schemaMetadata":
            found[record["entityUrn"]] = record["aspect"]["json"]
        for snapshot in record.get("proposedSnapshot", {}).values():
            for aspect in snapshot["aspects"]:
                for name, value in aspect.items():
                    if name.endswith(".SchemaMetadata"):
                        found[snapshot["urn"]] = value
    return {urn: schema for urn, schema in found.items() if "dataPlatform:dbt," in urn}


def by_field(schema: dict[str, Any]) -> dict[str, Any]:
    return schema | {"fields": sorted(schema["fields"], key=lambda f: f["fieldPath"])}


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    work = tmp_path_factory.mktemp("catalog")
    recipe = {
        "source": {
            "type": "dbt",
            "config": {
                "manifest_path": str(MANIFEST),
                "catalog_path": str(CATALOG),
                "target_platform": "postgres",
                "write_semantics": "OVERRIDE",
            },
        },
        "sink": {"type": "file", "config": {"filename": str(work / "theirs.json")}},
    }
    (work / "recipe.json").write_text(json.dumps(recipe))
    datahub = Path(sys.executable).with_name("datahub")
    subprocess.run([str(datahub), "ingest", "-c", "recipe.json"], cwd=work, check=True, capture_output=True)
    bridge = [sys.executable, "-m", "bridge", "sync", "--manifest", str(MANIFEST), "--catalog", str(CATALOG)]
    subprocess.run([*bridge, "--sink", "file:ours.json"], cwd=work, check=True, capture_output=True)
    return dbt_schemas(work / "ours.json"), dbt_schemas(work / "theirs.json")


def test_every_dbt_entity_has_the_schema_datahubs_dbt_source_writes(
    both: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    ours, theirs = both
    manifest = json.loads(MANIFEST.read_text())["nodes"]
    ephemeral = {n["unique_id"] for n in manifest.values() if n["config"].get("materialized") == "ephemeral"}
    assert len(ours) >= 30
    assert {theirs[urn]["schemaName"] for urn in set(theirs) - set(ours)} == ephemeral
    for urn in sorted(ours):
        assert by_field(ours[urn]) == by_field(theirs[urn]), urn


def test_columns_keep_the_tables_order_and_types(both: tuple[dict[str, Any], dict[str, Any]]) -> None:
    ours, _ = both
    catalog = json.loads(CATALOG.read_text())["nodes"]["model.finance.dim_securities"]["columns"]
    schema = next(s for s in ours.values() if s["schemaName"] == "model.finance.dim_securities")
    in_table_order = [c["name"] for c in sorted(catalog.values(), key=lambda c: c["index"])]
    assert [f["fieldPath"] for f in schema["fields"]] == in_table_order
    assert {f["nativeDataType"] for f in schema["fields"]} <= {c["type"] for c in catalog.values()}
