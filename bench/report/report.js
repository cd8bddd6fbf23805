// The interactive part of report.html (see bench/report/html_report.py), inlined there.
(function () {
  const data = JSON.parse(document.getElementById("bench-data").textContent);
  const tables = [...document.querySelectorAll("section > table, #leaderboard > table")];
  const board = document.querySelector("#leaderboard table");
  const state = {};

  function headers(table) { return [...table.tHead.rows[0].cells].map(c => c.textContent); }
  function value(text) {
    const m = text.replace("−", "-").match(/^[+-]?\d*\.?\d+(e[+-]?\d+)?/i);
    if (!m) return null;
    const scale = {k: 1e3, M: 1e6, G: 1e9}[text.charAt(m[0].length)] || 1;
    return parseFloat(m[0]) * scale;
  }
  function compare(a, b) {
    const x = value(a), y = value(b);
    if (x !== null && y !== null) return x - y;
    if (x !== null) return -1;
    if (y !== null) return 1;
    return a.localeCompare(b);
  }
  function sortTable(table, column, direction) {
    const body = table.tBodies[0];
    const rows = [...body.rows];
    rows.sort((r, s) => {
      const order = compare(r.cells[column].textContent, s.cells[column].textContent);
      return direction === "asc" ? order : -order;
    });
    rows.forEach(r => body.appendChild(r));
    [...table.tHead.rows[0].cells].forEach((c, i) =>
      c.setAttribute("aria-sort", i === column ? (direction === "asc" ? "ascending" : "descending") : "none"));
  }
  function filterTables() {
    for (const table of tables) {
      const names = headers(table);
      for (const row of table.tBodies[0].rows) {
        row.hidden = Object.entries(state.filters).some(([factor, level]) => {
          const column = names.indexOf(factor);
          return level && column >= 0 && row.cells[column].textContent !== level;
        });
      }
    }
  }
  function showMetric() {
    const names = headers(board);
    const shown = state.metric;
    names.forEach((name, column) => {
      const hide = shown && data.metrics.includes(name) && name !== shown;
      for (const row of board.rows) row.cells[column].hidden = hide;
    });
  }
  function drill() {
    const panel = document.getElementById("drilldown");
    for (const row of board.tBodies[0].rows) row.classList.toggle("selected", row.dataset.cell === state.cell);
    const cell = data.cells.find(c => c.cell === state.cell);
    if (!cell) { panel.innerHTML = ""; return; }
    const columns = Object.keys(cell.folds[0]);
    const head = columns.map(c => `<th>${escape(c)}</th>`).join("");
    const body = cell.folds.map(f => "<tr>" + columns.map(c =>
      `<td class="num">${escape(format(f[c]))}</td>`).join("") + "</tr>").join("");
    panel.innerHTML = `<table id="folds"><caption>Folds of ${escape(cell.label)}</caption>` +
      `<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
  }
  function format(v) { return typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : (v ?? "–"); }
  function escape(text) {
    return String(text).replace(/[&<>"]/g, ch => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[ch]));
  }
  function render() {
    filterTables();
    showMetric();
    if (state.sort) {
      const table = tables[state.sort.table];
      const column = table ? headers(table).indexOf(state.sort.column) : -1;
      if (column >= 0) sortTable(table, column, state.sort.direction);
    }
    drill();
    syncControls();
  }
  function readHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    state.filters = {};
    for (const factor of data.factors) state.filters[factor] = params.get("f." + factor) || "";
    state.metric = params.get("metric") || "";
    state.cell = params.get("cell") || "";
    const sort = (params.get("sort") || "").split(":");
    state.sort = sort.length >= 3
      ? {table: Number(sort[0]), column: sort.slice(1, -1).join(":"), direction: sort[sort.length - 1]}
      : null;
  }
  function writeHash() {
    const params = new URLSearchParams();
    for (const [factor, level] of Object.entries(state.filters)) if (level) params.set("f." + factor, level);
    if (state.metric) params.set("metric", state.metric);
    if (state.sort) params.set("sort", [state.sort.table, state.sort.column, state.sort.direction].join(":"));
    if (state.cell) params.set("cell", state.cell);
    history.replaceState(null, "", "#" + params.toString());
  }
  function update() { writeHash(); render(); }
  function syncControls() {
    for (const select of document.querySelectorAll(".controls select")) {
      select.value = select.dataset.factor ? state.filters[select.dataset.factor] : state.metric;
    }
  }
  function controls() {
    const box = document.createElement("div");
    box.className = "controls";
    for (const factor of data.factors) {
      const levels = [...new Set(data.cells.map(c => c.levels[factor]))];
      box.appendChild(selector(factor, levels, "all", s => s.dataset.factor = factor, v => state.filters[factor] = v));
    }
    box.appendChild(selector("metric", data.metrics, "all metrics", () => {}, v => {
      state.metric = v;
      if (v) state.sort = {table: tables.indexOf(board), column: v, direction: data.lower.includes(v) ? "asc" : "desc"};
    }));
    board.parentNode.insertBefore(box, board);
  }
  function selector(name, options, none, mark, set) {
    const label = document.createElement("label");
    label.textContent = name + " ";
    const select = document.createElement("select");
    select.name = name;
    mark(select);
    select.add(new Option(none, ""));
    options.forEach(o => select.add(new Option(o, o)));
    select.addEventListener("change", () => { set(select.value); update(); });
    label.appendChild(select);
    return label;
  }
  [...board.tBodies[0].rows].forEach((row, i) => {
    row.dataset.cell = data.cells[i].cell;
    row.addEventListener("click", () => { state.cell = state.cell === row.dataset.cell ? "" : row.dataset.cell; update(); });
  });
  tables.forEach((table, index) => {
    [...table.tHead.rows[0].cells].forEach(th => th.addEventListener("click", () => {
      const same = state.sort && state.sort.table === index && state.sort.column === th.textContent;
      state.sort = {table: index, column: th.textContent, direction: same && state.sort.direction === "desc" ? "asc" : "desc"};
      update();
    }));
  });
  controls();
  readHash();
  render();
  window.addEventListener("hashchange", () => { readHash(); render(); });
})();
