"""Read-only means read-only: a copy of Airflow's SQLite DB is read from a folder nobody may write to, and no
`-wal`/`-shm` file appears beside it. A file that may not be read, a damaged file and a server that does not
answer each get their own message and advice."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.airflow_dumps import sqlite_dump
from tests.cli import BUNDLED_MANIFEST, bridge, unprivileged

PLAN = ("plan", "--manifest", str(BUNDLED_MANIFEST), "--format", "json")


@pytest.fixture
def read_only_copy(tmp_path: Path) -> Path:
    """The Airflow 3.3 SQLite fixture (a WAL-mode database, as Airflow leaves it) in a read-only folder."""
    folder = tmp_path / "ro"
    folder.mkdir()
    db = sqlite_dump(folder)
    db.chmod(0o444)
    folder.chmod(0o555)
    yield db
    folder.chmod(0o755)


def test_a_copy_in_a_read_only_folder_is_read_and_nothing_is_left_beside_it(read_only_copy: Path) -> None:
    assert read_only_copy.read_bytes()[18:20] == b"\x02\x02"  # WAL mode: opening it normally writes -shm/-wal
    before = sorted(p.name for p in read_only_copy.parent.iterdir())
    run = bridge(*PLAN, "--airflow-db", f"sqlite:///{read_only_copy}", cwd=read_only_copy.parents[1],
                 prefix=tuple(unprivileged()))  # fmt: skip
    assert run.code == 0, run.stderr
    assert '"finance_dbt"' in run.stdout
    assert sorted(p.name for p in read_only_copy.parent.iterdir()) == before == ["airflow.db"]


def test_a_copy_with_its_wal_beside_it_in_a_read_only_folder_says_what_to_do(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    db = sqlite_dump(folder)
    (folder / "airflow.db-wal").write_bytes(b"")  # Airflow had it open: its log lies beside it
    folder.chmod(0o555)
    try:
        run = bridge(*PLAN, "--airflow-db", f"sqlite:///{db}", cwd=tmp_path, prefix=tuple(unprivileged()))
    finally:
        folder.chmod(0o755)
    assert run.code == 2
    assert "its write-ahead log (airflow.db-wal) must be merged to read it" in run.error_line
    assert "Make a clean copy" in run.error_line


def test_reading_leaves_no_wal_or_shm_in_a_writable_folder_either(tmp_path: Path) -> None:
    db = sqlite_dump(tmp_path)
    run = bridge(*PLAN, "--airflow-db", f"sqlite:///{db}", cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["airflow.db"]


def test_a_file_that_may_not_be_read_says_permission_denied(tmp_path: Path) -> None:
    db = sqlite_dump(tmp_path)
    db.chmod(0o000)
    run = bridge(*PLAN, "--airflow-db", f"sqlite:///{db}", cwd=tmp_path, prefix=tuple(unprivileged()))
    db.chmod(0o644)
    assert run.code == 2
    assert (
        f"Airflow SQLite DB {db}: permission denied. Run the bridge as a user who may read the file" in run.error_line
    )


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda data: b"<html>502 Bad Gateway</html>", "not a SQLite database (damaged, or another kind of file)"),
        (lambda data: data[:8192], "the file is damaged"),
    ],
    ids=["not-sqlite", "truncated"],
)
def test_a_damaged_file_says_so(damage: object, says: str, tmp_path: Path) -> None:
    db = sqlite_dump(tmp_path)
    db.write_bytes(damage(db.read_bytes()))  # type: ignore[operator]
    run = bridge(*PLAN, "--airflow-db", f"sqlite:///{db}", cwd=tmp_path)
    assert run.code == 2
    assert says in run.error_line and "Copy it again from Airflow" in run.error_line


def test_a_server_that_does_not_answer_is_told_apart(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = bridge(*PLAN, "--airflow-db", f"postgresql://reader@127.0.0.1:{port}/airflow", cwd=tmp_path)
    assert run.code == 3
    assert f"Airflow DB 127.0.0.1:{port}/airflow: cannot connect" in run.error_line
    assert "Check that the server runs and the host and port" in run.error_line
