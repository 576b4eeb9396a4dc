/* The timeline: rows by year, stacked by kind, over the six discourse periods drawn as bands
   (bounds from the graph). Plain SVG, so the export is the drawing itself. */
"use strict";

(async () => {
  const V = cdkgViews;
  const state = {years: 0, ties: 0, bands: 0, ready: false};
  window.cdkgView = state;
  const host = document.getElementById("view");
  const BAND_COLOURS = ["#f4f1de", "#e0ecf4", "#fde0dd", "#e5f5e0", "#efedf5", "#fff7bc"];
  const W = 1100, LEFT = 40, RIGHT = 20, BOTTOM = 48, PLOT = 250;
  // A period's label is a box of two lines (its name; its years and count), ROW high, in the
  // band's colour. Boxes that would touch go to another row, so no label hides another.
  const ROW = 36, PAD = 5, GAP = 8, MARGIN = 6;
  let H = 360;
  let svg = null;

  function el(name, attrs, text) {
    const node = document.createElementNS(V.SVG_NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* The period labels, measured in the drawing, each given a row: the first row (counted up from
     the plot) where it clears the label before it by GAP. A label starts where its band starts
     (moved left only to stay inside the drawing), so it reads as the band's. */
  function periodLabels(periods, dated, x, first, last) {
    const rows = [];
    return periods.map((p, n) => {
      const count = dated.filter((i) => i.period === p.label).length;
      const group = el("g", {class: "cdkg-period", "data-period": p.label, "data-count": count});
      const name = el("text", {class: "cdkg-period-name", "font-weight": "bold", fill: "#222"}, p.label);
      const years = el("text", {class: "cdkg-period-count", fill: "#222"},
        `${p.begin ?? "…"}–${p.end ?? ""}: ${count} dated`);
      group.append(name, years);
      svg.appendChild(group);
      const width = Math.max(name.getComputedTextLength(), years.getComputedTextLength()) + 2 * PAD;
      const from = x(p.begin === null ? first : p.begin), to = x(p.end === null ? last : p.end);
      const left = Math.max(0, Math.min(from, W - width));
      let row = rows.findIndex((end) => left >= end + GAP);
      if (row < 0) row = rows.push(0) - 1;
      rows[row] = left + width;
      return {p, n, group, name, years, width, from, to, left, row, count};
    }).map((label) => Object.assign(label, {rows: rows.length}));
  }

  function draw(items, periods) {
    const dated = items.filter((i) => i.year !== null);
    const years = new Map();
    for (const item of dated) {
      const kinds = years.get(item.year) || new Map();
      kinds.set(item.kind, (kinds.get(item.kind) || 0) + 1);
      years.set(item.year, kinds);
    }
    const bounds = periods.flatMap((p) => [p.begin, p.end]).filter((y) => y !== null);
    const all = [...years.keys(), ...bounds];
    const first = Math.min(...all) - 3, last = Math.max(...all) + 3;
    const x = (year) => LEFT + (year - first) / (last - first) * (W - LEFT - RIGHT);
    const most = Math.max(1, ...[...years.values()].map((k) => [...k.values()].reduce((a, b) => a + b, 0)));
    // the labels are measured first: their rows decide where the plot begins
    svg = el("svg", {xmlns: V.SVG_NS, width: W, "font-family": "sans-serif", "font-size": "12"});
    host.replaceChildren(svg);
    const labels = periodLabels(periods, dated, x, first, last);
    const TOP = MARGIN + (labels.length ? labels[0].rows : 0) * ROW + MARGIN;
    H = TOP + PLOT + BOTTOM;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("height", H);
    const y = (n) => H - BOTTOM - n / most * PLOT;
    const rowTop = (row) => TOP - MARGIN - (row + 1) * ROW;
    // under everything: the white ground, then the bands; the labels go above the bands
    const ground = el("g", {});
    ground.appendChild(el("rect", {x: 0, y: 0, width: W, height: H, fill: "#ffffff"}));
    svg.insertBefore(ground, svg.firstChild);
    for (const label of labels) {
      const {p, n, group, name, years: span, width, from, to, left, row} = label;
      const colour = BAND_COLOURS[n % BAND_COLOURS.length];
      // the band reaches up to its label's row
      const band = el("rect", {x: from, y: rowTop(row), width: to - from, height: H - BOTTOM - rowTop(row),
        fill: colour, class: "cdkg-band"});
      band.appendChild(el("title", {}, `${p.label} (${p.begin ?? "…"}–${p.end ?? ""})`));
      ground.appendChild(band);
      group.insertBefore(el("rect", {x: left, y: rowTop(row) + 2, width, height: ROW - 4, fill: colour,
        stroke: "#8c8c8c", "stroke-width": 0.5, class: "cdkg-period-box"}), name);
      name.setAttribute("x", left + PAD);
      name.setAttribute("y", rowTop(row) + 16);
      span.setAttribute("x", left + PAD);
      span.setAttribute("y", rowTop(row) + 30);
    }
    for (let n = 0; n <= most; n += Math.max(1, Math.ceil(most / 5))) {
      svg.appendChild(el("line", {x1: LEFT, x2: W - RIGHT, y1: y(n), y2: y(n), stroke: "#ccc", "stroke-width": 0.5}));
      svg.appendChild(el("text", {x: LEFT - 6, y: y(n) + 4, "text-anchor": "end", fill: "#333"}, n));
    }
    // years strictly inside the axis: one at its origin would sit on the count axis's 0
    for (let year = Math.floor(first / 5) * 5 + 5; year < last; year += 5) {
      svg.appendChild(el("text", {x: x(year), y: H - BOTTOM + 16, "text-anchor": "middle", fill: "#333"}, year));
      svg.appendChild(el("line", {x1: x(year), x2: x(year), y1: H - BOTTOM, y2: H - BOTTOM + 4, stroke: "#333"}));
    }
    svg.appendChild(el("line", {x1: LEFT, x2: W - RIGHT, y1: H - BOTTOM, y2: H - BOTTOM, stroke: "#333"}));
    const width = Math.max(3, (W - LEFT - RIGHT) / (last - first) * 0.7);
    for (const [year, kinds] of [...years.entries()].sort((a, b) => a[0] - b[0])) {
      let base = 0;
      const group = el("g", {class: "cdkg-year", "data-year": year});
      for (const [kind, n] of [...kinds.entries()].sort()) {
        const bar = el("rect", {x: x(year) - width / 2, y: y(base + n), width, height: y(base) - y(base + n),
          fill: V.colourOf(kind), class: "cdkg-bar"});
        const names = dated.filter((i) => i.year === year && i.kind === kind)
          .map((i) => i.points.map((p) => p.label).join("–") + (i.provenance ? ` (${i.provenance})` : "")).join("; ");
        bar.appendChild(el("title", {}, `${year}, ${kind || "rows"}: ${n} — ${names}`));
        group.appendChild(bar);
        base += n;
      }
      svg.appendChild(group);
    }
    svg.appendChild(el("text", {x: W - RIGHT, y: H - 8, "text-anchor": "end", fill: "#555"},
      `${dated.length} dated of ${items.length}; blue: sister-city tie, orange: MoU; year in a bound year: Table 3's rule`));
    state.years = years.size;
    state.ties = dated.length;
    state.bands = periods.length;
    V.status(`${dated.length} dated rows in ${years.size} years (${items.length - dated.length} undated), ${periods.length} periods`);
  }

  await V.start(draw);
  state.export = V.exporters(() => V.standalone(svg, [0, 0, W, H]));
  state.ready = true;
})();
