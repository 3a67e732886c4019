"""Every manifest of the shared corpus: each relation we resolve equals what dbt itself wrote.

The expectation is computed here, from the raw JSON with the standard library, independently of the reader.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from bridge.read.dbt.manifest import read_manifest
from tests.conftest import corpus_manifests

RELATION_TYPES = {"model", "seed", "snapshot", "source"}


def raw_manifest(path: Path) -> dict[str, Any]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)  # type: ignore[no-any-return]


def expected_parts(node: dict[str, Any]) -> tuple[str, ...] | None:
    if node["config"].get("materialized") == "ephemeral":
        return None
    unquoted = node["relation_name"].replace('"', "").replace("`", "")
    return tuple(unquoted.split("."))


def enabled_relation_nodes(raw: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [*raw["nodes"].values(), *raw["sources"].values()]
    return [n for n in nodes if n["resource_type"] in RELATION_TYPES and n["config"].get("enabled", True)]


@pytest.mark.parametrize("path", corpus_manifests(), ids=lambda p: str(p.relative_to(p.parents[1])))
def test_every_relation_equals_what_dbt_wrote(path: Path) -> None:
    raw = raw_manifest(path)
    project = read_manifest(path)
    nodes = enabled_relation_nodes(raw)
    assert nodes, "a corpus manifest with no relations would make this test vacuous"
    for node in nodes:
        ours = project.nodes[node["unique_id"]]
        expected = expected_parts(node)
        assert (ours.relation.parts if ours.relation else None) == expected, node["unique_id"]
        if expected is not None:
            name = node["identifier"] if node["resource_type"] == "source" else node["alias"]
            from_fields = tuple(p for p in (node["database"], node["schema"], name) if p)
            assert from_fields == expected, f"{node['unique_id']}: relation_name disagrees with its fields"


@pytest.mark.parametrize("path", corpus_manifests(), ids=lambda p: str(p.relative_to(p.parents[1])))
def test_node_counts_and_dependencies_are_complete(path: Path) -> None:
    raw = raw_manifest(path)
    project = read_manifest(path)
    enabled = {
        uid
        for section in ("nodes", "sources", "exposures")
        for uid, node in raw[section].items()
        if node.get("config", {}).get("enabled", True)
    }
    assert set(project.nodes) == enabled
    for uid in enabled:
        raw_node = raw["nodes"].get(uid) or raw["sources"].get(uid) or raw["exposures"][uid]
        assert list(project.nodes[uid].depends_on) == raw_node.get("depends_on", {}).get("nodes", [])


def test_package_and_fqn_are_read() -> None:
    path = next(p for p in corpus_manifests() if "jaffle-shop/manifest.parse" in str(p))
    project = read_manifest(path)
    models = project.of_type("model")
    assert {m.package_name for m in models} == {"jaffle_shop"}
    assert all(m.fqn[0] == "jaffle_shop" for m in models)
