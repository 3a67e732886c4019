"""The CI recipes of docs/ci, run for real: every shell line they hold, in order, against the bundled project.

Each recipe runs in a workspace that stands for the repository's checkout: the bundled project (with the dbt
package installed) at `dbt_project/`, as the recipes expect. What the test does instead of the CI system:

- GitHub Actions (docs/ci/github-actions.yml): the one job's `run:` steps, each run whole as one script in
  the step's `working-directory` (or the job's default); `uses:` steps are not shell and are skipped. The
  `if:` conditions are taken as true, so the main-branch `bridge sync` step runs too.
- GitLab CI (docs/ci/gitlab-ci.yml): the jobs in the order of `stages`, each job's `script:` entries one by
  one; `cd DIR` moves the following entries of the same job, as it would in GitLab's single shell. `rules:`
  are taken as true. Each job starts from a fresh copy of the checkout holding only the earlier jobs'
  `artifacts:` paths, as GitLab passes them, so the sync job proves the build job keeps what it reads.
- Installing is skipped (a line starting with `pip install`): dbt and the bridge are the venv's, first on PATH.
- The environment the recipes take from secrets and variables is the test's: DBT_TARGET=ci on a profiles.yml
  for the local PostgreSQL (`ci` builds into `<throwaway schema>_*`, dropped afterwards), AIRFLOW_DB_URL a
  real Airflow 3.3 SQLite DB that ran the bundled project, placeholder DataHub URL and token.
- DataHub itself is replaced by the file sink: the one `--sink "datahub-rest:$DATAHUB_GMS_URL"` argument of
  each recipe is rewritten to `--sink file:<tmp>/mcps.json` before it runs (`DATAHUB_GMS_TOKEN` is then unused:
  a file sink takes no token).

Every line must exit 0 (each runs as `bash -euo pipefail -c LINE`), and the outputs must say the run was clean:
dbt's artifacts, the check's JSON report (`ok`), its JUnit (no failure), no error in the check's output,
the MCPs written, and every file the recipe uploads as an artifact present.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.airflow_dumps import sqlite_dump
from tests.dbt_package.dbt_runs import REPO, copy_project, dbt_executable, postgres_profiles

pytestmark = pytest.mark.integration

RECIPES = REPO / "docs" / "ci"
DATAHUB_SINK = '--sink "datahub-rest:$DATAHUB_GMS_URL"'
LINE_TIMEOUT_S = 150
CLEAN_STATUSES = {"success", "pass", "no-op"}  # no-op: the ephemeral model


@dataclass
class Ran:
    """One shell line of a recipe as it ran: where, and what it printed."""

    job: str
    line: str
    cwd: Path
    stdout: str


@dataclass
class Job:
    name: str
    lines: list[tuple[str, str]]  # (working directory relative to the workspace, shell script)
    artifacts: list[str]  # paths relative to the workspace


def is_install(line: str) -> bool:
    return line.lstrip().startswith("pip install")


def github_jobs(workflow: dict[str, Any]) -> list[Job]:
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the bare key `on` as true
    assert set(triggers) == {"pull_request", "push"}, triggers
    assert triggers["push"]["branches"] == ["main"]
    (name, job), *others = workflow["jobs"].items()
    assert not others, "one job"
    assert job["runs-on"] == "ubuntu-latest"
    default_dir = job.get("defaults", {}).get("run", {}).get("working-directory", ".")
    lines, artifacts = [], []
    for step in job["steps"]:
        if "run" in step and not is_install(step["run"]):
            lines.append((step.get("working-directory", default_dir), step["run"]))
        elif step.get("uses", "").startswith("actions/upload-artifact@"):
            assert step.get("if") == "always()", step
            artifacts += step["with"]["path"].split()
    return [Job(name, lines, artifacts)]


def gitlab_jobs(pipeline: dict[str, Any]) -> list[Job]:
    stages = pipeline["stages"]
    found = [(name, job) for name, job in pipeline.items() if isinstance(job, dict) and "script" in job]
    jobs = []
    for name, job in sorted(found, key=lambda item: stages.index(item[1]["stage"])):
        artifacts = job.get("artifacts", {})
        assert artifacts.get("when") == "always", name
        junit = artifacts.get("reports", {}).get("junit")
        paths = [*artifacts.get("paths", []), *([junit] if junit else [])]
        jobs.append(Job(name, [(".", line) for line in job["script"] if not is_install(line)], paths))
    return jobs


def run_line(line: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", line],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=LINE_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"in {cwd}: {line}\nexit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def run_jobs(jobs: list[Job], checkout: Path, work: Path, env: dict[str, str]) -> list[Ran]:
    """Each job in a fresh copy of `checkout` with the earlier jobs' artifacts laid in; every line checked."""
    ran: list[Ran] = []
    kept: dict[str, Path] = {}  # artifact path (relative) -> the file an earlier job left
    for number, job in enumerate(jobs):
        workspace = work / f"{number}-{job.name}"
        shutil.copytree(checkout, workspace, symlinks=True)
        for relative, source in kept.items():
            (workspace / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, workspace / relative)
        cwd = workspace
        for directory, line in job.lines:
            here = (workspace / directory) if directory != "." else cwd
            if line.startswith("cd "):
                cwd = Path(run_line(f"{line} && pwd", here, env).strip())
                continue
            ran.append(Ran(job.name, line, here, run_line(line, here, env)))
        for pattern in job.artifacts:
            matches = glob.glob(pattern, root_dir=workspace)
            assert matches, f"{job.name}: artifact {pattern} was not written"
            kept.update({match: workspace / match for match in matches})
    return ran


def one(ran: list[Ran], command: str) -> Ran:
    found = [r for r in ran if command in r.line]
    assert len(found) == 1, f"expected one line running {command!r}, got {[r.line for r in found]}"
    return found[0]


@pytest.mark.parametrize(("recipe", "read_jobs"), [("github-actions.yml", github_jobs), ("gitlab-ci.yml", gitlab_jobs)])
def test_recipe_runs_clean(
    recipe: str, read_jobs: Callable[[dict[str, Any]], list[Job]], tmp_path: Path, throwaway_schema: str
) -> None:
    text = (RECIPES / recipe).read_text(encoding="utf-8")
    assert text.count(DATAHUB_SINK) == 1, f"{recipe}: the test rewrites exactly one {DATAHUB_SINK}"
    mcps = tmp_path / "mcps.json"
    jobs = read_jobs(yaml.safe_load(text.replace(DATAHUB_SINK, f"--sink file:{mcps}")))

    checkout = tmp_path / "checkout"
    copy_project(checkout)
    venv_bin = str(Path(sys.executable).parent)
    assert Path(dbt_executable()).parent == Path(venv_bin), "dbt must be the venv's"
    env = {key: value for key, value in os.environ.items() if not key.startswith("DBT_")}
    env.update({
        "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
        "DBT_PROFILES_DIR": str(postgres_profiles(tmp_path / "profiles", ci_schema=throwaway_schema)),
        "DBT_TARGET": "ci",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "AIRFLOW_DB_URL": f"sqlite:///{sqlite_dump(tmp_path)}",
        "DATAHUB_GMS_URL": "http://datahub.invalid:8080",
        "DATAHUB_GMS_TOKEN": "placeholder-token",
        "SNOWFLAKE_PASSWORD": "unused",
    })  # fmt: skip

    ran = run_jobs(jobs, checkout, tmp_path / "jobs", env)

    build = one(ran, "dbt build")
    assert (build.cwd / "target" / "manifest.json").is_file()
    assert (build.cwd / "target" / "run_results.json").is_file()
    run_results = json.loads((build.cwd / "target" / "run_results.json").read_text(encoding="utf-8"))
    assert {result["status"] for result in run_results["results"]} <= CLEAN_STATUSES

    check = one(ran, "-m bridge check")
    report = json.loads((check.cwd / "bridge-report.json").read_text(encoding="utf-8"))
    assert report["ok"] is True, report
    assert report["counts"]["dags"] > 0, "the Airflow DB was not read"
    junit = ET.parse(check.cwd / "bridge-checks.xml").getroot()
    assert junit.get("failures") == "0" and junit.get("errors") == "0", ET.tostring(junit)
    assert "::error" not in check.stdout
    assert not [line for line in check.stdout.splitlines() if line.strip().startswith("error:")], check.stdout
    if recipe == "github-actions.yml":
        assert "--format github" in check.line
        assert all(line.startswith("::") for line in check.stdout.splitlines()), check.stdout  # annotations only

    sync = one(ran, "-m bridge sync")
    assert json.loads((sync.cwd / "bridge-sync-report.json").read_text(encoding="utf-8"))["ok"] is True
    emitted = json.loads(mcps.read_text(encoding="utf-8"))
    assert isinstance(emitted, list) and len(emitted) > 100
