/* cdkg views: what the map, timeline and network share. Runs a query against /sparql, turns its
   rows into items (points, a year, a kind, groups, provenance), fills the filters, writes the
   caption, and exports an SVG element as SVG or PNG. Nothing here reaches beyond this origin. */
"use strict";

const cdkgViews = (() => {
  const config = JSON.parse(document.getElementById("cdkg-config").textContent);
  const KIND_COLOURS = {sister_city: "#1f6fb4", cooperation_mou: "#d2691e"};
  const OTHER_COLOUR = "#6a3d9a";

  async function select(query) {
    const response = await fetch(config.sparql, {
      method: "POST",
      headers: {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"},
      body: query,
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error ? answer.error.message : response.statusText);
    return {vars: answer.head.vars || [], rows: answer.results ? answer.results.bindings : []};
  }

  function yearOf(term) {
    if (!term) return null;
    const match = /^-?\d{1,4}/.exec(term.value);
    return match ? parseInt(match[0], 10) : null;
  }

  /* Where a year falls. The rule of table3 and rq2-periods ("table3"): a year inside a period's
     bounds belongs to it; a year equal to a bound, to the period that begins that year, except
     2013, which Table 3 counts in 2005-2013. */
  function periodOf(year, periods) {
    if (year === null) return null;
    for (const p of periods) {
      const b = p.begin === null ? -Infinity : p.begin;
      const e = p.end === null ? Infinity : p.end;
      if ((year > b || (year === b && year !== 2013)) && (year < e || (year === e && year === 2013))) return p;
    }
    return null;
  }

  async function loadPeriods() {
    const {rows} = await select(config.periods);
    return rows.map((r) => ({
      iri: r.discourse.value,
      label: r.label ? r.label.value : r.discourse.value,
      labelFa: r.label_fa ? r.label_fa.value : "",
      begin: yearOf(r.begin),
      end: yearOf(r.end),
    }));
  }

  const WKT = "http://www.opengis.net/ont/geosparql#wktLiteral";

  /* The coordinate groups of a result: X_lat/X_long pairs (also lat/lon/lng), and WKT points:
     every column holding a geo:wktLiteral, whatever its name, as WDQS's map reads a result. */
  function coordinateGroups(vars, rows) {
    const groups = [];
    for (const v of vars) {
      const m = /^(.*?)_?lat(itude)?$/i.exec(v);
      if (!m) continue;
      const prefix = m[1];
      const lng = vars.find((w) => new RegExp("^" + prefix + "_?(long|lon|lng|longitude)$", "i").test(w));
      if (lng) groups.push({prefix, lat: v, lng});
    }
    const typed = (v) => rows.some((r) => r[v] && r[v].datatype === WKT);
    for (const v of vars) if (typed(v) || /(coord|wkt|location|point)/i.test(v)) groups.push({prefix: v, wkt: v});
    return groups;
  }

  function pointOf(row, group, vars) {
    let lat, lng;
    if (group.wkt) {
      const t = row[group.wkt];
      const m = t && /Point\s*\(\s*(-?[\d.]+)\s+(-?[\d.]+)\s*\)/i.exec(t.value);
      if (!m) return null;
      [lng, lat] = [parseFloat(m[1]), parseFloat(m[2])];
    } else {
      if (!row[group.lat] || !row[group.lng]) return null;
      [lat, lng] = [parseFloat(row[group.lat].value), parseFloat(row[group.lng].value)];
    }
    if (!isFinite(lat) || !isFinite(lng)) return null;
    const p = group.prefix;
    const starts = (v) => p === "" || v.startsWith(p);
    const labelVar = vars.find((v) => starts(v) && /label$/.test(v)) || vars.find((v) => starts(v) && row[v] && row[v].type === "literal" && !/(lat|long|lon|lng)$/.test(v));
    const labelFaVar = vars.find((v) => starts(v) && /label_fa$/.test(v));
    const idVar = vars.find((v) => starts(v) && row[v] && row[v].type === "uri");
    const label = labelVar && row[labelVar] ? row[labelVar].value : `${lat}, ${lng}`;
    return {
      id: idVar ? row[idVar].value : `${lat},${lng}`,
      label,
      labelFa: labelFaVar && row[labelFaVar] ? row[labelFaVar].value : "",
      lat, lng, role: p,
    };
  }

  /* One item per row: its points, year, period, kind, region, civilisation and provenance. */
  function itemsOf(result, periods) {
    const {vars, rows} = result;
    const groups = coordinateGroups(vars, rows);
    const yearVar = vars.find((v) => /year$/i.test(v)) ||
      vars.find((v) => rows.some((r) => r[v] && /(gYear|date|dateTime)$/.test(r[v].datatype || "")));
    const value = (row, name) => (row[name] ? row[name].value : "");
    return rows.map((row, index) => {
      const year = yearVar ? yearOf(row[yearVar]) : null;
      const period = periodOf(year, periods);
      const uris = vars.filter((v) => row[v] && row[v].type === "uri");
      return {
        index, row, year,
        id: row.tie ? row.tie.value : (uris.length ? row[uris[0]].value : String(index)),
        points: groups.map((g) => pointOf(row, g, vars)).filter((p) => p !== null),
        kind: value(row, "kind") || value(row, "edge_kind"),
        region: value(row, "region_label"),
        civilisation: value(row, "civilisation_label") || (vars.includes("civilisation_label") && row.partner_country ? "none (Table 2: ---)" : ""),
        period: period ? period.label : (year === null ? "undated" : "outside every period"),
        provenance: row.table ? `Table ${row.table.value}, line ${row.line_start.value}` +
          (row.line_end && row.line_end.value !== row.line_start.value ? `–${row.line_end.value}` : "") : "",
      };
    });
  }

  function colourOf(kind) {
    return KIND_COLOURS[kind] || OTHER_COLOUR;
  }

  const FILTERS = ["kind", "region", "civilisation", "period"];

  /* Fill each filter with the values the items have; hide a filter with none. */
  function fillFilters(items, periods) {
    const form = document.getElementById("filters");
    for (const name of FILTERS) {
      const select = form.elements[name];
      let values = [...new Set(items.map((i) => i[name]).filter((v) => v))];
      if (name === "period") {
        const order = periods.map((p) => p.label).concat(["undated", "outside every period"]);
        values.sort((a, b) => order.indexOf(a) - order.indexOf(b));
        if (!items.some((i) => i.year !== null)) values = [];
      } else values.sort();
      for (const v of values) select.add(new Option(v, v));
      select.closest("label").hidden = values.length < 2;
    }
  }

  function filtered(items) {
    const form = document.getElementById("filters");
    return items.filter((item) => FILTERS.every((name) => !form.elements[name].value || item[name] === form.elements[name].value));
  }

  function filterText() {
    const form = document.getElementById("filters");
    const chosen = FILTERS.filter((n) => form.elements[n].value).map((n) => `${n}: ${form.elements[n].value}`);
    return chosen.length ? chosen.join("; ") : "";
  }

  /* The caption: the view, the query (canned name and URL, or the text's start), the dataset. */
  function caption() {
    const query = config.name ? `query ${config.name} <${config.queryUrl}>` :
      `query: ${config.query.replace(/\s+/g, " ").slice(0, 160)}`;
    const filters = filterText();
    return `City Diplomacy Knowledge Graph (cdkg), dataset version ${config.version}; ${query}` +
      (filters ? `; ${filters}` : "") + `; ${config.view} view, ${new Date().toISOString().slice(0, 10)}.`;
  }

  function setCaption() {
    document.getElementById("caption").textContent = caption();
  }

  const SVG_NS = "http://www.w3.org/2000/svg";

  /* A standalone SVG document: a copy of ``svg`` (its viewBox ``box``, [x, y, w, h]) on white,
     with the caption below. */
  function standalone(svg, box) {
    const [x, y, w, h] = box;
    const copy = svg.cloneNode(true);
    const out = document.createElementNS(SVG_NS, "svg");
    const lines = wrap(caption(), Math.max(40, Math.floor(w / 7)));
    const extra = 14 * lines.length + 12;
    out.setAttribute("xmlns", SVG_NS);
    out.setAttribute("viewBox", `${x} ${y} ${w} ${h + extra}`);
    out.setAttribute("width", w);
    out.setAttribute("height", h + extra);
    const background = document.createElementNS(SVG_NS, "rect");
    for (const [k, v] of Object.entries({x, y, width: w, height: h + extra, fill: "#ffffff"})) background.setAttribute(k, v);
    out.appendChild(background);
    copy.removeAttribute("style");
    copy.setAttribute("x", x); copy.setAttribute("y", y);
    copy.setAttribute("width", w); copy.setAttribute("height", h);
    copy.setAttribute("viewBox", box.join(" "));
    out.appendChild(copy);
    lines.forEach((line, n) => {
      const text = document.createElementNS(SVG_NS, "text");
      text.setAttribute("x", x + 6);
      text.setAttribute("y", y + h + 16 + 14 * n);
      text.setAttribute("font-family", "sans-serif");
      text.setAttribute("font-size", "11");
      text.setAttribute("fill", "#222");
      text.textContent = line;
      out.appendChild(text);
    });
    return new XMLSerializer().serializeToString(out);
  }

  function wrap(text, width) {
    const lines = [];
    let line = "";
    for (const word of text.split(" ")) {
      if ((line + " " + word).length > width && line) { lines.push(line); line = word; } else line = line ? line + " " + word : word;
    }
    if (line) lines.push(line);
    return lines;
  }

  /* PNG (a data: URL) of an SVG document, drawn at ``scale``. */
  function png(svgText, scale = 2) {
    return new Promise((resolve, reject) => {
      const image = new Image();
      image.onload = () => {
        const canvas = document.createElement("canvas");
        canvas.width = image.width * scale;
        canvas.height = image.height * scale;
        const context = canvas.getContext("2d");
        context.scale(scale, scale);
        context.drawImage(image, 0, 0);
        resolve(canvas.toDataURL("image/png"));
      };
      image.onerror = () => reject(new Error("the SVG could not be drawn"));
      image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svgText);
    });
  }

  function download(filename, href) {
    const a = document.createElement("a");
    a.href = href;
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  /* Wire the export buttons to ``svgOf`` (a function giving the SVG text of what is drawn). */
  function exporters(svgOf) {
    const base = `cdkg-${config.view}-${config.name || "query"}`;
    const api = {
      svg: () => svgOf(),
      png: () => png(svgOf()),
    };
    document.getElementById("export-svg").onclick = () =>
      download(base + ".svg", "data:image/svg+xml;charset=utf-8," + encodeURIComponent(api.svg()));
    document.getElementById("export-png").onclick = async () => download(base + ".png", await api.png());
    return api;
  }

  function status(text) {
    document.getElementById("status").textContent = text;
  }

  function escape(text) {
    return String(text).replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
  }

  /* Load the periods and the query's items, fill the filters; then ``draw`` on every change. */
  async function start(draw) {
    try {
      const periods = await loadPeriods();
      const items = itemsOf(await select(config.query), periods);
      fillFilters(items, periods);
      const redraw = () => { const shown = filtered(items); draw(shown, periods); setCaption(); };
      document.getElementById("filters").addEventListener("change", redraw);
      redraw();
      return {items, periods};
    } catch (error) {
      status("Error: " + error.message);
      throw error;
    }
  }

  return {config, select, periodOf, itemsOf, colourOf, KIND_COLOURS, start, exporters, standalone,
    png, status, caption, escape, SVG_NS};
})();
