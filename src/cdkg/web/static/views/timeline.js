/* The timeline: rows by year, stacked by kind, over the six discourse periods drawn as bands
   (bounds from the graph). Plain SVG, so the export is the drawing itself. */
"use strict";

(async () => {
  const V = cdkgViews;
  const state = {years: 0, ties: 0, bands: 0, ready: false};
  window.cdkgView = state;
  const host = document.getElementById("view");
  const BAND_COLOURS = ["#f4f1de", "#e0ecf4", "#fde0dd", "#e5f5e0", "#efedf5", "#fff7bc"];
  const W = 1100, H = 360, LEFT = 40, RIGHT = 20, TOP = 70, BOTTOM = 40;
  let svg = null;

  function el(name, attrs, text) {
    const node = document.createElementNS(V.SVG_NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
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
    const y = (n) => H - BOTTOM - n / most * (H - TOP - BOTTOM);
    svg = el("svg", {xmlns: V.SVG_NS, viewBox: `0 0 ${W} ${H}`, width: W, height: H, "font-family": "sans-serif", "font-size": "11"});
    svg.appendChild(el("rect", {x: 0, y: 0, width: W, height: H, fill: "#ffffff"}));
    periods.forEach((p, n) => {
      const from = x(p.begin === null ? first : p.begin), to = x(p.end === null ? last : p.end);
      const band = el("rect", {x: from, y: TOP - 40, width: to - from, height: H - BOTTOM - TOP + 40,
        fill: BAND_COLOURS[n % BAND_COLOURS.length], class: "cdkg-band"});
      band.appendChild(el("title", {}, `${p.label} (${p.begin ?? "…"}–${p.end ?? ""})`));
      svg.appendChild(band);
      const count = dated.filter((i) => i.period === p.label).length;
      svg.appendChild(el("text", {x: from + 3, y: TOP - 30 + (n % 3) * 12, fill: "#333"},
        `${p.label} ${p.begin ?? "…"}–${p.end ?? ""}: ${count}`));
    });
    for (let n = 0; n <= most; n += Math.max(1, Math.ceil(most / 5))) {
      svg.appendChild(el("line", {x1: LEFT, x2: W - RIGHT, y1: y(n), y2: y(n), stroke: "#ccc", "stroke-width": 0.5}));
      svg.appendChild(el("text", {x: LEFT - 6, y: y(n) + 4, "text-anchor": "end", fill: "#333"}, n));
    }
    for (let year = Math.ceil(first / 5) * 5; year <= last; year += 5) {
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
    host.replaceChildren(svg);
    state.years = years.size;
    state.ties = dated.length;
    state.bands = periods.length;
    V.status(`${dated.length} dated rows in ${years.size} years (${items.length - dated.length} undated), ${periods.length} periods`);
  }

  await V.start(draw);
  state.export = V.exporters(() => V.standalone(svg, [0, 0, W, H]));
  state.ready = true;
})();
