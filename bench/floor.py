"""The floor of a sync: a fresh Python that imports DataHub's schema classes and decodes the manifest with orjson.

What any sync pays: Python's start, the classes it emits through, and a read of its input (orjson decodes the
whole file into Python objects; the bridge's msgspec read skips what it does not use). Run as
`python bench/floor.py MANIFEST`; bench/dbt_corpus.py times it alternated with the sync of the same manifest
(floor, sync, floor, sync, ...), so both see the same load on the machine.

`python bench/floor.py --emitter MANIFEST` also imports what every record is built with besides the aspect
classes: DataHub's URN helpers (`datahub.emitter.mce_builder`) and its MCP wrapper (`datahub.emitter.mcp`).
Both import pydantic and DataHub's configuration models, which the schema classes alone do not: the part of a
sync's start-up that is DataHub's and not the bridge's.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> None:
    emitter = sys.argv[1] == "--emitter"
    import datahub.metadata.schema_classes  # the classes every sync emits through
    import orjson

    if emitter:
        import datahub.emitter.mce_builder
        import datahub.emitter.mcp  # noqa: F401
    orjson.loads(Path(sys.argv[-1]).read_bytes())


if __name__ == "__main__":
    main()
