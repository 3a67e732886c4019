"""Bad input gives one line naming the file and what to do, a non-zero exit and no traceback."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.errors import ArtifactError, UnsupportedSchemaVersionError
from bridge.read.dbt.manifest import read_manifest
from tests.conftest import CORPUS, SNOWFLAKE_MANIFEST

V2_MANIFEST = CORPUS / "committed-artifacts" / "dbt_sandbox_snowflake" / "manifest.json"


def run_plan(*paths: Path) -> subprocess.CompletedProcess[str]:
    args = [a for p in paths for a in ("--manifest", str(p))]
    return subprocess.run(
        [sys.executable, "-m", "bridge", "plan", *args], capture_output=True, text=True, timeout=120, check=False
    )


def bad_manifests(tmp: Path) -> dict[str, tuple[Path, str]]:
    good = SNOWFLAKE_MANIFEST.read_bytes()
    truncated = tmp / "truncated.json"
    truncated.write_bytes(good[: len(good) // 2])
    not_json = tmp / "not_json.json"
    not_json.write_text("<html>502 Bad Gateway</html>")
    future = tmp / "v99.json"
    future.write_text(
        json.dumps({"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v99.json"}})
    )
    broken_gz = tmp / "broken.json.gz"
    broken_gz.write_bytes(gzip.compress(good)[:5000])
    not_manifest = tmp / "run_results.json"
    not_manifest.write_text(
        json.dumps({"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"}})
    )
    return {
        "truncated": (truncated, "is truncated"),
        "not json": (not_json, "is not valid JSON"),
        "missing": (tmp / "nowhere" / "manifest.json", "file not found"),
        "unknown version": (future, "manifest schema version v99 is not supported"),
        "schema v2": (V2_MANIFEST, "manifest schema version v2 is not supported (supported: v7"),
        "damaged gzip": (broken_gz, "damaged gzip"),
        "not a manifest": (not_manifest, "has no metadata.dbt_schema_version of a dbt manifest"),
    }


@pytest.mark.parametrize(
    "case", ["truncated", "not json", "missing", "unknown version", "schema v2", "damaged gzip", "not a manifest"]
)
def test_bad_manifest_raises_an_error_naming_the_file(tmp_path: Path, case: str) -> None:
    path, message = bad_manifests(tmp_path)[case]
    with pytest.raises(ArtifactError) as raised:
        read_manifest(path)
    assert str(path) in str(raised.value) and message in str(raised.value)


def test_unsupported_version_is_its_own_error() -> None:
    with pytest.raises(UnsupportedSchemaVersionError) as raised:
        read_manifest(V2_MANIFEST)
    assert raised.value.found == "v2"


@pytest.mark.parametrize("case", ["truncated", "not json", "missing", "unknown version", "schema v2", "damaged gzip"])
def test_cli_reports_bad_manifest_in_one_line(tmp_path: Path, case: str) -> None:
    path, message = bad_manifests(tmp_path)[case]
    result = run_plan(SNOWFLAKE_MANIFEST, path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and str(path) in lines[0] and message in lines[0]
    assert "Traceback" not in result.stderr


def test_cli_reports_a_glob_that_matches_nothing(tmp_path: Path) -> None:
    result = run_plan(tmp_path / "*" / "manifest.json")
    assert result.returncode == 2 and "matches no file" in result.stderr and "Traceback" not in result.stderr


def test_sync_creates_the_folders_of_its_outputs(tmp_path: Path) -> None:
    out = tmp_path / "new" / "folder"
    outputs = ["--sink", f"file:{out}/mcps.json", "--report", f"{out}/report.json", "--graph", f"{out}/graph.json"]
    result = subprocess.run(
        [sys.executable, "-m", "bridge", "sync", "--manifest", str(SNOWFLAKE_MANIFEST), *outputs],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "report.json").read_text())["ok"] is True
    assert (out / "mcps.json").stat().st_size > 0 and (out / "graph.json").stat().st_size > 0
