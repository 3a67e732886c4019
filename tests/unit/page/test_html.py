"""The page file: data that no name can break out of, and a clear error when the graph library is missing."""

from __future__ import annotations

import json
import re

import pytest

from bridge.errors import ConfigError
from bridge.model.graph import Flow, LineageGraph
from bridge.model.report import Problem, RunReport
from bridge.page import html
from bridge.page.html import page_html, script_safe_json
from bridge.sync import airflow_urls

HOSTILE = "x</script><script>alert(1)</script><!-- <img src=x onerror=alert(2)> \u2028\u2029 \"' &amp;"


def test_script_safe_json_holds_no_angle_bracket_and_parses_back() -> None:
    text = script_safe_json({"name": HOSTILE})
    assert "<" not in text and json.loads(text) == {"name": HOSTILE}


def test_names_and_messages_stay_data_in_the_page() -> None:
    from bridge.config import build_config

    graph = LineageGraph(flows=(Flow(HOSTILE, description=HOSTILE),))
    report = RunReport({}, {}, (Problem("domain-conflict", "warning", f"dag {HOSTILE}", HOSTILE),))
    page = page_html(graph, report, HOSTILE, airflow_urls(build_config({}, "test"), None))
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, flags=re.S)
    assert len(scripts) == 3, "the library, the data and the page's script; nothing else closes a script"
    data = json.loads(scripts[1])
    assert data["title"] == HOSTILE and data["nodes"][0]["label"] == HOSTILE
    assert data["problems"][0]["nodes"] == [data["nodes"][0]["id"]]
    assert "<title>x&lt;/script&gt;" in page


def test_without_the_graph_library_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match=r"pip install 'dbt-lineage-bridge\[page\]'"):
        html.graph_library_path()
