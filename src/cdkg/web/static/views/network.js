/* The network: a node per city (and per network or organisation, with the default query), an edge
   per row with two IRIs (a tie) and per membership; partner cities inside a box per region or
   civilisation (compound nodes), Iranian cities in a box of their own. cytoscape draws it; the
   SVG export is written from the drawn positions. */
"use strict";

(async () => {
  const V = cdkgViews;
  const state = {cities: 0, ties: 0, networks: 0, memberships: 0, groups: 0, ready: false};
  window.cdkgView = state;
  let memberships = [];
  if (V.config.memberships) memberships = (await V.select(V.config.memberships)).rows;
  const groupSelect = document.getElementById("filters").elements.group;
  let cy = null;

  /* Two IRIs of a row as an edge: the points' ids, or the row's first two IRI columns. */
  function ends(item) {
    if (item.points.length >= 2) return item.points.slice(0, 2).map((p) => ({id: p.id, label: p.label, role: p.role}));
    const uris = Object.entries(item.row).filter(([, t]) => t.type === "uri");
    if (uris.length < 2) return null;
    const labelOf = ([name, term]) => (item.row[name + "_label"] || item.row[name + "Label"] || {value: term.value.split(/[/#]/).pop()}).value;
    return uris.slice(0, 2).map((u) => ({id: u[1].value, label: labelOf(u), role: u[0]}));
  }

  /* Positions: the Iranian cities in a grid at the centre, each other group in a grid of its own
     on a ring around them, so the groups never overlap and the drawing is the same every time. */
  function place(nodes, groups) {
    const members = new Map();
    for (const node of nodes.values()) {
      const list = members.get(node.data.parent) || [];
      list.push(node);
      members.set(node.data.parent, list);
    }
    const grid = (list, cx, cy, wide = false) => {
      // network names are long: two wide columns for them
      const columns = wide ? 2 : Math.ceil(Math.sqrt(list.length * 1.6));
      const rows = Math.ceil(list.length / columns);
      const dx = wide ? 230 : 62;
      list.forEach((node, n) => {
        node.position = {x: cx + ((n % columns) - (columns - 1) / 2) * dx, y: cy + (Math.floor(n / columns) - (rows - 1) / 2) * 34};
      });
    };
    grid(members.get("g:iran") || [], 0, 0);
    // the partner groups on a ring; the networks and the cities only they join, to its left
    const aside = ["g:networks", "g:members"];
    const others = [...groups.keys()].filter((g) => g !== "g:iran" && !aside.includes(g));
    const spread = Math.max(1, Math.sqrt(others.length / 9));  // more groups, a wider ring
    others.forEach((g, n) => {
      const angle = (2 * Math.PI * n) / others.length - Math.PI / 2;
      grid(members.get(g) || [], Math.cos(angle) * 520 * spread, Math.sin(angle) * 330 * spread);
    });
    grid(members.get("g:networks") || [], -520 * spread - 520, -160, true);
    grid(members.get("g:members") || [], -520 * spread - 520, 160);
  }

  function draw(items) {
    const by = groupSelect.value;
    const nodes = new Map(), edges = [], groups = new Map();
    const group = (id, label) => { if (!groups.has(id)) groups.set(id, {data: {id, label}, classes: "group"}); return id; };
    for (const item of items) {
      const pair = ends(item);
      if (!pair) continue;
      const [a, b] = pair;
      if (!nodes.has(a.id)) nodes.set(a.id, {data: {id: a.id, label: a.label, parent: group("g:iran", "Iranian cities")}, classes: "iranian"});
      const key = (by === "civilisation" ? item.civilisation : item.region) || "no group";
      if (!nodes.has(b.id)) nodes.set(b.id, {data: {id: b.id, label: b.label, parent: group("g:" + key, key)}, classes: "partner"});
      edges.push({data: {id: "t" + item.index, source: a.id, target: b.id, kind: item.kind,
        colour: V.colourOf(item.kind), title: `${a.label} — ${b.label} ${item.year ?? ""} ${item.provenance}`}, classes: "tie"});
    }
    let networks = 0, members = 0;
    const shown = new Set(nodes.keys());
    const form = document.getElementById("filters");
    const unfiltered = ["kind", "region", "civilisation", "period"].every((f) => !form.elements[f].value);
    for (const [n, m] of memberships.entries()) {
      if (!shown.has(m.city.value)) {
        if (!unfiltered) continue;  // with a filter set, only the cities it keeps
        nodes.set(m.city.value, {data: {id: m.city.value, label: m.city_label ? m.city_label.value : m.city.value,
          parent: group("g:members", "other member cities")}, classes: "partner"});
        shown.add(m.city.value);
      }
      if (!nodes.has(m.network.value)) {
        nodes.set(m.network.value, {data: {id: m.network.value, label: m.network_label ? m.network_label.value : m.network.value,
          parent: group("g:networks", "networks and organisations")}, classes: "network"});
        networks += 1;
      }
      edges.push({data: {id: "m" + n, source: m.city.value, target: m.network.value, colour: "#999999", title: "member"}, classes: "membership"});
      members += 1;
    }
    const cities = [...nodes.values()].filter((n) => n.classes !== "network").length;
    place(nodes, groups);
    if (cy) cy.destroy();
    cy = cytoscape({
      container: document.getElementById("view"),
      elements: [...groups.values(), ...nodes.values(), ...edges],
      style: [
        {selector: "node", style: {"label": "data(label)", "font-size": 7, "width": 8, "height": 8, "background-color": "#fff", "border-width": 1, "border-color": "#333"}},
        {selector: "node.iranian", style: {"background-color": "#2e8b57", "border-color": "#006400", "width": 11, "height": 11}},
        {selector: "node.network", style: {"shape": "diamond", "background-color": "#fdd835"}},
        {selector: "node.group", style: {"label": "data(label)", "font-size": 10, "text-valign": "top", "background-color": "#f5f5f5", "border-color": "#bbb", "padding": 6}},
        {selector: "edge", style: {"width": 1, "line-color": "data(colour)", "opacity": 0.7, "curve-style": "straight"}},
        {selector: "edge.membership", style: {"line-style": "dashed", "opacity": 0.4}},
      ],
      layout: {name: "preset", fit: true, padding: 12},
    });
    cy.on("tap", "edge", (event) => V.status(event.target.data("title")));
    Object.assign(state, {cities, ties: edges.length - members, networks, memberships: members, groups: groups.size});
    V.status(`${cities} cities, ${edges.length - members} ties, ${networks} networks, ${members} memberships, ${groups.size} groups`);
  }

  function svgOf() {
    const box = cy.elements().boundingBox({includeLabels: true});
    const pad = 10;
    const svg = document.createElementNS(V.SVG_NS, "svg");
    const add = (name, attrs, text) => {
      const node = document.createElementNS(V.SVG_NS, name);
      for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
      if (text !== undefined) node.textContent = text;
      svg.appendChild(node);
    };
    svg.setAttribute("font-family", "sans-serif");
    cy.nodes(".group").forEach((g) => {
      const b = g.boundingBox({includeLabels: false});
      add("rect", {x: b.x1, y: b.y1, width: b.w, height: b.h, fill: "#f5f5f5", stroke: "#bbb", class: "group"});
      add("text", {x: b.x1 + 3, y: b.y1 - 3, "font-size": 10}, g.data("label"));
    });
    cy.edges().forEach((e) => {
      const [s, t] = [e.source().position(), e.target().position()];
      add("line", {x1: s.x, y1: s.y, x2: t.x, y2: t.y, stroke: e.data("colour"), "stroke-width": 1, "stroke-opacity": 0.7,
        "stroke-dasharray": e.hasClass("membership") ? "3 2" : "none", class: "edge"});
    });
    cy.nodes().not(".group").forEach((n) => {
      const p = n.position();
      const fill = n.hasClass("iranian") ? "#2e8b57" : n.hasClass("network") ? "#fdd835" : "#ffffff";
      add("circle", {cx: p.x, cy: p.y, r: n.hasClass("iranian") ? 5.5 : 4, fill, stroke: "#333", "stroke-width": 1, class: "node"});
      add("text", {x: p.x, y: p.y + 12, "font-size": 7, "text-anchor": "middle"}, n.data("label"));
    });
    return V.standalone(svg, [box.x1 - pad, box.y1 - pad - 12, box.w + 2 * pad, box.h + 2 * pad + 12]);
  }

  await V.start(draw);
  state.export = V.exporters(svgOf);
  state.ready = true;
})();
