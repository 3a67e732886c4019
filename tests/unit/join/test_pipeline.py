"""The whole join on a small snapshot shaped like the real fixtures (Airflow 3.3 + Cosmos 1.15)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bridge.join.pipeline import join_lineage
from bridge.join.settings import JoinSettings
from bridge.model.airflow import AirflowSnapshot, AssetEvent, AssetRef, DagRun, TaskInstance
from bridge.model.dbt import DbtProject
from bridge.model.graph import DatasetKey, JobKey, LineageGraph, graph_from_json, graph_to_json
from bridge.times import epoch_us
from tests.unit.join.conftest import cosmos, dag, plain

PG = "postgres://127.0.0.1:5432/bridge_dbt"


def snapshot() -> AirflowSnapshot:
    ingest = dag(
        "ingest_markets",
        plain(
            "load_index_prices",
            downstream=("notify",),
            outlets=(AssetRef(f"{PG}/raw/raw_index_prices"),),
            inlets=(AssetRef("s3://acme-landing/markets/index_prices.csv"),),
            owner="markets-team",
        ),
        plain("notify", outlets=(AssetRef("x-custom://pager"),)),
        owners=("markets-team",),
        tags=("ingest", "markets"),
    )
    finance = dag(
        "finance_dbt",
        cosmos(
            "stg_index_prices.run",
            "DbtRunLocalOperator",
            ("stg_index_prices.test",),
            select="fqn:finance.staging.markets.stg_index_prices",
        ),
        cosmos("stg_index_prices.test", "DbtTestLocalOperator", ("int_index_returns.run",), select="stg_index_prices"),
        cosmos(
            "int_index_returns.run",
            "DbtRunLocalOperator",
            ("fct_index_performance.run",),
            select="fqn:finance.intermediate.markets.int_index_returns",
        ),
        cosmos(
            "fct_index_performance.run",
            "DbtRunLocalOperator",
            (),
            select="fqn:finance.marts.markets.fct_index_performance",
        ),
        cosmos(
            "stg_fred_series.run",
            "DbtRunLocalOperator",
            ("int_fred_series_pivoted_run",),
            select="fqn:finance.staging.fred.stg_fred_series",
        ),
        plain("int_fred_series_pivoted_run", "EmptyOperator", ("fct_fred_observations.run",)),
        cosmos(
            "fct_fred_observations.run",
            "DbtRunLocalOperator",
            (),
            select="fqn:finance.marts.fred.fct_fred_observations",
        ),
        cosmos("mystery.run", "DbtRunLocalOperator", (), select="fqn:finance.nowhere.mystery"),
        owners=("analytics-engineering",),
        tags=("dbt",),
    )
    reporting = dag(
        "finance_reporting", plain("build_report"), schedule_assets=(AssetRef(f"{PG}/marts/fct_index_performance"),)
    )
    events = (
        AssetEvent(
            f"{PG}/staging/stg_index_prices", "2026-11-25T05:03:10+00:00", "finance_dbt", "stg_index_prices.run", "r1"
        ),
    )
    runs = (
        DagRun(
            "finance_dbt",
            "r1",
            "failed",
            "manual",
            epoch_us("2026-11-25T05:03:04+00:00"),
            epoch_us("2026-11-25T05:03:04+00:00"),
            epoch_us("2026-11-25T05:04:00+00:00"),
        ),
    )
    instances = (
        TaskInstance(
            "finance_dbt",
            "stg_index_prices.run",
            "r1",
            "success",
            1,
            -1,
            epoch_us("2026-11-25T05:03:05+00:00"),
            epoch_us("2026-11-25T05:03:09+00:00"),
        ),
        TaskInstance("finance_dbt", "mystery.run", "r1", "upstream_failed", 0),
    )
    return AirflowSnapshot(
        source="db",
        airflow_version="3.3.2",
        schema_revision=None,
        dags={d.dag_id: d for d in (ingest, finance, reporting)},
        asset_events=events,
        dag_runs=runs,
        task_instances=instances,
    )


@pytest.fixture(scope="module")
def graph(postgres_project: DbtProject) -> LineageGraph:
    settings = JoinSettings(dag_domain_rules={"ingest_.*": "urn:li:domain:ingestion"})
    return join_lineage([postgres_project], snapshot(), settings)


def wh(name: str) -> DatasetKey:
    return DatasetKey("postgres", f"bridge_dbt.{name}")


def job(graph: LineageGraph, dag_id: str, task_id: str):  # type: ignore[no-untyped-def]
    return next(j for j in graph.jobs if j.key == JobKey(dag_id, task_id))


def test_cosmos_run_task_writes_its_model_and_reads_its_parents(graph: LineageGraph) -> None:
    run = job(graph, "finance_dbt", "int_index_returns.run")
    assert run.outputs == (wh("intermediate.int_index_returns"),)
    assert run.inputs == (wh("staging.stg_index_prices"),)
    assert run.dbt_unique_id == "model.finance.int_index_returns"
    assert run.upstream_jobs == (JobKey("finance_dbt", "stg_index_prices.test"),)


def test_lineage_passes_through_the_ephemeral_model(graph: LineageGraph) -> None:
    fct = job(graph, "finance_dbt", "fct_fred_observations.run")
    assert fct.inputs == (wh("staging.stg_fred_observations"), wh("staging.stg_fred_series"))
    table = next(d for d in graph.datasets if d.key == wh("fred.fct_fred_observations"))
    assert table.upstreams == (wh("staging.stg_fred_observations"), wh("staging.stg_fred_series"))
    dbt_entity = next(d for d in graph.datasets if d.key == DatasetKey("dbt", "bridge_dbt.fred.fct_fred_observations"))
    assert DatasetKey("dbt", "bridge_dbt.intermediate.int_fred_series_pivoted") in dbt_entity.upstreams


def test_test_tasks_read_and_write_nothing_new(graph: LineageGraph) -> None:
    test = job(graph, "finance_dbt", "stg_index_prices.test")
    assert (test.inputs, test.outputs) == ((wh("staging.stg_index_prices"),), ())


def test_explicit_outlet_and_dbt_source_meet_in_one_dataset(graph: LineageGraph) -> None:
    load = job(graph, "ingest_markets", "load_index_prices")
    assert load.outputs == (wh("raw.raw_index_prices"),)
    assert load.inputs == (DatasetKey("s3", "acme-landing/markets/index_prices.csv"),)
    stg = job(graph, "finance_dbt", "stg_index_prices.run")
    assert stg.inputs == (wh("raw.raw_index_prices"),)
    [raw] = [d for d in graph.datasets if d.key == wh("raw.raw_index_prices")]
    assert raw.dbt_unique_id == "seed.finance.raw_index_prices"  # the producer, not the source that reads it
    assert raw.owners == ("markets-team",) and {"ingest", "markets"} <= set(raw.tags)


def test_asset_scheduled_dag_reads_what_it_waits_for(graph: LineageGraph) -> None:
    assert job(graph, "finance_reporting", "build_report").inputs == (wh("marts.fct_index_performance"),)


def test_siblings_point_both_ways(graph: LineageGraph) -> None:
    by_key = {d.key: d for d in graph.datasets}
    dbt_entity = by_key[DatasetKey("dbt", "bridge_dbt.marts.securities")]
    table = by_key[wh("marts.securities")]
    assert (dbt_entity.sibling, dbt_entity.is_primary_sibling) == (table.key, True)
    assert (table.sibling, table.is_primary_sibling) == (dbt_entity.key, False)
    assert dbt_entity.domain == table.domain is not None


def test_domains_propagate_and_rules_win(graph: LineageGraph) -> None:
    flows = {f.dag_id: f for f in graph.flows}
    assert flows["ingest_markets"].domain == "ingestion"
    assert job(graph, "ingest_markets", "notify").domain == "ingestion"
    assert flows["finance_dbt"].domain is None  # its models span markets and fred: reported, not guessed
    conflict = [p for p in graph.problems if p.code == "domain-conflict" and p.location == "dag finance_dbt"]
    assert conflict and "fred" in conflict[0].message and "markets" in conflict[0].message
    assert job(graph, "finance_dbt", "stg_index_prices.run").domain == "markets"
    assert {d.domain_id for d in graph.domains} >= {"ingestion", "markets", "fred"}


def test_report_lists_unmatched_tasks_and_unknown_schemes(graph: LineageGraph) -> None:
    codes = {(p.code, p.location) for p in graph.problems}
    assert ("unmatched-cosmos-task", "dag finance_dbt, task mystery.run") in codes
    assert ("unknown-asset-scheme", "asset x-custom://pager") in codes


def test_runs_map_states_and_carry_task_io(graph: LineageGraph) -> None:
    by_task = {(r.task_id, r.run_id): r for r in graph.runs}
    dag_run = by_task[(None, "r1")]
    end = datetime(2026, 11, 25, 5, 4, tzinfo=timezone.utc)
    assert (dag_run.status, dag_run.result, dag_run.end_ms) == ("COMPLETE", "FAILURE", int(end.timestamp()) * 1000)
    stg = by_task[("stg_index_prices.run", "r1")]
    assert (stg.result, stg.attempt, stg.outputs) == ("SUCCESS", 1, (wh("staging.stg_index_prices"),))
    assert by_task[("mystery.run", "r1")].result == "FAILURE"


def test_graph_round_trips_and_is_deterministic(postgres_project: DbtProject, graph: LineageGraph) -> None:
    assert graph_from_json(graph_to_json(graph)) == graph
    again = join_lineage(
        [postgres_project], snapshot(), JoinSettings(dag_domain_rules={"ingest_.*": "urn:li:domain:ingestion"})
    )
    assert graph_to_json(again) == graph_to_json(graph)


def test_legacy_prefix_mapping_is_compared_not_used(snowflake_project: DbtProject) -> None:
    settings = JoinSettings(legacy_prefix_mapping={"stg_": "analytics.staging", "dim_": "analytics.marts"})
    graph = join_lineage([snowflake_project], None, settings)
    wrong = {p.location for p in graph.problems if p.code == "legacy-guess-wrong"}
    assert wrong == {
        "model model.finance.stg_portfolio_rebalancing_targets",
        "model model.finance.dim_securities",
        "model model.finance.dim_employees.v1",
        "model model.finance.dim_employees.v2",
    }
