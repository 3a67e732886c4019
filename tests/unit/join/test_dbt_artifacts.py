"""Catalogs and run results in the join: columns as DataHub's dbt source combines catalog and project, and
each invocation's results once, whichever way they were given."""

from __future__ import annotations

from dataclasses import replace

from bridge.join.pipeline import join_lineage
from bridge.join.settings import JoinSettings
from bridge.model.dbt import CatalogColumn, CatalogTable, DbtColumn, DbtProject, RunResult, RunResults
from bridge.model.graph import Column

MODEL = "model.finance.dim_securities"


def documented(project: DbtProject, *columns: DbtColumn) -> DbtProject:
    return replace(project, nodes={**project.nodes, MODEL: replace(project.nodes[MODEL], columns=columns)})


def dbt_columns(project: DbtProject, catalog: dict[str, CatalogTable]) -> tuple[Column, ...]:
    graph = join_lineage([project], None, JoinSettings(), catalog=catalog)
    [dataset] = [d for d in graph.datasets if d.dbt_unique_id == MODEL and d.key.platform == "dbt"]
    assert all(not d.columns for d in graph.datasets if d.key.platform != "dbt"), "columns on dbt entities only"
    return dataset.columns


def test_catalog_columns_meet_the_documented_ones(postgres_project: DbtProject) -> None:
    project = documented(
        postgres_project,
        DbtColumn("SECURITY_ID", "The listing's id.", "text", ("pii",)),
        DbtColumn("name", "The issuer's name."),
    )
    table = CatalogTable(MODEL, "BASE TABLE", None, (
        CatalogColumn("security_id", "text", 1, None),
        CatalogColumn("name", "character varying", 2, "issuer name"),
        CatalogColumn("listed_on", "date", 3, None),
    ))  # fmt: skip

    assert dbt_columns(project, {MODEL: table}) == (
        Column("security_id", "text", "The listing's id.", ("pii",)),  # matched ignoring case
        Column("name", "character varying", "dbt comment: issuer name\n\ndbt model description: The issuer's name."),
        Column("listed_on", "date"),
    )


def test_a_node_no_catalog_holds_gets_its_documented_columns(postgres_project: DbtProject) -> None:
    project = documented(postgres_project, DbtColumn("security_id", "The id.", "varchar"), DbtColumn("name"))
    other = CatalogTable("model.finance.dim_country", None, None, (CatalogColumn("code", "text", 1),))

    assert dbt_columns(project, {other.unique_id: other}) == (
        Column("security_id", "varchar", "The id."),
        Column("name", ""),
    )
    assert dbt_columns(project, {}) == ()  # no catalog given: no columns at all


def test_an_invocation_given_twice_counts_once(postgres_project: DbtProject) -> None:
    result = RunResult(MODEL, "success", 1.5, "2026-11-28T05:00:00Z", "2026-11-28T05:00:01.5Z")
    from_file = RunResults("target/run_results.json", 6, "inv-1", "", "build", (result,))
    from_export = replace(from_file, path="build.log, line 9", schema_version=0)
    test = RunResult("test.finance.not_null_x", "fail", 0.2, None, None, failures=3)
    other = RunResults("other/run_results.json", 6, "inv-2", "", "test", (test,))

    graph = join_lineage([postgres_project], None, JoinSettings(), run_results=[from_export, from_file, other])

    assert [(r.invocation_id, r.unique_id) for r in graph.dbt_results] == [("inv-1", MODEL), ("inv-2", test.unique_id)]
    first, second = graph.dbt_results
    assert (first.start_ms, first.end_ms, first.read_from) == (1795842000000, 1795842001500, "build.log, line 9")
    assert first.dataset is not None and first.dataset.platform == "dbt"
    assert second.dataset is None and second.failures == 3


def test_a_result_spans_its_execute_step_and_docs_generate_built_nothing(postgres_project: DbtProject) -> None:
    # compile from 05:00:00, execute 05:00:00.25 to 05:00:01.5: the dbt source's times are the execute step's
    timed = RunResult(MODEL, "success", 1.5, "2026-11-28T05:00:00Z", "2026-11-28T05:00:01.5Z",
                      executed_at="2026-11-28T05:00:00.25Z", execute_completed_at="2026-11-28T05:00:01.5Z")  # fmt: skip
    built = RunResults("target/run_results.json", 6, "inv-1", "", "build", (timed,))
    documented = RunResults("docs/run_results.json", 6, "inv-2", "", "generate", (replace(timed, status="success"),))

    graph = join_lineage([postgres_project], None, JoinSettings(), run_results=[built, documented])

    [result] = graph.dbt_results
    assert (result.invocation_id, result.start_ms, result.end_ms) == ("inv-1", 1795842000250, 1795842001500)


def test_each_project_can_be_its_own_dbt_platform_instance(postgres_project: DbtProject) -> None:
    # DataHub's dbt source with a globbed manifest_path names each project's dbt entities by its project_name
    result = RunResult(MODEL, "success", 1.5, "2026-11-28T05:00:00Z", "2026-11-28T05:00:01.5Z")
    results = RunResults("target/run_results.json", 6, "inv-1", "", "build", (result,))
    settings = JoinSettings(dbt_platform_instance="ignored", dbt_platform_instance_from_project=True)

    graph = join_lineage([postgres_project], None, settings, run_results=[results])

    dbt = [d.key for d in graph.datasets if d.key.platform == "dbt"]
    assert dbt and {k.platform_instance for k in dbt} == {postgres_project.project_name}
    assert {k.platform_instance for k in (d.key for d in graph.datasets) if k.platform != "dbt"} == {None}
    assert graph.assertions and {a.dbt_platform_instance for a in graph.assertions} == {"finance"}
    [run] = graph.dbt_results
    assert run.dataset is not None and run.dataset.platform_instance == "finance"
