"""Installable: the wheel built from this checkout, installed into a fresh virtualenv (packages from the
registry, as a user's `pip install` gets them), gives the `dbt-lineage-bridge` command and the `bridge` source
of the `datahub` CLI, which runs a recipe from there; the `kafka` and `airflow` extras install on top and
`pip check` stays clean."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.airflow_dumps import sqlite_dump
from tests.conftest import POSTGRES_ARTIFACTS, REPO

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("wheel")]


def run(*command: str | Path, cwd: Path, timeout: float = 900) -> str:
    env = {**os.environ, "AIRFLOW_HOME": str(cwd / "airflow-home")}  # importing Airflow writes its config there
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          check=False, env=env)  # fmt: skip
    assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_the_wheel_installs_into_a_fresh_virtualenv_and_runs_as_a_datahub_source(tmp_path: Path) -> None:
    # built from a copy: setuptools writes build/ beside the sources, and the checkout stays as it is
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".venv", ".cache", ".git", "build", "*.egg-info",
                                                                "__pycache__", "out", "tests", "bench"))  # fmt: skip
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", tmp_path / "dist", source,
        cwd=tmp_path)  # fmt: skip
    [wheel] = (tmp_path / "dist").glob("dbt_lineage_bridge-*.whl")
    run(sys.executable, "-m", "venv", tmp_path / "venv", cwd=tmp_path)
    bin_dir = tmp_path / "venv" / "bin"
    run(bin_dir / "python", "-m", "pip", "install", "--quiet", f"{wheel}[kafka]", cwd=tmp_path)

    assert "version" in run(bin_dir / "dbt-lineage-bridge", "--version", cwd=tmp_path)
    # the page needs the page extra (vis-network, carried by pyvis): without it, one line says so, before reading
    plan_html = [bin_dir / "dbt-lineage-bridge", "plan", "--manifest", POSTGRES_ARTIFACTS / "manifest.json",
                 "--html", "page.html"]  # fmt: skip
    without = subprocess.run([str(c) for c in plan_html], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert without.returncode == 2 and "pip install 'dbt-lineage-bridge[page]'" in without.stderr, without.stderr
    assert not (tmp_path / "page.html").exists()
    run(bin_dir / "python", "-m", "pip", "install", "--quiet", f"{wheel}[kafka,page]", cwd=tmp_path)
    run(*plan_html, cwd=tmp_path)  # the page's own files are package data
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert "https://visjs.github.io/vis-network/" in page and "fct_index_performance" in page
    plugins = run(bin_dir / "datahub", "check", "plugins", cwd=tmp_path)
    assert any(line.split()[:1] == ["bridge"] and "disabled" not in line for line in plugins.splitlines())
    recipe = {
        "source": {"type": "bridge", "config": {
            "manifest_path": str(POSTGRES_ARTIFACTS / "manifest.json"),
            "airflow_db": {"url": f"sqlite:///{sqlite_dump(tmp_path)}"},
        }},
        "sink": {"type": "file", "config": {"filename": "out.json"}},
    }  # fmt: skip
    (tmp_path / "recipe.json").write_text(json.dumps(recipe))
    run(bin_dir / "datahub", "ingest", "-c", "recipe.json", cwd=tmp_path)
    records = json.loads((tmp_path / "out.json").read_text())
    assert any(r["entityUrn"] == "urn:li:dataFlow:(airflow,finance_dbt,prod)" for r in records)
    # the installed package, not this checkout, did it
    where = run(bin_dir / "python", "-c", "import bridge; print(bridge.__file__)", cwd=tmp_path)
    assert str(tmp_path / "venv") in where

    run(bin_dir / "python", "-m", "pip", "install", "--quiet", f"{wheel}[airflow,kafka]", cwd=tmp_path)
    run(bin_dir / "python", "-m", "pip", "check", cwd=tmp_path)
    version = run(bin_dir / "python", "-c", "import airflow; print(airflow.__version__)", cwd=tmp_path)
    assert int(version.strip().split(".")[0]) >= 2
