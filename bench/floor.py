"""The floor of a sync: a fresh Python that imports DataHub's schema classes and decodes the manifest with orjson.

What any sync pays: Python's start, the classes it emits through, and a read of its input (orjson decodes the
whole file into Python objects; the bridge's msgspec read skips what it does not use). Run as
`python bench/floor.py MANIFEST`; bench/dbt_corpus.py times it alternated with the sync of the same manifest
(floor, sync, floor, sync, ...), so both see the same load on the machine.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> None:
    import datahub.metadata.schema_classes  # noqa: F401  # the classes every sync emits through
    import orjson

    orjson.loads(Path(sys.argv[1]).read_bytes())


if __name__ == "__main__":
    main()
