"""Benchmark: the Airflow DB reader (a fixed set of bulk statements) against reading the same facts one DAG
at a time, on a large metadata DB made from the real Airflow 3.3 dump.

    .venv/bin/python -m bench.airflow_db [--copies 1000] [--out bench/results/airflow_db.json]   (repo root)

The dump's DAGs are copied --copies times in SQL (dag, dag_version, serialized_dag rows). Reported: wall
time, statements sent and the memory each approach adds (tracemalloc peak), in one run, same server.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from pathlib import Path

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


def read_per_dag(db: AirflowDb) -> int:
    """The naive way: list the DAGs, then ask for each one's facts."""
    tasks = 0
    for (dag_id,) in db.query("SELECT dag_id FROM dag WHERE NOT is_stale ORDER BY dag_id"):
        data, compressed, version = db.query(PER_DAG["serialized"], [dag_id])[0]
        tasks += len(decode_dag(dag_id, load_row(data, compressed), version).tasks)
        for name in ("tags", "runs", "task_instances", "outlets"):
            db.query(PER_DAG[name], [dag_id])
    return tasks


def measured(label: str, url: str, read: object) -> dict[str, object]:
    db = open_db(url)
    tracemalloc.start()
    start = time.perf_counter()
    tasks = read(db)  # type: ignore[operator]
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    db.close()
    print(
        f"{label:<10} {seconds:7.2f} s  {db.queries:>6} statements  {peak / 2**20:7.1f} MiB  {tasks} tasks", flush=True
    )
    return {
        "wall_s": round(seconds, 3),
        "statements": db.queries,
        "peak_traced_mib": round(peak / 2**20, 1),
        "tasks": tasks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "airflow_db.json")
    args = parser.parse_args()
    url = restore_dump("af33", "bench", suffix=f"_x{args.copies}")
    multiply_dags(url, args.copies)
    bulk = measured("bulk", url, lambda db: sum(len(d.tasks) for d in read_snapshot(db).dags.values()))
    naive = measured("per-DAG", url, read_per_dag)
    admin(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    result = {
        "airflow": "3.3.2 (tests/fixtures/airflow/dumps/af33.sql.gz)",
        "dags": 6 * (args.copies + 1),
        "bulk_reader": bulk,
        "per_dag": naive,
        "speedup": round(float(naive["wall_s"]) / float(bulk["wall_s"]), 1),
    }  # type: ignore[arg-type]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
