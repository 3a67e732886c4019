"""Run one command in a child process and print its wall time, CPU time and peak resident memory as JSON.

Used by the benchmark scripts: `python bench/measure.py -- CMD ARGS...`. RUSAGE_CHILDREN of this small
wrapper covers exactly the one command it ran. CPU time (user + system) is what the command itself spent:
on a machine others load, it moves far less than the wall time.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main() -> None:
    command = sys.argv[sys.argv.index("--") + 1 :]
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        json.dumps(
            {
                "wall_s": round(wall, 3),
                "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
                "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
                "exit_code": completed.returncode,
                "stderr_tail": completed.stderr[-600:],
            }
        )
    )


if __name__ == "__main__":
    main()
