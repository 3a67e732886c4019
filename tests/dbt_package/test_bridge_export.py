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
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BUNDLED = REPO / "dbt_project"
PACKAGE = REPO / "macros"
MARKER = "BRIDGE_EXPORT_V1 "
EXPORTED_NODE_TYPES = {"model", "seed", "snapshot"}
PG_HOST = os.environ.get("BRIDGE_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BRIDGE_PG_PORT", "5432"))

pytestmark = pytest.mark.integration


def dbt_executable() -> str:
    beside_python = Path(sys.executable).with_name("dbt")
    found = str(beside_python) if beside_python.exists() else shutil.which("dbt")
    assert found, f"dbt is not installed next to {sys.executable} nor on PATH"
    return found


def run_dbt(project: Path, profiles: Path, work: Path, *args: str) -> str:
    """Run dbt in `project`, artifacts under `work`; return stdout, fail the test with dbt's output."""
    return run_dbt_command(
        project,
        *args,
        "--profiles-dir",
        str(profiles),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    )


def run_dbt_command(project: Path, *args: str) -> str:
    command = [dbt_executable(), "--quiet", "--no-send-anonymous-usage-stats", *args, "--project-dir", str(project)]
    done = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def export_document(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.startswith(MARKER)]
    assert len(lines) == 1, f"expected one {MARKER.strip()} line, got {len(lines)}:\n{stdout}"
    document: dict[str, Any] = json.loads(lines[0][len(MARKER) :])
    return document


def copy_project(destination: Path, extra_project_config: dict[str, Any] | None = None) -> Path:
    """The bundled project in a temp dir, with the package installed from this checkout."""
    project = destination / "dbt_project"
    shutil.copytree(
        BUNDLED,
        project,
        ignore=shutil.ignore_patterns("artifacts", "dbt_packages", "target", "logs", "package-lock.yml"),
    )
    packages = {"packages": [{"local": str(PACKAGE)}]}
    (project / "packages.yml").write_text(yaml.safe_dump(packages), encoding="utf-8")
    if extra_project_config:
        config_path = project / "dbt_project.yml"
        config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        config.update(extra_project_config)
        config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    run_dbt_command(
        project, "deps", "--profiles-dir", str(BUNDLED / "profiles"), "--log-path", str(destination / "deps-logs")
    )
    return project


def postgres_profiles(directory: Path, ci_schema: str) -> Path:
    """Targets `local` (as in dbt_project/profiles) and `ci`, whose custom schemas get a prefix."""
    output = {
        "type": "postgres",
        "host": PG_HOST,
        "port": PG_PORT,
        "user": "postgres",
        "password": "",
        "dbname": "bridge_dbt",
        "threads": 4,
    }
    profiles = {
        "finance": {
            "target": "local",
            "outputs": {
                "local": {**output, "schema": "public"},
                "ci": {**output, "schema": ci_schema},
            },
        }
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "profiles.yml").write_text(yaml.safe_dump(profiles), encoding="utf-8")
    return directory


def snowflake_profiles(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO / "profiles.example.yml", directory / "profiles.yml")
    return directory


def manifest_entries(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    nodes = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] in EXPORTED_NODE_TYPES}
    return {**nodes, **manifest["sources"], **manifest["exposures"]}


def group_owners(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {group["name"]: group["owner"] for group in manifest["groups"].values()}


def expected_relation(node: dict[str, Any]) -> dict[str, Any] | None:
    if node.get("relation_name") is None:
        return None
    identifier = node["identifier"] if node["resource_type"] == "source" else node["alias"]
    return {
        "database": node["database"],
        "schema": node["schema"],
        "identifier": identifier,
        "rendered": node["relation_name"],
    }


def expected_owner(node: dict[str, Any], owners: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    owner = node.get("owner") if node["resource_type"] == "exposure" else owners.get(node.get("group") or "")
    return {"name": owner["name"], "email": owner["email"]} if owner else None


def expected_entry(node: dict[str, Any], owners: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What the export must say about one manifest node."""
    meta = {**node.get("source_meta", {}), **node.get("meta", {}), **node["config"].get("meta", {})}
    return {
        "unique_id": node["unique_id"],
        "resource_type": node["resource_type"],
        "package_name": node["package_name"],
        "name": node["name"],
        "source_name": node.get("source_name"),
        "version": node.get("version"),
        "latest_version": node.get("latest_version"),
        "relation": expected_relation(node),
        "materialization": node["config"].get("materialized"),
        "meta": meta,
        "group": node.get("group"),
        "owner": expected_owner(node, owners),
        "tags": sorted(set(node.get("tags", []))),
        "access": node.get("access"),
        "depends_on": sorted(set(node.get("depends_on", {}).get("nodes", []))),
    }


def assert_export_matches_manifest(document: dict[str, Any], manifest: dict[str, Any], target: str) -> None:
    entries = manifest_entries(manifest)
    exported = {entry["unique_id"]: entry for entry in document["nodes"]}
    assert [entry["unique_id"] for entry in document["nodes"]] == sorted(exported), "nodes are not sorted"
    assert set(exported) == set(entries)
    owners = group_owners(manifest)
    for unique_id, node in entries.items():
        assert exported[unique_id]["relation"] == expected_relation(node), unique_id
        assert exported[unique_id] == expected_entry(node, owners), unique_id
    metadata = manifest["metadata"]
    assert document["project_name"] == metadata["project_name"]
    assert document["dbt_version"] == metadata["dbt_version"]
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
    databases = {entry["relation"]["database"] for entry in document["nodes"] if entry["relation"]}
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


@pytest.fixture
def throwaway_schema() -> Iterator[str]:
    """A target schema of its own in bridge_dbt; the schemas dbt builds under it are dropped afterwards."""
    schema = f"bridge_pytest_{uuid.uuid4().hex[:8]}"
    yield schema
    connection = psycopg2.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="bridge_dbt")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("select nspname from pg_namespace where nspname like %s", (schema + "%",))
        for (name,) in cursor.fetchall():
            cursor.execute(f'drop schema "{name}" cascade')
    connection.close()


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
    # The relations the export names are the tables the build created.
    built = [
        entry
        for entry in document["nodes"]
        if entry["unique_id"] in {"seed.finance.country_codes", "model.finance.dim_country"}
    ]
    assert len(built) == 2
    for entry in built:
        relation = entry["relation"]
        assert relation["schema"].startswith(throwaway_schema + "_")
        assert relation_exists(relation["database"], relation["schema"], relation["identifier"]), relation
