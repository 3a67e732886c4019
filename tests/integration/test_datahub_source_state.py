"""Removing what is gone under `datahub ingest` (`type: bridge`), both ways, through real DataHub pipelines
(`Pipeline.create`, file sink, offline) on the bundled manifest and copies of it with a model left out
(as if deleted from the project: the model and its tests) or emptied (one seed left):

- DataHub's stateful ingestion (`stateful_ingestion:` with the `file` state provider): its handler
  soft-deletes the removed model's datasets and tests, its fail-safe holds an emptied project, its checkpoint
  holds DAGs, tasks, datasets and assertions only (never runs or domains);
- the bridge's own `state:` file: an unchanged second run yields no work unit, a removed model is
  soft-deleted, the fail-safe is a source failure, and the file is written only by a run without errors
  (not by a dry run), for the recipe's sink only.

And `bridge sync` given a recipe with `stateful_ingestion` runs, warning that the setting is DataHub's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from datahub.ingestion.api.ingestion_job_checkpointing_provider_base import JobId
from datahub.ingestion.run.pipeline import Pipeline, PipelineInitError
from datahub.ingestion.source.state.checkpoint import Checkpoint
from datahub.ingestion.source.state.entity_removal_state import GenericCheckpointState
from datahub.ingestion.source.state_provider.file_ingestion_checkpointing_provider import (
    FileIngestionCheckpointingProvider,
    FileIngestionStateProviderConfig,
)

from bridge.datahub_source import BridgeSourceReport
from tests.airflow_dumps import sqlite_dump
from tests.conftest import POSTGRES_ARTIFACTS

pytestmark = pytest.mark.integration
MANIFEST = POSTGRES_ARTIFACTS / "manifest.json"
PIPELINE = "bridge-state-test"
REMOVED_MODEL = "model.finance.dim_date"
DIM_DATE = {  # the model's dbt dataset: its warehouse table (no status from the bridge) is the warehouse's
    "urn:li:dataset:(urn:li:dataPlatform:dbt,bridge_dbt.marts.dim_date,PROD)",
}
REMOVABLE_KINDS = {"dataset", "dataFlow", "dataJob", "assertion"}


def manifest_without_model(work: Path, unique_id: str) -> tuple[Path, int]:
    """A copy of the bundled manifest without the model and the tests on it; the number of tests left out."""
    manifest = json.loads(MANIFEST.read_text())
    tests = {key for key, node in manifest["nodes"].items() if unique_id in node.get("depends_on", {}).get("nodes", ())}
    assert unique_id in manifest["nodes"] and tests
    manifest["nodes"] = {key: node for key, node in manifest["nodes"].items() if key not in tests | {unique_id}}
    return write_json(work / "manifest_without_model.json", manifest), len(tests)


def emptied_manifest(work: Path) -> Path:
    """A copy of the bundled manifest holding one seed, no other node and no source."""
    manifest = json.loads(MANIFEST.read_text())
    seed = min(key for key in manifest["nodes"] if key.startswith("seed."))
    manifest["nodes"], manifest["sources"] = {seed: manifest["nodes"][seed]}, {}
    return write_json(work / "manifest_emptied.json", manifest)


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def datahub_stateful(work: Path, threshold: float = 75.0) -> dict[str, Any]:
    return {"enabled": True, "remove_stale_metadata": True, "fail_safe_threshold": threshold,
            "state_provider": {"type": "file", "config": {"filename": str(work / "checkpoints.json")}}}  # fmt: skip


def ingest(work: Path, config: dict[str, Any], out: str, sink: dict[str, Any] | None = None, **flags: Any) -> Pipeline:
    """One `datahub ingest` of `type: bridge` into the file sink `out` (or `sink`), run to its end."""
    recipe = {"pipeline_name": PIPELINE, "source": {"type": "bridge", "config": config},
              "sink": sink or {"type": "file", "config": {"filename": str(work / out)}}}  # fmt: skip
    pipeline = Pipeline.create(recipe, report_to=None, no_progress=True, **flags)
    pipeline.run()
    return pipeline


def records(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text()))


def urns(found: list[dict[str, Any]]) -> set[str]:
    return {record["entityUrn"] for record in found}


def removed(found: list[dict[str, Any]]) -> set[str]:
    """The URNs soft-deleted: `status` records saying removed."""
    return {r["entityUrn"] for r in found if r["aspectName"] == "status" and r["aspect"]["json"]["removed"]}


def kind(urn: str) -> str:
    return urn.split(":", 3)[2]


def report(pipeline: Pipeline) -> BridgeSourceReport:
    found = pipeline.source.get_report()
    assert isinstance(found, BridgeSourceReport)
    return found


def failures(pipeline: Pipeline) -> list[tuple[str | None, str | None, str]]:
    return [(entry.title, entry.message, " ".join(entry.context)) for entry in report(pipeline).failures]


def with_status(found: list[dict[str, Any]]) -> set[str]:
    """The entities the bridge sends a `status` of: the ones it may soft-delete."""
    return {r["entityUrn"] for r in found if r["aspectName"] == "status"}


def checkpoint_urns(work: Path) -> list[str]:
    """The URNs of DataHub's last checkpoint of the bridge source in the file state provider."""
    config = FileIngestionStateProviderConfig(filename=str(work / "checkpoints.json"))
    provider = FileIngestionCheckpointingProvider(config)
    job = JobId("bridge_stale_entity_removal")
    aspect = provider.get_latest_checkpoint(PIPELINE, job)
    checkpoint = Checkpoint.create_from_checkpoint_aspect(job, aspect, GenericCheckpointState)
    assert checkpoint is not None
    return list(checkpoint.state.urns)


# DataHub's stateful ingestion


def test_datahub_stale_entity_removal_soft_deletes_a_removed_models_entities(tmp_path: Path) -> None:
    stateful = datahub_stateful(tmp_path)
    first = ingest(tmp_path, {"dbt": {"manifests": [str(MANIFEST)]}, "stateful_ingestion": stateful}, "first.json")
    assert not failures(first) and not removed(records(tmp_path / "first.json"))
    checkpointed = {u for u in with_status(records(tmp_path / "first.json")) if kind(u) != "domain"}
    assert set(checkpoint_urns(tmp_path)) == checkpointed

    smaller, tests_left_out = manifest_without_model(tmp_path, REMOVED_MODEL)
    second = ingest(tmp_path, {"dbt": {"manifests": [str(smaller)]}, "stateful_ingestion": stateful}, "second.json")

    assert not failures(second)
    found = records(tmp_path / "second.json")
    still = {r["entityUrn"] for r in found if r["aspectName"] != "status"}
    gone = with_status(records(tmp_path / "first.json")) - still
    assert removed(found) == gone and gone >= DIM_DATE  # the warehouse table, without a status of ours, stays
    assert len(gone) == len(DIM_DATE) + tests_left_out  # the datasets, and one assertion per test
    assert {kind(urn) for urn in gone} == {"dataset", "assertion"}
    assert set(report(second).soft_deleted_stale_entities) == gone
    assert not set(checkpoint_urns(tmp_path)) & gone  # the next run does not remove them again


def test_datahub_checkpoints_hold_no_runs_or_domains_and_aged_out_runs_stay(tmp_path: Path) -> None:
    settings = {"dbt": {"manifests": [str(MANIFEST)]}, "airflow_db": {"url": f"sqlite:///{sqlite_dump(tmp_path)}"},
                "run_history": {"days": 3650}, "stateful_ingestion": datahub_stateful(tmp_path)}  # fmt: skip
    first = ingest(tmp_path, settings, "first.json")
    emitted = urns(records(tmp_path / "first.json"))
    assert not failures(first)
    assert {kind(urn) for urn in emitted} == REMOVABLE_KINDS | {"dataProcessInstance", "domain"}
    assert set(checkpoint_urns(tmp_path)) == {u for u in with_status(records(tmp_path / "first.json"))
                                              if kind(u) in REMOVABLE_KINDS}  # fmt: skip

    # every run ages out at once (run history off): runs are history, not soft-deleted
    second = ingest(tmp_path, settings | {"run_history": {"enabled": False}}, "second.json")
    found = records(tmp_path / "second.json")
    assert not failures(second) and not any(kind(urn) == "dataProcessInstance" for urn in urns(found))
    assert not removed(found)


def test_an_emptied_project_trips_datahubs_fail_safe(tmp_path: Path) -> None:
    stateful = datahub_stateful(tmp_path)
    ingest(tmp_path, {"dbt": {"manifests": [str(MANIFEST)]}, "stateful_ingestion": stateful}, "first.json")
    before = set(checkpoint_urns(tmp_path))

    emptied = ingest(tmp_path, {"dbt": {"manifests": [str(emptied_manifest(tmp_path))]},
                                "stateful_ingestion": stateful}, "second.json")  # fmt: skip

    assert not removed(records(tmp_path / "second.json"))
    [(title, message, context)] = failures(emptied)
    assert title == "Skipping stateful ingestion / stale entity removal"
    assert "exceeds fail_safe_threshold" in (message or "") and "threshold=75.0" in context
    assert emptied.has_failures()
    assert set(checkpoint_urns(tmp_path)) >= before  # DataHub keeps them for the next good run


# The bridge's own state file


def test_with_a_state_file_an_unchanged_run_yields_nothing_and_a_removed_model_is_soft_deleted(tmp_path: Path) -> None:
    state = {"path": str(tmp_path / "bridge-state.json")}
    first = ingest(tmp_path, {"dbt": {"manifests": [str(MANIFEST)]}, "state": state}, "first.json")
    assert not failures(first) and len(records(tmp_path / "first.json")) > 500
    assert json.loads((tmp_path / "bridge-state.json").read_text())["identity"]["sink"] == "file"

    second = ingest(tmp_path, {"dbt": {"manifests": [str(MANIFEST)]}, "state": state}, "second.json")
    assert records(tmp_path / "second.json") == []
    assert report(second).events_produced == 0
    assert report(second).unchanged_entities == len(urns(records(tmp_path / "first.json")))

    smaller, tests_left_out = manifest_without_model(tmp_path, REMOVED_MODEL)
    third = ingest(tmp_path, {"dbt": {"manifests": [str(smaller)]}, "state": state}, "third.json")
    found = records(tmp_path / "third.json")
    assert not failures(third)
    assert removed(found) == urns(found) and removed(found) >= DIM_DATE  # nothing else changed
    assert len(found) == len(DIM_DATE) + tests_left_out
    saved = json.loads((tmp_path / "bridge-state.json").read_text())
    assert set(saved["removed"]) == removed(found) and not set(saved["entities"]) & removed(found)


def test_with_a_state_file_the_fail_safe_is_a_source_failure_and_the_state_is_kept(tmp_path: Path) -> None:
    state = {"path": str(tmp_path / "bridge-state.json")}
    ingest(tmp_path, {"dbt": {"manifests": [str(MANIFEST)]}, "state": state}, "first.json")
    kept = (tmp_path / "bridge-state.json").read_bytes()

    emptied = ingest(tmp_path, {"dbt": {"manifests": [str(emptied_manifest(tmp_path))]}, "state": state}, "second.json")

    assert not removed(records(tmp_path / "second.json"))
    [(title, message, context)] = failures(emptied)
    assert title == "fail-safe" and message == "stale-entity removal held by the fail-safe"
    assert "datasets and assertions" in context and "more than the fail-safe threshold of 75%" in context
    assert (tmp_path / "bridge-state.json").read_bytes() == kept


def test_the_state_file_is_written_only_by_a_run_without_errors(tmp_path: Path) -> None:
    airflow = {"url": f"sqlite:///{sqlite_dump(tmp_path)}"}
    state = {"path": str(tmp_path / "bridge-state.json")}
    ingest(tmp_path, {"dbt": {"manifests": [str(MANIFEST)]}, "state": state}, "dry.json", dry_run=True)
    assert not (tmp_path / "bridge-state.json").exists()
    ingest(tmp_path, {"dbt": {"manifests": [str(MANIFEST)]}, "airflow_db": airflow, "state": state}, "first.json")
    kept = (tmp_path / "bridge-state.json").read_bytes()

    # the model is gone from the project, not from Airflow: its Cosmos tasks match nothing (an error)
    smaller, _ = manifest_without_model(tmp_path, REMOVED_MODEL)
    failed = ingest(tmp_path, {"dbt": {"manifests": [str(smaller)]}, "airflow_db": airflow, "state": state}, "2.json")

    assert [title for title, _, _ in failures(failed)] == ["unmatched-cosmos-task"]
    # not the run's state: the one written before its records went out (the first one's entities all kept, the
    # changed ones as sent with nothing known of their aspects: sent whole next time, removed when gone)
    first, saved = json.loads(kept), json.loads((tmp_path / "bridge-state.json").read_text())
    found = records(tmp_path / "2.json")
    sent = urns(found) - removed(found)  # a removal is sent again next time anyway: the state still lists them
    unknown = {urn for urn, (value, _) in saved["entities"].items() if value == ""}
    assert sent and sent <= unknown and set(first["entities"]) <= set(saved["entities"])
    assert all(saved["entities"][urn] == entity for urn, entity in first["entities"].items() if urn not in unknown)
    assert all(not any(aspects.values()) for urn, (_, aspects) in saved["entities"].items() if urn in unknown)
    assert saved["removed"] == first["removed"]


def test_the_state_file_belongs_to_the_recipes_sink(tmp_path: Path) -> None:
    settings = {"dbt": {"manifests": [str(MANIFEST)]}, "state": {"path": str(tmp_path / "bridge-state.json")}}
    ingest(tmp_path, settings, "first.json")
    lite = {"type": "datahub-lite", "config": {"type": "sqlite", "config": {"file": str(tmp_path / "lite.db")}}}

    other_sink = ingest(tmp_path, settings, "", sink=lite)

    [(title, _, context)] = failures(other_sink)
    assert title == "run-failed"
    assert f"was written for sink=file; this sync is sink=datahub-lite {tmp_path / 'lite.db'}" in context


def test_stateful_ingestion_is_validated_by_datahub_and_excludes_a_state_file(tmp_path: Path) -> None:
    base = {"dbt": {"manifests": [str(MANIFEST)]}}
    with pytest.raises(PipelineInitError) as bad:
        ingest(tmp_path, base | {"stateful_ingestion": datahub_stateful(tmp_path, threshold=150)}, "out.json")
    message = str(bad.value.__cause__)
    assert "stateful_ingestion.fail_safe_threshold: Input should be less than or equal to 100" in message
    both = base | {"stateful_ingestion": datahub_stateful(tmp_path), "state": {"path": str(tmp_path / "s.json")}}
    with pytest.raises(PipelineInitError) as refused:
        ingest(tmp_path, both, "out.json")
    assert "stateful_ingestion and state.path both remove what is gone" in str(refused.value.__cause__)


def test_bridge_sync_runs_a_recipe_with_stateful_ingestion_and_warns(tmp_path: Path) -> None:
    recipe = {"pipeline_name": PIPELINE, "sink": {"type": "file", "config": {"filename": "out.json"}},
              "source": {"type": "bridge", "config": {"dbt": {"manifests": [str(MANIFEST)]},
                                                      "stateful_ingestion": datahub_stateful(tmp_path)}}}  # fmt: skip
    (tmp_path / "recipe.yml").write_text(yaml.safe_dump(recipe))
    done = subprocess.run([sys.executable, "-m", "bridge", "sync", "--config", "recipe.yml"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "warning: stateful_ingestion is read by `datahub ingest`" in done.stderr and "state: section" in done.stderr
    assert len(records(tmp_path / "out.json")) > 500 and not (tmp_path / "checkpoints.json").exists()
