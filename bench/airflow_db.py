"""Benchmark: the Airflow DB reader (a fixed set of bulk statements) against reading the same facts one DAG
at a time, on a large metadata DB made from the real Airflow 3.3 dump.

    .venv/bin/python -m bench.airflow_db [--copies 1000] [--history 0] [--bulk-only] [--out FILE]

(repo root). The dump's DAGs are copied --copies times in SQL (dag, dag_version, serialized_dag rows); with
--history N each DAG also gets its original's run history N times over, a week apart (dag_run and
task_instance rows), so run history grows with the DAGs as it does in a real installation: the dump has 8
runs and 75 task instances for its 6 DAGs, so `--copies 1000 --history 10` makes 80,080 runs and 750,750
task instances. `--bulk-only` leaves out the DAG-by-DAG read. FILE: bench/results/airflow_db.json unless given.

Each approach is measured in fresh child processes (`--child`), so one measurement cannot inherit another's
heap: one plain run gives the wall time, the statements sent and the peak resident memory the read adds
(`ru_maxrss` after the read minus before it; this includes libpq's result buffers, which tracemalloc does
not see); a second run under tracemalloc gives the Python-level peak (tracemalloc slows the read ~3x, so its
wall time is not reported).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg2

from bridge.read.airflow_db.connect import AirflowDb, open_db
from bridge.read.airflow_db.reader import read_snapshot
from bridge.read.airflow_db.serialized_dag import decode_dag, load_row
from tests.airflow_dumps import admin, multiply_dags, restore_dump

REPO = Path(__file__).resolve().parents[1]

PER_DAG = {
    "serialized": """SELECT s.data, s.data_compressed, v.version_number FROM serialized_dag s
                     JOIN dag_version v ON v.id = s.dag_version_id WHERE s.dag_id = %s
                     ORDER BY v.version_number DESC LIMIT 1""",
    "tags": "SELECT name FROM dag_tag WHERE dag_id = %s",
    "runs": "SELECT run_id, state, start_date, end_date FROM dag_run WHERE dag_id = %s",
    "task_instances": "SELECT task_id, run_id, state, try_number FROM task_instance WHERE dag_id = %s",
    "outlets": "SELECT asset_id, task_id FROM task_outlet_asset_reference WHERE dag_id = %s",
}

# Copies of every original run (and its task instances) for the copied DAGs, and for N-1 earlier weeks.
_COPY_SOURCES = """
    FROM (SELECT dag_id AS original, dag_id AS copy FROM dag WHERE dag_id NOT LIKE '%%\\_copy\\_%%'
          UNION ALL
          SELECT split_part(dag_id, '_copy_', 1), dag_id FROM dag WHERE dag_id LIKE '%%\\_copy\\_%%') d
    CROSS JOIN generate_series(0, %s) k"""
COPY_RUNS = """
    INSERT INTO dag_run (dag_id, run_id, logical_date, {others})
    SELECT d.copy, r.run_id || '_week_' || k, r.logical_date - k * interval '7 days', {source_others}
    FROM dag_run r JOIN ({pairs}) d ON d.original = r.dag_id
    WHERE (d.copy, k) <> (r.dag_id, 0)"""
COPY_TASK_INSTANCES = """
    INSERT INTO task_instance (id, dag_id, run_id, {others})
    SELECT gen_random_uuid(), d.copy, t.run_id || '_week_' || k, {source_others}
    FROM task_instance t JOIN ({pairs}) d ON d.original = t.dag_id
    WHERE (d.copy, k) <> (t.dag_id, 0)"""


def multiply_history(dsn: str, times: int) -> None:
    """Give every DAG (original or copy) its original's runs and task instances, `times` times over."""
    pairs = "SELECT d.original, d.copy, k " + _COPY_SOURCES
    connection = psycopg2.connect(dsn)
    with connection, connection.cursor() as cursor:
        for table, statement, fixed in (
            ("dag_run", COPY_RUNS, ("id", "dag_id", "run_id", "logical_date")),
            ("task_instance", COPY_TASK_INSTANCES, ("id", "dag_id", "run_id")),
        ):
            others = [c for c in columns(cursor, table) if c not in fixed]
            prefix = "r." if table == "dag_run" else "t."
            sql = statement.format(
                others=", ".join(others), source_others=", ".join(prefix + c for c in others), pairs=pairs
            )
            cursor.execute(sql, [times - 1])
    connection.close()


def columns(cursor: Any, table: str) -> list[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position", [table]
    )
    return [r[0] for r in cursor.fetchall()]


def row_counts(dsn: str) -> dict[str, int]:
    connection = psycopg2.connect(dsn)
    with connection, connection.cursor() as cursor:
        found = {}
        for table in ("dag", "serialized_dag", "dag_run", "task_instance"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            found[table] = int(cursor.fetchone()[0])
    connection.close()
    return found


COUNTED = {"runs": "dag_runs", "task_instances": "task_instances"}  # rows of these counted as read


def read_per_dag(db: AirflowDb) -> dict[str, int]:
    """The naive way: list the DAGs, then ask for each one's facts."""
    read = {"tasks": 0, "dag_runs": 0, "task_instances": 0}
    for (dag_id,) in db.query("SELECT dag_id FROM dag WHERE NOT is_stale ORDER BY dag_id"):
        data, compressed, version = db.query(PER_DAG["serialized"], [dag_id])[0]
        read["tasks"] += len(decode_dag(dag_id, load_row(data, compressed), version).tasks)
        for name in ("tags", "runs", "task_instances", "outlets"):
            found = db.query(PER_DAG[name], [dag_id])
            if name in COUNTED:
                read[COUNTED[name]] += len(found)
    return read


def read_bulk(db: AirflowDb) -> dict[str, int]:
    snapshot = read_snapshot(db)
    return {
        "tasks": sum(len(d.tasks) for d in snapshot.dags.values()),
        "dag_runs": len(snapshot.dag_runs),
        "task_instances": len(snapshot.task_instances),
    }


APPROACHES: dict[str, Callable[[AirflowDb], dict[str, int]]] = {"bulk": read_bulk, "per-DAG": read_per_dag}


def maxrss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB on Linux


def child(approach: str, url: str, traced: bool) -> None:
    """One read in this process; its figures as one JSON line."""
    db = open_db(url)
    before = maxrss_mib()
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    read = APPROACHES[approach](db)
    seconds = time.perf_counter() - start
    figures: dict[str, object] = {**read, "statements": db.queries, "fetches": getattr(db, "fetches", 0)}
    if traced:
        figures["peak_traced_mib"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
    else:
        figures |= {"wall_s": round(seconds, 3), "peak_rss_added_mib": round(maxrss_mib() - before, 1)}
    db.close()
    print(json.dumps(figures))


def measured(approach: str, url: str) -> dict[str, object]:
    figures: dict[str, object] = {}
    for traced in (False, True):
        command = [sys.executable, "-m", "bench.airflow_db", "--child", approach, "--url", url]
        output = subprocess.run(command + ["--traced"] * traced, cwd=REPO, capture_output=True, text=True, check=True)
        figures |= json.loads(output.stdout.strip().splitlines()[-1])
    print(
        f"{approach:<8} {figures['wall_s']:7.2f} s  {figures['statements']:>6} statements  "
        f"{figures['peak_rss_added_mib']:7.1f} MiB RSS added  {figures['peak_traced_mib']:7.1f} MiB traced  "
        f"{figures['tasks']} tasks  {figures['task_instances']} task instances",
        flush=True,
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=1000)
    parser.add_argument("--history", type=int, default=0, help="copies of each DAG's runs, a week apart (0: none)")
    parser.add_argument("--bulk-only", action="store_true", help="leave out the DAG-by-DAG read")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "airflow_db.json")
    parser.add_argument("--child", choices=sorted(APPROACHES), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.traced)
        return
    url = restore_dump("af33", "bench", suffix=f"_x{args.copies}")
    multiply_dags(url, args.copies)
    if args.history:
        multiply_history(url, args.history)
    rows = row_counts(url)
    print(f"{rows['dag']} DAGs, {rows['dag_run']} DAG runs, {rows['task_instance']} task instances", flush=True)
    bulk = measured("bulk", url)
    naive = None if args.bulk_only else measured("per-DAG", url)
    admin(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    result = {
        "command": " ".join([".venv/bin/python -m bench.airflow_db", *sys.argv[1:]]),
        "airflow": "3.3.2 (tests/fixtures/airflow/dumps/af33.sql.gz)",
        "dags": 6 * (args.copies + 1),
        "history_copies": args.history or None,
        "rows": rows,
        "measured": "each figure in a fresh process: wall and RSS untraced, traced peak in a second run",
        "bulk_reader": bulk,
        "per_dag": naive,
        "speedup": round(float(naive["wall_s"]) / float(bulk["wall_s"]), 1) if naive else None,  # type: ignore[arg-type]
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
