"""The one typed configuration of the bridge: built in Python, from a YAML file (`bridge.config_yaml`), or
from CLI flags. Validated when built: URLs, ports, regular expressions, DataHub environments and URN names.

Secrets are `SecretStr`: they print as `**********`, and no message of this module quotes a value (a
validation error names the setting). The flat keys of the original in-house connector are mapped onto this
model by `bridge.config_legacy`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import quote_plus, unquote

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from bridge.config_legacy import map_legacy_keys, mapping_section
from bridge.db_url import DbTarget, parse_db_url, target_from_fields
from bridge.errors import ConfigError
from bridge.join.settings import JoinSettings
from bridge.model.pattern import NamePattern
from bridge.redact import basic_auth_value

# DataHub's environments (FabricType; `ALL_ENV_TYPES` of acryl-datahub 1.7, held equal by a test): DataHub's
# own connectors refuse any other `env`, so the bridge does too, rather than emit URNs nobody else makes.
DATAHUB_ENVS = frozenset({
    "CERT", "CORP", "DEV", "EI", "NON_PROD", "PRD", "PRE", "PROD", "QA", "RVW", "SANDBOX", "SBX", "SIT", "STG",
    "TEST", "TST", "UAT",
})  # fmt: skip
# Characters that separate the parts of a DataHub URN; a name holding one would make a different URN.
URN_RESERVED = frozenset(",()\u241f")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def secrets(self) -> list[str]:
        """The section's secret values, for the redactor."""
        return [value.get_secret_value() for value in self.__dict__.values() if isinstance(value, SecretStr)]


class DbtConfig(_Section):
    """Where the dbt projects are described: manifests, exports of the dbt package, or a project dbt runs."""

    manifests: list[str] = Field(default_factory=list, description="manifest.json paths or globs (.gz allowed)")
    exports: list[str] = Field(default_factory=list, description="`dbt run-operation bridge_export` output; - stdin")
    project_dir: str | None = Field(None, description="a dbt project the bridge runs the export in (dbtRunner)")
    target: str | None = Field(None, description="the dbt target of project_dir (dbt's default when unset)")
    profiles_dir: str | None = Field(None, description="the folder of profiles.yml for project_dir")
    run_results: list[str] = Field(default_factory=list, description="run_results.json paths or globs")
    catalogs: list[str] = Field(default_factory=list, description="catalog.json paths or globs")
    sources: list[str] = Field(default_factory=list, description="sources.json (`dbt source freshness`) paths or globs")

    @model_validator(mode="after")
    def _coherent(self) -> DbtConfig:
        if self.exports.count("-") > 1:
            raise ValueError("exports names standard input (-) twice; it can be read once")
        if (self.target or self.profiles_dir) and not self.project_dir:
            raise ValueError("target and profiles_dir apply to project_dir (--dbt-project-dir), which is not set")
        return self

    @property
    def given(self) -> bool:
        return bool(self.manifests or self.exports or self.project_dir)


class AirflowDbConfig(_Section):
    url: SecretStr | None = Field(None, description="postgresql://user:pass@host:port/db or sqlite:///path")
    host: str | None = None
    port: int = 5432
    database: str = "airflow"
    username: str | None = None
    password: SecretStr | None = None
    statement_timeout: float = Field(300.0, gt=0, description="seconds one statement may run (PostgreSQL)")
    lock_timeout: float = Field(30.0, gt=0, description="seconds a statement may wait for a table lock (PostgreSQL)")

    @model_validator(mode="after")
    def _parsable(self) -> AirflowDbConfig:
        self.target()  # a URL that cannot be read is a ConfigError now, before anything is read
        return self

    def secrets(self) -> list[str]:
        """The URL and password, and the password inside the URL as it travels (decoded)."""
        target = self.target()
        return super().secrets() + ([target.password] if target is not None and target.password else [])

    def target(self) -> DbTarget | None:
        """The database to open: `url` as given, else the separate fields; None when neither is set."""
        if self.url is not None:
            return parse_db_url(self.url.get_secret_value(), "airflow_db.url")
        if not self.host:
            return None
        password = self.password.get_secret_value() if self.password else None
        return target_from_fields(self.host, self.port, self.database, self.username, password)


OIDC_KEYS = ("token_url", "client_id", "client_secret", "scope", "auth_method")


class OidcSettings(_Section):
    """OIDC client credentials (RFC 6749 4.4), one section for the Airflow API and the DataHub sink (`oidc:`):
    the token endpoint (or a Keycloak realm URL), the client, an optional scope, and how the client proves who
    it is at the endpoint: `client_secret_post` (id and secret as form fields, the default) or
    `client_secret_basic` (HTTP Basic). Each field may also be written flat beside the section's other keys
    (`oidc_token_url`, `oidc_client_id`, `oidc_client_secret`, `oidc_scope`, `oidc_auth_method`), as before."""

    token_url: str | None = Field(None, description="the token endpoint, or a Keycloak realm URL (.../realms/<realm>)")
    client_id: str | None = None
    client_secret: SecretStr | None = None
    scope: str | None = None
    auth_method: Literal["client_secret_post", "client_secret_basic"] = Field(
        "client_secret_post", description="how the client authenticates at the token endpoint"
    )

    @field_validator("token_url")
    @classmethod
    def _token_url(cls, value: str | None) -> str | None:
        if not value:  # unset, or empty (`${OIDC_URL:-}`)
            return None
        url, username, password = split_credentials(value, "the token URL")
        if username or password:
            raise ValueError("holds credentials: give them as client_id and client_secret instead")
        return url

    def missing(self) -> list[str]:
        """The fields client credentials need that are not set."""
        return [name for name in ("token_url", "client_id", "client_secret") if not getattr(self, name)]

    def secrets(self) -> list[str]:
        """The client secret, and the credential `client_secret_basic` sends (base64 of the form-encoded pair)."""
        if self.client_secret is None:
            return []
        secret = self.client_secret.get_secret_value()
        return [secret, basic_auth_value(quote_plus(self.client_id or ""), quote_plus(secret))]


class _OidcClient(_Section):
    """A section that may authenticate with OIDC client credentials: its `oidc` section, or the flat keys."""

    section_name: ClassVar[str]
    oidc: OidcSettings | None = None

    @model_validator(mode="before")
    @classmethod
    def _flat_oidc_keys(cls, data: Any) -> Any:
        return cls._gathered(data) if isinstance(data, dict) else data

    @classmethod
    def _gathered(cls, data: dict[str, Any]) -> dict[str, Any]:
        return gather_oidc(data, cls.section_name)

    @property
    def oidc_token_url(self) -> str | None:
        return self.oidc.token_url if self.oidc else None

    @property
    def oidc_client_id(self) -> str | None:
        return self.oidc.client_id if self.oidc else None

    @property
    def oidc_client_secret(self) -> SecretStr | None:
        return self.oidc.client_secret if self.oidc else None

    @property
    def oidc_scope(self) -> str | None:
        return self.oidc.scope if self.oidc else None

    def secrets(self) -> list[str]:
        return super().secrets() + (self.oidc.secrets() if self.oidc else [])


def gather_oidc(data: dict[str, Any], section: str) -> dict[str, Any]:
    """`data` with its flat `oidc_*` keys moved into its `oidc` section. Both forms mean the same; a field given
    both ways with two different values is an error (a ValueError pydantic reports) naming both keys."""
    flat_keys = {f"oidc_{name}": name for name in OIDC_KEYS}
    # An empty value (`oidc_token_url: ${OIDC_URL:-}`) is no value, as everywhere in the configuration.
    flat = {flat_keys[key]: value for key, value in data.items() if key in flat_keys and value not in (None, "")}
    rest = {key: value for key, value in data.items() if key not in flat_keys}
    given = data.get("oidc")
    if not flat:
        return rest
    nested = mapping_section(given, f"{section}.oidc") if given is not None else {}
    for name in flat.keys() & {key for key, value in nested.items() if value is not None}:
        if _plain(flat[name]) != _plain(nested[name]):
            raise ValueError(f"{section}.oidc_{name} and {section}.oidc.{name} are both set, to different values; "
                             "keep one")  # fmt: skip
    return {**rest, "oidc": {**nested, **flat}}


def _plain(value: object) -> object:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


class AirflowApiConfig(_OidcClient):
    """Airflow's REST API. `auth: oidc` fetches tokens with the `oidc` client credentials (a section shared with
    the sink); without `auth`, given client credentials mean `oidc`, as the original connector's keys did."""

    section_name: ClassVar[str] = "airflow_api"
    url: str | None = None
    # Read DAGs, tasks, assets and runs through the API. Unset: read it when no airflow_db is configured
    # (with a DB, the URL then only makes links). True with a DB: both are read and combined, the DB first.
    read: bool | None = None
    auth: Literal["none", "basic", "bearer", "airflow-jwt", "oidc"] = "none"
    username: str | None = None
    password: SecretStr | None = None
    token: SecretStr | None = None
    # The original connector's fallback: when the OIDC token request fails, basic auth with username and
    # password instead (said in the run report). Off: a failed token request is an error.
    oidc_basic_auth_fallback: bool = False
    verify_ssl: bool = True
    ca_bundle: str | None = None
    timeout: float = 30.0
    page_size: int = 100
    max_retries: int = 5
    max_workers: int = 4
    # Read each DAG's details beside its task listing: its doc_md exists only there (two requests a DAG).
    # False: one request a DAG (its tasks); versions come from the listing of all DAGs' versions (Airflow 3)
    # and no doc_md is read.
    dag_details: bool = True

    def secrets(self) -> list[str]:
        """Password, token and client secret, and the credential basic auth sends (base64 of user:password)."""
        basic = (
            [basic_auth_value(self.username, self.password.get_secret_value())]
            if self.username and self.password
            else []
        )
        return super().secrets() + basic

    @classmethod
    def _gathered(cls, data: dict[str, Any]) -> dict[str, Any]:
        data = super()._gathered(data)
        oidc = data.get("oidc")
        given = mapping_section(oidc, "airflow_api.oidc") if oidc is not None else {}
        if "auth" not in data and (given.get("client_id") or given.get("token_url")):
            data = {**data, "auth": "oidc"}
        return data

    @model_validator(mode="before")
    @classmethod
    def _credentials_out_of_url(cls, data: Any) -> Any:
        """`https://user:pass@airflow` means basic auth: the credentials move to their fields, and the URL
        the bridge keeps (and writes into links) has none."""
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            return data
        url, username, password = split_credentials(data["url"], "airflow_api.url")
        data = {**data, "url": url}
        if username or password:
            data.setdefault("username", username)
            data.setdefault("password", password)
            if data.get("auth", "none") == "none":
                data["auth"] = "basic"
        return data


class SinkConfig(_OidcClient):
    """Where the MCPs go. `datahub-rest` authenticates with a static `token` or with OIDC client credentials
    (`oidc`, or its flat `oidc_*` keys: the sink fetches the access token and refreshes it); `batch_size`,
    `max_retries`, `retry_backoff` and `timeout` bound what one batch may cost before the sink gives up and says so."""

    section_name: ClassVar[str] = "sink"
    type: Literal["file", "datahub-lite", "datahub-rest", "datahub-kafka"] = "datahub-lite"
    path: str | None = None
    server: str | None = None
    token: SecretStr | None = None
    batch_size: int = Field(100, ge=1, description="MCPs per ingestProposalBatch request (DataHub caps it at 200)")
    max_retries: int = Field(5, ge=0, description="retries of one batch after a transient error")
    retry_backoff: float = Field(1.0, ge=0, description="seconds before the first retry, doubled at each retry")
    timeout: float = Field(30.0, gt=0, description="seconds to wait for one answer (REST, token, Kafka delivery)")
    bootstrap: str | None = None
    schema_registry_url: str | None = None

    @field_validator("server")
    @classmethod
    def _server_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url, username, password = split_credentials(value, "sink.server")
        if username or password:
            raise ValueError("holds credentials: give them as sink.token (or sink.oidc_*) instead")
        return url

    @field_validator("bootstrap")
    @classmethod
    def _bootstrap_without_credentials(cls, value: str | None) -> str | None:
        if value is not None and "@" in value:
            raise ValueError("holds credentials: give the brokers as HOST:PORT[,HOST:PORT] (SASL is not supported yet)")
        return value

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> SinkConfig:
        """OIDC needs all three settings, and a static token beside them would leave it unclear which is used."""
        missing = [f"sink.oidc.{name}" for name in (self.oidc or OidcSettings()).missing()]
        if missing and len(missing) < len(OidcSettings().missing()):
            raise ValueError(f"OIDC client credentials need {', '.join(missing)} too (or the flat sink.oidc_* keys)")
        if not missing and self.token is not None:
            raise ValueError("set either sink.token or the OIDC client credentials (sink.oidc), not both")
        return self


class PatternConfig(_Section):
    """DataHub's AllowDenyPattern form: `allow` and `deny` regexes matched at the start of a name."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    allow: list[str] = Field(default_factory=lambda: [".*"])
    deny: list[str] = Field(default_factory=list)
    ignore_case: bool = Field(True, alias="ignoreCase")

    @field_validator("allow", "deny")
    @classmethod
    def _regexes(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            checked_regex(pattern)
        return patterns

    def pattern(self) -> NamePattern:
        return NamePattern(tuple(self.allow), tuple(self.deny), self.ignore_case)


class RunHistoryConfig(_Section):
    """DAG runs and task runs: read and emitted when `enabled`, from the last `days`, the most recent
    `max_runs_per_dag` of each DAG."""

    enabled: bool = True
    days: int = Field(30, ge=1)
    max_runs_per_dag: int = Field(100, ge=1)


class StateConfig(_Section):
    """Incremental syncs. With a `path`, a sync remembers what it emitted (entities, a hash per aspect) and
    sends only what changed; entities an earlier sync emitted that are gone are soft-deleted
    (`remove_stale_metadata`), unless that would remove more than `fail_safe_threshold` percent of the
    DAGs and tasks, or of the datasets and assertions, emitted before: then nothing is removed and the sync
    fails, saying so. Without a path every sync sends everything and removes nothing."""

    path: str | None = Field(None, description="the state file (written after each successful sync)")
    remove_stale_metadata: bool = Field(True, description="soft-delete what an earlier sync emitted and is gone")
    fail_safe_threshold: float = Field(
        75.0, ge=0, le=100, description="percent of one kind of entity a sync may remove (DataHub's default)"
    )


if TYPE_CHECKING:
    from datahub.ingestion.source.state.stale_entity_removal_handler import StatefulStaleMetadataRemovalConfig
else:
    StatefulStaleMetadataRemovalConfig = Any  # DataHub's class: only its ingestion source imports DataHub


class BridgeConfig(_Section):
    """Everything a sync needs. Every field has a default except the inputs themselves."""

    dbt: DbtConfig = Field(default_factory=DbtConfig)
    airflow_db: AirflowDbConfig = Field(default_factory=AirflowDbConfig)
    airflow_api: AirflowApiConfig = Field(default_factory=AirflowApiConfig)
    sink: SinkConfig = Field(default_factory=SinkConfig)
    run_history: RunHistoryConfig = Field(default_factory=RunHistoryConfig)
    state: StateConfig = Field(default_factory=StateConfig)
    env: str = "PROD"
    platform_instance: str | None = Field(None, description="the warehouse's platform instance in DataHub")
    dbt_platform_instance: str | None = None
    dbt_platform_instance_from_project: bool = Field(
        False,
        description="each manifest's project_name is its dbt platform instance, as DataHub's dbt source names the "
        "projects of a globbed manifest_path (on when a recipe's manifest_path is a glob)",
    )
    airflow_cluster: str = Field("prod", description="cluster of Airflow DataFlow URNs, as the Airflow plugin")
    lowercase_urns: bool = Field(True, description="lower-case dataset names, as DataHub's dbt source does")
    lowercase_columns: bool | None = Field(
        None,
        description="lower-case the column names of dbt entities' schemas, as DataHub's dbt source "
        "(convert_column_urns_to_lowercase); unset: on for a Snowflake project, off for others",
    )
    capture_assets: bool = True
    dag_pattern: PatternConfig = Field(default_factory=PatternConfig, description="which DAGs are read (dag_id)")
    domain_rules: dict[str, str] = Field(default_factory=dict, description="dag_id regex -> domain URN")
    # dbt nodes without a domain of their own (meta, group): by file path or fqn (`models/marts/fred/.*`,
    # `finance.marts.fred.*`), then by schema (`fred`); each regex matched in full, first rule wins.
    path_domain_rules: dict[str, str] = Field(default_factory=dict, description="path or fqn regex -> domain")
    schema_domain_rules: dict[str, str] = Field(default_factory=dict, description="schema regex -> domain")
    legacy_cosmos_schema_mapping: dict[str, str] = Field(default_factory=dict)
    # DataHub's stateful ingestion (checkpoints, stale-entity removal), under `datahub ingest` only: the DataHub
    # source validates it with DataHub's own class and sets it here; `bridge sync` ignores it with a warning.
    stateful_ingestion: StatefulStaleMetadataRemovalConfig | None = Field(None, exclude=True)
    warnings: tuple[str, ...] = Field(default=(), exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _accept_legacy_keys(cls, data: Any) -> Any:
        return map_legacy_keys(data) if isinstance(data, dict) else data

    @model_validator(mode="before")
    @classmethod
    def _without_pipeline_settings(cls, data: Any) -> Any:
        """`stateful_ingestion` is a setting of DataHub's pipeline: named in a warning and left out."""
        if not isinstance(data, dict) or "stateful_ingestion" not in data:
            return data
        warning = ("stateful_ingestion is read by `datahub ingest` (DataHub's checkpoints), not by `bridge sync`, "
                   "whose incremental syncs and removals are the state: section (state.path, "
                   "state.remove_stale_metadata, state.fail_safe_threshold)")  # fmt: skip
        rest = {key: value for key, value in data.items() if key != "stateful_ingestion"}
        return rest | {"warnings": (*data.get("warnings", ()), warning)}

    def join_settings(self) -> JoinSettings:
        """What the join needs of the configuration, as plain values."""
        return JoinSettings(
            env=self.env,
            platform_instance=self.platform_instance,
            dbt_platform_instance=self.dbt_platform_instance,
            dbt_platform_instance_from_project=self.dbt_platform_instance_from_project,
            airflow_cluster=self.airflow_cluster,
            lowercase_urns=self.lowercase_urns,
            dag_domain_rules=self.domain_rules,
            path_domain_rules=self.path_domain_rules,
            schema_domain_rules=self.schema_domain_rules,
            legacy_prefix_mapping=self.legacy_cosmos_schema_mapping,
            capture_assets=self.capture_assets,
            max_runs_per_dag=self.run_history.max_runs_per_dag,
        )

    def secrets(self) -> list[str]:
        """Every secret value of the configuration, for the redactor: passwords, tokens, client secrets, the
        password inside a DB URL and the credential of basic auth."""
        return [*self.airflow_db.secrets(), *self.airflow_api.secrets(), *self.sink.secrets()]

    @field_validator("env")
    @classmethod
    def _datahub_env(cls, value: str) -> str:
        if value.upper() not in DATAHUB_ENVS:
            raise ValueError(f"must be one of DataHub's environments: {', '.join(sorted(DATAHUB_ENVS))}")
        return value.upper()

    @field_validator("platform_instance", "dbt_platform_instance", "airflow_cluster")
    @classmethod
    def _urn_part(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or URN_RESERVED & set(value)):
            raise ValueError("must be a non-empty name without , ( or ) (they separate the parts of DataHub URNs)")
        return value

    @field_validator("domain_rules", "path_domain_rules", "schema_domain_rules")
    @classmethod
    def _domain_rules(cls, rules: dict[str, str]) -> dict[str, str]:
        for pattern, domain in rules.items():
            checked_regex(pattern)
            if not domain.strip() or URN_RESERVED & set(domain):
                raise ValueError(f"the domain of rule {pattern!r} must be a domain id or URN without , ( or )")
        return rules


def split_credentials(url: str, setting: str) -> tuple[str, str | None, str | None]:
    """An http(s) URL without its user info, and the user name and password it held (percent-decoded).
    A URL that is not http(s) with a host is a ValueError that quotes none of it."""
    scheme, separator, rest = url.strip().partition("://")
    if not separator or scheme.lower() not in ("http", "https"):
        raise ValueError(f"{setting} must be an http:// or https:// URL")
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    userinfo, at, hostport = rest[:end].rpartition("@")
    if not hostport or "@" in rest[end:]:
        raise ValueError(f"{setting} has no host, or an unencoded @ in its credentials (write @ as %40)")
    _check_port(hostport, setting)
    username, _, password = userinfo.partition(":")
    clean = f"{scheme.lower()}://{hostport}{rest[end:]}"
    return clean, unquote(username) or None if at else None, unquote(password) or None if at else None


def _check_port(hostport: str, setting: str) -> None:
    port = hostport.rsplit("]", 1)[-1].rpartition(":")[2] if ":" in hostport.rsplit("]", 1)[-1] else ""
    if port and (not port.isdigit() or not 0 < int(port) < 65536):
        raise ValueError(f"{setting}: the port is not a number from 1 to 65535")


def checked_regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{pattern!r} is not a valid regular expression ({exc.msg} at position {exc.pos})") from None


def build_config(data: Mapping[str, Any], source: str = "configuration") -> BridgeConfig:
    """Validate settings into a `BridgeConfig`, turning pydantic's errors into one readable ConfigError."""
    try:
        return BridgeConfig.model_validate(dict(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise ConfigError(f"{source}: {problems}.") from None
