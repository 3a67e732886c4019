from __future__ import annotations

import re
from pathlib import Path

import pytest

from bridge.config import BridgeConfig, build_config
from bridge.config_yaml import load_config
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
    path = write(
        tmp_path,
        "source:\n  type: bridge\n  config:\n    env: DEV\nsink:\n  type: file\n  config: {filename: out.json}\n",
    )
    config = load_config(path, {})
    assert (config.env, config.sink.type, config.sink.path) == ("DEV", "file", "out.json")


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
    # searched anywhere in the dag_id, ignoring case, as the original did
    assert config.domain_rules == {".*(?i:.*fred.*).*": "urn:li:domain:FRED"}
    assert config.airflow_cluster == "prod" and config.platform_instance is None
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


def test_env_values_are_substituted_after_parsing_and_stay_one_value(tmp_path: Path) -> None:
    """A value holding a quote, a comment sign, a colon and a newline cannot change the document's structure."""
    path = write(tmp_path, 'airflow_api:\n  url: http://airflow\n  password: "${PW}"\n  username: ${USER_NAME}\n')
    tricky = 'a"b #c: d\nenv: DEV'
    config = load_config(path, {"PW": tricky, "USER_NAME": "x: y"})
    assert config.airflow_api.password is not None and config.airflow_api.password.get_secret_value() == tricky
    assert (config.airflow_api.username, config.env) == ("x: y", "PROD")


def test_yaml_errors_name_the_place_but_quote_nothing(tmp_path: Path) -> None:
    for text in ("airflow_api:\n  password: *s3cretAlias\n", 'airflow_db: {password: "s3cret\n', "a: b\n\ts3cret: 1\n"):
        with pytest.raises(ConfigError, match=r"bridge\.yml: not valid YAML at line \d+, column \d+") as raised:
            load_config(write(tmp_path, text), {})
        assert "s3cret" not in str(raised.value)


def test_credentials_in_airflow_url_move_to_basic_auth() -> None:
    config = build_config({"airflow_url": "https://bob:p%40ss%2Fword@airflow.example.com:8443/base"})
    api = config.airflow_api
    assert (api.url, api.auth, api.username) == ("https://airflow.example.com:8443/base", "basic", "bob")
    assert api.password is not None and api.password.get_secret_value() == "p@ss/word"
    given = build_config({"airflow_api": {"url": "https://x:y@h", "auth": "bearer", "token": "t", "username": "u"}})
    assert (given.airflow_api.auth, given.airflow_api.username) == ("bearer", "u")  # what was set stays


def test_config_secrets_lists_every_form() -> None:
    from bridge.redact import Redactor

    data = {"airflow_db": {"url": "postgresql://r:p%40ss@db/airflow"}, "airflow_api": {"url": "http://u:apw@h"}}
    config = build_config({**data, "sink": {"token": "gms-tok"}})
    secrets = config.secrets()
    assert {"p@ss", "apw", "gms-tok"} <= set(secrets)
    assert "dTphcHc=" in secrets  # base64 of u:apw, as basic auth sends it
    assert Redactor(secrets)("p%40ss p@ss apw gms-tok dTphcHc=") == "*** *** *** *** ***"


def test_datahub_envs_are_datahubs_own() -> None:
    from datahub.emitter.mce_builder import ALL_ENV_TYPES

    from bridge.config import DATAHUB_ENVS

    assert set(ALL_ENV_TYPES) == DATAHUB_ENVS
    assert build_config({"env": "dev"}).env == "DEV"


def test_warnings_and_single_fields_survive_command_line_flags(tmp_path: Path) -> None:
    from bridge.cli import _config, parse_sink

    path = write(
        tmp_path,
        "infer_cosmos_outlets: true\nsink: {type: file, path: a.json, token: tok-1, batch_size: 7}\n",
    )
    config = _config(str(path), parse_sink("datahub-rest:http://gms:8080"))
    assert (config.sink.type, config.sink.server, config.sink.batch_size) == ("datahub-rest", "http://gms:8080", 7)
    assert config.sink.token is not None and config.sink.token.get_secret_value() == "tok-1"
    assert any("infer_cosmos_outlets" in w for w in config.warnings)
    lite = _config(str(path), parse_sink("datahub-lite"))
    assert (lite.sink.type, lite.sink.path) == ("datahub-lite", None)  # the file sink's path is not Lite's


def test_sections_given_as_models_from_python() -> None:
    from bridge.config import AirflowApiConfig

    config = BridgeConfig(airflow_api=AirflowApiConfig(url="http://a", oidc_client_id="c"))  # type: ignore[call-arg]
    assert config.airflow_api.url == "http://a"


def test_the_original_run_toggles_both_have_to_be_on() -> None:
    both_on = build_config({"capture_executions": True, "emit_process_instances": True})
    assert both_on.run_history.enabled is True
    for toggles in ({"capture_executions": False}, {"capture_executions": True, "emit_process_instances": False},
                    {"emit_process_instances": False, "capture_executions": True}):  # fmt: skip
        assert build_config(toggles).run_history.enabled is False, toggles


def test_the_original_platform_instance_names_the_airflow_instance() -> None:
    original = build_config({"airflow_url": "https://airflow.example.com", "platform_instance": "airflow-eu"})
    assert (original.airflow_cluster, original.platform_instance) == ("airflow-eu", None)
    ours = build_config({"airflow_api": {"url": "https://airflow.example.com"}, "platform_instance": "snow-eu"})
    assert (ours.airflow_cluster, ours.platform_instance) == ("prod", "snow-eu")


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        (
            {"keycloak_server": "https://sso", "keycloak_client_id": "c", "keycloak_client_secret": "s"},
            "keycloak_realm",
        ),
        ({"keycloak_server": "https://sso", "keycloak_realm": "r"}, "keycloak_client_id, keycloak_client_secret"),
    ],
)
def test_an_incomplete_keycloak_setting_names_what_is_missing(given: dict[str, str], missing: str) -> None:
    with pytest.raises(ConfigError, match=f"Keycloak authentication needs {missing} too"):
        build_config({"airflow_url": "https://airflow.example.com", **given})


def test_the_original_domain_patterns_search_the_dag_id_ignoring_case() -> None:
    from bridge.join.domains import first_rule_match

    config = build_config({"domain_pattern_mapping": {"fred": "urn:li:domain:econ", "^ingest": "urn:li:domain:raw"},
                           "domain_rules": {"ingest_fred": "strict"}})  # fmt: skip
    rules = config.join_settings().dag_domain_rules
    assert first_rule_match(rules, "daily_FRED_load") == "econ"  # anywhere, any case
    assert first_rule_match(rules, "ingest_fred") == "econ"  # first rule in file order wins
    assert first_rule_match(rules, "ingest_markets") == "raw"
    assert first_rule_match({"ingest": "x"}, "ingest_markets") is None  # the bridge's own rules match whole ids
    flagged = build_config({"domain_pattern_mapping": {"(?x) fin ance": "f"}}).join_settings().dag_domain_rules
    assert first_rule_match(flagged, "daily_FINANCE_load") == "f"  # global flags kept at the front
    with pytest.raises(ConfigError, match=re.escape("domain_pattern_mapping: '[a-' is not a valid regular")):
        build_config({"domain_pattern_mapping": {"[a-": "x"}})


def test_what_the_original_keys_reinterpret_is_said() -> None:
    config = build_config({"airflow_url": "https://airflow", "platform_instance": "snowflake_eu",
                           "capture_executions": False, "run_history": {"enabled": True}})  # fmt: skip
    assert any("platform_instance 'snowflake_eu' names the Airflow instance" in w for w in config.warnings)
    assert any("run_history.enabled is False (capture_executions" in w for w in config.warnings)


@pytest.mark.parametrize(
    ("sink", "expected"),
    [
        ({"type": "file", "config": {"filename": "out.json"}}, {"type": "file", "path": "out.json"}),
        (
            {"type": "datahub-rest", "config": {"server": "https://gms", "token": "t", "timeout_sec": 9}},
            {"type": "datahub-rest", "server": "https://gms", "token": "t", "timeout": 9},
        ),
        (
            {
                "type": "datahub-kafka",
                "config": {"connection": {"bootstrap": "k:9092", "schema_registry_url": "http://r"}},
            },
            {"type": "datahub-kafka", "bootstrap": "k:9092", "schema_registry_url": "http://r"},
        ),
        (
            {"type": "datahub-lite", "config": {"type": "duckdb", "config": {"file": "lite.duckdb"}}},
            {"type": "datahub-lite", "path": "lite.duckdb"},
        ),
    ],
)
def test_a_recipes_sink_block_is_the_sink(sink: dict[str, object], expected: dict[str, object]) -> None:
    from bridge.config_yaml import settings_of_recipe

    assert settings_of_recipe({"source": {"type": "bridge", "config": {}}, "sink": sink}, "r.yml")["sink"] == expected


@pytest.mark.parametrize(
    ("sink", "says"),
    [
        ({"type": "console"}, "sink type 'console' is not one `bridge sync` writes"),
        (
            {"type": "datahub-rest", "config": {"server": "https://gms", "extra_headers": {"X": "1"}}},
            "extra_headers.X not supported by `bridge sync`",
        ),
        (
            {"type": "datahub-lite", "config": {"type": "duckdb", "config": {"file": "lite.db"}}},
            "picks the engine by the file's name",
        ),
    ],
)
def test_a_recipes_sink_the_bridge_cannot_honour_is_named(sink: dict[str, object], says: str) -> None:
    from bridge.config_yaml import settings_of_recipe

    with pytest.raises(ConfigError, match=re.escape(says)):
        settings_of_recipe({"source": {"type": "bridge", "config": {}}, "sink": sink}, "r.yml")


def test_a_recipe_with_two_sinks_says_which_goes_where(tmp_path: Path) -> None:
    recipe = ("source:\n  type: bridge\n  config: {sink: {type: file, path: inner.json}}\n"
              "sink: {type: file, config: {filename: outer.json}}\n")  # fmt: skip
    config = load_config(write(tmp_path, recipe), {})
    assert config.sink.path == "inner.json"
    assert any("source.config.sink is used by `bridge sync`, the recipe's sink: block by" in w for w in config.warnings)


def test_what_only_datahubs_pipeline_does_is_a_warning(tmp_path: Path) -> None:
    recipe = "source:\n  type: airflow-old\n  config: {env: DEV}\ntransformers: [{type: simple_add_dataset_tags}]\n"
    config = load_config(write(tmp_path, recipe), {})
    assert any("source type 'airflow-old' read as the bridge's settings" in w for w in config.warnings)
    assert any("transformers run under `datahub ingest` only" in w for w in config.warnings)


def test_a_globbed_manifest_path_names_each_project_by_its_name_as_the_dbt_source_does() -> None:
    assert build_config({"manifest_path": "dbt/*/manifest.json"}).dbt_platform_instance_from_project
    assert not build_config({"manifest_path": "dbt/a/manifest.json"}).dbt_platform_instance_from_project
    assert not build_config({"dbt": {"manifests": ["dbt/*/manifest.json"]}}).dbt_platform_instance_from_project


def test_a_state_file_knows_whether_each_project_named_its_dbt_entities() -> None:
    from bridge.sync import state_identity

    one = state_identity(build_config({"dbt": {"manifests": ["a/manifest.json"]}}))
    each = state_identity(build_config({"manifest_path": "dbt/*/manifest.json"}))
    assert one["dbt_platform_instance"] == "" and one != each  # the URNs differ: a state file is not shared
