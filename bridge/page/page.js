// The lineage page: draws the content the bridge embedded (bridge/page/content.py) with vis-network.
// Groups (a DAG's tasks, a schema's datasets) are shown as one node until opened; edges of hidden nodes are
// drawn to their group. Everything is built with textContent: names from Airflow and dbt are never markup.
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("bridge-data").textContent);
  const nodes = new Map(data.nodes.map((node) => [node.id, node]));
  const groups = new Map(data.groups.map((group) => [group.id, group]));
  const colours = new Map(data.domains.map((domain) => [domain.id, domain.colour]));
  const members = new Map();
  for (const node of data.nodes) {
    if (node.kind === "dag") continue;
    if (!members.has(node.group)) members.set(node.group, []);
    members.get(node.group).push(node);
  }
  const open = new Set(data.open ? data.groups.map((group) => group.id) : []);
  const SHAPES = {
    dag: "box", task: "box", model: "ellipse", seed: "ellipse", snapshot: "ellipse", source: "ellipse",
    table: "box", asset: "diamond",
  };
  const KIND_NAMES = {
    dag: "Airflow DAG", task: "Airflow task", model: "dbt model", seed: "dbt seed", snapshot: "dbt snapshot",
    source: "dbt source", table: "warehouse table", asset: "asset",
  };
  const EDGE_STYLES = {
    contains: { color: "#d0d0d0", width: 1, arrows: "to" },
    runs: { color: "#37474f", width: 2, arrows: "to" },
    sibling: { color: "#37474f", width: 4, dashes: [1, 3], arrows: "" },
    reads: { color: "#1565c0", arrows: "to" },
    writes: { color: "#37474f", width: 2, arrows: "to" },
    lineage: { color: "#757575", arrows: "to" },
    grouped: { color: "#9e9e9e", width: 2, arrows: "to" },
  };

  const colourOf = (domain) => colours.get(domain) || data.no_domain_colour;
  const count = (n, noun) => `${n.toLocaleString("en-US")} ${noun}${n === 1 ? "" : "s"}`;
  const isShown = (node) => node.kind === "dag" || open.has(node.group);
  const shownAs = (id) => {
    const node = nodes.get(id);
    return node && !isShown(node) ? node.group : id;
  };
  const hasError = (node) => node.problems.some((index) => data.problems[index].severity === "error");

  function visNode(node) {
    const size = node.kind === "dag" && groups.has(node.id) ? groups.get(node.id).size : 0;
    const closed = node.kind === "dag" && size && !open.has(node.id);
    const colour = colourOf(node.domain);
    const error = hasError(node) || (closed && members.get(node.id).some(hasError));
    // Tasks are white with their domain's colour as border; everything else is filled with it.
    const fill = node.kind === "task" ? "#ffffff" : colour;
    const border = error ? "#c62828" : node.kind === "task" ? colour : "#424242";
    return {
      id: node.id,
      label: closed ? `${node.label}\n▸ ${count(size, "task")}` : node.label,
      shape: SHAPES[node.kind],
      color: { background: fill, border, highlight: { background: fill, border: "#000" },
        hover: { background: fill, border: "#000" } },
      borderWidth: error ? 3 : node.kind === "dag" ? 3 : node.kind === "task" ? 2 : 1,
      font: { size: node.kind === "dag" ? 16 : 13, bold: node.kind === "dag",
        face: node.kind === "table" ? "monospace" : "system-ui, sans-serif" },
      shapeProperties: { borderRadius: node.kind === "table" ? 0 : 4 },
    };
  }

  // A folded group shows the red border of an error about any of its members, so none hides in it.
  function groupNode(group) {
    const error = (members.get(group.id) || []).some(hasError);
    return {
      id: group.id,
      label: `${group.label}\n▸ ${count(group.size, "dataset")}`,
      shape: "box",
      color: { background: colourOf(group.domain), border: error ? "#c62828" : "#616161" },
      shapeProperties: { borderDashes: [5, 4] },
      borderWidth: error ? 3 : 2,
      font: { size: 14, multi: false },
    };
  }

  function visibleGraph() {
    const shownNodes = [];
    const shownGroups = new Set();
    for (const node of data.nodes) {
      if (isShown(node)) shownNodes.push(visNode(node));
      else if (!node.group.startsWith("dag:")) shownGroups.add(node.group);
    }
    for (const id of [...shownGroups].sort()) shownNodes.push(groupNode(groups.get(id)));
    const present = new Set(shownNodes.map((node) => node.id));
    const edges = new Map();
    for (const edge of data.edges) {
      const from = shownAs(edge.from);
      const to = shownAs(edge.to);
      if (from === to || !present.has(from) || !present.has(to)) continue;
      const grouped = from !== edge.from || to !== edge.to;
      const key = grouped ? `${from}\u0000${to}` : `${from}\u0000${to}\u0000${edge.kind}`;
      if (edges.has(key)) continue;
      edges.set(key, { id: key, from, to, kind: grouped ? "grouped" : edge.kind,
        ...EDGE_STYLES[grouped ? "grouped" : edge.kind] });
    }
    return { nodes: shownNodes, edges: acyclic(shownNodes, [...edges.values()]) };
  }

  // The hierarchical layout needs edges without cycles, and grouping makes them (a schema feeds a DAG that
  // writes back into it). An edge that closes a cycle is laid out reversed and drawn with its arrow at the
  // start, so it still points the way the data flows.
  function acyclic(shownNodes, edges) {
    const outgoing = new Map(shownNodes.map((node) => [node.id, []]));
    const incoming = new Map(shownNodes.map((node) => [node.id, 0]));
    for (const edge of edges) {
      outgoing.get(edge.from).push(edge);
      incoming.set(edge.to, incoming.get(edge.to) + 1);
    }
    const state = new Map();
    const roots = shownNodes.filter((node) => !incoming.get(node.id)).concat(shownNodes);
    for (const root of roots) {
      if (state.has(root.id)) continue;
      state.set(root.id, "open");
      const stack = [[root.id, 0]];
      while (stack.length) {
        const top = stack[stack.length - 1];
        const next = outgoing.get(top[0])[top[1]++];
        if (!next) {
          state.set(top[0], "done");
          stack.pop();
        } else if (state.get(next.to) === "open") {
          next.reversed = true;
        } else if (!state.has(next.to)) {
          state.set(next.to, "open");
          stack.push([next.to, 0]);
        }
      }
    }
    return edges.map((edge) => edge.reversed
      ? { ...edge, from: edge.to, to: edge.from, arrows: edge.arrows ? "from" : "", reversed: true }
      : edge);
  }

  const container = document.getElementById("graph");
  const options = {
    layout: {
      hierarchical: {
        enabled: true, direction: "LR", sortMethod: "directed", shakeTowards: "roots",
        levelSeparation: 190, nodeSpacing: 40, treeSpacing: 80, blockShifting: true, edgeMinimization: true,
        parentCentralization: true,
      },
    },
    physics: { enabled: false },
    interaction: { hover: true, multiselect: false, navigationButtons: false, keyboard: false },
    edges: { smooth: { enabled: true, type: "cubicBezier", forceDirection: "horizontal", roundness: 0.4 },
      arrowStrikethrough: false },
    nodes: { margin: 8, widthConstraint: { maximum: 260 } },
  };
  let shown = { nodes: [], edges: [] };
  const network = new vis.Network(container, { nodes: new vis.DataSet(), edges: new vis.DataSet() }, options);

  // Past this many drawn nodes the layout skips its slowest refinements (crossing reduction and block
  // shifting): opening every group of a 3,000-node graph then takes seconds instead of many.
  const LARGE = 800;

  function redraw() {
    shown = visibleGraph();
    const refine = shown.nodes.length <= LARGE;
    network.setOptions({ layout: { hierarchical: { edgeMinimization: refine, blockShifting: refine } } });
    network.setData({ nodes: new vis.DataSet(shown.nodes), edges: new vis.DataSet(shown.edges) });
    document.getElementById("toggle-all").textContent = open.size ? "Collapse all groups" : "Open all groups";
  }

  function focusNode(id) {
    const node = nodes.get(id);
    if (!node) return;
    if (!isShown(node)) {
      open.add(node.group);
      redraw();
    }
    network.selectNodes([id]);
    network.focus(id, { scale: Math.max(network.getScale(), 1), animation: false });
    showNode(node);
  }

  function toggleGroup(id) {
    if (open.has(id)) open.delete(id);
    else open.add(id);
    redraw();
  }

  // ---- the side panel ----
  function el(tag, text, className) {
    const element = document.createElement(tag);
    if (text !== undefined && text !== null) element.textContent = text;
    if (className) element.className = className;
    return element;
  }

  function row(list, term, value) {
    if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) return;
    list.append(el("dt", term));
    const dd = el("dd");
    if (value instanceof Node) dd.append(value);
    else dd.textContent = Array.isArray(value) ? value.join(", ") : String(value);
    list.append(dd);
  }

  // Links out (Airflow's UI) open in a new tab, and only for http(s) addresses.
  function link(url, text) {
    if (!/^https?:\/\//i.test(url)) return el("span", url);
    const anchor = el("a", text);
    anchor.href = url;
    anchor.target = "_blank";
    anchor.rel = "noopener noreferrer";
    return anchor;
  }

  function time(ms) {
    return ms ? new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC") : "";
  }

  function domainText(domain) {
    const span = el("span");
    const swatch = el("span", null, "swatch");
    swatch.style.background = colourOf(domain);
    const named = data.domains.find((item) => item.id === domain);
    span.append(swatch, named ? named.name : "none");
    return span;
  }

  function showNode(node) {
    const panel = document.getElementById("details");
    panel.replaceChildren();
    panel.dataset.node = node.id;
    const heading = el("h3", node.label);
    heading.append(el("span", KIND_NAMES[node.kind], "kind"));
    panel.append(heading);
    const urns = el("div");
    for (const urn of node.urns) urns.append(el("code", urn, "urn"));
    panel.append(urns);
    const facts = el("dl");
    row(facts, "relation", node.relation);
    row(facts, "domain", domainText(node.domain));
    row(facts, "owners", node.owners);
    row(facts, "tags", node.tags);
    if (node.last_run) {
      const run = el("span");
      run.append(el("strong", node.last_run.state, `state-${node.last_run.state}`));
      run.append(` ${time(node.last_run.start_ms || node.last_run.end_ms)} (${node.last_run.by}) `);
      if (node.last_run.url) run.append(link(node.last_run.url, "log"));
      row(facts, "last run", run);
    } else {
      row(facts, "last run", "none recorded");
    }
    for (const [term, value] of Object.entries(node.details || {})) row(facts, term, value);
    row(facts, "link", node.url ? link(node.url, node.url) : null);
    panel.append(facts);
    if (node.description) panel.append(el("p", node.description.slice(0, 600)));
    if (node.kind === "dag" && groups.has(node.id)) {
      const button = el("button", open.has(node.id) ? "Hide its tasks" : "Show its tasks");
      button.type = "button";
      button.addEventListener("click", () => { toggleGroup(node.id); showNode(node); });
      panel.append(button);
    }
    if (node.problems.length) {
      panel.append(el("h2", "Problems"));
      const list = el("ul");
      for (const index of node.problems) list.append(problemItem(data.problems[index], false));
      panel.append(list);
    }
  }

  function showGroup(group) {
    const panel = document.getElementById("details");
    panel.replaceChildren();
    panel.dataset.node = group.id;
    const heading = el("h3", group.label);
    heading.append(el("span", count(group.size, "dataset"), "kind"));
    panel.append(heading);
    const button = el("button", open.has(group.id) ? "Collapse the schema" : "Open the schema");
    button.type = "button";
    button.addEventListener("click", () => { toggleGroup(group.id); showGroup(group); });
    panel.append(button);
    const list = el("ul");
    const inside = members.get(group.id) || [];
    for (const node of inside.slice(0, 200)) {
      const item = el("li", node.label, "member");
      item.append(el("span", KIND_NAMES[node.kind], "kind"));
      item.addEventListener("click", () => focusNode(node.id));
      list.append(item);
    }
    panel.append(list);
    if (inside.length > 200) panel.append(el("p", `and ${count(inside.length - 200, "more dataset")}: search for them`, "hint"));
  }

  function problemItem(problem, linked) {
    const item = el("li");
    item.append(el("span", problem.severity, `severity severity-${problem.severity}`));
    item.append(`${problem.location}: ${problem.message} [${problem.code}]`);
    if (linked && problem.nodes.length) {
      item.classList.add("linked");
      item.addEventListener("click", () => focusNode(problem.nodes[0]));
    }
    return item;
  }

  function fillHeader() {
    document.getElementById("title").textContent = data.title;
    document.getElementById("counts").textContent = Object.entries(data.counts)
      .filter(([, n]) => n).map(([noun, n]) => count(n, noun)).join(" · ");
  }

  function fillLegend() {
    const legend = document.getElementById("legend");
    const list = el("ul");
    for (const domain of data.domains) {
      const item = el("li");
      const swatch = el("span", null, "swatch");
      swatch.style.background = domain.colour;
      item.append(swatch, domain.name);
      list.append(item);
    }
    const none = el("li");
    const swatch = el("span", null, "swatch");
    swatch.style.background = data.no_domain_colour;
    none.append(swatch, "no domain");
    list.append(none);
    const shapes = [["▭", "Airflow DAG (bold, filled)"], ["▢", "Airflow task (white, domain-coloured border)"],
      ["⬭", "dbt model, seed, snapshot, source"], ["■", "warehouse table (square, monospace)"], ["◇", "asset of another platform"], ["┅", "a schema's datasets, grouped"],
      ["┈", "dbt node ┈ its warehouse table (siblings)"], ["□", "red border: an error about it"]];
    for (const [shape, meaning] of shapes) {
      const item = el("li");
      item.append(el("span", shape, "shape"), meaning);
      list.append(item);
    }
    legend.append(list);
  }

  // Errors, then warnings, then the rest; a severity with many problems is folded until opened.
  function fillProblems() {
    const section = document.getElementById("problems");
    if (!data.problems.length) {
      section.append(el("p", "None.", "hint"));
      return;
    }
    for (const severity of ["error", "warning", "info"]) {
      const problems = data.problems.filter((problem) => problem.severity === severity);
      if (!problems.length) continue;
      const list = el("ul");
      for (const problem of problems) list.append(problemItem(problem, true));
      if (severity === "error" || problems.length <= 12) {
        section.append(list);
        continue;
      }
      const folded = el("details");
      folded.append(el("summary", count(problems.length, `${severity} problem`)), list);
      section.append(folded);
    }
  }

  // ---- search ----
  const search = document.getElementById("search");
  const results = document.getElementById("results");
  let matches = [];

  function find(text) {
    const query = text.trim().toLowerCase();
    if (!query) return [];
    const exact = [];
    const partial = [];
    for (const node of data.nodes) {
      const label = node.label.toLowerCase();
      if (label === query) exact.push(node);
      else if (label.includes(query) || (node.relation || "").toLowerCase().includes(query)) partial.push(node);
      if (exact.length + partial.length >= 400) break;
    }
    return exact.concat(partial).slice(0, 30);
  }

  let active = 0;

  function showResults() {
    matches = find(search.value);
    active = 0;
    results.replaceChildren();
    for (const [index, node] of matches.entries()) {
      const item = el("li", node.label);
      item.append(el("span", `${KIND_NAMES[node.kind]} · ${node.relation || node.group.split(":").slice(1).join(":")}`,
        "kind"));
      if (index === 0) item.classList.add("active");
      item.addEventListener("mousedown", (event) => { event.preventDefault(); choose(node); });
      results.append(item);
    }
    results.hidden = !matches.length;
  }

  function choose(node) {
    results.hidden = true;
    search.value = node.label;
    focusNode(node.id);
  }

  search.addEventListener("input", showResults);
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && matches.length) choose(matches[active]);
    if (event.key === "Escape") results.hidden = true;
    if ((event.key === "ArrowDown" || event.key === "ArrowUp") && matches.length) {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
      for (const [index, item] of [...results.children].entries()) item.classList.toggle("active", index === active);
      results.children[active].scrollIntoView({ block: "nearest" });
    }
  });
  search.addEventListener("blur", () => { results.hidden = true; });

  // ---- the graph's events ----
  network.on("click", (params) => {
    if (!params.nodes.length) return;
    const id = params.nodes[0];
    if (nodes.has(id)) showNode(nodes.get(id));
    else if (groups.has(id)) {
      toggleGroup(id);
      showGroup(groups.get(id));
    }
  });
  network.on("doubleClick", (params) => {
    const id = params.nodes[0];
    if (id && groups.has(id) && nodes.has(id)) {
      toggleGroup(id);
      showNode(nodes.get(id));
    }
  });
  document.getElementById("toggle-all").addEventListener("click", () => {
    if (open.size) open.clear();
    else for (const group of data.groups) open.add(group.id);
    redraw();
  });

  fillHeader();
  fillLegend();
  fillProblems();
  redraw();

  // For people in the browser console, and for the page's tests.
  window.bridgePage = {
    network, data, focusNode, toggleGroup,
    shownNodeIds: () => shown.nodes.map((node) => node.id),
    shownEdges: () => shown.edges.map((edge) => edge.reversed
      ? { from: edge.to, to: edge.from, kind: edge.kind } : { from: edge.from, to: edge.to, kind: edge.kind }),
  };
})();
