"""The command's entry point (`python -m bridge`, `dbt-lineage-bridge`): the garbage collector tuned for a
short-lived process before anything heavy is imported, then the command line (`bridge.cli`)."""

from __future__ import annotations

import gc
from collections.abc import Sequence

# The collector's first threshold. A run builds hundreds of thousands of objects that live until it ends (the
# modules it imports, DataHub's schema classes, the manifest's structs, the graph); at Python's default (700) the
# collector rescans them over and over. Set before the imports, which allocate as much as the sync itself
# (bench/dbt_corpus.py times the whole command).
GC_THRESHOLD = 100_000


def main(argv: Sequence[str] | None = None) -> None:
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    from bridge.cli import main as run_cli

    run_cli(argv)
