"""What dbt knows: nodes, the relations they live in, groups, run results. Frozen values, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# Where a project's description came from: a manifest.json, or the document the dbt package exports.
ProjectOrigin = Literal["manifest", "export"]

# Resource types that live in the warehouse as a table or view (when not ephemeral).
RELATION_TYPES = frozenset({"model", "seed", "snapshot", "source"})


@dataclass(frozen=True, slots=True)
class Relation:
    """Where a node lives in the warehouse, unquoted. `database` is None where the adapter has none."""

    database: str | None
    schema: str
    identifier: str

    @property
    def parts(self) -> tuple[str, ...]:
        head = (self.database,) if self.database else ()
        return (*head, self.schema, self.identifier)

    @property
    def dotted(self) -> str:
        """`database.schema.identifier`, the form DataHub dataset names take."""
        return ".".join(self.parts)

    def matches(self, other: Relation) -> bool:
        """Same relation, ignoring case (warehouses fold unquoted identifiers)."""
        return tuple(p.lower() for p in self.parts) == tuple(p.lower() for p in other.parts)

    def __str__(self) -> str:
        return self.dotted


@dataclass(frozen=True, slots=True)
class Owner:
    """An owner as dbt records it for a group or an exposure."""

    name: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class Group:
    unique_id: str
    name: str
    owner: Owner


@dataclass(frozen=True, slots=True)
class TestInfo:
    """What a data test checks: the generic test's name, the column, the node it is attached to."""

    __test__ = False  # not a pytest class

    test_name: str | None
    column_name: str | None
    attached_node: str | None
    severity: str | None
    namespace: str | None = None  # the package of a generic test that is not the project's (`dbt_utils`)
    kwargs: Mapping[str, Any] = field(default_factory=dict)  # the generic test's arguments, as the manifest has them
    code: str | None = None  # its compiled SQL, else its raw SQL


@dataclass(frozen=True, slots=True)
class DbtColumn:
    """A column as the project documents it (its yml): what a catalog's column is described with."""

    name: str
    description: str = ""
    data_type: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DbtNode:
    """One resource of a dbt project: model, seed, snapshot, source, test, exposure, analysis...

    `relation` is where the node lives in the warehouse (None for ephemeral models and non-relations);
    `location` is the database/schema/name dbt records for it, which ephemeral models have too.
    """

    unique_id: str
    resource_type: str
    package_name: str
    name: str
    relation: Relation | None
    location: Relation | None = None
    materialized: str | None = None
    depends_on: tuple[str, ...] = ()
    fqn: tuple[str, ...] = ()
    original_file_path: str = ""
    patch_path: str | None = None  # the yml that documents it (`finance://models/marts/_marts.yml`)
    description: str = ""
    version: str | None = None
    latest_version: str | None = None
    source_name: str | None = None
    group: str | None = None
    access: str | None = None
    tags: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)
    # The node's whole config as its source wrote it (JSON), for `config.<key>:`; not part of equality: a manifest
    # and the export of the same project write it differently.
    config_json: bytes = field(default=b"", compare=False)
    test: TestInfo | None = None
    owner: Owner | None = None
    url: str | None = None
    columns: tuple[DbtColumn, ...] = ()  # documented columns, read only when a catalog is given

    @property
    def is_ephemeral(self) -> bool:
        return self.materialized == "ephemeral"

    @property
    def display_name(self) -> str:
        """`name` for unversioned nodes, `name.v2` for versioned ones, `source.table` for sources."""
        if self.source_name:
            return f"{self.source_name}.{self.name}"
        return f"{self.name}.v{self.version}" if self.version is not None else self.name


@dataclass(frozen=True, slots=True)
class DbtProject:
    """One manifest: a dbt project and its installed packages, as parsed for one target."""

    manifest_path: str
    project_name: str
    adapter_type: str
    dbt_version: str
    schema_version: int
    generated_at: str
    nodes: Mapping[str, DbtNode]
    groups: Mapping[str, Group] = field(default_factory=dict)
    selectors: Mapping[str, Any] = field(default_factory=dict)  # YAML selectors by name, as the manifest has them
    origin: ProjectOrigin = "manifest"
    dbt_schema_version: str = ""  # the manifest's schema URL (`https://schemas.getdbt.com/dbt/manifest/v12.json`)

    def of_type(self, *resource_types: str) -> list[DbtNode]:
        """Nodes of the given resource types, in unique_id order."""
        return [n for uid, n in sorted(self.nodes.items()) if n.resource_type in resource_types]


@dataclass(frozen=True, slots=True)
class FreshnessCriterion:
    """A source's `warn_after` or `error_after`: `count` periods (minute, hour, day)."""

    count: int
    period: str


@dataclass(frozen=True, slots=True)
class SourceFreshness:
    """What `dbt source freshness` found for one source (sources.json): times as dbt wrote them."""

    max_loaded_at: str
    snapshotted_at: str
    age_s: float  # max_loaded_at_time_ago_in_s
    warn_after: FreshnessCriterion | None = None
    error_after: FreshnessCriterion | None = None


@dataclass(frozen=True, slots=True)
class RunResult:
    """One node's outcome in a dbt invocation (run, build, test, seed, snapshot, source freshness)."""

    unique_id: str
    status: str
    execution_time: float
    started_at: str | None
    completed_at: str | None
    message: str | None = None
    failures: int | None = None
    executed_at: str | None = None  # when its `execute` step started (`started_at` is its compile's start)
    execute_completed_at: str | None = None  # when its `execute` step ended
    freshness: SourceFreshness | None = None  # a source's, from sources.json


@dataclass(frozen=True, slots=True)
class RunResults:
    path: str
    schema_version: int
    invocation_id: str | None
    generated_at: str
    command: str | None
    results: tuple[RunResult, ...]


@dataclass(frozen=True, slots=True)
class CatalogColumn:
    name: str
    data_type: str
    index: int
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class CatalogTable:
    """What `dbt docs generate` found in the warehouse for one node."""

    unique_id: str
    table_type: str | None
    owner: str | None
    columns: tuple[CatalogColumn, ...]
    catalog_schema: str | None = None  # the catalog file's dbt_schema_version and dbt_version
    catalog_version: str | None = None


@dataclass(frozen=True, slots=True)
class DbtInputs:
    """Everything read from dbt for one sync: the projects, the runs' results, the catalogs' tables."""

    projects: tuple[DbtProject, ...]
    run_results: tuple[RunResults, ...] = ()
    catalog: Mapping[str, CatalogTable] = field(default_factory=dict)  # by unique_id, all catalogs merged
