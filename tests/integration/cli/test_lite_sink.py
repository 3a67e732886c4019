"""A DataHub Lite file that another process holds (before the sync opens it, or part way through), or that
refuses a write part way: the sync stops with exit 3 and one line naming the file (no traceback, no record of
DataHub's), and the run report counts the aspects written before the failure."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from bridge.emit.sinks.lite import LiteSink
from tests.cli import BUNDLED_MANIFEST, Run, bridge

LITE = Path("lite") / "datahub.db"
SYNC = ("sync", "--manifest", str(BUNDLED_MANIFEST), "--config", "bridge.yml", "--report", "report.json")


def lite_setup(folder: Path) -> Path:
    """`folder/bridge.yml` syncing to `folder/lite/datahub.db` (created, empty) with a short timeout."""
    (folder / "bridge.yml").write_text(f"sink: {{type: datahub-lite, path: {LITE}, timeout: 0.5}}\n")
    path = folder / LITE
    path.parent.mkdir()
    LiteSink(path, timeout=1).close()
    return path


def aspects_in(path: Path) -> int:
    with closing(sqlite3.connect(path, timeout=30)) as connection:
        return int(connection.execute("SELECT count(*) FROM metadata_aspect_v2 WHERE version = 0").fetchone()[0])


def emitted(folder: Path) -> int:
    return sum(json.loads((folder / "report.json").read_text())["emitted"].values())


def assert_one_line_without_datahubs_records(run: Run) -> str:
    line = run.error_line  # exactly one line on stderr, no traceback
    assert run.code == 3, run.stderr
    assert "Failed to write" not in run.stdout + run.stderr and "MetadataChangeProposalWrapper" not in run.stderr
    assert line.startswith(f"error: datahub-lite {LITE}: ")
    return line


def test_a_lite_file_another_process_holds_stops_the_sync_with_one_line(tmp_path: Path) -> None:
    path = lite_setup(tmp_path)
    with closing(sqlite3.connect(path, isolation_level=None)) as holder:
        holder.execute("BEGIN EXCLUSIVE")
        run = bridge(*SYNC, cwd=tmp_path)
        holder.execute("ROLLBACK")
    line = assert_one_line_without_datahubs_records(run)
    assert "another process holds the database" in line and "waited 0.5 s" in line and "damaged" not in line
    assert emitted(tmp_path) == 0


def test_a_lite_file_another_process_locks_part_way_stops_with_one_line_counting_what_was_written(
    tmp_path: Path,
) -> None:
    path = lite_setup(tmp_path)
    args = [sys.executable, "-m", "bridge", *SYNC]
    sync = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with closing(sqlite3.connect(path, isolation_level=None, timeout=30)) as holder:
        while sync.poll() is None and aspects_in(path) == 0:  # the bundled project's 564 take about 2 s
            time.sleep(0.002)
        holder.execute("BEGIN EXCLUSIVE")
        stdout, stderr = sync.communicate(timeout=120)
        holder.execute("ROLLBACK")
    run = Run(tuple(args), sync.returncode, stdout, stderr, {})
    line = assert_one_line_without_datahubs_records(run)
    assert "another process holds the database" in line and "waited 0.5 s" in line
    written = aspects_in(path)
    assert 0 < written < 564
    assert f"; {emitted(tmp_path)} aspects were written before it." in line
    # A write that failed after its aspect was committed (with a browse edge) is written but not counted.
    assert 0 <= written - emitted(tmp_path) <= 1


def test_a_lite_write_refused_part_way_stops_with_one_line_counting_what_was_written(tmp_path: Path) -> None:
    path = lite_setup(tmp_path)
    with closing(sqlite3.connect(path)) as connection:
        connection.execute(
            "CREATE TRIGGER quota BEFORE INSERT ON metadata_aspect_v2 "
            "WHEN (SELECT count(*) FROM metadata_aspect_v2 WHERE version = 0) >= 100 "
            "BEGIN SELECT RAISE(ABORT, 'quota of 100 aspects reached'); END"
        )
        connection.commit()
    run = bridge(*SYNC, cwd=tmp_path)
    line = assert_one_line_without_datahubs_records(run)
    assert "writing failed (IntegrityError: quota of 100 aspects reached); 100 aspects were written" in line
    assert emitted(tmp_path) == 100 and aspects_in(path) == 100
