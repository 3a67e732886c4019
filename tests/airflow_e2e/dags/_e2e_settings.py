"""Settings shared by the end-to-end DAGs: where the dbt project, its manifest, profiles and dbt live, and the
bridge's configuration. The test (../test_bridge_task.py) sets the BRIDGE_E2E_* variables; this module is
listed in .airflowignore and imported by the DAG files (PYTHONPATH holds this folder).

Every Cosmos task keeps the run_results.json of its dbt invocation (`keep_run_results`, Cosmos' `callback`),
where the bridge reads them: the dbt executions it emits, each under the task run that executed it."""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode, TestBehavior

PROJECT = Path(os.environ["BRIDGE_E2E_PROJECT"])
MANIFEST = Path(os.environ["BRIDGE_E2E_MANIFEST"])
PROFILES = Path(os.environ["BRIDGE_E2E_PROFILES"]) / "profiles.yml"
DBT = os.environ["BRIDGE_E2E_DBT"]
BRIDGE_CONFIG = os.environ["BRIDGE_E2E_CONFIG"]
CONN_ID = "datahub_e2e"
RUN_RESULTS = "BRIDGE_E2E_RUN_RESULTS"  # the folder the Cosmos tasks copy their run_results.json into
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def project() -> ProjectConfig:
    return ProjectConfig(dbt_project_path=PROJECT, manifest_path=MANIFEST, install_dbt_deps=False)


def profile(target: str = "local") -> ProfileConfig:
    return ProfileConfig(profile_name="finance", target_name=target, profiles_yml_filepath=PROFILES)


def execution() -> ExecutionConfig:
    return ExecutionConfig(dbt_executable_path=DBT, invocation_mode=InvocationMode.SUBPROCESS)


def render(select: list[str] | None = None) -> RenderConfig:
    return RenderConfig(
        load_method=LoadMode.DBT_MANIFEST,
        select=select or [],
        test_behavior=TestBehavior.AFTER_EACH,
        dbt_executable_path=DBT,
        invocation_mode=InvocationMode.SUBPROCESS,
    )


def operator_args() -> dict[str, Any]:
    return {"callback": keep_run_results}


def keep_run_results(project_dir: str, context: Any = None, **_: Any) -> None:
    """Cosmos' `callback` (1.11 and 1.15 alike: called after dbt ran, failed or not, before Cosmos raises its
    failure, with the temporary project directory and `context=`): copy `target/run_results.json` to
    `$BRIDGE_E2E_RUN_RESULTS/<dag_id>/<run_id>/<task_id>/<map_index>.<try_number>.<random>.json`, one file
    per task try, named after the task run that executed it (what the test checks the bridge's links by)."""
    folder = os.environ.get(RUN_RESULTS)
    source = Path(project_dir) / "target" / "run_results.json"
    if not folder or context is None or not source.is_file():
        return
    ti = context["ti"]
    target = Path(folder, ti.dag_id, ti.run_id, ti.task_id)
    target.mkdir(parents=True, exist_ok=True)
    map_index = ti.map_index if ti.map_index is not None else -1
    shutil.copyfile(source, target / f"{map_index}.{ti.try_number}.{uuid.uuid4().hex[:8]}.json")
