"""The one typed configuration of the bridge: built in Python, loaded from YAML, or from CLI flags.

YAML files may use `${VAR}` and `${VAR:-default}`, as DataHub recipes do; the environment is passed in by
the caller (the CLI passes `os.environ`), never read here. Secrets are `SecretStr`: they print as `**********`.
The flat keys of the original in-house connector (PRODUCT.md section 6) are accepted and mapped onto this
model; the old Cosmos prefix-guessing keys are accepted with a warning, since the manifest now decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from bridge.errors import ConfigError

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DbtConfig(_Section):
    manifests: list[str] = Field(default_factory=list, description="manifest.json paths or globs (.gz allowed)")
    run_results: list[str] = Field(default_factory=list)
    catalogs: list[str] = Field(default_factory=list)


class AirflowDbConfig(_Section):
    url: SecretStr | None = Field(None, description="postgresql://user:pass@host:port/db or sqlite:///path")
    host: str | None = None
    port: int = 5432
    database: str = "airflow"
    username: str | None = None
    password: SecretStr | None = None


class AirflowApiConfig(_Section):
    url: str | None = None
    # Read DAGs, tasks, assets and runs through the API. Unset: read it when no airflow_db is configured
    # (with a DB, the URL then only makes links). True with a DB: both are read and combined, the DB first.
    read: bool | None = None
    auth: Literal["none", "basic", "bearer", "airflow-jwt", "oidc"] = "none"
    username: str | None = None
    password: SecretStr | None = None
    token: SecretStr | None = None
    oidc_token_url: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scope: str | None = None
    verify_ssl: bool = True
    ca_bundle: str | None = None
    timeout: float = 30.0
    page_size: int = 100
    max_retries: int = 5
    max_workers: int = 4


class SinkConfig(_Section):
    """Where the MCPs go. `datahub-rest` authenticates with a static `token` or with OIDC client credentials
    (`oidc_*`: the sink fetches the access token and refreshes it); `batch_size`, `max_retries`,
    `retry_backoff` and `timeout` bound what one batch may cost before the sink gives up and says so."""

    type: Literal["file", "datahub-lite", "datahub-rest", "datahub-kafka"] = "datahub-lite"
    path: str | None = None
    server: str | None = None
    token: SecretStr | None = None
    oidc_token_url: str | None = Field(None, description="OIDC token endpoint for the client-credentials grant")
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scope: str | None = None
    batch_size: int = Field(100, ge=1, description="MCPs per ingestProposalBatch request (DataHub caps it at 200)")
    max_retries: int = Field(5, ge=0, description="retries of one batch after a transient error")
    retry_backoff: float = Field(1.0, ge=0, description="seconds before the first retry, doubled at each retry")
    timeout: float = Field(30.0, gt=0, description="seconds to wait for one answer (REST, token, Kafka delivery)")
    bootstrap: str | None = None
    schema_registry_url: str | None = None

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> SinkConfig:
        """OIDC needs all three settings, and a static token beside them would leave it unclear which is used."""
        oidc = {"oidc_token_url": self.oidc_token_url, "oidc_client_id": self.oidc_client_id,
                "oidc_client_secret": self.oidc_client_secret}  # fmt: skip
        missing = [f"sink.{name}" for name, value in oidc.items() if not value]
        if missing and len(missing) < len(oidc):
            raise ValueError(f"OIDC client credentials need {', '.join(missing)} too")
        if not missing and self.token is not None:
            raise ValueError("set either sink.token or the sink.oidc_* client credentials, not both")
        return self


class RunHistoryConfig(_Section):
    enabled: bool = True
    days: int = 30
    max_runs_per_dag: int = 100


class BridgeConfig(_Section):
    """Everything a sync needs. Every field has a default except the inputs themselves."""

    dbt: DbtConfig = Field(default_factory=DbtConfig)
    airflow_db: AirflowDbConfig = Field(default_factory=AirflowDbConfig)
    airflow_api: AirflowApiConfig = Field(default_factory=AirflowApiConfig)
    sink: SinkConfig = Field(default_factory=SinkConfig)
    run_history: RunHistoryConfig = Field(default_factory=RunHistoryConfig)
    env: str = "PROD"
    platform_instance: str | None = Field(None, description="the warehouse's platform instance in DataHub")
    dbt_platform_instance: str | None = None
    airflow_cluster: str = Field("prod", description="cluster of Airflow DataFlow URNs, as the Airflow plugin")
    lowercase_urns: bool = Field(True, description="lower-case dataset names, as DataHub's dbt source does")
    capture_assets: bool = True
    domain_rules: dict[str, str] = Field(default_factory=dict, description="dag_id regex -> domain URN")
    legacy_cosmos_schema_mapping: dict[str, str] = Field(default_factory=dict)
    warnings: tuple[str, ...] = Field(default=(), exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _accept_legacy_keys(cls, data: Any) -> Any:
        return map_legacy_keys(data) if isinstance(data, dict) else data


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
    "capture_executions": ("run_history", "enabled"),
    "emit_process_instances": ("run_history", "enabled"),
    "capture_executions_days": ("run_history", "days"),
    "process_instance_max_runs": ("run_history", "max_runs_per_dag"),
}
_LEGACY_COSMOS_KEYS = (
    "infer_cosmos_outlets",
    "cosmos_task_group_pattern",
    "cosmos_outlet_database",
    "cosmos_outlet_schema",
    "cosmos_outlet_platform",
    "cosmos_outlet_to_dbt",
)


def map_legacy_keys(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of `data` with the original connector's flat keys moved into this model's sections."""
    data = {key: value for key, value in data.items() if key != "warnings"}
    warnings: list[str] = []
    for key, (section, field) in _LEGACY_KEYS.items():
        if key in data:
            data.setdefault(section, {})
            data[section] = {**data[section], field: data.pop(key)}
    _map_legacy_auth(data)
    if data.pop("metadata_db_enabled", True) is False:
        data.pop("airflow_db", None)
    if "domain_pattern_mapping" in data:
        data["domain_rules"] = {**data.pop("domain_pattern_mapping"), **data.get("domain_rules", {})}
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


def _map_legacy_auth(data: dict[str, Any]) -> None:
    server, realm = data.pop("keycloak_server", None), data.pop("keycloak_realm", None)
    api = dict(data.get("airflow_api", {}))
    if server and realm:
        api["oidc_token_url"] = f"{server.rstrip('/')}/realms/{realm}/protocol/openid-connect/token"
    if "auth" not in api and (api.get("oidc_client_id") or api.get("oidc_token_url")):
        api["auth"] = "oidc"
    elif "auth" not in api and api.get("username"):
        api["auth"] = "basic"
    if api:
        data["airflow_api"] = api


def expand_env(text: str, environ: Mapping[str, str], source: str) -> str:
    """Replace `${VAR}` and `${VAR:-default}`; a missing variable without default is a ConfigError."""

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise ConfigError(f"{source}: environment variable {name} is not set. Set it, or write ${{{name}:-default}}.")

    return _ENV_REF.sub(substitute, text)


def load_config(path: str | Path, environ: Mapping[str, str]) -> BridgeConfig:
    """Read a YAML configuration file (a bare one, or a recipe whose `source.config` holds it)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file ({exc.strerror}).") from exc
    try:
        data = yaml.safe_load(expand_env(text, environ, str(path))) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc}).") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level.")
    if isinstance(data.get("source"), dict):
        data = data["source"].get("config", {})
    return build_config(data, str(path))


def build_config(data: Mapping[str, Any], source: str = "configuration") -> BridgeConfig:
    """Validate settings into a `BridgeConfig`, turning pydantic's errors into one readable ConfigError."""
    try:
        return BridgeConfig.model_validate(dict(data))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{source}: {problems}.") from None
