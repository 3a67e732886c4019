"""The bridge as a DataHub source, run by the real `datahub ingest` CLI: a recipe with `type: bridge` over the
Airflow fixture DBs gives, into DataHub's file and DataHub Lite sinks, the records `python -m bridge sync`
gives with the same settings (DataHub's pipeline only adds its `systemMetadata` run stamp); the source
report carries the run report's counts and problems; `bridge sync --config recipe.yml` honours the recipe's
`sink:` block."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from datahub.lite.lite_util import get_datahub_lite

from tests.airflow_dumps import sqlite_dump
from tests.conftest import POSTGRES_ARTIFACTS, SNOWFLAKE_MANIFEST

pytestmark = pytest.mark.integration
DATAHUB = str(Path(sys.executable).with_name("datahub"))


def settings(airflow_db: str, manifest: Path) -> dict[str, Any]:
    return {
        "dbt": {"manifests": [str(manifest)]},
        "airflow_db": {"url": airflow_db},
        "run_history": {"days": 3650, "max_runs_per_dag": 2},
        "domain_rules": {"ingest_.*": "ingestion"},
    }


def ingest(recipe: dict[str, Any], work: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    (work / "recipe.yml").write_text(yaml.safe_dump(recipe))
    done = subprocess.run([DATAHUB, "ingest", "-c", "recipe.yml", *flags], cwd=work, capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    return done


def sync(config: dict[str, Any], work: Path, name: str = "bridge.yml") -> None:
    (work / name).write_text(yaml.safe_dump(config))
    done = subprocess.run([sys.executable, "-m", "bridge", "sync", "--config", name, "--fail-on", "none",
                           "--report", "report.json"], cwd=work, capture_output=True, text=True, timeout=300,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def records(path: Path) -> list[dict[str, Any]]:
    found = json.loads(path.read_text())
    for record in found:
        record.pop("systemMetadata", None)
    return list(found)


@pytest.fixture(params=["af33_sqlite", "af211", "af313"])
def airflow_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "af33_sqlite":
        return f"sqlite:///{sqlite_dump(tmp_path)}"
    restored: dict[str, str] = request.getfixturevalue("restored")
    return restored[request.param]


def test_datahub_ingest_with_type_bridge_emits_what_sync_emits(airflow_db: str, tmp_path: Path) -> None:
    given = settings(airflow_db, POSTGRES_ARTIFACTS / "manifest.json")
    recipe = {"pipeline_name": "bridge-prod", "source": {"type": "bridge", "config": given},
              "sink": {"type": "file", "config": {"filename": "ingested.json"}}}  # fmt: skip
    done = ingest(recipe, tmp_path)
    sync(given | {"sink": {"type": "file", "path": "synced.json"}}, tmp_path)

    ingested, synced = records(tmp_path / "ingested.json"), records(tmp_path / "synced.json")
    assert len(synced) > 500 and ingested == synced
    assert any(r["aspectName"] == "dataProcessInstanceRunEvent" for r in synced)
    # the source report: the run report's counts, its problems as DataHub warnings grouped by code
    report = json.loads((tmp_path / "report.json").read_text())
    assert "'bridge_counts'" in done.stdout and "'bridge_problems'" in done.stdout
    for name, count in report["counts"].items():
        assert f"'{name}': {count}" in done.stdout, name
    for problem in report["problems"]:
        assert problem["code"] in done.stdout


def test_the_lite_sink_holds_what_syncs_lite_sink_holds(tmp_path: Path) -> None:
    given = settings(f"sqlite:///{sqlite_dump(tmp_path)}", SNOWFLAKE_MANIFEST)
    lite = {"type": "datahub-lite", "config": {"type": "sqlite", "config": {"file": "ingested.db"}}}
    ingest({"source": {"type": "bridge", "config": given}, "sink": lite}, tmp_path)
    # the same recipe, its sink block pointed elsewhere, run by `bridge sync --config`
    recipe = {"source": {"type": "bridge", "config": given},
              "sink": {**lite, "config": {"type": "sqlite", "config": {"file": "synced.db"}}}}  # fmt: skip
    sync(recipe, tmp_path, "recipe.yml")

    assert lite_contents(tmp_path / "ingested.db") == lite_contents(tmp_path / "synced.db")
    assert len(lite_contents(tmp_path / "synced.db")) > 500


def lite_contents(path: Path) -> dict[tuple[str, str], object]:
    lite = get_datahub_lite({"type": "sqlite", "config": {"file": str(path)}}, read_only=True)
    try:
        return {(m.entityUrn, m.aspectName): m.aspect.to_obj() for m in lite.get_all_aspects() if m.aspect}  # type: ignore[misc]
    finally:
        lite.close()


def test_dry_run_and_preview_work_as_for_any_source(tmp_path: Path) -> None:
    given = settings(f"sqlite:///{sqlite_dump(tmp_path)}", POSTGRES_ARTIFACTS / "manifest.json")
    recipe = {"source": {"type": "bridge", "config": given},
              "sink": {"type": "file", "config": {"filename": "out.json"}}}  # fmt: skip
    ingest(recipe, tmp_path, "--dry-run")
    assert not (tmp_path / "out.json").exists() or json.loads((tmp_path / "out.json").read_text()) == []
    preview = ingest(recipe, tmp_path, "--preview", "--preview-workunits", "7")
    assert "produced 7 events" in preview.stdout


def test_a_bad_source_config_is_a_failed_pipeline_naming_the_setting(tmp_path: Path) -> None:
    recipe = {"source": {"type": "bridge", "config": {"env": "PRODUCTION", "dbt": {"manifests": ["m.json"]}}},
              "sink": {"type": "file", "config": {"filename": "out.json"}}}  # fmt: skip
    done = ingest(recipe, tmp_path)
    assert done.returncode == 1
    assert "env: must be one of DataHub's environments" in done.stdout + done.stderr
