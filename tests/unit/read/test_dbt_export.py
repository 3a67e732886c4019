"""The dbt package's export as an input: the committed export of the bundled project (real dbt, the Snowflake
profile, the same invocation state as the committed manifest) describes the project exactly as its manifest
does, and every way the text can be wrong is one error naming where."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bridge.errors import ArtifactError
from bridge.join.pipeline import join_lineage
from bridge.join.settings import JoinSettings
from bridge.model.graph import graph_to_json
from bridge.read.dbt.export import MARKER, parse_exports, read_exports
from bridge.read.dbt.manifest import read_manifest
from tests.conftest import SNOWFLAKE_MANIFEST

EXPORT = SNOWFLAKE_MANIFEST.with_name("bridge_export.txt")


@pytest.fixture(scope="module")
def line() -> str:
    return EXPORT.read_text(encoding="utf-8").strip()


def test_the_export_describes_the_project_as_its_manifest_does() -> None:
    [export] = read_exports(str(EXPORT))
    manifest = read_manifest(SNOWFLAKE_MANIFEST)

    assert export.project.origin == "export" and export.run_results is None
    assert (export.project.project_name, export.project.adapter_type) == ("finance", "snowflake")
    assert dict(export.project.nodes) == dict(manifest.nodes)
    assert dict(export.project.groups) == dict(manifest.groups)
    settings = JoinSettings()
    assert graph_to_json(join_lineage([export.project], None, settings)) == graph_to_json(
        join_lineage([manifest], None, settings)
    )


def test_given_both_ways_a_project_is_one(line: str) -> None:
    [export] = parse_exports("export.txt", line.encode())
    manifest = read_manifest(SNOWFLAKE_MANIFEST)

    both = join_lineage([manifest, export.project], None, JoinSettings())

    assert graph_to_json(both) == graph_to_json(join_lineage([manifest], None, JoinSettings()))
    assert not [p for p in both.problems if p.code in {"duplicate-dbt-node", "dbt-export-mismatch"}]


def test_an_export_of_another_target_is_reported_and_the_manifest_used(line: str) -> None:
    document = json.loads(line.removeprefix(MARKER))
    for node in document["nodes"]:
        if node["relation_name"]:
            node["relation_name"] = node["relation_name"].replace("ANALYTICS.", "ANALYTICS_CI.")
    [export] = parse_exports("ci_export.txt", (MARKER + json.dumps(document)).encode())

    graph = join_lineage([read_manifest(SNOWFLAKE_MANIFEST), export.project], None, JoinSettings())

    [problem] = [p for p in graph.problems if p.code == "dbt-export-mismatch"]
    assert problem.location == "project finance" and "ci_export.txt, line 1" in problem.message
    assert "ANALYTICS_CI" in problem.message and str(SNOWFLAKE_MANIFEST) in problem.message
    assert not any(d.key.name.startswith("analytics_ci.") for d in graph.datasets)


def test_nodes_only_one_side_has_are_reported(line: str, tmp_path: Path) -> None:
    manifest = json.loads(SNOWFLAKE_MANIFEST.read_text())
    del manifest["nodes"]["model.finance.dim_country"]
    older = tmp_path / "b" / "manifest.json"
    older.parent.mkdir()
    older.write_text(json.dumps(manifest))
    newer = tmp_path / "a" / "manifest.json"  # first by path: the one used, and the one compared
    newer.parent.mkdir()
    newer.write_text(SNOWFLAKE_MANIFEST.read_text())
    [export] = parse_exports("export.txt", line.encode())

    same = join_lineage([read_manifest(older), read_manifest(newer), export.project], None, JoinSettings())
    assert not [p for p in same.problems if p.code == "dbt-export-mismatch"]
    graph = join_lineage([read_manifest(older), export.project], None, JoinSettings())
    [problem] = [p for p in graph.problems if p.code == "dbt-export-mismatch"]
    assert "1 node(s) only the export has, left out (e.g. model.finance.dim_country)" in problem.message


@pytest.mark.parametrize(
    "prefix",
    [
        "",
        "05:20:03  Running with dbt=1.11.16\n05:20:04  Registered adapter: snowflake=1.12.4\n",
        "[2026-11-28, 05:20:03 UTC] {subprocess.py:93} INFO - ",  # an Airflow task log line
    ],
)
def test_the_marker_line_is_found_in_whatever_dbt_printed(line: str, prefix: str) -> None:
    printed = f"{prefix}{line}\n05:20:05  Finished running.\n".encode()

    [export] = read_exports("-", io.BytesIO(printed))

    assert export.project.manifest_path.startswith("standard input, line ")
    assert len(export.project.nodes) == len(read_manifest(SNOWFLAKE_MANIFEST).nodes)


def test_several_documents_of_a_project_keep_the_last_and_every_run(line: str) -> None:
    document = json.loads(line.removeprefix(MARKER))
    first = document | {"run": {"command": "seed", "invocation_id": "a", "results": []}}
    result = {"unique_id": "model.finance.dim_country", "status": "success", "execution_time": 0.5, "timing": []}
    second = document | {"run": {"command": "run", "invocation_id": "b", "results": [result]}}
    printed = "\n".join(MARKER + json.dumps(d) for d in (first, second)).encode()

    exports = parse_exports("build.log", printed)

    assert [e.run_results.invocation_id for e in exports if e.run_results] == ["a", "b"]
    assert exports[1].run_results is not None and exports[1].run_results.results[0].execution_time == 0.5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("05:20:03  Running with dbt=1.11.16\n", "build.log: holds no BRIDGE_EXPORT_V1 line. Print it with"),
        (
            MARKER + '{"format": "dbt-lineage-bridge/export", "nodes": [',
            "build.log, line 1: the document after BRIDGE_EXPORT_V1 is cut short",
        ),
        (MARKER + "not json", "build.log, line 1: the document after BRIDGE_EXPORT_V1 is not a JSON object"),
        (MARKER + "[1, 2]", "build.log, line 1: the document after BRIDGE_EXPORT_V1 is not a JSON object"),
        (MARKER + '{"format": "something-else"}', "is not a dbt-lineage-bridge/export document"),
        (
            MARKER + '{"format": "dbt-lineage-bridge/export", "format_version": 7}',
            "export format_version 7 is "
            "not one this bridge reads (1). Install the dbt_lineage_bridge package of the same release",
        ),
        (
            MARKER + '{"format": "dbt-lineage-bridge/export", "format_version": 1, "metadata": {}, "nodes": {}}',
            "build.log, line 1: not a valid export document (Expected `array`, got `object` - at `$.nodes`)",
        ),
    ],
)
def test_what_is_not_an_export_is_one_error_naming_where(text: str, expected: str) -> None:
    with pytest.raises(ArtifactError) as caught:
        parse_exports("build.log", text.encode())
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_export_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"nothing\.txt: file not found"):
        read_exports(str(tmp_path / "nothing.txt"))
