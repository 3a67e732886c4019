"""One bridge sync of one manifest into a file sink, measuring the memory the sync itself adds.

Prints JSON: baseline RSS after imports, peak RSS, and the difference, next to the manifest's size.
`python bench/bridge_sync_child.py MANIFEST OUT.json`
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bridge.config import build_config
from bridge.sync import run_sync


def status_kib(field: str) -> int:
    """A `VmRSS`/`VmHWM` figure of /proc/self/status, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise SystemExit(f"/proc/self/status has no {field}")


def reset_peak() -> None:
    """Reset this process's peak RSS (Linux >= 4.0). Without it, `ru_maxrss` and `VmHWM` start at the peak
    the parent had when it forked us, which hid the sync's own memory behind the bench's."""
    Path("/proc/self/clear_refs").write_text("5")


def main() -> None:
    manifest, out = sys.argv[1], sys.argv[2]
    for module in ("bridge.emit.mcps", "bridge.emit.sinks"):  # import cost is kept out of the baseline
        importlib.import_module(module)
    reset_peak()
    baseline = status_kib("VmRSS")
    config = build_config({"dbt": {"manifests": [manifest]}, "sink": {"type": "file", "path": out}})
    start = time.perf_counter()
    result = run_sync(config, lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
    seconds = time.perf_counter() - start
    peak = status_kib("VmHWM")
    print(
        json.dumps(
            {
                "sync_s": round(seconds, 3),
                "baseline_rss_mib": round(baseline / 1024, 1),
                "peak_rss_mib": round(peak / 1024, 1),
                "sync_added_mib": round((peak - baseline) / 1024, 1),
                "manifest_mib": round(Path(manifest).stat().st_size / 2**20, 2),
                "emitted": sum(result.report.emitted.values()),
            }
        )
    )


if __name__ == "__main__":
    main()
