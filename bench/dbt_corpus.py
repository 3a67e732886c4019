"""Benchmark: a full bridge sync into the file sink vs DataHub's own dbt source, on the shared corpus.

    .venv/bin/python bench/dbt_corpus.py [--runs 3] [--only NAME] [--out bench/results/dbt_corpus.json]

Both tools read the same uncompressed manifest and write MCP JSON files; each run is a fresh process
(measured by bench/measure.py: wall time and peak RSS). The median of --runs is reported (one run for the
compiled tuva files, which take minutes in the dbt source). Also reported: what each tool emitted, as
record counts by aspect, and the memory the bridge's sync adds over its imports (bench/bridge_sync_child.py).
Beside each sync, the bridge's `check` (the CI gate: read and join, nothing emitted) and `plan --format json`
on the same manifest, median of --runs.
"""

from __future__ import annotations

import argparse
import gzip
import json
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
        [PY, str(REPO / "bench" / "measure.py"), "--", *command], capture_output=True, text=True, check=True
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
    ours = [measured(ours_cmd, ok_codes=(0, 1)) for _ in range(runs)]  # 1: problems reported, output written
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
    )
    ours_wall, theirs_wall = median_of(ours, "wall_s"), median_of(theirs, "wall_s")
    if not aspect_counts(theirs_out) or not aspect_counts(ours_out):
        raise SystemExit(f"{name}: a tool wrote no records; the comparison would mean nothing")
    return {
        "manifest": MANIFESTS[name],
        "manifest_mib": round(manifest.stat().st_size / 2**20, 2),
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
    for name in args.only or MANIFESTS:
        results[name] = bench_one(name, args.runs)
        row = results[name]
        print(
            f"{name:<26} bridge {row['bridge']['wall_s']:>6.2f}s  dbt source {row['dbt_source']['wall_s']:>7.2f}s  "
            f"x{row['speedup']}  check {row['bridge_check']['wall_s']:.2f}s  plan {row['bridge_plan']['wall_s']:.2f}s",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": "2 cores, 24 GiB (python-svc)", "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
