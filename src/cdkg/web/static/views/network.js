/* The network: a node per city (and per network or organisation, with the default query), an edge
   per row with two IRIs (a tie) and per membership. Three columns: the networks, the Iranian
   cities (Iranian by their country, from the graph, whatever edges they have), and the partner
   cities boxed by region or civilisation (compound nodes). The layout is drawn at zoom 1 in the
   page's own pixels, so the labels keep their font size; a window too narrow for it scrolls.
   cytoscape draws it; the SVG export is written from the drawn positions. */
"use strict";

(async () => {
  const V = cdkgViews;
  const state = {cities: 0, ties: 0, networks: 0, memberships: 0, groups: 0, iranian: [], ready: false};
  window.cdkgView = state;
  let memberships = [];
  if (V.config.memberships) memberships = (await V.select(V.config.memberships)).rows;
  // The cities whose country is Iran, as the graph says (views-cities).
  const inIran = new Set();
  if (V.config.cities) {
    for (const row of (await V.select(V.config.cities)).rows) {
      if (row.iranian && row.iranian.value === "true") inIran.add(row.city.value);
    }
  }
  const groupSelect = document.getElementById("filters").elements.group;
  const host = document.getElementById("view");
  let cy = null;

  // Sizes in the page's pixels (the drawing is shown at zoom 1). A label is FONT px (12: legible
  // beside the page's own text, and above the 11 px the issue asks for); a node sits over its
  // label in a cell CELL_H high; a group's box has PAD inside and its name HEAD above it.
  const FONT = 12, FAMILY = "sans-serif", LINE = 15, CELL_H = 46, PAD = 8, HEAD = 22, GAP = 34;
  const MARGIN = 10, NETWORK_WIDTH = 190;
  const measure = document.createElement("canvas").getContext("2d");
  measure.font = `${FONT}px ${FAMILY}`;
  const widthOf = (text) => measure.measureText(text).width;
  const bold = document.createElement("canvas").getContext("2d");
  bold.font = `bold ${FONT}px ${FAMILY}`;
  const groupWidthOf = (text) => bold.measureText(text).width;

  /* A label cut into lines no wider than ``width`` (network names are long). */
  function wrap(text, width) {
    const lines = [];
    for (const word of text.split(/\s+/)) {
      const last = lines.length ? lines[lines.length - 1] : null;
      if (last !== null && widthOf(last + " " + word) <= width) lines[lines.length - 1] = last + " " + word;
      else lines.push(word);
    }
    return lines.join("\n");
  }

  /* Two IRIs of a row as an edge: the points' ids, or the row's first two IRI columns. */
  function ends(item) {
    if (item.points.length >= 2) return item.points.slice(0, 2).map((p) => ({id: p.id, label: p.label, role: p.role}));
    const uris = Object.entries(item.row).filter(([, t]) => t.type === "uri");
    if (uris.length < 2) return null;
    const labelOf = ([name, term]) => (item.row[name + "_label"] || item.row[name + "Label"] || {value: term.value.split(/[/#]/).pop()}).value;
    return uris.slice(0, 2).map((u) => ({id: u[1].value, label: labelOf(u), role: u[0]}));
  }

  /* A group's members in a grid of ``columns`` cells, each as wide as the widest label and each
     row as tall as its tallest (a wrapped name is taller), the whole at least as wide as the
     group's own name: the group's outer size, and a function that places it with its top left
     at (x, y). */
  function grid(list, columns, name) {
    const cell = Math.max(0, ...list.map((n) => n.labelWidth)) + 14;
    const rows = [];
    list.forEach((node, n) => {
      const row = Math.floor(n / columns);
      rows[row] = Math.max(rows[row] || CELL_H, node.labelHeight + 31);
    });
    const inner = Math.max(columns * cell, groupWidthOf(name) + 8 - 2 * PAD);
    return {
      w: inner + 2 * PAD,
      h: HEAD + rows.reduce((a, b) => a + b, 0) + 2 * PAD,
      place(x, y) {
        const left = x + PAD + (inner - columns * cell) / 2;
        let top = y + HEAD + PAD + 8;
        list.forEach((node, n) => {
          if (n && n % columns === 0) top += rows[n / columns - 1];
          node.position = {x: left + cell * ((n % columns) + 0.5), y: top};
        });
      },
    };
  }

  /* Positions in three columns, left to right: the networks; the Iranian cities; the partner
     groups, stacked in as many columns as the width leaves (each group into the shortest).
     Returns the drawing's size. */
  function place(nodes, groups, width) {
    const label = (id) => groups.get(id).data.label;
    const members = new Map();
    for (const node of nodes.values()) {
      const list = members.get(node.data.parent) || [];
      list.push(node);
      members.set(node.data.parent, list);
    }
    const columns = [];  // each: [{size, place}], placed one under another
    const aside = ["g:networks", "g:members"].filter((g) => members.has(g)).map((g) => grid(members.get(g), 1, label(g)));
    if (aside.length) columns.push(aside);
    const iran = members.get("g:iran") || [];
    if (iran.length) columns.push([grid(iran, Math.max(1, Math.round(Math.sqrt(iran.length / 2.5))), label("g:iran"))]);
    let x = MARGIN;
    const used = columns.map((c) => Math.max(...c.map((g) => g.w)));
    const left = width - MARGIN - used.reduce((a, b) => a + b + GAP, 0);
    const partners = [...groups.keys()].filter((g) => g !== "g:iran" && g !== "g:networks" && g !== "g:members")
      .filter((g) => members.has(g)).sort((a, b) => members.get(b).length - members.get(a).length);
    const count = Math.max(1, Math.min(partners.length, Math.floor(left / 300)));
    const columnWidth = (left - (count - 1) * GAP) / count;
    const stacks = Array.from({length: count}, () => ({height: 0, groups: []}));
    for (const id of partners) {
      const list = members.get(id);
      const widest = Math.max(...list.map((n) => n.labelWidth)) + 14;
      const g = grid(list, Math.max(1, Math.min(list.length, Math.floor((columnWidth - 2 * PAD) / widest))), label(id));
      const stack = stacks.reduce((a, b) => (b.height < a.height ? b : a));
      stack.groups.push(g);
      stack.height += g.h + GAP;
    }
    for (const stack of stacks) if (stack.groups.length) columns.push(stack.groups);
    const heights = columns.map((c) => c.reduce((a, g) => a + g.h + GAP, -GAP));
    const height = Math.max(0, ...heights) + 2 * MARGIN;
    columns.forEach((column, n) => {
      // each column centred from top to bottom, its groups one under another
      let y = MARGIN + (height - 2 * MARGIN - heights[n]) / 2;
      const w = Math.max(...column.map((g) => g.w));
      for (const g of column) {
        g.place(x + (w - g.w) / 2, y);
        y += g.h + GAP;
      }
      x += w + GAP;
    });
    return {width: x - GAP + MARGIN, height};
  }

  function draw(items) {
    const by = groupSelect.value;
    const nodes = new Map(), edges = [], groups = new Map();
    const group = (id, label) => { if (!groups.has(id)) groups.set(id, {data: {id, label}, classes: "group"}); return id; };
    const city = (id, label, partnerGroup) => {
      if (nodes.has(id)) return;
      const iranian = inIran.has(id);
      nodes.set(id, {data: {id, label, parent: iranian ? group("g:iran", "Iranian cities") : partnerGroup()},
        classes: iranian ? "iranian" : "partner"});
    };
    for (const item of items) {
      const pair = ends(item);
      if (!pair) continue;
      const [a, b] = pair;
      const key = (by === "civilisation" ? item.civilisation : item.region) || "no group";
      // the row's region or civilisation is its partner's: a city outside Iran is boxed by it
      for (const end of pair) city(end.id, end.label, () => group("g:" + key, key));
      edges.push({data: {id: "t" + item.index, source: a.id, target: b.id, kind: item.kind,
        colour: V.colourOf(item.kind), title: `${a.label} — ${b.label} ${item.year ?? ""} ${item.provenance}`}, classes: "tie"});
    }
    let networks = 0, members = 0;
    const form = document.getElementById("filters");
    const unfiltered = ["kind", "region", "civilisation", "period"].every((f) => !form.elements[f].value);
    for (const [n, m] of memberships.entries()) {
      if (!nodes.has(m.city.value)) {
        if (!unfiltered) continue;  // with a filter set, only the cities it keeps
        city(m.city.value, m.city_label ? m.city_label.value : m.city.value, () => group("g:members", "other member cities"));
      }
      if (!nodes.has(m.network.value)) {
        nodes.set(m.network.value, {data: {id: m.network.value, label: m.network_label ? m.network_label.value : m.network.value,
          parent: group("g:networks", "networks and organisations")}, classes: "network"});
        networks += 1;
      }
      edges.push({data: {id: "m" + n, source: m.city.value, target: m.network.value, colour: "#999999", title: "member"}, classes: "membership"});
      members += 1;
    }
    for (const node of nodes.values()) {
      if (node.classes === "network") node.data.label = wrap(node.data.label, NETWORK_WIDTH);
      const lines = node.data.label.split("\n");
      node.labelWidth = Math.max(...lines.map(widthOf));
      node.labelHeight = lines.length * LINE;
    }
    const cities = [...nodes.values()].filter((n) => n.classes !== "network").length;
    // the width the page gives the view: its frame's (the view itself may have grown before)
    const available = host.parentElement.clientWidth;
    const size = place(nodes, groups, available);
    // the view is as tall as the drawing, and as wide when the window is narrower than that
    // (its frame then scrolls sideways): nothing is shrunk to fit, so the labels keep their
    // size (shrunk to fit, they fell under 11 px in windows narrower than about 900 px)
    host.style.height = `${Math.max(size.height, 320)}px`;
    host.style.width = size.width > available ? `${size.width}px` : "";
    if (cy) cy.destroy();
    cy = cytoscape({
      container: host,
      elements: [...groups.values(), ...nodes.values(), ...edges],
      style: [
        {selector: "node", style: {"label": "data(label)", "font-size": FONT, "font-family": FAMILY, "color": "#1a1a1a",
          "text-valign": "bottom", "text-margin-y": 3, "text-wrap": "wrap", "text-max-width": 1000, "line-height": LINE / FONT,
          "text-background-color": "#ffffff", "text-background-opacity": 0.85, "text-background-padding": 1,
          "width": 9, "height": 9, "background-color": "#fff", "border-width": 1, "border-color": "#333"}},
        {selector: "node.iranian", style: {"background-color": "#2e8b57", "border-color": "#006400", "width": 11, "height": 11}},
        {selector: "node.network", style: {"shape": "diamond", "background-color": "#fdd835", "width": 12, "height": 12}},
        {selector: "node.group", style: {"label": "data(label)", "font-size": FONT, "font-weight": "bold", "text-valign": "top",
          "text-margin-y": -3, "text-background-opacity": 0, "background-color": "#f5f5f5", "border-color": "#bbb", "padding": PAD}},
        {selector: "edge", style: {"width": 1, "line-color": "data(colour)", "opacity": 0.6, "curve-style": "straight"}},
        {selector: "edge.membership", style: {"line-style": "dashed", "opacity": 0.4}},
      ],
      layout: {name: "preset", fit: false},
      zoom: 1, pan: {x: 0, y: 0},
    });
    window.cdkgNetwork = cy;  // for the tests' measurements and for a reader's console
    cy.on("tap", "edge", (event) => V.status(event.target.data("title")));
    Object.assign(state, {cities, ties: edges.length - members, networks, memberships: members, groups: groups.size,
      iranian: [...nodes.values()].filter((n) => n.classes === "iranian").map((n) => n.data.id)});
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
      return node;
    };
    svg.setAttribute("font-family", FAMILY);
    cy.nodes(".group").forEach((g) => {
      const b = g.boundingBox({includeLabels: false});
      add("rect", {x: b.x1, y: b.y1, width: b.w, height: b.h, fill: "#f5f5f5", stroke: "#bbb", class: "group"});
      add("text", {x: b.x1 + 3, y: b.y1 - 5, "font-size": FONT, "font-weight": "bold"}, g.data("label"));
    });
    cy.edges().forEach((e) => {
      const [s, t] = [e.source().position(), e.target().position()];
      add("line", {x1: s.x, y1: s.y, x2: t.x, y2: t.y, stroke: e.data("colour"), "stroke-width": 1, "stroke-opacity": 0.6,
        "stroke-dasharray": e.hasClass("membership") ? "3 2" : "none", class: "edge"});
    });
    cy.nodes().not(".group").forEach((n) => {
      const p = n.position();
      const fill = n.hasClass("iranian") ? "#2e8b57" : n.hasClass("network") ? "#fdd835" : "#ffffff";
      add("circle", {cx: p.x, cy: p.y, r: n.hasClass("iranian") ? 5.5 : 4.5, fill, stroke: "#333", "stroke-width": 1, class: "node"});
      const text = add("text", {x: p.x, y: p.y + 20, "font-size": FONT, "text-anchor": "middle"});
      n.data("label").split("\n").forEach((line, i) => {
        const span = document.createElementNS(V.SVG_NS, "tspan");
        span.setAttribute("x", p.x);
        if (i) span.setAttribute("dy", LINE);
        span.textContent = line;
        text.appendChild(span);
      });
    });
    return V.standalone(svg, [box.x1 - pad, box.y1 - pad - 12, box.w + 2 * pad, box.h + 2 * pad + 12]);
  }

  await V.start(draw);
  state.export = V.exporters(svgOf);
  state.ready = true;
})();
