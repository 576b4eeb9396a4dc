/* The map: Natural Earth's countries (vendored world-atlas, no tiles), a circle per city, a line
   per row with two places (a tie), coloured by kind. OpenStreetMap tiles only when asked. */
"use strict";

(async () => {
  const V = cdkgViews;
  const renderer = L.svg({padding: 0});
  const map = L.map("view", {renderer, worldCopyJump: false, zoomSnap: 0.25}).setView([32, 50], 2);
  const world = await (await fetch(V.config.world)).json();
  const countries = topojson.feature(world, world.objects.countries);
  // Antarctica (ISO 3166 numeric 010) is left out: its outline draws a line across the map
  countries.features = countries.features.filter((f) => f.id !== "010");
  // A ring crossing the antimeridian (Russia's Chukotka, Fiji) would be drawn as a stripe across
  // the world: move its western points east of 180° instead.
  const unwrap = (ring) => {
    const lons = ring.map((point) => point[0]);
    return Math.max(...lons) - Math.min(...lons) > 180 ? ring.map(([x, y]) => [x < 0 ? x + 360 : x, y]) : ring;
  };
  for (const feature of countries.features) {
    const g = feature.geometry;
    if (g.type === "Polygon") g.coordinates = g.coordinates.map(unwrap);
    if (g.type === "MultiPolygon") g.coordinates = g.coordinates.map((polygon) => polygon.map(unwrap));
  }
  L.geoJSON(countries, {
    renderer,
    style: {color: "#9a9a9a", weight: 0.6, fillColor: "#f1efe8", fillOpacity: 1},
    interactive: false,
  }).addTo(map);
  let tiles = null;
  document.getElementById("filters").elements.osm.addEventListener("change", (event) => {
    if (event.target.checked) {
      tiles = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
        maxZoom: 18, attribution: "© OpenStreetMap contributors",
      }).addTo(map);
    } else if (tiles) {
      tiles.remove();
      tiles = null;
    }
  });
  const layer = L.layerGroup().addTo(map);
  const state = {ties: 0, cities: 0, ready: false};
  window.cdkgView = state;

  function popup(item) {
    const [a, b] = item.points;
    const e = V.escape;
    const names = (p) => `${e(p.label)}${p.labelFa ? ` <span lang="fa">${e(p.labelFa)}</span>` : ""}`;
    return `<b>${names(a)}</b>${b ? ` — <b>${names(b)}</b>` : ""}<br>` +
      (item.kind ? `${e(item.kind.replace("_", " "))}<br>` : "") +
      `year: ${item.year === null ? "not given" : item.year}` + (item.year !== null ? ` (${e(item.period)})` : "") + "<br>" +
      (item.region ? `${e(item.region)}; ${e(item.civilisation)}<br>` : "") +
      (item.provenance ? `in the paper: ${e(item.provenance)}<br>` : "") +
      `<a href="${e(item.id)}">${e(item.id)}</a>`;
  }

  function draw(items) {
    layer.clearLayers();
    const cities = new Map();
    let ties = 0;
    for (const item of items) {
      if (item.points.length >= 2) {
        const [a, b] = item.points;
        L.polyline([[a.lat, a.lng], [b.lat, b.lng]], {
          renderer, color: V.colourOf(item.kind), weight: 1.6, opacity: 0.75, className: "cdkg-tie",
        }).bindTooltip(`${a.label} — ${b.label}, ${item.year === null ? "no year" : item.year}`, {sticky: true})
          .bindPopup(popup(item)).addTo(layer);
        ties += 1;
      }
      for (const p of item.points) if (!cities.has(p.id)) cities.set(p.id, p);
    }
    for (const p of cities.values()) {
      const iranian = p.role.startsWith("iranian");
      L.circleMarker([p.lat, p.lng], {
        renderer, radius: iranian ? 4.5 : 3, color: iranian ? "#006400" : "#333", weight: 1,
        fillColor: iranian ? "#2e8b57" : "#ffffff", fillOpacity: 1, className: "cdkg-city",
      }).bindTooltip(p.labelFa ? `${p.label} · ${p.labelFa}` : p.label).addTo(layer);
    }
    state.ties = ties;
    state.cities = cities.size;
    V.status(`${ties} ties, ${cities.size} cities drawn (of ${items.length} rows)` +
      " · blue: sister-city tie, orange: memorandum of understanding; green: Iranian city");
  }

  function svgOf() {
    const svg = map.getPanes().overlayPane.querySelector("svg");
    const box = svg.getAttribute("viewBox").split(" ").map(Number);
    return V.standalone(svg, box);
  }

  const {items} = await V.start(draw);
  const placed = items.flatMap((i) => i.points.map((p) => [p.lat, p.lng]));
  if (placed.length) map.fitBounds(placed, {padding: [10, 10]});
  state.export = V.exporters(svgOf);
  state.ready = true;
})();
