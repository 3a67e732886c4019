"""Reading a JSON artifact from disk: plain or gzipped, decoded with a fast parser, errors translated."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import TypeVar

import msgspec

from bridge.errors import ArtifactError, UnsupportedSchemaVersionError

T = TypeVar("T")

_REGENERATE = "Re-create it (`dbt parse`, `dbt build` or `dbt docs generate`) and pass its path."


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it is gzipped (by magic number, not by name)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ArtifactError(str(path), "file not found", "Check the path, or run dbt to produce it.") from None
    except IsADirectoryError:
        raise ArtifactError(str(path), "is a directory", "Pass the JSON file inside it.") from None
    except OSError as exc:
        raise ArtifactError(str(path), f"cannot be read ({exc.strerror})", "Check its permissions.") from exc
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise ArtifactError(str(path), f"is a damaged gzip file ({exc})", _REGENERATE) from exc


def decode(path: Path, raw: bytes, kind: str, schema: type[T]) -> T:
    """Decode `raw` into `schema`, reading only the fields `schema` declares."""
    try:
        return msgspec.json.decode(raw, type=schema)
    except msgspec.ValidationError as exc:
        raise ArtifactError(str(path), f"is not a valid {kind} ({exc})", _REGENERATE) from exc
    except msgspec.DecodeError as exc:
        problem = "is truncated" if "truncated" in str(exc) else f"is not valid JSON ({exc})"
        raise ArtifactError(str(path), f"{problem}", _REGENERATE) from exc


class _Metadata(msgspec.Struct):
    dbt_schema_version: str = ""


class _Header(msgspec.Struct):
    metadata: _Metadata | None = None


def checked_schema_version(path: Path, raw: bytes, kind: str, supported: range, supported_text: str) -> int:
    """The artifact's schema version (12 for `.../manifest/v12.json`), checked against `supported`.

    Read before the full decode, so that an old artifact gets this error, not a decoding one.
    """
    header = decode(path, raw, f"dbt {kind} file", _Header)
    url = header.metadata.dbt_schema_version if header.metadata else ""
    if f"/{kind}/" not in url:
        raise ArtifactError(
            str(path),
            f"has no metadata.dbt_schema_version of a dbt {kind} file (found {url!r})",
            "Pass the file from dbt's target/ folder.",
        )
    version = schema_version_number(url)
    if version is None or version not in supported:
        found = url.rsplit("/", 1)[-1].removesuffix(".json")
        raise UnsupportedSchemaVersionError(str(path), kind, found, supported_text)
    return version


def schema_version_number(url: str) -> int | None:
    """12 from `https://schemas.getdbt.com/dbt/manifest/v12.json`; None when the URL has no version."""
    stem = url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".json")
    return int(stem[1:]) if stem[:1] == "v" and stem[1:].isdigit() else None
