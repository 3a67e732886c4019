"""Benchmark: a full bridge sync into the file sink vs DataHub's own dbt source, on the shared corpus.

    .venv/bin/python bench/dbt_corpus.py [--runs 3] [--only NAME] [--out bench/results/dbt_corpus.json]

The parse manifests alone (bench/results/dbt_corpus.parse.json, whose `command` says how it was made):

    .venv/bin/python bench/dbt_corpus.py --runs 3 --only tuva.parse --only tuva-all-marts.parse
        --only mattermost.parse --out bench/results/dbt_corpus.parse.json

Both tools read the same uncompressed manifest and write MCP JSON files; each run is a fresh process
(measured by bench/measure.py: wall time, CPU time and peak RSS). The median of --runs is reported (one run for the
compiled tuva files, which take minutes in the dbt source). Also reported: what each tool emitted, as
record counts by aspect, and the memory the bridge's sync adds over its imports (bench/bridge_sync_child.py).
Beside each sync, the bridge's `check` (the CI gate: read and join, nothing emitted) and `plan --format json`
on the same manifest, median of --runs.

The floor (bench/floor.py: a fresh Python importing DataHub's schema classes and decoding the manifest with
orjson) is timed alternated with the sync (floor, sync, floor, sync, ...): `floor_s`, `sync_s` and
`sync_over_floor` are medians of that same run (wall time), `floor_cpu_s`, `sync_cpu_s` and
`sync_over_floor_cpu` the same in CPU time (user + system), which others' jobs on the machine move far less.
`floor_emitter_s` (`floor.py --emitter`, alternated too) adds DataHub's URN helpers and MCP wrapper, which every
record is built with: `sync_over_floor_emitter` is what is left that is the bridge's own.
Children run with Python's bytecode cache on, as an installed package has it (an environment's
PYTHONDONTWRITEBYTECODE is dropped for them), after one untimed run of each that fills it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "dbt"
WORK = REPO / ".cache" / "bench"
PY = sys.executable
# Each child as an installed package runs: with its modules' bytecode cached, not compiled at every start.
CHILD_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
DATAHUB = str(Path(sys.executable).with_name("datahub"))

MANIFESTS = {
    "jaffle-shop.parse": "jaffle-shop/manifest.parse.json",
    "jaffle-shop.compiled": "jaffle-shop/manifest.compiled.json",
    "shopverse": "committed-artifacts/shopverse-dbt-snowflake-pipeline/manifest.json",
    "mattermost.parse": "mattermost-analytics/manifest.parse.json.gz",
    "mattermost.compiled": "mattermost-analytics/manifest.compiled.json.gz",
    "tuva.parse": "tuva/manifest.parse.json.gz",
    "tuva.compiled": "tuva/manifest.compiled.json.gz",
    "tuva-all-marts.parse": "tuva/manifest.parse.all-marts.json.gz",
    "tuva-all-marts.compiled": "tuva/manifest.compiled.all-marts.json.gz",
}


def unpacked(name: str) -> Path:
    source = CORPUS / MANIFESTS[name]
    target = WORK / name / "manifest.json"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        opener = gzip.open if source.suffix == ".gz" else open
        with opener(source, "rb") as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    return target


def measured(command: list[str], ok_codes: tuple[int, ...] = (0,)) -> dict[str, object]:
    out = subprocess.run(
        [PY, str(REPO / "bench" / "measure.py"), "--", *command],
        capture_output=True,
        text=True,
        check=True,
        env=CHILD_ENV,
    )
    result: dict[str, object] = json.loads(out.stdout)
    if result["exit_code"] not in ok_codes:
        raise SystemExit(f"{' '.join(command)} failed: {result['stderr_tail']}")
    return result


def dbt_source_recipe(manifest: Path, out: Path) -> Path:
    recipe = manifest.parent / "dbt_source_recipe.json"
    recipe.write_text(
        json.dumps(
            {
                "source": {
                    "type": "dbt",
                    "config": {
                        "manifest_path": str(manifest),
                        "target_platform": "snowflake",
                        "write_semantics": "OVERRIDE",
                    },
                },
                "sink": {"type": "file", "config": {"filename": str(out)}},
            }
        )
    )
    return recipe


def aspect_counts(path: Path) -> dict[str, int]:
    records = json.loads(path.read_text())
    counts = Counter(r.get("aspectName") or "snapshot(MCE)" for r in records)
    return dict(sorted(counts.items()))


def median_of(runs: list[dict[str, object]], key: str) -> float:
    return statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]


def alternated(commands: list[list[str]], runs: int) -> list[list[dict[str, object]]]:
    """Each command's runs, alternated (floor, floor with DataHub's emitter classes, sync, floor, ...) after one
    untimed run of each."""
    for command in commands:
        measured(command, ok_codes=(0, 1))  # 1: the sync reported problems, its output written
    timed: list[list[dict[str, object]]] = [[] for _ in commands]
    for _ in range(runs):
        for command, found in zip(commands, timed, strict=True):
            found.append(measured(command, ok_codes=(0, 1)))
    return timed


def bench_one(name: str, runs: int) -> dict[str, object]:
    manifest = unpacked(name)
    ours_out, theirs_out = manifest.parent / "bridge_mcps.json", manifest.parent / "dbt_source_mcps.json"
    ours_cmd = [
        PY,
        "-m",
        "bridge",
        "sync",
        "--manifest",
        str(manifest),
        "--sink",
        f"file:{ours_out}",
        "--fail-on",
        "none",
    ]
    theirs_cmd = [DATAHUB, "ingest", "-c", str(dbt_source_recipe(manifest, theirs_out))]
    their_runs = 1 if name.endswith("compiled") and "tuva" in name else runs
    floor_cmd = [PY, str(REPO / "bench" / "floor.py"), str(manifest)]
    floors, emitter_floors, ours = alternated([floor_cmd, [*floor_cmd[:2], "--emitter", str(manifest)], ours_cmd], runs)
    gates = {
        command: [measured([PY, "-m", "bridge", command, "--manifest", str(manifest), *extra]) for _ in range(runs)]
        for command, extra in (("check", ["--fail-on", "none"]), ("plan", ["--format", "json"]))
    }
    theirs = [measured(theirs_cmd) for _ in range(their_runs)]
    child = subprocess.run(
        [PY, str(REPO / "bench" / "bridge_sync_child.py"), str(manifest), str(ours_out)],
        capture_output=True,
        text=True,
        check=True,
        env=CHILD_ENV,
    )
    ours_wall, theirs_wall = median_of(ours, "wall_s"), median_of(theirs, "wall_s")
    floor_wall = median_of(floors, "wall_s")
    if not aspect_counts(theirs_out) or not aspect_counts(ours_out):
        raise SystemExit(f"{name}: a tool wrote no records; the comparison would mean nothing")
    return {
        "manifest": MANIFESTS[name],
        "manifest_mib": round(manifest.stat().st_size / 2**20, 2),
        "floor_s": floor_wall,
        "sync_s": ours_wall,
        "sync_over_floor": round(ours_wall / floor_wall, 2),
        "floor_cpu_s": median_of(floors, "cpu_s"),
        "sync_cpu_s": median_of(ours, "cpu_s"),
        "sync_over_floor_cpu": round(median_of(ours, "cpu_s") / median_of(floors, "cpu_s"), 2),
        "floor_runs_s": [r["wall_s"] for r in floors],
        "floor_emitter_s": median_of(emitter_floors, "wall_s"),
        "sync_over_floor_emitter": round(ours_wall / median_of(emitter_floors, "wall_s"), 2),
        "floor_emitter_runs_s": [r["wall_s"] for r in emitter_floors],
        "sync_runs_s": [r["wall_s"] for r in ours],
        "bridge": {
            "wall_s": ours_wall,
            "peak_rss_mib": median_of(ours, "peak_rss_mib"),
            "runs": len(ours),
            "in_process": json.loads(child.stdout),
            "aspects": aspect_counts(ours_out),
        },
        **{
            f"bridge_{command}": {
                "wall_s": median_of(found, "wall_s"),
                "peak_rss_mib": median_of(found, "peak_rss_mib"),
            }
            for command, found in gates.items()
        },
        "dbt_source": {
            "wall_s": theirs_wall,
            "peak_rss_mib": median_of(theirs, "peak_rss_mib"),
            "runs": len(theirs),
            "aspects": aspect_counts(theirs_out),
        },
        "speedup": round(theirs_wall / ours_wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", action="append", choices=sorted(MANIFESTS))
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "dbt_corpus.json")
    args = parser.parse_args()
    results = {}
    only = "".join(f" --only {name}" for name in args.only or ())
    target = args.out.resolve()
    shown = target.relative_to(REPO) if target.is_relative_to(REPO) else target
    command = f".venv/bin/python bench/dbt_corpus.py --runs {args.runs}{only} --out {shown}"
    for name in args.only or MANIFESTS:
        results[name] = bench_one(name, args.runs)
        row = results[name]
        print(
            f"{name:<26} bridge {row['bridge']['wall_s']:>6.2f}s  dbt source {row['dbt_source']['wall_s']:>7.2f}s  "
            f"x{row['speedup']}  floor {row['floor_s']:.2f}s (sync/floor {row['sync_over_floor']})  "
            f"with emitter classes {row['floor_emitter_s']:.2f}s (sync/that {row['sync_over_floor_emitter']})  "
            f"check {row['bridge_check']['wall_s']:.2f}s  plan {row['bridge_plan']['wall_s']:.2f}s",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    header = {"command": command, "machine": "2 cores, 24 GiB (python-svc)"}
    args.out.write_text(json.dumps({**header, "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
