"""The incremental state: what is skipped, sent, removed, held by the fail-safe, kept when unread."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from datahub.metadata.schema_classes import DomainsClass, OwnershipClass

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


def test_the_state_written_ahead_neither_forgets_nor_trusts_what_may_have_gone_out() -> None:
    # Written before the first record goes to the sink: whatever the sink did then (a failure, a kill)
    _, incremental = _sync(_graph("d1", "d2"), None)
    previous = incremental.next_state(())
    changed = _graph("d1", "d2", "d3", description="new")  # d1 and d2 changed, d3 new
    ahead = Incremental(previous, IDENTITY, "v1").ahead_state(graph_entities(changed, EmitOptions()))
    flow = "urn:li:dataFlow:(airflow,d1,prod)"
    assert set(ahead.entities) == set(previous.entities) | {"urn:li:dataFlow:(airflow,d3,prod)"} | {
        f"urn:li:dataJob:(urn:li:dataFlow:(airflow,d3,prod),{t})" for t in "ab"
    }
    assert ahead.entities[flow].value == "" and set(ahead.entities[flow].aspects) == set(
        previous.entities[flow].aspects
    )
    assert not any(ahead.entities[flow].aspects.values())  # nothing known of what was delivered
    job = "urn:li:dataJob:(urn:li:dataFlow:(airflow,d1,prod),a)"
    assert ahead.entities[job] == previous.entities[job]  # unchanged: as it was

    # the next sync, from that state, sends the changed and new entities whole, and could remove them
    again, _ = _sync(changed, ahead)
    assert {line.split(" ")[0] for line in again} == {
        flow,
        "urn:li:dataFlow:(airflow,d2,prod)",
        *(u for u in ahead.entities if ",d3," in u),
    }
    gone, _ = _sync(_graph("d1", "d2"), ahead)
    assert sorted(line for line in gone if line.endswith("removed")) == sorted(
        f"{u} removed" for u in ahead.entities if ",d3," in u
    )


def test_a_first_sync_stopped_part_way_leaves_a_state_that_removes_what_it_sent() -> None:
    ahead = Incremental(None, IDENTITY, "v1").ahead_state(graph_entities(_graph("d1"), EmitOptions()))
    assert len(ahead.entities) == 3 and all(e.aspects == {"status": []} for e in ahead.entities.values())
    sent, _ = _sync(LineageGraph(), ahead, threshold=100)
    assert len([line for line in sent if line.endswith("removed")]) == 3


def test_an_aspect_the_entity_no_longer_has_is_sent_empty() -> None:
    owned = replace(_graph("d1"), flows=(Flow("d1", domain="urn:li:domain:finance", owners=("jane",)),))
    _, incremental = _sync(owned, None)
    incremental_state = incremental.next_state(())
    retracted = Incremental(incremental_state, IDENTITY, "v1")
    records = list(retracted.changed(graph_entities(_graph("d1"), EmitOptions())))
    empty = {p.aspectName: p.aspect for p in records if p.entityUrn == "urn:li:dataFlow:(airflow,d1,prod)"}
    assert empty["domains"] == DomainsClass(domains=[]) and empty["ownership"] == OwnershipClass(owners=[])
    assert (
        list(Incremental(retracted.next_state(()), IDENTITY, "v1").changed(graph_entities(_graph("d1"), EmitOptions())))
        == []
    )


def test_a_state_file_naming_something_that_is_not_a_urn_is_refused(tmp_path: Path) -> None:
    _, incremental = _sync(_graph("d1"), None)
    state = incremental.next_state(())
    state.entities["not-a-urn"] = state.entities["urn:li:dataFlow:(airflow,d1,prod)"]
    path = tmp_path / "state.json"
    save_state(path, state)
    with pytest.raises(StateError, match=r"names 'not-a-urn', which is not a DataHub URN.*start over"):
        load_state(path, IDENTITY)


def test_a_job_whose_tests_name_other_assertions_is_sent_again() -> None:
    from bridge.model.graph import Assertion, DatasetKey

    test = "test.p.relationships_x"
    job = Job(JobKey("d1", "x.test"), "DbtTestLocalOperator", dbt_tests=(test,))
    # a singular test that gains a second `ref`: one assertion per node it reads, its unique id the same
    one = Assertion(test, "test", DatasetKey("dbt", "db.s.a"), upstream_unique_id="model.p.a")
    graph = LineageGraph(flows=(Flow("d1"),), jobs=(job,), assertions=(one,))
    _, incremental = _sync(graph, None)
    other = Assertion(test, "test", DatasetKey("dbt", "db.s.b"), upstream_unique_id="model.p.b", names_upstream=True)
    both = (replace(one, names_upstream=True), other)
    two = replace(graph, assertions=both)
    sent, _ = _sync(two, incremental.next_state(()))
    assert "urn:li:dataJob:(urn:li:dataFlow:(airflow,d1,prod),x.test) dataJobInfo" in sent


def test_what_the_state_written_ahead_takes_for_removable_is_what_the_records_say(postgres_project: DbtProject) -> None:
    from bridge.emit.mcps import entity_mcps
    from bridge.emit.state import sends_status
    from tests.unit.join.test_pipeline import snapshot

    results = [read_run_results(POSTGRES_ARTIFACTS / "run_results.json")]
    graph = join_lineage([postgres_project], snapshot(), JoinSettings(), results)
    entities = graph_entities(graph, EmitOptions())
    assert {e.urn.split(":")[2] for e in entities} >= {"dataset", "dataFlow", "dataJob", "assertion"}
    for entity in entities:
        assert sends_status(entity) == any(p.aspectName == "status" for p in entity_mcps(entity)), entity.urn


def test_a_state_file_another_sync_holds_is_not_read_nor_written(tmp_path: Path) -> None:
    import fcntl
    import os
    from datetime import datetime, timezone

    from bridge.config import build_config
    from bridge.errors import SinkTransientError
    from bridge.sync import run_sync

    state = tmp_path / "state.json"
    config = build_config({"dbt": {"manifests": [str(POSTGRES_ARTIFACTS / "manifest.json")]},
                           "sink": {"type": "file", "path": str(tmp_path / "out.json"), "timeout": 0.3},
                           "state": {"path": str(state)}})  # fmt: skip
    fd = os.open(tmp_path / "state.json.lock", os.O_CREAT | os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another sync, between reading the state and writing the next
    try:
        result = run_sync(config, lambda: datetime(2026, 11, 28, tzinfo=timezone.utc))
    finally:
        os.close(fd)
    assert isinstance(result.failure, SinkTransientError)
    assert f"state file {state}: another sync is using it" in str(result.failure)
    assert not state.exists() and not (tmp_path / "out.json").exists()
    assert run_sync(config, lambda: datetime(2026, 11, 28, tzinfo=timezone.utc)).failure is None and state.exists()


def test_a_sink_that_does_not_open_leaves_the_state_as_it_was(tmp_path: Path) -> None:
    import fcntl
    import os
    from datetime import datetime, timezone

    from bridge.config import build_config
    from bridge.sync import run_sync

    lite, state = tmp_path / "lite.db", tmp_path / "state.json"
    settings = {"dbt": {"manifests": [str(POSTGRES_ARTIFACTS / "manifest.json")]}, "state": {"path": str(state)},
                "sink": {"type": "datahub-lite", "path": str(lite), "timeout": 0.3}}  # fmt: skip
    clock = lambda: datetime(2026, 11, 28, tzinfo=timezone.utc)  # noqa: E731
    assert run_sync(build_config(settings), clock).failure is None
    before = state.read_bytes()
    settings["dbt_platform_instance_from_project"] = True  # every dbt entity changes
    fd = os.open(tmp_path / "lite.db.lock", os.O_CREAT | os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another sync writes to the Lite file
    try:
        assert run_sync(build_config(settings), clock).failure is not None
    finally:
        os.close(fd)
    assert state.read_bytes() == before


def test_a_removal_that_may_have_gone_out_is_sent_whole_when_the_entity_is_back() -> None:
    _, incremental = _sync(_graph("d1", "d2", "d3", "d4"), None)
    previous = incremental.next_state(())
    removing = Incremental(previous, IDENTITY, "v1")
    gone = removing.removals({e.urn for e in graph_entities(_graph("d1", "d2", "d3"), EmitOptions())},
                             unread_dags((), "prod"), 100).urns  # fmt: skip
    ahead = removing.ahead_state(graph_entities(_graph("d1", "d2", "d3"), EmitOptions()), gone)
    # the sync stopped after its removals went out: d4 back is sent whole, its status saying it is not removed
    sent, _ = _sync(_graph("d1", "d2", "d3", "d4"), ahead)
    assert "urn:li:dataFlow:(airflow,d4,prod) status" in sent and len(sent) >= 3


def test_a_state_file_in_a_folder_not_made_yet_is_written(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from bridge.config import build_config
    from bridge.sync import run_sync

    state = tmp_path / "not" / "made" / "state.json"
    config = build_config({"dbt": {"manifests": [str(POSTGRES_ARTIFACTS / "manifest.json")]},
                           "sink": {"type": "file", "path": str(tmp_path / "out.json")},
                           "state": {"path": str(state)}})  # fmt: skip
    assert run_sync(config, lambda: datetime(2026, 11, 28, tzinfo=timezone.utc)).failure is None and state.exists()
