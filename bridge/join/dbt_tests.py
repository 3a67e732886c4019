"""dbt data tests and source freshness as assertions, with their results, as DataHub's dbt source makes them
(acryl-datahub 1.7, `ingestion/source/dbt/dbt_common.py` and `dbt_tests.py`, default configuration):

- every test in a manifest is an assertion about each node it reads (`depends_on`, in the manifest's
  order, the nodes the project defines): a test reading one node is one assertion, a test reading several
  (`relationships`) one per node, each naming its node in its id (`names_upstream`). The assertee is the
  node's dbt entity. A source that names the same dbt entity as a model is read as that model, as the dbt
  source drops such sources (`drop_duplicate_sources`, on by default);
- a test's results come from run_results (not a `dbt docs generate`'s): one per invocation, at the start
  of its `execute` step (else when the file was written); a skipped test has none. pass/success is
  SUCCESS; error/runtime error is ERROR (the test could not run); warn is SUCCESS (the dbt source's
  `test_warnings_are_errors` defaults to false); fail and anything else is FAILURE, severity HIGH.
  Native results: none on success, else dbt's message and its count of failing rows;
- a source checked by `dbt source freshness` (sources.json) with a `warn_after` or `error_after` is an
  assertion about its warehouse table, one result per check, at the time dbt took it. pass is SUCCESS,
  runtime error ERROR, warn SUCCESS, error (past `error_after`) FAILURE HIGH. The table is the bridge's
  warehouse dataset of the source (its physical identifier); the dbt source names it by the source's
  logical name, which is the same table unless the source sets `identifier`;
- custom properties: the node's unique id, a test's node (`dbt_test_upstream_unique_id`), the manifest's
  schema, dbt version and adapter, the catalog's schema and dbt version when one is given; freshness adds
  `dbt_freshness_test` and its criteria. Owners: the test's `meta.owner`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bridge.join.dbt_datasets import dbt_key, warehouse_key
from bridge.join.dbt_test_checks import check_of_test, chosen_title
from bridge.join.settings import JoinSettings
from bridge.model.dbt import CatalogTable, DbtNode, DbtProject, FreshnessCriterion, RunResult, RunResults
from bridge.model.graph import Assertion, AssertionResultType, AssertionRun
from bridge.times import epoch_ms

_SUCCESS = frozenset({"pass", "success"})
_NOT_RUN = frozenset({"error", "runtime error"})
_UNKNOWN_INVOCATION = "unknown"
Severity = Literal["HIGH", "LOW"]


@dataclass(frozen=True, slots=True)
class _Checked:
    """A source's freshness check in one invocation, with the criteria it was checked against."""

    run: AssertionRun
    criteria: tuple[FreshnessCriterion | None, FreshnessCriterion | None]


def dbt_assertions(
    projects: Sequence[DbtProject],
    owners: Mapping[str, DbtProject],
    run_results: Iterable[RunResults],
    catalog: Mapping[str, CatalogTable],
    settings: JoinSettings,
) -> tuple[Assertion, ...]:
    """Every test's assertions and every checked source's freshness assertion, sorted."""
    tested, checked = _evaluations(run_results, owners)
    found: list[Assertion] = []
    for project in projects:
        settings = settings.for_project(project)
        properties = artifact_properties(project, catalog)
        duplicates = duplicate_sources(project, settings)
        for test in project.of_type("test"):
            runs = tested.get(test.unique_id, [])
            if owners.get(test.unique_id) is project:
                found += assertions_of_test(test, project, duplicates, properties, runs, settings)
        for source in project.of_type("source"):
            history = checked.get(source.unique_id)
            if history and owners.get(source.unique_id) is project and source.unique_id not in duplicates:
                found += freshness_assertion(source, project, properties, history, settings)
    return tuple(sorted(found, key=lambda a: (a.dbt_unique_id, a.kind, a.upstream_unique_id or "")))


def assertions_of_test(
    test: DbtNode,
    project: DbtProject,
    duplicates: Mapping[str, str],
    properties: Mapping[str, str],
    runs: Sequence[AssertionRun],
    settings: JoinSettings,
) -> list[Assertion]:
    """One assertion per node the test reads."""
    assert test.test is not None
    upstreams = upstreams_of_test(test, project.nodes, duplicates)
    check = check_of_test(test, test.test)
    description = chosen_title(test, test.test, upstreams)
    owners = _meta_owners(test)
    return [
        Assertion(
            dbt_unique_id=test.unique_id,
            kind="test",
            assertee=dbt_key(project.nodes[upstream], settings),
            dbt_platform_instance=settings.dbt_platform_instance,
            upstream_unique_id=upstream,
            names_upstream=len(upstreams) > 1,
            check=check,
            description=description,
            properties={"dbt_unique_id": test.unique_id, "dbt_test_upstream_unique_id": upstream, **properties},
            owners=owners,
            runs=tuple(runs),
        )
        for upstream in upstreams
    ]


def upstreams_of_test(test: DbtNode, nodes: Mapping[str, DbtNode], duplicates: Mapping[str, str]) -> list[str]:
    """The nodes a test reads that the project defines, in the manifest's order, each once."""
    read = (duplicates.get(uid, uid) for uid in test.depends_on)
    return list(dict.fromkeys(uid for uid in read if uid in nodes))


def duplicate_sources(project: DbtProject, settings: JoinSettings) -> dict[str, str]:
    """Sources naming the dbt entity of a model that is built (not ephemeral) -> that model."""
    models = {dbt_key(m, settings): m.unique_id for m in project.of_type("model") if not m.is_ephemeral}
    keys = ((source.unique_id, dbt_key(source, settings)) for source in project.of_type("source"))
    return {uid: models[key] for uid, key in keys if key in models}


def freshness_assertion(
    source: DbtNode,
    project: DbtProject,
    properties: Mapping[str, str],
    history: Sequence[_Checked],
    settings: JoinSettings,
) -> list[Assertion]:
    """The source's freshness assertion, defined by its latest check's criteria; none without criteria."""
    warn_after, error_after = max(history, key=lambda c: c.run.timestamp_ms).criteria
    if source.relation is None or not (warn_after or error_after):
        return []
    criteria = {**_criterion("warn_after", warn_after), **_criterion("error_after", error_after)}
    return [
        Assertion(
            dbt_unique_id=source.unique_id,
            kind="freshness",
            assertee=warehouse_key(source.relation, project.adapter_type, settings),
            dbt_platform_instance=settings.dbt_platform_instance,
            properties={"dbt_unique_id": source.unique_id, **properties, "dbt_freshness_test": "true", **criteria},
            runs=tuple(c.run for c in history),
        )
    ]


def _criterion(name: str, criterion: FreshnessCriterion | None) -> dict[str, str]:
    return {f"{name}_count": str(criterion.count), f"{name}_period": criterion.period} if criterion else {}


def artifact_properties(project: DbtProject, catalog: Mapping[str, CatalogTable]) -> dict[str, str]:
    """What the dbt source records of the artifacts: the manifest's, and the catalog's that holds the
    project's nodes (when one is given)."""
    table = next((catalog[uid] for uid in sorted(project.nodes) if uid in catalog), None)
    given = {
        "manifest_schema": project.dbt_schema_version,
        "manifest_version": project.dbt_version,
        "manifest_adapter": project.adapter_type,
        "catalog_schema": table.catalog_schema if table else None,
        "catalog_version": table.catalog_version if table else None,
    }
    return {key: value for key, value in given.items() if value}


def _meta_owners(node: DbtNode) -> tuple[str, ...]:
    owner = node.meta.get("owner")
    owners = [owner] if isinstance(owner, str) else owner if isinstance(owner, list) else []
    return tuple(o for o in owners if isinstance(o, str))


def _evaluations(
    run_results: Iterable[RunResults], owners: Mapping[str, DbtProject]
) -> tuple[dict[str, list[AssertionRun]], dict[str, list[_Checked]]]:
    """Tests' results and sources' freshness checks, by node, one per invocation, by time."""
    tested: dict[str, dict[str, AssertionRun]] = {}
    checked: dict[str, dict[str, _Checked]] = {}
    for results in sorted(run_results, key=lambda r: r.path):
        if results.command == "generate":  # `dbt docs generate` runs no test
            continue
        invocation = results.invocation_id or _UNKNOWN_INVOCATION
        for result in results.results:
            if result.unique_id not in owners:
                continue
            if result.freshness is not None:
                checked.setdefault(result.unique_id, {}).setdefault(invocation, _freshness_check(result, invocation))
            elif (run := _test_run(result, results, invocation)) is not None:
                tested.setdefault(result.unique_id, {}).setdefault(invocation, run)
    return (
        {uid: sorted(by.values(), key=lambda r: (r.timestamp_ms, r.run_id)) for uid, by in tested.items()},
        {uid: sorted(by.values(), key=lambda c: (c.run.timestamp_ms, c.run.run_id)) for uid, by in checked.items()},
    )


def _test_run(result: RunResult, results: RunResults, invocation: str) -> AssertionRun | None:
    timestamp = epoch_ms(result.executed_at or results.generated_at)
    if not result.unique_id.startswith("test.") or result.status == "skipped" or timestamp is None:
        return None
    result_type, severity = result_of_test(result.status)
    native = {} if result.status in _SUCCESS else {"message": result.message or ""}
    native |= {"failures": str(result.failures)} if result.failures and result.status not in _SUCCESS else {}
    return AssertionRun(invocation, timestamp, result.status, result_type, severity, native)


def _freshness_check(result: RunResult, invocation: str) -> _Checked:
    freshness = result.freshness
    assert freshness is not None
    result_type, severity = result_of_freshness(result.status)
    native = {
        "status": result.status,
        "max_loaded_at": _iso(freshness.max_loaded_at),
        "snapshotted_at": _iso(freshness.snapshotted_at),
        "max_loaded_at_time_ago_in_s": str(freshness.age_s),
    }
    timestamp = epoch_ms(freshness.snapshotted_at) or 0
    run = AssertionRun(invocation, timestamp, result.status, result_type, severity, native)
    return _Checked(run, (freshness.warn_after, freshness.error_after))


def _iso(timestamp: str) -> str:
    """A dbt timestamp as Python writes it back (`...Z` becomes `...+00:00`), as the dbt source reports it."""
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).isoformat()


def result_of_test(status: str) -> tuple[AssertionResultType, Severity | None]:
    """dbt's test status -> DataHub's result and, for a failure, its severity."""
    if status in _SUCCESS or status == "warn":
        return "SUCCESS", None
    if status in _NOT_RUN:
        return "ERROR", None
    return "FAILURE", "HIGH"


def result_of_freshness(status: str) -> tuple[AssertionResultType, Severity | None]:
    """dbt's freshness status -> DataHub's result: `error` is a verdict (past error_after), not a failure
    to run, which is `runtime error`."""
    if status in ("pass", "warn"):
        return "SUCCESS", None
    if status == "runtime error":
        return "ERROR", None
    return "FAILURE", "HIGH"
