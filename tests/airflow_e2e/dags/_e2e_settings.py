"""Settings shared by the end-to-end DAGs: where the dbt project, its manifest, profiles and dbt live, and the
bridge's configuration. The test (../test_bridge_task.py) sets the BRIDGE_E2E_* variables; this module is
listed in .airflowignore and imported by the DAG files (PYTHONPATH holds this folder)."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode, TestBehavior

PROJECT = Path(os.environ["BRIDGE_E2E_PROJECT"])
MANIFEST = Path(os.environ["BRIDGE_E2E_MANIFEST"])
PROFILES = Path(os.environ["BRIDGE_E2E_PROFILES"]) / "profiles.yml"
DBT = os.environ["BRIDGE_E2E_DBT"]
BRIDGE_CONFIG = os.environ["BRIDGE_E2E_CONFIG"]
CONN_ID = "datahub_e2e"
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
