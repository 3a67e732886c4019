from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import BridgeConfig, build_config, load_config
from bridge.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bridge.yml"
    path.write_text(text)
    return path


def test_yaml_with_env_expansion_and_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "dbt:\n  manifests: ['${PROJECT}/target/manifest.json']\n"
        "airflow_api:\n  url: ${AIRFLOW_URL:-http://localhost:8080}\n  auth: basic\n"
        "  username: admin\n  password: ${AIRFLOW_PASSWORD}\n",
    )
    config = load_config(path, {"PROJECT": "/srv/dbt", "AIRFLOW_PASSWORD": "hunter2"})
    assert config.dbt.manifests == ["/srv/dbt/target/manifest.json"]
    assert config.airflow_api.url == "http://localhost:8080"
    assert config.airflow_api.password is not None and config.airflow_api.password.get_secret_value() == "hunter2"


def test_missing_env_variable_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "airflow_api:\n  password: ${AIRFLOW_PASSWORD}\n")
    with pytest.raises(ConfigError, match=r"bridge.yml: environment variable AIRFLOW_PASSWORD is not set"):
        load_config(path, {})


def test_secrets_never_print() -> None:
    config = build_config(
        {
            "airflow_api": {"password": "hunter2", "token": "tok-123", "oidc_client_secret": "s3cr3t"},
            "airflow_db": {"url": "postgresql://airflow:dbpass@db/airflow"},
        }
    )
    for text in (repr(config), str(config), config.model_dump_json()):
        for secret in ("hunter2", "tok-123", "s3cr3t", "dbpass"):
            assert secret not in text


def test_unknown_and_malformed_settings_are_named() -> None:
    with pytest.raises(ConfigError, match=r"sink.type: Input should be"):
        build_config({"sink": {"type": "ftp"}})
    with pytest.raises(ConfigError, match=r"no_such_key: Extra inputs are not permitted"):
        build_config({"no_such_key": 1})


def test_recipe_form_reads_source_config(tmp_path: Path) -> None:
    path = write(tmp_path, "source:\n  type: bridge\n  config:\n    env: DEV\nsink:\n  type: console\n")
    assert load_config(path, {}).env == "DEV"


def test_original_connector_keys_are_mapped() -> None:
    config = build_config(
        {
            "airflow_url": "https://airflow.example.com",
            "keycloak_server": "https://sso.example.com/auth",
            "keycloak_realm": "data",
            "keycloak_client_id": "bridge",
            "keycloak_client_secret": "s3cr3t",
            "metadata_db_host": "pg.internal",
            "metadata_db_port": 6432,
            "metadata_db_username": "reader",
            "metadata_db_password": "pw",
            "capture_executions_days": 7,
            "process_instance_max_runs": 20,
            "domain_pattern_mapping": {".*fred.*": "urn:li:domain:FRED"},
            "cosmos_schema_mapping": {"stg_": "raw.staging"},
            "infer_cosmos_outlets": True,
            "verify_ssl": False,
            "env": "PROD",
        }
    )
    assert config.airflow_api.auth == "oidc"
    assert config.airflow_api.oidc_token_url == "https://sso.example.com/auth/realms/data/protocol/openid-connect/token"
    assert config.airflow_api.verify_ssl is False
    assert (config.airflow_db.host, config.airflow_db.port, config.airflow_db.username) == (
        "pg.internal",
        6432,
        "reader",
    )
    assert (config.run_history.days, config.run_history.max_runs_per_dag) == (7, 20)
    assert config.domain_rules == {".*fred.*": "urn:li:domain:FRED"}
    assert config.legacy_cosmos_schema_mapping == {"stg_": "raw.staging"}
    assert any("cosmos_schema_mapping" in w for w in config.warnings)
    assert any("infer_cosmos_outlets" in w for w in config.warnings)


def test_defaults_need_no_settings() -> None:
    config = BridgeConfig()
    assert (config.env, config.sink.type, config.lowercase_urns) == ("PROD", "datahub-lite", True)


def test_cli_flags_override_the_file_but_absent_flags_do_not(tmp_path: Path) -> None:
    from bridge.cli import _config

    path = write(tmp_path, "dbt:\n  manifests: [a/manifest.json]\nenv: DEV\n")
    assert _config(str(path), {"dbt.manifests": [], "env": None}).dbt.manifests == ["a/manifest.json"]
    overridden = _config(str(path), {"dbt.manifests": ["b/manifest.json"], "env": "PROD"})
    assert (overridden.dbt.manifests, overridden.env) == (["b/manifest.json"], "PROD")
