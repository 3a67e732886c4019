"""Asset (dataset) URIs -> DataHub dataset keys, so an asset, an explicit outlet and a dbt relation meet.

Forms understood (Airflow's and OpenLineage's conventions):
    snowflake://<account>/<DB>/<SCHEMA>/<TABLE>     and the Airflow 2 dotted form snowflake://<account>/<DB.SCHEMA.TABLE>
    postgres://<host>:<port>/<db>/<schema>/<table>  (also postgresql://)
    redshift://<cluster>.<region>:<port>/<db>/<schema>/<table>
    bigquery://<project>/<dataset>/<table>
    databricks://<host>/<catalog>/<schema>/<table>
    mysql://<host>:<port>/<db>/<table>
    s3://<bucket>/<key>, gs://<bucket>/<key>, gcs://..., file://<path>
Anything else is kept as it is, reported, and not matched.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

_TABLE_PLATFORMS = {
    "snowflake": ("snowflake", 3),
    "postgres": ("postgres", 3),
    "postgresql": ("postgres", 3),
    "redshift": ("redshift", 3),
    "bigquery": ("bigquery", 3),
    "databricks": ("databricks", 3),
    "mysql": ("mysql", 2),
    "trino": ("trino", 3),
}


def without_credentials(uri: str) -> str:
    """The URI without user info (`ftp://user:pass@host/x` -> `ftp://host/x`): a credential in an asset URI
    never becomes part of a dataset name, a URN or a report line."""
    scheme, separator, rest = uri.partition("://")
    if not separator:
        return uri
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    _, at, host = rest[:end].rpartition("@")
    return f"{scheme}://{host}{rest[end:]}" if at else uri


_FILE_PLATFORMS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "file": "file", "abfss": "abs"}
# The dataset platforms of files (DataHub's names), whatever URI scheme named them.
FILE_PLATFORMS = frozenset(_FILE_PLATFORMS.values())


@dataclass(frozen=True, slots=True)
class ParsedAsset:
    """Where an asset URI points: a platform and the dotted (table) or slashed (file) name DataHub uses."""

    platform: str
    name: str
    authority: str  # account, host:port, project or bucket; not part of DataHub's name
    is_table: bool


def parse_asset_uri(uri: str) -> ParsedAsset | None:
    """The asset's platform and name; None for a scheme we do not know or a malformed URI."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme in _FILE_PLATFORMS:
        return _file_asset(_FILE_PLATFORMS[scheme], parts.netloc, parts.path)
    if scheme not in _TABLE_PLATFORMS:
        return None
    platform, depth = _TABLE_PLATFORMS[scheme]
    segments = [unquote(s) for s in parts.path.strip("/").split("/") if s]
    if len(segments) == 1 and segments[0].count(".") == depth - 1:
        segments = segments[0].split(".")  # snowflake://account/DB.SCHEMA.TABLE (Airflow 2)
    if scheme == "bigquery" and len(segments) == 2:
        segments = [parts.netloc, *segments]
    if len(segments) != depth or not all(segments):
        return None
    return ParsedAsset(platform, ".".join(segments), parts.netloc, is_table=True)


def _file_asset(platform: str, netloc: str, path: str) -> ParsedAsset | None:
    if platform == "file":
        name = unquote(netloc + path)
        return ParsedAsset(platform, name, "", is_table=False) if name else None
    key = unquote(path).lstrip("/")
    return ParsedAsset(platform, f"{netloc}/{key}".rstrip("/"), netloc, is_table=False) if netloc else None


def scheme_of(uri: str) -> str:
    return urlsplit(uri).scheme.lower() or "(none)"
