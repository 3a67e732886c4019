"""The lineage page in real headless Chromium: the demo's page and a page of the largest corpus manifest.

Each checks what a person sees and does: the DAG, task, model and table nodes are drawn and connected, search
finds a model and focuses it, a click on a node shows its URN, nothing is fetched from the network, and the
console stays free of errors. Screenshots go to `.cache/screenshots/`; `--update-golden` also refreshes the
README's picture (`docs/images/demo-page.png`) from the demo page.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.cli import bridge
from tests.conftest import CORPUS, REPO
from tests.integration.page.conftest import OpenedPage

README_PICTURE = REPO / "docs" / "images" / "demo-page.png"

DAG = "dag:finance_dbt"
TASK = "task:finance_dbt:fct_index_performance.run"
MODEL = "ds:dbt::bridge_dbt.marts.fct_index_performance"
TABLE = "ds:postgres::bridge_dbt.marts.fct_index_performance"
CONSUMER = "task:finance_reporting:build_report"
MODEL_URN = "urn:li:dataset:(urn:li:dataPlatform:dbt,bridge_dbt.marts.fct_index_performance,PROD)"


def drawn(page: OpenedPage, ids: list[str]) -> dict[str, Any]:
    """Where vis-network placed each node, in page pixels (None when it is not in the drawing)."""
    return page.evaluate(
        """(ids) => {
            const network = window.bridgePage.network;
            const box = document.getElementById("graph").getBoundingClientRect();
            const placed = network.getPositions(ids);
            return Object.fromEntries(ids.map((id) => {
                if (!placed[id]) return [id, null];
                const at = network.canvasToDOM(placed[id]);
                return [id, {x: box.left + at.x, y: box.top + at.y}];
            }));
        }""",
        ids,
    )


def inside_graph(page: OpenedPage, point: dict[str, float]) -> bool:
    box = page.page.locator("#graph").bounding_box()
    return box["x"] <= point["x"] <= box["x"] + box["width"] and box["y"] <= point["y"] <= box["y"] + box["height"]


def search_and_focus(page: OpenedPage, text: str, node_id: str) -> None:
    page.page.fill("#search", text)
    first = page.page.locator("#results li").first
    assert first.is_visible() and text in first.inner_text()
    page.page.press("#search", "Enter")
    assert page.evaluate("() => window.bridgePage.network.getSelectedNodes()") == [node_id]
    assert page.page.locator("#details").get_attribute("data-node") == node_id
    assert inside_graph(page, drawn(page, [node_id])[node_id]), "the found node is scrolled into view"


def click_node(page: OpenedPage, node_id: str) -> None:
    """A real mouse click where the node is drawn."""
    page.evaluate("() => window.bridgePage.network.fit()")
    page.evaluate("(id) => window.bridgePage.network.focus(id, {scale: 1.2, animation: false})", node_id)
    point = drawn(page, [node_id])[node_id]
    page.page.mouse.click(point["x"], point["y"])


def assert_offline_and_clean(page: OpenedPage, path: Path) -> None:
    assert [url for url in page.requests if url != path.as_uri()] == [], "the page fetched from the network"
    assert page.errors == []


def test_the_demo_page_draws_the_chain_and_answers_search_and_clicks(open_page: Any, tmp_path: Path,
                                                                    update_golden: bool) -> None:  # fmt: skip
    run = bridge("demo", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert run.code == 0, run.stderr
    page_path = tmp_path / "out" / "lineage.html"
    assert f"The lineage page: {page_path}" in run.stdout and "-m webbrowser" in run.stdout
    assert run.stdout.splitlines()[-1].startswith("demo ok: 6 DAGs, 68 tasks, 31 dbt nodes")
    page = open_page(page_path)

    shown = set(page.evaluate("() => window.bridgePage.shownNodeIds()"))
    assert {DAG, TASK, MODEL, TABLE, CONSUMER} <= shown, "a small graph opens with every group open"
    assert all(drawn(page, [DAG, TASK, MODEL, TABLE, CONSUMER]).values())
    edges = {(e["from"], e["to"], e["kind"]) for e in page.evaluate("() => window.bridgePage.shownEdges()")}
    assert {(DAG, TASK, "contains"), (TASK, MODEL, "runs"), (MODEL, TABLE, "sibling"),
            (TABLE, CONSUMER, "reads"), ("dag:finance_reporting", CONSUMER, "contains")} <= edges  # fmt: skip
    assert page.page.locator("#legend li").count() >= 8  # seven domains, no domain, and the shapes
    assert page.page.locator("#problems li").count() == 4
    page.screenshot("demo-overview")

    search_and_focus(page, "fct_index_performance", MODEL)
    assert MODEL_URN in page.page.locator("#details code.urn").all_inner_texts()
    found = page.screenshot("demo-search")

    click_node(page, "ds:dbt::bridge_dbt.staging.stg_fred_observations")
    urns = page.page.locator("#details code.urn").all_inner_texts()
    assert "urn:li:dataset:(urn:li:dataPlatform:dbt,bridge_dbt.staging.stg_fred_observations,PROD)" in urns
    details = page.page.locator("#details").inner_text()
    assert "domain\nfred" in details and "last run\nsuccess" in details and "owners" in details
    click_node(page, DAG)
    assert "urn:li:dataFlow:(airflow,finance_dbt,prod)" in page.page.locator("#details code.urn").all_inner_texts()
    assert "domain-conflict" in page.page.locator("#details").inner_text(), "the DAG's problems are on it"
    page.screenshot("demo-dag")
    assert_offline_and_clean(page, page_path)
    if update_golden:
        README_PICTURE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(found, README_PICTURE)


def test_a_page_of_the_largest_corpus_manifest_opens_grouped_and_finds_a_model(open_page: Any,
                                                                              tmp_path: Path) -> None:  # fmt: skip
    manifest = CORPUS / "tuva" / "manifest.compiled.all-marts.json.gz"
    assert manifest.is_file(), f"the corpus is missing: {manifest}"
    db = tmp_path / "airflow.db"
    from tests.airflow_dumps import sqlite_dump

    sqlite_dump(tmp_path)
    page_path = tmp_path / "tuva.html"
    run = bridge("check", "--manifest", str(manifest), "--manifest", str(REPO / "dbt_project/artifacts/postgres"
                 "/manifest.json"), "--airflow-db", f"sqlite:///{db}", "--html", str(page_path), "--fail-on", "none",
                 cwd=tmp_path)  # fmt: skip
    assert run.code == 0, run.stderr
    page = open_page(page_path)

    total = page.evaluate("() => window.bridgePage.data.nodes.length")
    shown = page.evaluate("() => window.bridgePage.shownNodeIds()")
    assert total > 2000 and len(shown) < 80, "thousands of nodes open as a few dozen groups"
    assert {"dag:finance_dbt", "group:analytics.claims_preprocessing"} <= set(shown)
    assert page.evaluate("() => window.bridgePage.shownEdges().length") > 20
    page.screenshot("corpus-overview")

    model = "ds:dbt::analytics.core.patient"
    search_and_focus(page, "core__patient", model)
    assert "urn:li:dataset:(urn:li:dataPlatform:dbt,analytics.core.patient,PROD)" in (
        page.page.locator("#details code.urn").all_inner_texts())  # fmt: skip
    assert "group:analytics.core" not in page.evaluate("() => window.bridgePage.shownNodeIds()"), "its schema opened"
    page.screenshot("corpus-search")

    click_node(page, "group:analytics.terminology")
    assert "ds:dbt::analytics.terminology.icd_10_cm" in page.evaluate("() => window.bridgePage.shownNodeIds()")
    click_node(page, "ds:dbt::analytics.terminology.icd_10_cm")
    assert page.page.locator("#details").get_attribute("data-node") == "ds:dbt::analytics.terminology.icd_10_cm"
    page.screenshot("corpus-group-opened")
    assert_offline_and_clean(page, page_path)


def test_a_sync_that_stopped_before_the_join_still_writes_a_page_of_its_failure(open_page: Any,
                                                                               tmp_path: Path) -> None:  # fmt: skip
    page_path = tmp_path / "failed.html"
    run = bridge("sync", "--manifest", str(REPO / "dbt_project/artifacts/postgres/manifest.json"), "--airflow-db",
                 f"sqlite:///{tmp_path / 'missing.db'}", "--sink", "file:mcps.json", "--html", str(page_path),
                 cwd=tmp_path)  # fmt: skip
    assert run.code == 2 and "missing.db" in run.error_line
    page = open_page(page_path)
    assert page.evaluate("() => window.bridgePage.shownNodeIds()") == []
    problems = page.page.locator("#problems").inner_text()
    assert "run-failed" in problems and "missing.db" in problems
    page.screenshot("failed-sync")
    assert_offline_and_clean(page, page_path)
