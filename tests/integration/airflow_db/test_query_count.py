"""A read issues the same number of statements for 6 DAGs as for 500: no per-DAG or per-task queries."""

from __future__ import annotations

import pytest

from bridge.read.airflow_db.connect import open_db
from bridge.read.airflow_db.reader import read_snapshot
from tests.airflow_dumps import admin, multiply_dags, restore_dump

COPIES = 500


@pytest.fixture(scope="module")
def copied(worker_id: str) -> str:
    return restore_dump("af33", worker_id, suffix="_x500")


def test_query_count_does_not_grow_with_dags(restored: dict[str, str], copied: str) -> None:
    small = open_db(restored["af33"])
    small_snapshot = read_snapshot(small)
    multiply_dags(copied, COPIES)
    large = open_db(copied)
    large_snapshot = read_snapshot(large)
    small.close(), large.close()
    assert len(large_snapshot.dags) == len(small_snapshot.dags) * (COPIES + 1)
    assert sum(len(d.tasks) for d in large_snapshot.dags.values()) > 30_000
    assert large.queries == small.queries == 16
    assert large.statements == small.statements
    # The serialized DAGs are streamed: more batches (FETCH round trips) for more rows, never more statements.
    assert large.fetches > small.fetches >= 1
    admin(f'DROP DATABASE IF EXISTS "{copied.rsplit("/", 1)[1]}" WITH (FORCE)')
