"""Decoding serialized DAG rows as real Airflow releases wrote them (copied out of the fixture dumps)."""

from __future__ import annotations

import zlib
from pathlib import Path

import orjson
import pytest

from bridge.read.airflow_db.serialized_dag import SerializedDagError, decode_dag, load_row

DATA = Path(__file__).parent / "data"


def decoded(name: str, version: int | None = None):  # type: ignore[no-untyped-def]
    document = load_row((DATA / f"{name}.json").read_bytes(), None)
    return decode_dag(document["dag"].get("dag_id") or document["dag"]["_dag_id"], document, version)


@pytest.mark.parametrize("name", sorted(p.stem for p in DATA.glob("*.json")))
def test_every_edge_is_seen_from_both_ends(name: str) -> None:
    dag = decoded(name)
    assert dag.tasks
    for task in dag.tasks.values():
        for downstream in task.downstream_task_ids:
            assert task.task_id in dag.tasks[downstream].upstream_task_ids
        for upstream in task.upstream_task_ids:
            assert task.task_id in dag.tasks[upstream].downstream_task_ids


@pytest.mark.parametrize("release", ["af211", "af33"])
def test_cosmos_task_group_in_both_encodings(release: str) -> None:
    dag = decoded(f"{release}_finance_marts_pipeline")
    task = dag.tasks["transform.stg_securities_model_build"]
    assert task.operator_class == "DbtBuildLocalOperator"
    assert task.task_group_id == "transform"
    assert task.upstream_task_ids == ("check_freshness",)
    assert task.downstream_task_ids == ("transform.int_portfolio_weights_model_build",)
    selector = task.template_fields.get("select") or task.template_fields.get("models")
    assert selector in ("stg_securities", "fqn:finance.staging.markets.stg_securities")


def test_airflow_3_leaves_out_defaults_and_the_reader_puts_them_back() -> None:
    end = decoded("af33_finance_marts_pipeline").tasks["end"]
    assert end.downstream_task_ids == () and end.upstream_task_ids == ("publish_summary",)
    assert end.owner  # "airflow" when the row leaves it out


def test_new_serialized_version_adds_a_task() -> None:
    v1, v2 = decoded("af33_finance_reporting_v1", 1), decoded("af33_finance_reporting_v2", 2)
    assert set(v2.tasks) - set(v1.tasks) == {"notify_desk"}


def test_compressed_row_equals_plain_row() -> None:
    raw = (DATA / "af313_finance_fred.json").read_bytes()
    assert load_row(None, zlib.compress(raw)) == load_row(raw, None) == orjson.loads(raw)


@pytest.mark.parametrize(
    ("data", "compressed", "message"),
    [
        (b'{"dag": {', None, "JSON is not valid"),
        (None, b"not zlib", "cannot be decompressed"),
        (None, None, "both data and data_compressed are empty"),
    ],
)
def test_rows_that_cannot_be_read_say_why(data: bytes | None, compressed: bytes | None, message: str) -> None:
    with pytest.raises(SerializedDagError, match=message):
        load_row(data, compressed)


def test_a_task_not_in_airflows_form_is_a_serialized_dag_error() -> None:
    with pytest.raises(SerializedDagError, match="not in Airflow's serialized form"):
        decode_dag("broken", {"dag": {"dag_id": "broken", "tasks": [{"__var": {"no_task_id": 1}}]}}, None)
