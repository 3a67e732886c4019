"""DB URLs -> parts, and never a word of a password in an error, however the URL is broken."""

from __future__ import annotations

import pytest

from bridge.db_url import DbTarget, parse_db_url, target_from_fields
from bridge.errors import ConfigError

PASSWORD = "Pg/s3cr#t?p@ss:w0rd"


def test_a_percent_encoded_password_with_every_reserved_character() -> None:
    target = parse_db_url(
        "postgresql+psycopg2://air%20flow:Pg%2Fs3cr%23t%3Fp%40ss%3Aw0rd@db.internal:6432/airflow?sslmode=require"
    )
    assert target == DbTarget("postgresql", "db.internal:6432/airflow", "db.internal", 6432, "airflow", "air flow",
                              PASSWORD, (("sslmode", "require"),))  # fmt: skip
    assert PASSWORD not in repr(target)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://rdrX:{PASSWORD}@hostQ/airflow",
        "postgresql://rdrX:Zq9/Kv7@hostQ/airflow",
        "postgresql://rdrX:Zq9#Kv7@hostQ/airflow",
        "postgresql://rdrX:Zq9?Kv7@hostQ/airflow",
        "postgresql://rdrX:Zq9/Kv7",
        "postgresql://rdrX:Zq9Kv7",
    ],
)
def test_broken_urls_are_named_without_any_part_of_them(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_db_url(url)
    message = str(raised.value)
    assert not any(piece in message for piece in ("rdrX", "Zq9", "Kv7", "hostQ", "s3cr", "w0rd"))
    assert "Percent-encode" in message and "airflow_db fields" in message


def test_an_at_sign_in_the_password_is_read_from_the_last_at() -> None:
    target = parse_db_url("postgresql://reader:p@ss@db:5433/airflow")
    assert (target.username, target.password, target.host, target.port) == ("reader", "p@ss", "db", 5433)


def test_hosts_ports_and_sqlite_paths() -> None:
    assert parse_db_url("postgres://[::1]:5433/x").host == "::1"
    assert parse_db_url("postgresql://db").where == "db:5432/"
    assert parse_db_url("sqlite:////var/airflow/airflow.db").path == "/var/airflow/airflow.db"
    assert parse_db_url("sqlite:///airflow.db?mode=ro").path == "airflow.db"
    with pytest.raises(ConfigError, match="names no SQLite file"):
        parse_db_url("sqlite://")
    with pytest.raises(ConfigError, match="scheme 'mysql' is not supported"):
        parse_db_url("mysql://db/airflow")
    with pytest.raises(ConfigError, match="has no scheme"):
        parse_db_url("db/airflow")
    with pytest.raises(ConfigError, match=r"airflow_db\.port 0 is not a number"):
        target_from_fields("db", 0, "airflow", None, None)
