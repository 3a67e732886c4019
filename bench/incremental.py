"""Benchmark: a no-op incremental sync beside a full sync and `plan`, on the largest corpus manifest with a
real Airflow dump.

    .venv/bin/python bench/incremental.py [--runs 3] [--manifest tuva-all-marts.compiled] [--dump af33]
                                          [--out bench/results/incremental.json]

The dump (tests/fixtures/airflow/dumps) is restored into the local PostgreSQL (127.0.0.1:5432, user postgres)
once. Each round, alternating: a full sync into a file sink with a fresh state file (everything sent, the
state written), a second sync with that state (nothing changed: nothing sent), and `plan --format json` (read
and join only). Each command is a fresh process (bench/measure.py: wall time, peak RSS); medians of --runs.
The target: the no-op sync costs about what reading and joining cost, i.e. close to `plan`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.dbt_corpus import MANIFESTS, PY, REPO, WORK, measured, unpacked
from tests.airflow_dumps import restore_dump


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--manifest", default="tuva-all-marts.compiled", choices=sorted(MANIFESTS))
    parser.add_argument("--dump", default="af33")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "incremental.json")
    args = parser.parse_args()

    manifest = unpacked(args.manifest)
    dsn = restore_dump(args.dump, "bench")
    folder = WORK / "incremental"
    folder.mkdir(parents=True, exist_ok=True)
    state, out = folder / "state.json", folder / "out.json"
    common = ["--manifest", str(manifest), "--airflow-db", dsn, "--fail-on", "none"]
    sync = [PY, "-m", "bridge", "sync", *common, "--sink", f"file:{out}", "--state", str(state)]
    rows: dict[str, list[dict[str, object]]] = {"full": [], "noop": [], "plan": []}
    records: dict[str, int] = {}
    for _ in range(args.runs):
        state.unlink(missing_ok=True)
        rows["full"].append(measured(sync))
        records["full"] = len(json.loads(out.read_bytes()))
        rows["noop"].append(measured(sync))
        records["noop"] = len(json.loads(out.read_bytes()))
        rows["plan"].append(measured([PY, "-m", "bridge", "plan", *common[:4], "--format", "json"]))
    summary = {
        name: {
            "wall_s": statistics.median(float(r["wall_s"]) for r in runs),  # type: ignore[arg-type]
            "peak_rss_mib": statistics.median(float(r["peak_rss_mib"]) for r in runs),  # type: ignore[arg-type]
            "runs": runs,
        }
        for name, runs in rows.items()
    }
    result = {
        "command": f".venv/bin/python bench/incremental.py --runs {args.runs} --manifest {args.manifest} "
        f"--dump {args.dump}",
        "manifest": args.manifest,
        "dump": args.dump,
        "records_sent": records,
        "state_file_bytes": state.stat().st_size,
        **summary,
        "noop_over_plan": round(summary["noop"]["wall_s"] / summary["plan"]["wall_s"], 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    for name in rows:
        print(f"{name:5} {summary[name]['wall_s']:6.2f} s  {summary[name]['peak_rss_mib']:7.1f} MiB")
    print(f"records sent: {records}; no-op / plan = {result['noop_over_plan']}")


if __name__ == "__main__":
    main()
