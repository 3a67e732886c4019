"""Benchmark: the lineage page of the largest corpus manifest in real headless Chromium.

    .venv/bin/python bench/page.py [--runs 3] [--out bench/results/page.json]

Writes the page with `bridge check --html` (tuva's compiled all-marts manifest and the bundled project joined
with the Airflow 3.3 SQLite dump), then opens it in Debian's Chromium through Playwright, median of --runs:
the time from navigation until the page is drawn (its groups laid out), and the time to open every group
(all nodes laid out at once). Also: the page's size, and how many nodes it holds and first draws.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "dbt"
WORK = REPO / ".cache" / "bench" / "page"
MANIFEST = CORPUS / "tuva" / "manifest.compiled.all-marts.json.gz"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def write_page() -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    db = WORK / "airflow.db"
    with gzip.open(REPO / "tests/fixtures/airflow/dumps/af33_sqlite.db.gz") as packed, db.open("wb") as out:
        shutil.copyfileobj(packed, out)
    page = WORK / "tuva.html"
    bundled = REPO / "dbt_project/artifacts/postgres/manifest.json"
    subprocess.run([sys.executable, "-m", "bridge", "check", "--manifest", str(MANIFEST), "--manifest", str(bundled),
                    "--airflow-db", f"sqlite:///{db}", "--html", str(page), "--fail-on", "none", "-q"],
                   check=True, cwd=WORK)  # fmt: skip
    return page


def measure(page: Path, runs: int) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    loads, opens, counts = [], [], {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        for _ in range(runs):
            tab = browser.new_page(viewport={"width": 1600, "height": 1000})
            started = time.perf_counter()
            tab.goto(page.as_uri())
            tab.wait_for_function("() => window.bridgePage !== undefined")
            loads.append(time.perf_counter() - started)
            counts = {"nodes": tab.evaluate("() => window.bridgePage.data.nodes.length"),
                      "first_drawn": tab.evaluate("() => window.bridgePage.shownNodeIds().length")}  # fmt: skip
            started = time.perf_counter()
            tab.click("#toggle-all")
            tab.evaluate("() => window.bridgePage.shownNodeIds().length")
            opens.append(time.perf_counter() - started)
            tab.close()
        browser.close()
    return {"load_s": round(statistics.median(loads), 2), "open_all_s": round(statistics.median(opens), 2), **counts}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "page.json")
    args = parser.parse_args()
    page = write_page()
    figures = {
        "command": f".venv/bin/python bench/page.py --runs {args.runs}",
        "machine": "2 cores, 24 GiB (python-svc)",
        "manifest": str(MANIFEST.relative_to(CORPUS)),
        "page_mib": round(page.stat().st_size / 2**20, 2),
        **measure(page, args.runs),
    }
    args.out.write_text(json.dumps(figures, indent=1) + "\n")
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
