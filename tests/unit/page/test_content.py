"""What the lineage page draws: nodes, the edges of DAG → task → model ═ table → consumer, groups, problems."""

from __future__ import annotations

from typing import Any

from bridge.model.graph import (
    Assertion,
    AssertionRun,
    Dataset,
    DatasetKey,
    DbtResult,
    Domain,
    Flow,
    Job,
    JobKey,
    LineageGraph,
    Run,
)
from bridge.model.report import Problem, RunReport
from bridge.page.content import OPEN_UP_TO, PageUrns, container, page_content

URNS = PageUrns(
    dataset=lambda key: f"urn:ds:{key.platform}:{key.name}",
    flow=lambda dag_id, cluster: f"urn:flow:{dag_id}:{cluster}",
    job=lambda key: f"urn:job:{key.dag_id}:{key.task_id}",
)

MODEL = DatasetKey("dbt", "analytics.marts.orders")
TABLE = DatasetKey("snowflake", "analytics.marts.orders")
STAGING = DatasetKey("dbt", "analytics.staging.stg_orders")
FILE = DatasetKey("s3", "landing/orders/2026.csv")
RUN_TASK = JobKey("build", "orders.run")
TEST_TASK = JobKey("build", "orders.test")
READER = JobKey("report", "publish")


def graph() -> LineageGraph:
    datasets = (
        Dataset(MODEL, "orders", "Model", dbt_unique_id="model.shop.orders", upstreams=(STAGING,), sibling=TABLE,
                is_primary_sibling=True, domain="sales", owners=("ana",), tags=("marts",),
                properties={"relation": "analytics.marts.orders", "materialization": "table"}),
        Dataset(TABLE, "orders", "Table", sibling=MODEL, domain="sales"),
        Dataset(STAGING, "stg_orders", "Model", dbt_unique_id="model.shop.stg_orders"),
        Dataset(FILE, "2026.csv", "File"),
    )  # fmt: skip
    jobs = (
        Job(RUN_TASK, "DbtRunLocalOperator", outputs=(TABLE,), dbt_unique_id="model.shop.orders", domain="sales"),
        Job(TEST_TASK, "DbtTestLocalOperator", inputs=(TABLE,), dbt_unique_id="model.shop.orders",
            upstream_jobs=(RUN_TASK,)),
        Job(READER, "PythonOperator", inputs=(TABLE, FILE)),
    )  # fmt: skip
    runs = (
        Run("r1", "build", "orders.run", "prod", "COMPLETE", "SUCCESS", 1_000, 2_000),
        Run("r2", "build", "orders.run", "prod", "COMPLETE", "FAILURE", 5_000, 6_000),
        Run("r2", "build", None, "prod", "COMPLETE", "FAILURE", 4_000, 7_000),
    )
    test = Assertion("test.shop.not_null_orders_id", "test", MODEL,
                     runs=(AssertionRun("inv", 3_000, "fail", "FAILURE"),))  # fmt: skip
    return LineageGraph(
        datasets=datasets,
        flows=(Flow("build", domain="sales"), Flow("report")),
        jobs=jobs,
        domains=(Domain("sales", "Sales"),),
        runs=runs,
        assertions=(test,),
    )


def content(graph: LineageGraph, report: RunReport | None = None) -> dict[str, Any]:
    return page_content(graph, report, URNS, "Lineage")


def node(page: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in page["nodes"] if n["id"] == node_id)


def edges(page: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(e["kind"], e["from"], e["to"]) for e in page["edges"]}


def test_the_chain_dag_task_model_table_consumer_is_drawn() -> None:
    found = edges(content(graph()))
    assert ("contains", "dag:build", "task:build:orders.run") in found
    assert ("runs", "task:build:orders.run", "ds:dbt::analytics.marts.orders") in found
    assert ("sibling", "ds:dbt::analytics.marts.orders", "ds:snowflake::analytics.marts.orders") in found
    assert ("reads", "ds:snowflake::analytics.marts.orders", "task:report:publish") in found
    assert ("contains", "dag:report", "task:report:publish") in found
    assert ("lineage", "ds:dbt::analytics.staging.stg_orders", "ds:dbt::analytics.marts.orders") in found


def test_a_task_writing_the_table_of_the_model_it_runs_is_not_drawn_twice() -> None:
    found = edges(content(graph()))
    assert not any(kind == "writes" and source == "task:build:orders.run" for kind, source, _ in found)


def test_a_test_task_reads_the_table_and_runs_nothing() -> None:
    found = edges(content(graph()))
    assert ("reads", "ds:snowflake::analytics.marts.orders", "task:build:orders.test") in found
    assert not any(kind == "runs" and source == "task:build:orders.test" for kind, source, _ in found)


def test_nodes_carry_urns_domain_owners_and_their_latest_run() -> None:
    page = content(graph())
    model = node(page, "ds:dbt::analytics.marts.orders")
    assert model["urns"] == ["urn:ds:dbt:analytics.marts.orders", "urn:ds:snowflake:analytics.marts.orders"]
    assert (model["kind"], model["domain"], model["owners"], model["relation"]) == (
        "model", "sales", ["ana"], "analytics.marts.orders")  # fmt: skip
    assert model["last_run"]["state"] == "failure" and model["last_run"]["start_ms"] == 5_000  # the writer's latest
    assert model["details"]["dbt tests"] == "1 (1 failing)"
    assert node(page, "task:build:orders.run")["urns"] == ["urn:job:build:orders.run"]
    assert node(page, "dag:build")["last_run"]["by"] == "run r2"
    assert node(page, "task:report:publish")["last_run"] is None
    assert page["domains"][0] == {"id": "sales", "name": "Sales", "colour": page["domains"][0]["colour"]}


def test_the_latest_of_dbt_executions_and_task_runs_is_the_last_run_of_a_model_and_its_table() -> None:
    newer = DbtResult("inv", "build", "model.shop.orders", MODEL, "success", 9_000, 9_500, 0.5)
    page = content(_with(newer))
    by_dbt = {"state": "success", "start_ms": 9_000, "end_ms": 9_500, "by": "dbt build"}
    assert node(page, "ds:dbt::analytics.marts.orders")["last_run"] == by_dbt
    assert node(page, "ds:snowflake::analytics.marts.orders")["last_run"] == by_dbt
    older = DbtResult("inv", "build", "model.shop.orders", MODEL, "success", 100, 200, 0.1)
    page = content(_with(older))  # a stale local run_results.json does not hide the failed Airflow run
    for table in ("ds:dbt::analytics.marts.orders", "ds:snowflake::analytics.marts.orders"):
        assert node(page, table)["last_run"]["state"] == "failure"


def _with(result: DbtResult) -> LineageGraph:
    base = graph()
    return LineageGraph(base.datasets, base.flows, base.jobs, base.domains, base.runs, (result,), (), base.assertions)


def test_tasks_group_under_their_dag_and_datasets_under_their_schema_or_folder() -> None:
    page = content(graph())
    assert node(page, "task:build:orders.test")["group"] == "dag:build"
    assert node(page, "ds:dbt::analytics.marts.orders")["group"] == "group:analytics.marts"
    assert node(page, "ds:snowflake::analytics.marts.orders")["group"] == "group:analytics.marts"
    assert node(page, "ds:s3::landing/orders/2026.csv")["kind"] == "asset"
    assert node(page, "ds:s3::landing/orders/2026.csv")["label"] == "2026.csv"
    assert node(page, "ds:snowflake::analytics.marts.orders")["label"] == "orders"
    groups = {g["id"]: g for g in page["groups"]}
    assert groups["group:analytics.marts"] == {"id": "group:analytics.marts", "kind": "schema",
                                               "label": "analytics.marts", "size": 2, "domain": "sales"}  # fmt: skip
    assert groups["dag:build"]["size"] == 2 and groups["dag:build"]["kind"] == "dag"
    assert container(FILE) == "s3://landing/orders"


def test_problems_point_at_the_nodes_they_are_about() -> None:
    problems = (
        Problem("unmatched-cosmos-task", "error", "dag build, task orders.test", "no node"),
        Problem("domain-conflict", "warning", "dag build", "several domains"),
        Problem("model-without-domain", "info", "model model.shop.stg_orders", "no domain"),
        Problem("dag-import-error", "warning", "file broken.py", "cannot import"),
        Problem("domain-conflict", "warning", "asset s3:landing/orders/2026.csv", "several domains"),
        Problem("unknown-asset-scheme", "warning", "asset landing/orders/2026.csv", "no platform"),
    )
    report = RunReport(counts={}, emitted={}, problems=problems)
    page = content(graph(), report)
    assert [p["nodes"] for p in page["problems"]] == [
        ["task:build:orders.test"], ["dag:build"], ["ds:dbt::analytics.staging.stg_orders"], [],
        ["ds:s3::landing/orders/2026.csv"], ["ds:s3::landing/orders/2026.csv"]]  # fmt: skip
    assert node(page, "task:build:orders.test")["problems"] == [0]


def test_small_graphs_open_with_every_group_open_large_ones_collapsed() -> None:
    assert content(graph())["open"] is True
    many = tuple(Dataset(DatasetKey("dbt", f"db.s{i % 7}.m{i}"), f"m{i}", "Model") for i in range(OPEN_UP_TO + 1))
    assert content(LineageGraph(datasets=many))["open"] is False


def test_tables_of_dbt_nodes_are_not_drawn_a_second_lineage() -> None:
    base = graph()
    staging_table = DatasetKey("snowflake", "analytics.staging.stg_orders")
    staging = Dataset(STAGING, "stg_orders", "Model", sibling=staging_table)
    datasets = (
        *[staging if d.key == STAGING else d for d in base.datasets if d.key != TABLE],
        Dataset(TABLE, "orders", "Table", sibling=MODEL, upstreams=(staging_table, FILE)),
        Dataset(staging_table, "stg_orders", "Table", sibling=STAGING),
    )  # fmt: skip
    found = edges(content(LineageGraph(datasets=datasets, jobs=base.jobs, flows=base.flows)))
    assert ("lineage", "ds:dbt::analytics.staging.stg_orders", "ds:dbt::analytics.marts.orders") in found
    assert (
        "lineage",
        "ds:snowflake::analytics.staging.stg_orders",
        "ds:snowflake::analytics.marts.orders",
    ) not in found
    assert ("lineage", "ds:s3::landing/orders/2026.csv", "ds:snowflake::analytics.marts.orders") in found
