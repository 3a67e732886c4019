"""Make dbt artifacts reproducible before they are committed.

dbt stamps every artifact with a fresh invocation id, the wall-clock time and the absolute paths of the
machine it ran on. This rewrites those (and only those) so that regenerating on another machine, or
twice on this one, changes nothing unless the project changed:

- ``metadata.invocation_id`` becomes a fixed id (the same in every artifact, so they still pair up);
- ``metadata.generated_at``/``run_started_at`` of the manifest and catalog, and each node's
  ``created_at``, become a fixed instant; a run's own timings in run_results.json are kept, a run is a
  time, but its results are listed by unique_id instead of the order the threads finished in;
- the manifest's parent/child/group maps list their ids sorted (dbt's order varies between runs);
- absolute path prefixes given as ``--replace OLD=NEW`` are rewritten (repository root, temp dirs,
  the Python site-packages holding dbt's global macros).

Keys are sorted and the JSON indented, so a change reads as a small diff.

Usage: normalize_artifacts.py [--replace OLD=NEW ...] FILE [FILE ...]   (files are rewritten in place)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

FIXED_INVOCATION_ID = "00000000-0000-4000-8000-000000000000"
FIXED_GENERATED_AT = "2024-09-16T00:00:00.000000Z"
FIXED_CREATED_AT = 1726444800.0  # 2024-09-16T00:00:00Z


def replace_prefixes(value: Any, replacements: list[tuple[str, str]]) -> Any:
    if isinstance(value, dict):
        return {key: replace_prefixes(item, replacements) for key, item in value.items()}
    if isinstance(value, list):
        return [replace_prefixes(item, replacements) for item in value]
    if isinstance(value, str):
        for old, new in replacements:
            value = value.replace(old, new)
    return value


def fix_created_at(artifact: dict[str, Any]) -> None:
    for section in ("nodes", "sources", "exposures", "metrics", "semantic_models", "saved_queries",
                    "unit_tests", "groups", "macros", "docs"):
        for node in (artifact.get(section) or {}).values():
            if isinstance(node, dict) and "created_at" in node:
                node["created_at"] = FIXED_CREATED_AT
    for versions in (artifact.get("disabled") or {}).values():
        for node in versions:
            if "created_at" in node:
                node["created_at"] = FIXED_CREATED_AT


def normalize(artifact: dict[str, Any], replacements: list[tuple[str, str]]) -> dict[str, Any]:
    metadata = artifact.setdefault("metadata", {})
    is_run = "results" in artifact and "elapsed_time" in artifact
    metadata["invocation_id"] = FIXED_INVOCATION_ID
    if "invocation_started_at" in metadata:
        metadata["invocation_started_at"] = FIXED_GENERATED_AT
    if is_run:
        artifact["results"].sort(key=lambda result: result["unique_id"])
    else:
        metadata["generated_at"] = FIXED_GENERATED_AT
        if "run_started_at" in metadata:
            metadata["run_started_at"] = FIXED_GENERATED_AT
    for section in ("parent_map", "child_map", "group_map"):
        for key, ids in (artifact.get(section) or {}).items():
            artifact[section][key] = sorted(ids)
    fix_created_at(artifact)
    return replace_prefixes(artifact, replacements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replace", action="append", default=[], metavar="OLD=NEW")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    replacements = [tuple(pair.split("=", 1)) for pair in args.replace]
    replacements.sort(key=lambda pair: len(pair[0]), reverse=True)  # longest prefix first
    for path in args.files:
        artifact = json.loads(path.read_text(encoding="utf-8"))
        normalized = normalize(artifact, replacements)
        path.write_text(json.dumps(normalized, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
