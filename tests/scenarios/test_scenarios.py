"""Scenario tests: real inputs (manifests, Airflow dumps) -> the joined graph and the MCPs, against goldens.

Each folder holds `scenario.yml` (manifests, the Airflow dump, a fixed clock, configuration) and `expected/`:
`lineage.txt` (every dataset, DAG and task with what it reads and writes, then the problems), `report.json`
(the run report) and `mcps.sample.json` (the exact MCPs of a few named entities, small enough to review).
`pytest --update-golden` (or `make golden`) rewrites them; review the diff.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.config import build_config
from bridge.plan import datasets_as_text, graph_as_text
from bridge.run_report import DEFAULT_FAIL_ON, parse_fail_on, report_as_json
from bridge.sync import SyncResult, run_sync
from tests.airflow_dumps import restore_dump, sqlite_dump
from tests.conftest import REPO, assert_golden

SCENARIOS = Path(__file__).resolve().parent
pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Scenario:
    name: str
    spec: dict[str, Any]

    @property
    def folder(self) -> Path:
        return SCENARIOS / self.name


def scenarios() -> list[Scenario]:
    found = sorted(p.parent for p in SCENARIOS.glob("*/scenario.yml"))
    return [Scenario(p.name, yaml.safe_load((p / "scenario.yml").read_text())) for p in found]


def airflow_url(spec: dict[str, Any], worker_id: str, tmp_path: Path) -> str | None:
    dump = spec.get("airflow_dump")
    if dump is None:
        return None
    if dump == "af33_sqlite":
        return f"sqlite:///{sqlite_dump(tmp_path)}"
    return restore_dump(dump, worker_id, suffix="_scenario")


def run(scenario: Scenario, worker_id: str, tmp_path: Path) -> tuple[SyncResult, list[dict[str, Any]]]:
    spec = scenario.spec
    out = tmp_path / "mcps.json"
    settings = {
        **spec.get("config", {}),
        "dbt": {"manifests": [str(REPO / m) for m in spec["manifests"]]},
        "airflow_db": {"url": airflow_url(spec, worker_id, tmp_path)},
        "sink": {"type": "file", "path": str(out)},
    }
    clock = datetime.fromisoformat(spec["clock"])
    result = run_sync(build_config(settings, scenario.name), lambda: clock)
    return result, json.loads(out.read_text())


def sample(mcps: list[dict[str, Any]], urns: list[str]) -> str:
    chosen = [m for m in mcps if m["entityUrn"] in urns]
    assert {m["entityUrn"] for m in chosen} == set(urns), "every sampled URN must be emitted"
    return json.dumps(chosen, indent=1, sort_keys=True) + "\n"


@pytest.mark.parametrize("scenario", scenarios(), ids=lambda s: s.name)
def test_scenario(scenario: Scenario, worker_id: str, tmp_path: Path, update_golden: bool) -> None:
    result, mcps = run(scenario, worker_id, tmp_path)
    expected = scenario.folder / "expected"
    text = datasets_as_text(result.graph) + graph_as_text(result.graph)
    assert_golden(expected / "lineage.txt", text, update_golden)
    report = report_as_json(result.report, parse_fail_on(DEFAULT_FAIL_ON)).decode() + "\n"
    assert_golden(expected / "report.json", report, update_golden)
    if scenario.spec.get("sample_urns"):
        assert_golden(expected / "mcps.sample.json", sample(mcps, scenario.spec["sample_urns"]), update_golden)
