"""The original in-house connector's flat keys (PRODUCT.md section 6), mapped onto the sections of
`BridgeConfig`; its old Cosmos prefix-guessing keys are accepted with a warning, since the manifest decides."""

from __future__ import annotations

import glob
import re
from typing import Any

from pydantic import BaseModel

# The original connector's flat keys -> (section, field) in this model.
_LEGACY_KEYS: dict[str, tuple[str, str]] = {
    "airflow_url": ("airflow_api", "url"),
    "username": ("airflow_api", "username"),
    "password": ("airflow_api", "password"),
    "verify_ssl": ("airflow_api", "verify_ssl"),
    "timeout": ("airflow_api", "timeout"),
    "max_workers": ("airflow_api", "max_workers"),
    "keycloak_client_id": ("airflow_api", "oidc_client_id"),
    "keycloak_client_secret": ("airflow_api", "oidc_client_secret"),
    "metadata_db_host": ("airflow_db", "host"),
    "metadata_db_port": ("airflow_db", "port"),
    "metadata_db_database": ("airflow_db", "database"),
    "metadata_db_username": ("airflow_db", "username"),
    "metadata_db_password": ("airflow_db", "password"),
    "capture_executions_days": ("run_history", "days"),
    "process_instance_max_runs": ("run_history", "max_runs_per_dag"),
}
_KEYCLOAK_KEYS = ("keycloak_server", "keycloak_realm", "keycloak_client_id", "keycloak_client_secret")
# Keys only the original connector had: a configuration holding one is written in its terms.
_ORIGINAL_ONLY = (
    *(key for key in _LEGACY_KEYS if key not in ("username", "password", "verify_ssl", "timeout", "max_workers")),
    *_KEYCLOAK_KEYS,
    "capture_executions",
    "emit_process_instances",
    "metadata_db_enabled",
    "domain_pattern_mapping",
)
_LEGACY_COSMOS_KEYS = (
    "infer_cosmos_outlets",
    "cosmos_task_group_pattern",
    "cosmos_outlet_database",
    "cosmos_outlet_schema",
    "cosmos_outlet_platform",
    "cosmos_outlet_to_dbt",
)


# DataHub's dbt source names its artifacts so; a recipe switched to the bridge may keep those keys.
_DBT_SOURCE_KEYS = {
    "manifest_path": "manifests",
    "catalog_path": "catalogs",
    "run_results_paths": "run_results",
    "sources_path": "sources",
}


def map_legacy_keys(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of `data` with the original connector's flat keys moved into this model's sections. Warnings
    given in (those of a configuration validated before) are kept."""
    warnings: list[str] = list(data.get("warnings", ()))
    data = {key: value for key, value in data.items() if key != "warnings"}
    _map_dbt_source_keys(data)
    original = any(key in data for key in _ORIGINAL_ONLY)
    _check_keycloak(data)
    for key, (section, field) in _LEGACY_KEYS.items():
        if key in data:
            data[section] = {**mapping_section(data.get(section, {}), section), field: data.pop(key)}
    warnings += _map_legacy_runs(data)
    _map_legacy_auth(data)
    if data.pop("metadata_db_enabled", True) is False:
        data.pop("airflow_db", None)
    if original and "platform_instance" in data and "airflow_cluster" not in data:
        # The original connector's platform_instance named the Airflow instance: the cluster of its flows.
        data["airflow_cluster"] = data.pop("platform_instance")
        warnings.append(
            f"platform_instance {data['airflow_cluster']!r} names the Airflow instance here, as in the original "
            "connector's recipes (the cluster of flows, jobs and runs); the warehouse's instance is then unset"
        )
    if "domain_pattern_mapping" in data:
        mapping = mapping_section(data.pop("domain_pattern_mapping"), "domain_pattern_mapping")
        searched = {original_domain_pattern(pattern): domain for pattern, domain in mapping.items()}
        data["domain_rules"] = {**searched, **mapping_section(data.get("domain_rules", {}), "domain_rules")}
    if "cosmos_schema_mapping" in data:
        data["legacy_cosmos_schema_mapping"] = data.pop("cosmos_schema_mapping")
        warnings.append(
            "cosmos_schema_mapping is no longer used to place models: the dbt manifest decides. The run "
            "report lists every model where the old prefix guess would have been wrong."
        )
    for key in _LEGACY_COSMOS_KEYS:
        if key in data:
            data.pop(key)
            warnings.append(f"{key} is accepted but ignored: Cosmos tasks are matched to the dbt manifest.")
    data["warnings"] = tuple(warnings)
    return data


_LEADING_FLAGS = re.compile(r"^(?:\(\?[aiLmsux]+\))+")


def original_domain_pattern(pattern: object) -> object:
    """The original connector searched each `domain_pattern_mapping` regex anywhere in the dag_id, ignoring
    case; `domain_rules` match the whole dag_id. The same rule, written as a whole-id match."""
    if not isinstance(pattern, str):
        return pattern
    flags = _LEADING_FLAGS.match(pattern)  # `(?x)...`: global flags must stay at the front of the whole rule
    lead = flags.group(0) if flags else ""
    searched = f"{lead}.*(?i:{pattern[len(lead) :]}).*"
    try:
        re.compile(pattern)
        re.compile(searched)
    except re.error as exc:
        raise ValueError(
            f"domain_pattern_mapping: {pattern!r} is not a valid regular expression ({exc.msg} at position {exc.pos})"
        ) from None
    return searched


def _map_dbt_source_keys(data: dict[str, Any]) -> None:
    if "convert_column_urns_to_lowercase" in data:
        data["lowercase_columns"] = data.pop("convert_column_urns_to_lowercase")
    if isinstance(data.get("manifest_path"), str) and glob.has_magic(data["manifest_path"]):
        # The dbt source ingests each manifest a glob matches as its own project, named by its project_name
        data.setdefault("dbt_platform_instance_from_project", True)
    for key, field in _DBT_SOURCE_KEYS.items():
        if key in data:
            value = data.pop(key)
            dbt = mapping_section(data.get("dbt", {}), "dbt")
            data["dbt"] = {**dbt, field: [*dbt.get(field, []), *(value if isinstance(value, list) else [value])]}


def _check_keycloak(data: dict[str, Any]) -> None:
    """Keycloak settings come as a set: one missing is an error, never a silent fall back to no auth."""
    keycloak = {key: data.get(key) for key in _KEYCLOAK_KEYS}
    missing = [key for key, value in keycloak.items() if not value]
    if missing and len(missing) < len(keycloak):
        raise ValueError(f"Keycloak authentication needs {', '.join(missing)} too (or none of the keycloak_* keys)")


def _map_legacy_runs(data: dict[str, Any]) -> list[str]:
    """`capture_executions` read runs, `emit_process_instances` emitted them: either off means no runs."""
    toggles = [data.pop(key) for key in ("capture_executions", "emit_process_instances") if key in data]
    if not toggles:
        return []
    section = mapping_section(data.get("run_history", {}), "run_history")
    enabled = all(toggle is not False for toggle in toggles)
    data["run_history"] = {**section, "enabled": enabled}
    if "enabled" in section and section["enabled"] != enabled:
        return [f"run_history.enabled is {enabled} (capture_executions and emit_process_instances decide)"]
    return []


def mapping_section(value: Any, setting: str) -> dict[str, Any]:
    """A section given as a mapping (or a section model, from Python); anything else is named (a ValueError
    pydantic reports)."""
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_unset=True)
    if not isinstance(value, dict):
        raise ValueError(f"{setting} must be a mapping of settings (found: {type(value).__name__})")
    return value


def _map_legacy_auth(data: dict[str, Any]) -> None:
    server, realm = data.pop("keycloak_server", None), data.pop("keycloak_realm", None)
    api = dict(mapping_section(data.get("airflow_api", {}), "airflow_api"))
    if server and realm:
        if not isinstance(server, str) or not isinstance(realm, str):
            raise ValueError("keycloak_server and keycloak_realm must be text")
        api["oidc_token_url"] = f"{server.rstrip('/')}/realms/{realm}/protocol/openid-connect/token"
    given = api.get("oidc")
    section: dict[str, Any] = given if isinstance(given, dict) else {}
    oidc_given = any(api.get(f"oidc_{key}") or section.get(key) for key in ("client_id", "token_url"))
    if "auth" not in api and oidc_given:
        api["auth"] = "oidc"
    elif "auth" not in api and api.get("username"):
        api["auth"] = "basic"
    if api:
        data["airflow_api"] = api
