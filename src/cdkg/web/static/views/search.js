/* The search box: runs the canned query "search" (/queries/search?q=...) and lists what it finds. */
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("search-config").textContent);
  const form = document.getElementById("search");
  const list = document.getElementById("results");
  const status = document.getElementById("status");
  window.cdkgSearch = {done: false, results: []};

  // An entity's page on this server: its w3id.org IRI is its name, and resolves only once
  // w3id.org redirects it; /id/... is here now.
  function page(id) {
    return id.startsWith(config.ids) ? config.pages + id.slice(config.ids.length) : id;
  }

  async function run(q) {
    window.cdkgSearch = {done: false, results: []};
    list.replaceChildren();
    if (!q.trim()) { status.textContent = ""; window.cdkgSearch.done = true; return; }
    status.textContent = "Searching…";
    const response = await fetch(config.url + "?q=" + encodeURIComponent(q), {headers: {Accept: "application/sparql-results+json"}});
    const answer = await response.json();
    if (!response.ok) { status.textContent = "Error: " + answer.error.message; window.cdkgSearch.done = true; return; }
    const seen = new Map();
    for (const row of answer.results.bindings) {
      const id = row.entity.value;
      if (!seen.has(id)) seen.set(id, row);
    }
    for (const [id, row] of seen) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = page(id);
      link.className = "entity";
      link.textContent = row.label_en ? row.label_en.value : id;
      item.appendChild(link);
      if (row.label_fa) {
        item.appendChild(document.createTextNode(" · "));
        const fa = document.createElement("bdi");
        fa.lang = "fa";
        fa.textContent = row.label_fa.value;
        item.appendChild(fa);
      }
      const kind = document.createElement("span");
      kind.className = "muted";
      kind.textContent = ` (${row.class.value.split("#").pop()}; matched «\u2068${row.matched.value}\u2069»`;
      item.appendChild(kind);
      if (row.printed_line) {
        // the paper's own spelling (a misprint, or a variant): say so, and link its line
        const line = row.printed_line.value;
        kind.appendChild(document.createTextNode(", as the paper prints it, "));
        const at = document.createElement("a");
        at.className = "printed-line";
        at.href = `${config.viewer}#L${line}`;
        at.textContent = `line ${line}`;
        kind.appendChild(at);
      }
      kind.appendChild(document.createTextNode(")"));
      list.appendChild(item);
    }
    status.textContent = `${seen.size} found for «${q}»`;
    const links = [...list.querySelectorAll("a.entity")].map((a) => a.getAttribute("href"));
    window.cdkgSearch = {done: true, results: [...seen.keys()], links};
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = document.getElementById("q").value;
    history.replaceState(null, "", "?q=" + encodeURIComponent(q));
    run(q);
  });
  run(document.getElementById("q").value);
})();
