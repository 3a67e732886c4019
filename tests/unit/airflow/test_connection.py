"""An Airflow connection to DataHub, in the forms of DataHub's own Airflow plugin -> the bridge's sink."""

from __future__ import annotations

import pytest

from bridge.airflow.connection import sink_settings
from bridge.config import build_config
from bridge.errors import ConfigError


def test_a_rest_connection_gives_the_server_and_its_token() -> None:
    settings = sink_settings("datahub_rest_default", "datahub-rest", "https://gms.example.com", None, "tok-123", {})
    assert settings == {"type": "datahub-rest", "server": "https://gms.example.com", "token": "tok-123"}
    assert build_config({"sink": settings}).sink.token is not None  # the bridge's model takes it as it is


def test_the_plugin_s_underscore_type_a_separate_port_and_its_timeout_are_understood() -> None:
    settings = sink_settings("dh", "datahub_rest", "gms", 8080, None, {"timeout_sec": 10})
    assert settings == {"type": "datahub-rest", "server": "http://gms:8080", "timeout": 10.0}


def test_a_kafka_connection_gives_brokers_and_schema_registry() -> None:
    extra = {"connection": {"schema_registry_url": "http://registry:8081"}}
    settings = sink_settings("datahub_kafka_default", "datahub-kafka", "broker", 9092, None, extra)
    assert settings == {
        "type": "datahub-kafka",
        "bootstrap": "broker:9092",
        "schema_registry_url": "http://registry:8081",
    }


def test_a_port_field_goes_into_the_host_part_of_a_url_with_a_path() -> None:
    settings = sink_settings("dh", "datahub-rest", "https://example.com/gms", 8443)
    assert settings["server"] == "https://example.com:8443/gms"


def test_kafka_brokers_may_be_given_in_the_extra_alone() -> None:
    extra = {"connection": {"bootstrap": "b1:9092,b2:9092"}}
    assert sink_settings("k", "datahub-kafka", None, None, None, extra)["bootstrap"] == "b1:9092,b2:9092"


def test_a_file_connection_names_the_file() -> None:
    assert sink_settings("f", "datahub-file", "/tmp/mcps.json") == {"type": "file", "path": "/tmp/mcps.json"}


@pytest.mark.parametrize(
    ("conn_type", "host", "port", "extra", "expected"),
    [
        ("datahub-rest", None, None, {}, "'c' has no host: set it to the GMS URL"),
        ("datahub-kafka", None, None, {}, "'c' has no host: set it to the brokers"),
        ("postgres", None, None, {}, "is of type 'postgres'"),
        ("datahub-rest", "https://u:s3cret-token@gms", None, {}, "has credentials in its host: put the token in"),
        ("datahub-rest", "gms", None, {"timeout_sec": "soon"}, "extra timeout_sec is not a number"),
        ("datahub-rest", "gms", None, {"extra_headers": {"X-Key": "s3cret-token"}}, "does not carry out extra extra_"),
        (
            "datahub-kafka",
            "b:9092",
            None,
            {"connection": {"producer_config": {"sasl.password": "s3cret-token"}}},
            "does not carry out extra connection.producer_config",
        ),
        ("datahub-file", "", None, {}, "'c' has no host: set it to the file to write"),
        ("datahub-kafka", "b:9092", None, {"connection": {"bootstrap": "x:1"}}, "names the brokers twice"),
        ("datahub-rest", "gms:8080", 8080, {}, "gives a port in its host and in its port field"),
        ("postgres", "db", None, {}, "is of type 'postgres'; the bridge writes to DataHub through a connection"),
    ],
)
def test_a_connection_the_bridge_cannot_use_is_one_line_naming_it(
    conn_type: str, host: str | None, port: int | None, extra: dict[str, object], expected: str
) -> None:
    with pytest.raises(ConfigError, match="Airflow connection 'c'") as error:
        sink_settings("c", conn_type, host, port, "s3cret-token", extra)
    assert expected in str(error.value)
    assert "s3cret-token" not in str(error.value)
