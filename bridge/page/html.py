"""The lineage page as one self-contained HTML file: the page's own script and styles, the graph library and the
content (`bridge.page.content`) inlined, so it opens offline and fetches nothing.

The drawing and layout are vis-network's (hierarchical layout, left to right). It is read from the files the
`pyvis` package carries, found without importing pyvis (which would import IPython and networkx).
"""

from __future__ import annotations

import importlib.util
import re
from importlib import resources
from pathlib import Path

import orjson

from bridge.emit.airflow_urls import AirflowUrls
from bridge.errors import ConfigError
from bridge.model.graph import LineageGraph
from bridge.model.report import RunReport
from bridge.outputs import write_output
from bridge.page.content import PageUrns, page_content

_PLACEHOLDER = re.compile(r"/\*bridge:(title|style|library|data|script)\*/")


def graph_library() -> str:
    """vis-network's standalone build, from the newest `vis-*` folder of the installed pyvis package."""
    spec = importlib.util.find_spec("pyvis")
    folders = [Path(p) / "lib" for p in (spec.submodule_search_locations or [])] if spec else []
    found = sorted((f for folder in folders for f in folder.glob("vis-*/vis-network.min.js")), key=_version)
    if not found:
        raise ConfigError(
            "the lineage page needs vis-network, which the pyvis package carries, and it is not installed. "
            "Install it with `pip install pyvis`."
        )
    return found[-1].read_text(encoding="utf-8")


def _version(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))


def page_html(graph: LineageGraph, report: RunReport | None, title: str, links: AirflowUrls) -> str:
    """The whole page. Embedded text cannot end its script element (`</` is written `<\\/` in the data)."""
    from bridge.emit.airflow import flow_urn, job_urn
    from bridge.emit.urns import urn_of

    content = page_content(graph, report, PageUrns(urn_of, flow_urn, job_urn, links), title)
    data = orjson.dumps(content).decode().replace("</", "<\\/").replace("<!--", "<\\!--")
    own = resources.files("bridge.page")
    parts = {
        "title": _escape(title),
        "style": own.joinpath("page.css").read_text(encoding="utf-8"),
        "library": graph_library(),
        "data": data,
        "script": own.joinpath("page.js").read_text(encoding="utf-8"),
    }
    template = own.joinpath("page.html").read_text(encoding="utf-8")
    return _PLACEHOLDER.sub(lambda match: parts[match.group(1)], template)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_page(path: Path, graph: LineageGraph, report: RunReport | None, title: str, links: AirflowUrls) -> None:
    write_output(path, page_html(graph, report, title, links).encode(), "lineage page")
