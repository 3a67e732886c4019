from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.airflow_dumps import EXTRAS_DUMPS, POSTGRES_DUMPS, admin, restore_dump


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def restored(worker_id: str) -> Iterator[dict[str, str]]:
    """Every PostgreSQL dump restored once per test worker: name -> DSN."""
    dsns = {name: restore_dump(name, worker_id) for name in (*POSTGRES_DUMPS, *EXTRAS_DUMPS)}
    yield dsns
    for dsn in dsns.values():
        admin(f'DROP DATABASE IF EXISTS "{dsn.rsplit("/", 1)[1]}" WITH (FORCE)')
