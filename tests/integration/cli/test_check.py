"""`bridge check`, the CI gate after `dbt build`: the same inputs as a sync, nothing emitted, exit 0 when the
rules hold and 1 naming the DAG and task when one does not; JUnit XML a CI can count; GitHub annotations;
and neither dbt nor DataHub's classes loaded, so it answers in well under a second."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.airflow_dumps import sqlite_dump
from tests.cli import BUNDLED_MANIFEST, bridge

UNMATCHABLE = "model.finance.stg_fred_observations"  # Cosmos task `stg_fred_observations.run` in finance_dbt


@pytest.fixture
def airflow_db(tmp_path: Path) -> str:
    return f"sqlite:///{sqlite_dump(tmp_path)}"


def without_model(tmp_path: Path) -> Path:
    """The bundled manifest without one model, so the Cosmos tasks that run it match nothing."""
    manifest = json.loads(BUNDLED_MANIFEST.read_text())
    del manifest["nodes"][UNMATCHABLE]
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    return path


def test_check_passes_on_the_bundled_project_and_writes_junit(airflow_db: str, tmp_path: Path) -> None:
    run = bridge("check", "--manifest", str(BUNDLED_MANIFEST), "--airflow-db", airflow_db, "--junit", "checks.xml",
                 "--report", "report.json", cwd=tmp_path)  # fmt: skip
    assert run.code == 0, run.stdout + run.stderr
    assert "cosmos tasks: 52 of 52 matched" in run.stdout and "\nok\n" in run.stdout
    assert run.stdout.splitlines()[-1].startswith("check ok: 6 DAGs, 68 tasks, 31 dbt nodes, 4 warnings in ")
    suite = ET.parse(tmp_path / "checks.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and int(suite.get("tests", "0")) >= 11
    assert {case.get("classname") for case in suite} >= {"unmatched-cosmos-task", "duplicate-dbt-node"}
    assert json.loads((tmp_path / "report.json").read_text())["emitted"] == {}


def test_an_unmatchable_cosmos_task_fails_the_check_naming_dag_and_task(airflow_db: str, tmp_path: Path) -> None:
    manifest = without_model(tmp_path)
    run = bridge("check", "--manifest", str(manifest), "--airflow-db", airflow_db, "--junit", "checks.xml",
                 cwd=tmp_path)  # fmt: skip
    assert run.code == 1
    assert "error: dag finance_dbt, task stg_fred_observations.run:" in run.stdout
    suite = ET.parse(tmp_path / "checks.xml").getroot().find("testsuite")
    assert suite is not None
    failed = [case for case in suite if case.find("failure") is not None]
    assert int(suite.get("failures", "0")) == len(failed) >= 1
    assert "dag finance_dbt, task stg_fred_observations.run" in {case.get("name") for case in failed}


def test_github_format_prints_annotations(airflow_db: str, tmp_path: Path) -> None:
    run = bridge("check", "--manifest", str(without_model(tmp_path)), "--airflow-db", airflow_db, "--format",
                 "github", cwd=tmp_path)  # fmt: skip
    assert run.code == 1
    errors = [line for line in run.stdout.splitlines() if line.startswith("::error ")]
    assert "::error title=unmatched-cosmos-task%3A dag finance_dbt%2C task stg_fred_observations.run::" in "\n".join(
        errors
    )
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in run.stdout.splitlines())


def test_fail_on_selects_the_rules(airflow_db: str, tmp_path: Path) -> None:
    args = ("check", "--manifest", str(BUNDLED_MANIFEST), "--airflow-db", airflow_db)
    assert bridge(*args, "--fail-on", "domain-conflict", cwd=tmp_path).code == 1  # three DAGs mix domains
    assert bridge(*args, "--fail-on", "model-without-domain", cwd=tmp_path).code == 0  # every model has one


def test_check_loads_neither_dbt_nor_datahubs_classes(airflow_db: str, tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from bridge.cli import CliState, run\n"
        f"code = run(['check', '--manifest', {str(BUNDLED_MANIFEST)!r}, '--airflow-db', {airflow_db!r}], CliState())\n"
        "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('dbt', 'datahub')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert done.stdout.splitlines()[-1] == "0 []"


def test_an_output_refused_is_not_written_and_the_inputs_stay(airflow_db: str, tmp_path: Path) -> None:
    manifest = tmp_path / "m.json"
    manifest.write_bytes(BUNDLED_MANIFEST.read_bytes())
    run = bridge("check", "--manifest", "m.json", "--airflow-db", airflow_db, "--junit", "m.json", cwd=tmp_path)
    assert run.code == 2 and "the JUnit file path m.json is an input of this sync" in run.error_line
    assert manifest.read_bytes() == BUNDLED_MANIFEST.read_bytes()
    run = bridge("check", "--manifest", "m.json", "--junit", "same.out", "--report", "same.out", cwd=tmp_path)
    assert run.code == 2 and "the report and the JUnit file would both be written to same.out" in run.error_line
    assert json.loads((tmp_path / "same.out").read_text())["failure"]["location"] == "input"


def test_a_check_that_stopped_early_checked_no_rule(tmp_path: Path) -> None:
    run = bridge("check", "--manifest", "missing.json", "--junit", "checks.xml", cwd=tmp_path)
    assert run.code == 2
    suite = ET.parse(tmp_path / "checks.xml").getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("1", "1", "0")
    [case] = list(suite)
    assert case.get("classname") == "run-failed" and case.find("error") is not None


def test_an_export_from_a_closed_stdin_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run(["bash", "-c", f"{sys.executable} -m bridge check --dbt-export - <&-"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().startswith("error: standard input: is closed. Print it with `dbt run-operation")
