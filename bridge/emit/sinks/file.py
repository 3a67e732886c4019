"""The file sink: a JSON array of MCPs that `datahub ingest` replays, written whole or not at all."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from datahub.emitter.mcp import MetadataChangeProposalWrapper

from bridge.emit.sinks.base import EmitResult, write_records
from bridge.errors import ConfigError, SinkTerminalError
from bridge.outputs import atomic_output


class FileSink:
    """A JSON array of MCPs in the layout DataHub's file sink writes (`datahub ingest` replays it).

    Written through a temporary file renamed over the target at the end: a failed or killed sync leaves the
    previous file whole, and nothing counts as delivered until the rename."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.acknowledged = EmitResult()

    def emit(self, proposals: Iterable[MetadataChangeProposalWrapper]) -> EmitResult:
        """Write the proposals as they come, one record at a time (memory does not grow with the output)."""
        result = EmitResult()
        try:
            with atomic_output(self.path, "file sink's MCPs") as out:
                out.write(b"[")
                write_records(out, proposals, result)
                out.write(b"\n]\n")
        except ConfigError as exc:
            raise SinkTerminalError(f"file sink: {exc}") from None
        self.acknowledged = result
        return result

    def close(self) -> None:
        return None
