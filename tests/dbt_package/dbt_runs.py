"""Running real dbt on a copy of the bundled project, with the dbt package of this checkout installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
BUNDLED = REPO / "dbt_project"
PACKAGE = REPO / "macros"
MARKER = "BRIDGE_EXPORT_V1 "
PG_HOST = os.environ.get("BRIDGE_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BRIDGE_PG_PORT", "5432"))


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


def drop_schemas(prefix: str) -> None:
    """Drop every schema of bridge_dbt whose name starts with `prefix` (what a dbt run built under it)."""
    import psycopg2

    connection = psycopg2.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="bridge_dbt")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("select nspname from pg_namespace where nspname like %s", (prefix + "%",))
        for (name,) in cursor.fetchall():
            cursor.execute(f'drop schema "{name}" cascade')
    connection.close()
