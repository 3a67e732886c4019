"""The dbt package in macros/, run with real dbt against the bundled project.

Every expectation comes from the manifest dbt wrote in the same invocation, for the same target: the
export must say exactly what dbt's own `relation_name` says, node for node.

- PostgreSQL (dbt-postgres), under the `local` target and under a `ci` target whose custom schemas
  become `<target.schema>_<custom>` through the project's generate_schema_name;
- Snowflake (dbt-snowflake), with the repository's profiles.example.yml: `run-operation bridge_export`
  opens no connection (the macro runs no query), so it runs for real without Snowflake;
- the on-run-end recipe, in a `dbt build` of two nodes into a throw-away schema of the local PostgreSQL,
  checked against run_results.json and against the tables that exist afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import yaml

from tests.dbt_package.dbt_runs import (
    MARKER,
    PG_HOST,
    PG_PORT,
    copy_project,
    export_document,
    postgres_profiles,
    run_dbt,
    snowflake_profiles,
)

pytestmark = pytest.mark.integration


def manifest_entries(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {**manifest["nodes"], **manifest["sources"], **manifest["exposures"]}


def expected_entry(node: dict[str, Any]) -> dict[str, Any]:
    """What the export must say about one manifest node: the manifest's own fields, under its own names."""
    columns = {
        key: {
            "name": column["name"],
            "description": column.get("description") or "",
            "data_type": column.get("data_type"),
            "tags": column.get("tags") or [],
        }
        for key, column in (node.get("columns") or {}).items()
    }
    test_metadata = node.get("test_metadata")
    return {
        "unique_id": node["unique_id"],
        "resource_type": node["resource_type"],
        "package_name": node["package_name"],
        "name": node["name"],
        "database": node.get("database"),
        "schema": node.get("schema"),
        "alias": node.get("alias"),
        "identifier": node.get("identifier"),
        "relation_name": node.get("relation_name"),
        "config": node["config"],
        "depends_on": {"nodes": (node.get("depends_on") or {}).get("nodes") or []},
        "fqn": node.get("fqn") or [],
        "original_file_path": node.get("original_file_path") or "",
        "patch_path": node.get("patch_path"),
        "description": node.get("description") or "",
        "version": node.get("version"),
        "latest_version": node.get("latest_version"),
        "source_name": node.get("source_name"),
        "group": node.get("group"),
        "access": node.get("access"),
        "tags": node.get("tags") or [],
        "meta": node.get("meta") or {},
        "test_metadata": {
            "name": test_metadata.get("name"),
            "namespace": test_metadata.get("namespace"),
            "kwargs": test_metadata.get("kwargs") or {},
        }
        if test_metadata
        else None,
        "raw_code": node.get("raw_code") if node["resource_type"] == "test" else None,
        "column_name": node.get("column_name"),
        "attached_node": node.get("attached_node"),
        "owner": node.get("owner") if node["resource_type"] == "exposure" else None,
        "url": node.get("url"),
        "columns": columns,
    }


def assert_export_matches_manifest(document: dict[str, Any], manifest: dict[str, Any], target: str) -> None:
    entries = manifest_entries(manifest)
    exported = {entry["unique_id"]: entry for entry in document["nodes"]}
    assert [entry["unique_id"] for entry in document["nodes"]] == sorted(exported), "nodes are not sorted"
    assert set(exported) == set(entries)
    for unique_id, node in entries.items():
        assert exported[unique_id]["relation_name"] == node.get("relation_name"), unique_id
        assert exported[unique_id] == expected_entry(node), unique_id
    groups = [
        {"unique_id": g["unique_id"], "name": g["name"], "owner": {"name": g["owner"].get("name"),
         "email": g["owner"].get("email")}}
        for g in sorted(manifest["groups"].values(), key=lambda g: g["unique_id"])
    ]  # fmt: skip
    assert document["groups"] == groups
    metadata = manifest["metadata"]
    assert document["metadata"] == {
        "project_name": metadata["project_name"],
        "dbt_version": metadata["dbt_version"],
        "adapter_type": metadata["adapter_type"],
    }
    assert document["target"]["type"] == metadata["adapter_type"]
    assert document["target"]["name"] == target
    assert document["format"] == "dbt-lineage-bridge/export"
    assert document["format_version"] == 1


def export_and_manifest(project: Path, profiles: Path, work: Path, target: str) -> tuple[dict[str, Any], Any]:
    stdout = run_dbt(project, profiles, work, "run-operation", "bridge_export", "--target", target)
    manifest = json.loads((work / "target" / "manifest.json").read_text(encoding="utf-8"))
    return export_document(stdout), manifest


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("bridge-export"))


@pytest.mark.parametrize("target", ["local", "ci"])
def test_export_on_postgres_matches_manifest_relation_names(project: Path, tmp_path: Path, target: str) -> None:
    profiles = postgres_profiles(tmp_path / "profiles", ci_schema="pr_1234")
    document, manifest = export_and_manifest(project, profiles, tmp_path, target)

    assert_export_matches_manifest(document, manifest, target)
    assert document["target"]["database"] == "bridge_dbt"
    assert document["run"] is None
    # The manifest itself follows the target (so the comparison above is not vacuous).
    marts_schema = "marts" if target == "local" else "pr_1234_marts"
    assert manifest["nodes"]["model.finance.dim_securities"]["schema"] == marts_schema


def test_export_on_snowflake_matches_manifest_relation_names(project: Path, tmp_path: Path) -> None:
    profiles = snowflake_profiles(tmp_path / "profiles")
    document, manifest = export_and_manifest(project, profiles, tmp_path, "prod")

    assert_export_matches_manifest(document, manifest, "prod")
    assert document["target"] == {"name": "prod", "type": "snowflake", "database": "ANALYTICS", "schema": "DBT_PROD"}
    databases = {entry["database"] for entry in document["nodes"] if entry["relation_name"]}
    assert databases == {"ANALYTICS", "FINANCE"}


def test_export_follows_project_and_source_quoting(tmp_path: Path) -> None:
    project = copy_project(tmp_path, extra_project_config={"quoting": {"identifier": True}})
    sources_path = project / "models" / "staging" / "sources.yml"
    sources = yaml.safe_load(sources_path.read_text(encoding="utf-8"))
    for source in sources["sources"]:
        if source["name"] == "fred":
            source["quoting"] = {"identifier": False, "schema": True}
    sources_path.write_text(yaml.safe_dump(sources, sort_keys=False), encoding="utf-8")
    profiles = snowflake_profiles(tmp_path / "profiles")
    document, manifest = export_and_manifest(project, profiles, tmp_path, "prod")

    assert_export_matches_manifest(document, manifest, "prod")
    # Snowflake quotes nothing by default: both settings must have reached the relation names.
    assert manifest["nodes"]["model.finance.dim_securities"]["relation_name"] == 'ANALYTICS.marts."securities"'
    assert manifest["sources"]["source.finance.fred.series"]["relation_name"] == 'ANALYTICS."raw".raw_fred_series'


def test_export_is_identical_when_repeated(project: Path, tmp_path: Path) -> None:
    profiles = snowflake_profiles(tmp_path / "profiles")
    first = run_dbt(project, profiles, tmp_path / "first", "run-operation", "bridge_export")
    second = run_dbt(project, profiles, tmp_path / "second", "run-operation", "bridge_export")

    assert export_document(first) == export_document(second)
    assert [line for line in first.splitlines() if line.startswith(MARKER)] == [
        line for line in second.splitlines() if line.startswith(MARKER)
    ]


def relation_exists(database: str, schema: str, identifier: str) -> bool:
    connection = psycopg2.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname=database)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select 1 from information_schema.tables where table_schema = %s and table_name = %s",
                (schema, identifier),
            )
            return cursor.fetchone() is not None
    finally:
        connection.close()


def test_on_run_end_recipe_reports_the_run(tmp_path: Path, throwaway_schema: str) -> None:
    hook = {"on-run-end": ["{{ dbt_lineage_bridge.bridge_on_run_end(results) }}"]}
    project = copy_project(tmp_path, extra_project_config=hook)
    profiles = postgres_profiles(tmp_path / "profiles", ci_schema=throwaway_schema)

    stdout = run_dbt(
        project,
        profiles,
        tmp_path / "build",
        "build",
        "--target",
        "ci",
        "--select",
        "country_codes",
        "dim_country",
        "--indirect-selection",
        "cautious",
    )
    document = export_document(stdout)
    manifest = json.loads((tmp_path / "build" / "target" / "manifest.json").read_text(encoding="utf-8"))
    run_results = json.loads((tmp_path / "build" / "target" / "run_results.json").read_text(encoding="utf-8"))

    assert_export_matches_manifest(document, manifest, "ci")
    run = document["run"]
    assert run["command"] == "build"
    assert run["invocation_id"] == run_results["metadata"]["invocation_id"]
    # run_results.json also lists the on-run-end hook itself, which cannot report on its own run.
    expected_results = sorted(
        (result["unique_id"], result["status"])
        for result in run_results["results"]
        if manifest["nodes"][result["unique_id"]]["resource_type"] != "operation"
    )
    assert {"seed.finance.country_codes", "model.finance.dim_country"} < {uid for uid, _ in expected_results}
    assert [(result["unique_id"], result["status"]) for result in run["results"]] == expected_results
    assert all(result["execution_time"] > 0 for result in run["results"])
    # Each result's timing is run_results.json's, to the microsecond.
    timings = {r["unique_id"]: r["timing"] for r in run_results["results"]}
    for result in run["results"]:
        assert result["timing"] == timings[result["unique_id"]], result["unique_id"]
    # The relations the export names are the tables the build created.
    built = [
        entry
        for entry in document["nodes"]
        if entry["unique_id"] in {"seed.finance.country_codes", "model.finance.dim_country"}
    ]
    assert len(built) == 2
    for entry in built:
        assert entry["schema"].startswith(throwaway_schema + "_")
        assert relation_exists(entry["database"], entry["schema"], entry["alias"]), entry["relation_name"]
