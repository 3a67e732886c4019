"""Emission: DataHub's own records, byte-stable output, URNs as DataHub's connectors make them."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from bridge.config import SinkConfig
from bridge.emit.airflow import flow_urn, job_urn
from bridge.emit.airflow_urls import AirflowUrls
from bridge.emit.aspects import EmitOptions
from bridge.emit.mcps import graph_to_mcps
from bridge.emit.sinks import FileSink, file_record, open_sink
from bridge.errors import SinkTerminalError
from bridge.join.pipeline import join_lineage
from bridge.join.settings import JoinSettings
from bridge.model.dbt import DbtProject
from bridge.model.graph import JobKey, LineageGraph
from tests.unit.join.test_pipeline import snapshot


@pytest.fixture(scope="module")
def graph(postgres_project: DbtProject) -> LineageGraph:
    return join_lineage([postgres_project], snapshot(), JoinSettings(dag_domain_rules={"ingest_.*": "ingestion"}))


def test_file_records_equal_datahubs_own_serialisation(graph: LineageGraph) -> None:
    proposals = list(graph_to_mcps(graph, EmitOptions(AirflowUrls("http://airflow:8080", 3))))
    assert {p.entityType for p in proposals} >= {"dataset", "dataFlow", "dataJob", "domain", "dataProcessInstance"}
    cache: dict[int, object] = {}
    for proposal in proposals:
        assert file_record(proposal, cache) == proposal.to_obj(simplified_structure=True)


def test_output_is_byte_identical_across_runs(graph: LineageGraph, tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    FileSink(first).emit(graph_to_mcps(graph))
    FileSink(second).emit(graph_to_mcps(graph))
    assert first.read_bytes() == second.read_bytes()
    records = orjson.loads(first.read_bytes())
    keys = [(r["entityUrn"], r["aspectName"]) for r in records]
    assert keys == sorted(keys)


def test_flow_and_job_urns_are_the_airflow_plugins() -> None:
    assert flow_urn("finance_dbt", "prod") == "urn:li:dataFlow:(airflow,finance_dbt,prod)"
    assert job_urn(JobKey("finance_dbt", "stg_x.run", "prod")) == (
        "urn:li:dataJob:(urn:li:dataFlow:(airflow,finance_dbt,prod),stg_x.run)"
    )


def test_airflow_links_follow_the_major_version() -> None:
    v3, v2 = AirflowUrls("https://af.example.com/", 3), AirflowUrls("https://af.example.com", 2)
    assert v3.task("d", "t.run") == "https://af.example.com/dags/d/tasks/t.run"
    assert v3.run("d", "manual__2026-01-05T06:00:00+00:00") == (
        "https://af.example.com/dags/d/runs/manual__2026-01-05T06%3A00%3A00%2B00%3A00"
    )
    assert v2.dag("d") == "https://af.example.com/dags/d/grid"
    assert v2.task_log("d", "r", "t", 2) == "https://af.example.com/dags/d/grid?dag_run_id=r&task_id=t&tab=logs"
    assert AirflowUrls(None, 3).dag("d") is None


def test_runs_carry_parents_results_and_no_wall_clock(graph: LineageGraph) -> None:
    proposals = [p for p in graph_to_mcps(graph) if p.entityType == "dataProcessInstance"]
    relationships = [p.aspect for p in proposals if p.aspectName == "dataProcessInstanceRelationships"]
    assert any(r.parentInstance for r in relationships) and all(r.parentTemplate for r in relationships)  # type: ignore[union-attr]
    results = {
        p.aspect.result.type for p in proposals if p.aspectName == "dataProcessInstanceRunEvent" and p.aspect.result
    }  # type: ignore[union-attr]
    assert results == {"SUCCESS", "FAILURE"}
    created = [p.aspect.created.time for p in proposals if p.aspectName == "dataProcessInstanceProperties"]  # type: ignore[union-attr]
    assert all(t < 1_800_000_000_000 for t in created)  # from the runs' own times, never "now"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (SinkConfig(type="file"), "no path given"),
        (SinkConfig(type="datahub-rest"), "no server given"),
        (SinkConfig(type="datahub-kafka"), "no bootstrap servers given"),
    ],
)
def test_sinks_without_a_target_say_what_is_missing(config: SinkConfig, message: str) -> None:
    with pytest.raises(SinkTerminalError, match=message):
        open_sink(config)


def test_unwritable_file_sink_is_terminal(graph: LineageGraph, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(SinkTerminalError, match="cannot write"):
        FileSink(blocker / "out.json").emit(graph_to_mcps(graph))


def test_datahub_lite_sink_writes_and_reads_back(graph: LineageGraph, tmp_path: Path) -> None:
    from datahub.lite.lite_util import get_datahub_lite

    path = tmp_path / "lite.db"
    sink = open_sink(SinkConfig(type="datahub-lite", path=str(path)))
    result = sink.emit(graph_to_mcps(graph))
    sink.close()
    assert result.counts["siblings"] > 0
    lite = get_datahub_lite({"type": "sqlite", "config": {"file": str(path)}}, read_only=True)
    found = lite.get("urn:li:dataset:(urn:li:dataPlatform:dbt,bridge_dbt.marts.securities,PROD)", ["siblings"])
    lite.close()
    assert found is not None and found["siblings"]["primary"] is True  # type: ignore[index]


def test_the_dataset_key_aspect_agrees_with_its_urn(postgres_project: DbtProject) -> None:
    from datahub.utilities.urns.dataset_urn import DatasetUrn

    settings = JoinSettings(platform_instance="snow_eu", dbt_platform_instance="dbt_eu", env="DEV")
    graph = join_lineage([postgres_project], snapshot(), settings)
    keys = [m for m in graph_to_mcps(graph, EmitOptions()) if m.aspectName == "datasetKey"]
    assert keys
    for mcp in keys:
        urn = DatasetUrn.from_string(mcp.entityUrn)
        aspect = mcp.aspect.to_obj()  # type: ignore[union-attr]
        assert (aspect["platform"], aspect["name"], aspect["origin"]) == (urn.platform, urn.name, urn.env), urn
    assert any(".".join(DatasetUrn.from_string(m.entityUrn).name.split(".")[:1]) == "snow_eu" for m in keys)
