"""A run's conf: Airflow 3's JSON and Airflow 2's pickle read as plain data; a pickle naming anything else is
left unread (never executed); secret-looking keys are masked wherever they are nested."""

from __future__ import annotations

import datetime
import json
import os
import pickle
from pathlib import Path

import pytest

from bridge.join.runs import conf_property, redacted_conf
from bridge.read.airflow_db.run_conf import run_conf

CONF = {"window": "2026-11-01", "api_token": "tok-1", "nested": {"DB_PASSWORD": "pw", "n": 3}, "rows": [{"key": 1}]}


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_airflow_2_pickles_of_plain_data_are_read(protocol: int) -> None:
    with_date = CONF | {"since": datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)}
    assert run_conf(pickle.dumps(with_date, protocol=protocol)) == CONF | {"since": "2026-11-01T00:00:00+00:00"}
    assert run_conf(memoryview(pickle.dumps({}, protocol=protocol))) == {}  # psycopg2 hands bytea over so


def test_airflow_3_json_is_read() -> None:
    assert run_conf(CONF) == CONF  # jsonb, decoded by psycopg2
    assert run_conf(json.dumps(CONF)) == CONF  # text, on SQLite
    assert run_conf(None) == {}


class Boom:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch /tmp/bridge-conf-was-executed",))


def test_a_pickle_that_names_code_is_not_run() -> None:
    crafted = pickle.dumps({"x": Boom()})
    assert run_conf(crafted) is None
    assert not Path("/tmp/bridge-conf-was-executed").exists()
    assert run_conf(b"\x80\x05garbage") is None and run_conf("[1, 2]") is None


def test_secret_looking_keys_are_masked_at_any_depth() -> None:
    assert redacted_conf(CONF) == {
        "window": "2026-11-01",
        "api_token": "***",
        "nested": {"DB_PASSWORD": "***", "n": 3},
        "rows": [{"key": "***"}],
    }
    text = conf_property(CONF)
    assert text is not None and "tok-1" not in text and '"window": "2026-11-01"' in text
    assert conf_property({}) is None and conf_property(None) == "(not read: not plain data)"


def test_values_shaped_like_credentials_are_masked_too() -> None:
    conf = {"target_dsn": "postgresql://etl:hunter2@db/prod", "headers": [["Authorization", "Bearer abc.def.ghi"]],
            "db_pwd": "hunter2", "args": "--password=hunter2 --window 7"}  # fmt: skip
    text = conf_property(conf)
    assert text is not None and "hunter2" not in text and "abc.def" not in text and "--window 7" in text


class Codec:
    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        import codecs

        return (codecs.encode, ("x", "no-such-codec"))


def test_no_row_can_stop_or_stall_the_read() -> None:
    cycle: list[object] = []
    cycle.append(cycle)
    shared: list[object] = []
    for _ in range(40):  # 40 levels of one list shared twice: 2**40 values once walked
        shared = [shared, shared]
    wide = {"x": [[i] for i in range(20_000)]}
    for crafted in ({"x": cycle}, {"x": shared}, wide):
        assert run_conf(pickle.dumps(crafted)) is None
    assert run_conf(pickle.dumps({"x": Codec()}, protocol=2)) is None  # an allowed callable that raises
    assert run_conf(pickle.dumps({"d": datetime.timedelta(10**8)})) == {"d": 8.64e12}
