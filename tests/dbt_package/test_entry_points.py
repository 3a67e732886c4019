"""dbt as the way in, with real dbt: what `dbt run-operation bridge_export` prints, piped into `bridge sync
--dbt-export -` (with and without dbt's --quiet), and the same export run by the bridge itself through
`--dbt-project-dir`, give the joined graph (`--graph`, byte for byte) and the records that `--manifest` gives
with the manifest dbt wrote for the same target, under the local PostgreSQL target and under the Snowflake
profile (parse only). The on-run-end recipe's document after a real `dbt build` yields that build's results.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.airflow_dumps import sqlite_dump
from tests.dbt_package.dbt_runs import copy_project, dbt_executable, postgres_profiles, run_dbt, snowflake_profiles

pytestmark = pytest.mark.integration
BRIDGE = f"{shlex.quote(sys.executable)} -m bridge"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("entry-points"))


@pytest.fixture(scope="module")
def airflow_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{sqlite_dump(tmp_path_factory.mktemp('airflow'))}"


def profiles_for(target: str, directory: Path) -> tuple[Path, str]:
    if target == "snowflake":
        return snowflake_profiles(directory), "prod"
    return postgres_profiles(directory, ci_schema="pr_77"), target


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


def sync_outputs(work: Path, name: str) -> tuple[bytes, list[dict[str, object]]]:
    graph = (work / f"{name}.graph.json").read_bytes()
    return graph, json.loads((work / f"{name}.mcps.json").read_bytes())


def outputs(name: str) -> str:
    return f"--graph {name}.graph.json --sink file:{name}.mcps.json"


@pytest.mark.parametrize("target", ["local", "ci", "snowflake"])
def test_the_export_piped_into_sync_equals_the_manifest(
    project: Path, airflow_db: str, tmp_path: Path, target: str
) -> None:
    profiles, dbt_target = profiles_for(target, tmp_path / "profiles")
    dbt = (
        f"{shlex.quote(dbt_executable())} {{quiet}} --no-send-anonymous-usage-stats run-operation bridge_export "
        f"--project-dir {project} --profiles-dir {profiles} --target {dbt_target} "
        f"--target-path {tmp_path}/target --log-path {tmp_path}/logs"
    )
    given = f"--airflow-db {airflow_db}"
    shell(f"{dbt.format(quiet='--quiet')} | {BRIDGE} sync --dbt-export - {given} {outputs('quiet')}", tmp_path)
    shell(f"{dbt.format(quiet='')} | {BRIDGE} sync --dbt-export - {given} {outputs('logged')}", tmp_path)
    shell(f"{BRIDGE} sync --manifest target/manifest.json {given} {outputs('manifest')}", tmp_path)

    from_manifest = sync_outputs(tmp_path, "manifest")
    assert sync_outputs(tmp_path, "quiet") == from_manifest
    assert sync_outputs(tmp_path, "logged") == from_manifest
    graph = json.loads(from_manifest[0])
    assert len(graph["datasets"]) > 40 and len(graph["jobs"]) > 40
    if target == "ci":  # the target reached the relations (so the equality above is not vacuous)
        assert any(d["key"]["name"].startswith("bridge_dbt.pr_77_marts.") for d in graph["datasets"])


@pytest.mark.parametrize("target", ["ci", "snowflake"])
def test_dbt_run_by_the_bridge_equals_the_manifest(project: Path, airflow_db: str, tmp_path: Path, target: str) -> None:
    profiles, dbt_target = profiles_for(target, tmp_path / "profiles")
    run_dbt(project, profiles, tmp_path, "parse", "--target", dbt_target)
    given = f"--airflow-db {airflow_db}"
    dbt_dir = f"--dbt-project-dir {project} --dbt-profiles-dir {profiles} --dbt-target {dbt_target}"
    shell(f"{BRIDGE} sync {dbt_dir} {given} {outputs('dbt')}", tmp_path)
    shell(f"{BRIDGE} sync --manifest target/manifest.json {given} {outputs('manifest')}", tmp_path)

    assert sync_outputs(tmp_path, "dbt") == sync_outputs(tmp_path, "manifest")
    assert not (project / "target" / "manifest.json").exists(), "dbt wrote into the project's own target/"


def test_the_on_run_end_document_of_a_real_build_gives_its_results(tmp_path: Path, throwaway_schema: str) -> None:
    hook = {"on-run-end": ["{{ dbt_lineage_bridge.bridge_on_run_end(results) }}"]}
    project = copy_project(tmp_path, extra_project_config=hook)
    profiles = postgres_profiles(tmp_path / "profiles", ci_schema=throwaway_schema)
    printed = run_dbt(project, profiles, tmp_path, "build", "--target", "ci", "--select", "country_codes",
                      "dim_country", "--indirect-selection", "cautious")  # fmt: skip
    (tmp_path / "build.log").write_text(printed)
    shell(f"{BRIDGE} sync --dbt-export build.log --graph export.json --sink file:a.json", tmp_path)
    shell(f"{BRIDGE} sync --manifest target/manifest.json --run-results target/run_results.json "
          "--graph results.json --sink file:b.json", tmp_path)  # fmt: skip

    run_results = json.loads((tmp_path / "target" / "run_results.json").read_text())
    from_export = json.loads((tmp_path / "export.json").read_text())["dbt_results"]
    from_file = json.loads((tmp_path / "results.json").read_text())["dbt_results"]
    built = {"seed.finance.country_codes", "model.finance.dim_country"}
    assert built <= {r["unique_id"] for r in from_export}
    assert {r["invocation_id"] for r in from_export} == {run_results["metadata"]["invocation_id"]}
    # The same run, described by run_results.json: the same results (the file also lists the hook itself).
    comparable = ("unique_id", "status", "start_ms", "end_ms", "dataset", "invocation_id")
    in_file = {r["unique_id"]: {k: r[k] for k in comparable} for r in from_file}
    for result in from_export:
        assert {k: result[k] for k in comparable} == in_file[result["unique_id"]]
        assert result["status"] in {"success", "pass"}, result  # tests of the two nodes run too: they pass
        assert result["start_ms"] and result["end_ms"] >= result["start_ms"]
    country = next(r for r in from_export if r["unique_id"] == "model.finance.dim_country")
    assert country["dataset"]["platform"] == "dbt" and country["dataset"]["name"].endswith(".dim_country")
