"""Reading the document the dbt package prints (`dbt run-operation bridge_export`, the on-run-end recipe).

dbt prints the document as one line, `BRIDGE_EXPORT_V1 {json}`, among whatever else it logs; the line is
picked out of the text wherever it is (a terminal, a CI log, an Airflow task log with its prefixes). Its
node entries have the fields and names of manifest.json's nodes, so they become a `DbtProject` through the
same conversion a manifest goes through: given both ways, a project is described identically.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import msgspec

from bridge.errors import ArtifactError
from bridge.model.dbt import DbtProject, RunResults
from bridge.read.artifact import read_bytes
from bridge.read.dbt import schema
from bridge.read.dbt.manifest import build_project
from bridge.read.dbt.run_results import result_from_struct

MARKER = "BRIDGE_EXPORT_V1 "
FORMAT = "dbt-lineage-bridge/export"
FORMAT_VERSIONS = (1,)
STDIN = "-"
# The manifest schema each dbt release writes (dbt-core's changelog): what the project described by an export
# would have as its manifest's `dbt_schema_version` (DataHub's dbt source shows it on assertions).
MANIFEST_SCHEMAS = {(1, 5): 9, (1, 6): 10, (1, 7): 11, (1, 8): 12, (1, 9): 12, (1, 10): 12, (1, 11): 12}

_HOW_TO = (
    "Print it with `dbt run-operation bridge_export` (the dbt_lineage_bridge package in packages.yml, then "
    "`dbt deps`), or the on-run-end recipe, and pass that output"
)


@dataclass(frozen=True, slots=True)
class DbtExport:
    """One exported project, and the results of the run that printed it (the on-run-end recipe)."""

    project: DbtProject
    run_results: RunResults | None


class _Header(msgspec.Struct):
    format: str | None = None
    format_version: int | float | str | None = None


class _Target(msgspec.Struct):
    name: str | None = None
    type: str | None = None


class _Run(msgspec.Struct):
    command: str | None = None
    invocation_id: str | None = None
    run_started_at: str | None = None
    results: list[schema.RunResultStruct] = msgspec.field(default_factory=list)


class _Document(msgspec.Struct):
    metadata: schema.Metadata
    target: _Target = msgspec.field(default_factory=_Target)
    nodes: list[schema.Node] = msgspec.field(default_factory=list)
    groups: list[schema.GroupStruct] = msgspec.field(default_factory=list)
    run: _Run | None = None


class _DocumentWithColumns(_Document):
    """The document with each node's documented columns: decoded only when a catalog is to be met."""

    nodes: list[schema.NodeWithColumns] = msgspec.field(default_factory=list)  # type: ignore[assignment]


def read_exports(source: str, stdin: BinaryIO | None = None, columns: bool = False) -> list[DbtExport]:
    """Every export document in a file (`-`: standard input), in the order printed.

    Raises `ArtifactError` naming the file (and line) when there is none or one cannot be read.
    """
    name = "standard input" if source == STDIN else source
    if source == STDIN and stdin is None and (sys.stdin is None or sys.stdin.isatty()):
        problem = "is closed" if sys.stdin is None else "is a terminal, not dbt's output"
        raise ArtifactError(name, problem, f"{_HOW_TO}: pipe it in (dbt ... | bridge ...)")
    raw = (stdin or sys.stdin.buffer).read() if source == STDIN else read_bytes(Path(source))
    return parse_exports(name, raw, columns)


def parse_exports(name: str, raw: bytes, columns: bool = False) -> list[DbtExport]:
    """The export documents in what dbt printed; `name` says where it came from, in errors."""
    found = [_document(name, number, line) for number, line in _marked_lines(raw)]
    if not found:
        raise ArtifactError(name, f"holds no {MARKER.strip()} line", f"{_HOW_TO}.")
    return [_export(name, number, document, columns) for number, document in found]


def _marked_lines(raw: bytes) -> list[tuple[int, bytes]]:
    """(line number, the JSON after the marker) for each line that carries the marker."""
    marker = MARKER.encode()
    found = []
    for number, line in enumerate(raw.splitlines(), start=1):
        at = line.find(marker)
        if at >= 0:
            found.append((number, line[at + len(marker) :].strip()))
    return found


def _document(name: str, number: int, text: bytes) -> tuple[int, bytes]:
    where = f"{name}, line {number}"
    try:
        header = msgspec.json.decode(text, type=_Header)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        problem = "is cut short" if "truncated" in str(exc) else "is not a JSON object"
        raise ArtifactError(
            where, f"the document after {MARKER.strip()} {problem}", f"{_HOW_TO}, the whole line."
        ) from None
    if header.format != FORMAT:
        raise ArtifactError(where, f"the document after {MARKER.strip()} is not a {FORMAT} document", f"{_HOW_TO}.")
    if header.format_version not in FORMAT_VERSIONS:
        readable = ", ".join(str(v) for v in FORMAT_VERSIONS)
        raise ArtifactError(
            where,
            f"export format_version {header.format_version!r} is not one this bridge reads ({readable})",
            "Install the dbt_lineage_bridge package of the same release as the bridge (packages.yml, dbt deps)",
        )
    return number, text


def _export(name: str, number: int, text: bytes, columns: bool) -> DbtExport:
    where = f"{name}, line {number}"
    try:
        document = msgspec.json.decode(text, type=_DocumentWithColumns if columns else _Document)
    except msgspec.ValidationError as exc:
        raise ArtifactError(where, f"not a valid export document ({exc})", f"{_HOW_TO}.") from None
    project = build_project(where, document.metadata, 0, document.nodes, document.groups, kind="export")
    return DbtExport(
        replace(project, dbt_schema_version=manifest_schema(project.dbt_version)), _run_results(where, document)
    )


def manifest_schema(dbt_version: str) -> str:
    """The schema URL of the manifest this dbt version writes; empty for a version not in the table."""
    try:
        major, minor = (int(part) for part in dbt_version.split(".")[:2])
    except ValueError:
        return ""
    number = MANIFEST_SCHEMAS.get((major, minor))
    return f"https://schemas.getdbt.com/dbt/manifest/v{number}.json" if number else ""


def _run_results(where: str, document: _Document) -> RunResults | None:
    run = document.run
    if run is None:
        return None
    return RunResults(
        path=where,
        schema_version=0,
        invocation_id=run.invocation_id,
        generated_at=run.run_started_at or "",
        command=run.command,
        results=tuple(result_from_struct(r) for r in run.results),
    )
