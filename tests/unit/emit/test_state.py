"""The incremental state: what is skipped, sent, removed, held by the fail-safe, kept when unread."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.emit.aspects import EmitOptions
from bridge.emit.mcps import graph_entities
from bridge.emit.state import Incremental, SyncState, load_state, save_state, unread_dags
from bridge.errors import StateError
from bridge.join.pipeline import join_lineage
from bridge.join.settings import JoinSettings
from bridge.model.dbt import DbtProject
from bridge.model.graph import Flow, Job, JobKey, LineageGraph
from bridge.read.dbt.freshness import read_sources
from bridge.read.dbt.run_results import read_run_results
from tests.conftest import POSTGRES_ARTIFACTS

IDENTITY = {"env": "PROD", "sink": "datahub-lite default"}


def _graph(*dags: str, description: str = "") -> LineageGraph:
    flows = tuple(Flow(dag, description=description) for dag in dags)
    jobs = tuple(Job(JobKey(dag, task), "BashOperator") for dag in dags for task in ("a", "b"))
    return LineageGraph(flows=flows, jobs=jobs)


def _sync(graph: LineageGraph, previous: SyncState | None, threshold: float = 75.0) -> tuple[list[str], Incremental]:
    incremental = Incremental(previous, IDENTITY, "v1")
    entities = graph_entities(graph, EmitOptions())
    removals = incremental.removals({e.urn for e in entities}, unread_dags((), "prod"), threshold)
    sent = [f"{p.entityUrn} {p.aspectName}" for p in incremental.changed(entities)]
    if removals.held:
        return [*sent, "HELD"], incremental
    return [*sent, *(f"{urn} removed" for urn in removals.urns)], incremental


def test_an_unchanged_graph_sends_nothing_and_builds_nothing() -> None:
    first, incremental = _sync(_graph("d1", "d2"), None)
    assert len(first) > 6
    again, second = _sync(_graph("d1", "d2"), incremental.next_state(()))
    assert again == [] and second.skipped == 6


def test_a_changed_entity_sends_its_changed_aspects_only() -> None:
    _, incremental = _sync(_graph("d1"), None)
    sent, _ = _sync(_graph("d1", description="new"), incremental.next_state(()))
    assert sent == ["urn:li:dataFlow:(airflow,d1,prod) dataFlowInfo"]


def test_gone_entities_are_removed_and_sent_whole_when_back() -> None:
    _, incremental = _sync(_graph("d1", "d2", "d3", "d4"), None)
    sent, after = _sync(_graph("d1", "d2", "d3"), incremental.next_state(()))
    gone = [
        "urn:li:dataFlow:(airflow,d4,prod)",
        *(f"urn:li:dataJob:(urn:li:dataFlow:(airflow,d4,prod),{t})" for t in "ab"),
    ]
    assert sent == [f"{urn} removed" for urn in sorted(gone)]
    state = after.next_state(gone)
    assert state.removed == sorted(gone)
    back, restored = _sync(_graph("d1", "d2", "d3", "d4"), state)
    assert {line.split(" ")[0] for line in back} == set(gone) and restored.next_state(()).removed == []


def test_the_fail_safe_holds_removals_past_the_threshold_per_kind() -> None:
    _, incremental = _sync(_graph("d1", "d2", "d3", "d4"), None)
    sent, after = _sync(LineageGraph(), incremental.next_state(()))
    assert sent == ["HELD"]
    removals = after.removals(set(), unread_dags((), "prod"), 75.0)
    assert removals.held == ("DAGs and tasks: 12 of 12 (100%)",)
    assert "--fail-safe-threshold 100" in removals.message(75.0)
    assert _sync(LineageGraph(), incremental.next_state(()), threshold=100)[0][-1].endswith("removed")


def test_a_dag_that_could_not_be_read_is_neither_removed_nor_forgotten() -> None:
    _, incremental = _sync(_graph("d1", "d2"), None)
    previous = incremental.next_state(())
    unread = unread_dags(["d2"], "prod")
    after = Incremental(previous, IDENTITY, "v1")
    entities = graph_entities(_graph("d1"), EmitOptions())
    assert after.removals({e.urn for e in entities}, unread, 75.0).urns == ()
    list(after.changed(entities))
    after.carry(urn for urn in previous.entities if unread(urn))
    assert after.next_state(()).entities == previous.entities


def test_state_files_are_refused_when_corrupt_or_of_another_setup(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    assert load_state(path, IDENTITY) is None
    _, incremental = _sync(_graph("d1"), None)
    save_state(path, incremental.next_state(()))
    assert load_state(path, IDENTITY) == incremental.next_state(())
    with pytest.raises(StateError, match=r"was written for env=PROD; this sync is env=TEST\. Use one state file"):
        load_state(path, IDENTITY | {"env": "TEST"})
    path.write_bytes(b"[1, 2")
    with pytest.raises(StateError, match=r"is not a state file this bridge wrote .*to start over"):
        load_state(path, IDENTITY)


def test_every_kind_of_entity_has_a_value_to_compare(postgres_project: DbtProject) -> None:
    """Runs, dbt executions, assertions and freshness checks too: a second sync of them sends nothing."""
    results = [
        read_run_results(POSTGRES_ARTIFACTS / "run_results.json"),
        read_sources(POSTGRES_ARTIFACTS / "sources.json"),
    ]
    graph = join_lineage([postgres_project], None, JoinSettings(), results)
    assert graph.assertions and graph.dbt_results
    first, incremental = _sync(graph, None)
    kinds = {line.split(":")[2] for line in first}
    assert {"assertion", "dataProcessInstance", "dataset"} <= kinds
    assert _sync(graph, incremental.next_state(()))[0] == []


def test_a_sync_stopped_part_way_keeps_the_previous_state_less_what_it_handed_over() -> None:
    _, incremental = _sync(_graph("d1", "d2"), None)
    previous = incremental.next_state(())
    stopped = Incremental(previous, IDENTITY, "v1")
    stream = stopped.changed(graph_entities(_graph("d1", "d2", description="new"), EmitOptions()))
    first = next(stream)  # the sink took one record, then failed
    assert first.entityUrn == "urn:li:dataFlow:(airflow,d1,prod)"
    partial = stopped.partial_state()
    assert partial is not None and set(partial.entities) == set(previous.entities) - {first.entityUrn}
    assert Incremental(None, IDENTITY, "v1").partial_state() is None  # no state before: everything goes again
