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


def graph_library_path() -> Path:
    """vis-network's standalone build, in the newest `vis-*` folder of the installed pyvis package. Checked
    before a sync reads anything when `--html` is given."""
    spec = importlib.util.find_spec("pyvis")
    folders = [Path(p) / "lib" for p in (spec.submodule_search_locations or [])] if spec else []
    found = sorted((f for folder in folders for f in folder.glob("vis-*/vis-network.min.js")), key=_version)
    if not found:
        raise ConfigError(
            "--html: the lineage page is drawn by vis-network, which the pyvis package carries, and it is not "
            "installed. Install the page extra: pip install 'dbt-lineage-bridge[page]'."
        )
    return found[-1]


def _version(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))


def script_safe_json(value: object) -> str:
    """JSON that can sit inside a script element: no `<` at all (so no `</script>` and no `<!--`), written as the
    JSON escape `\\u003c`, which `JSON.parse` reads back as `<`."""
    return orjson.dumps(value).decode().replace("<", "\\u003c")


def page_html(graph: LineageGraph, report: RunReport | None, title: str, links: AirflowUrls) -> str:
    """The whole page, its data embedded as script-safe JSON."""
    from bridge.emit.airflow import flow_urn, job_urn
    from bridge.emit.urns import urn_of

    content = page_content(graph, report, PageUrns(urn_of, flow_urn, job_urn, links), title)
    data = script_safe_json(content)
    own = resources.files("bridge.page")
    parts = {
        "title": _escape(title),
        "style": own.joinpath("page.css").read_text(encoding="utf-8"),
        "library": graph_library_path().read_text(encoding="utf-8"),
        "data": data,
        "script": own.joinpath("page.js").read_text(encoding="utf-8"),
    }
    template = own.joinpath("page.html").read_text(encoding="utf-8")
    return _PLACEHOLDER.sub(lambda match: parts[match.group(1)], template)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_page(path: Path, graph: LineageGraph, report: RunReport | None, title: str, links: AirflowUrls) -> None:
    write_output(path, page_html(graph, report, title, links).encode(), "lineage page")
