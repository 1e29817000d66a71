// hpmanager console: the fleet page — every heat pump, filters, live updates over SSE.
"use strict";
HPM.pages.fleet = async (view, _args, query) => {
  const h = HPM.h;
  const [pumps, data, alerts, display] = await Promise.all([
    HPM.get("/api/heatpumps"), HPM.get("/api/data/all"), HPM.get("/api/alerts?active=true"), HPM.get("/api/console"),
  ]);
  const models = {};
  await Promise.all([...new Set(pumps.map((p) => p.model))].map(async (m) => {
    try { models[m] = await HPM.registers(m); } catch (_) { models[m] = {}; }
  }));
  const byID = Object.fromEntries(pumps.map((p) => [p.id, p]));
  const values = Object.assign({}, data);
  const alertCount = {};
  for (const a of alerts.alerts) alertCount[a.heatpump_id] = (alertCount[a.heatpump_id] || 0) + 1;

  // Key values: display.yml's visible_fields, else the first three numeric readable registers.
  const keyFields = (p) => {
    const listed = display.visible_fields && display.visible_fields[p.id];
    if (listed && listed.length) return listed.slice(0, 4);
    return Object.values(models[p.model] || {}).filter((r) => r.polled !== false && !r.enum_values && r.data_type !== "bool" && r.data_type !== "string" && r.unit)
      .slice(0, 3).map((r) => r.name);
  };

  const options = (key) => [...new Set(pumps.map((p) => p[key]).filter(Boolean))].sort();
  const select = (name, label, list) => h("label", {}, label, " ",
    h("select", { name, "aria-controls": "fleet-table" }, h("option", { value: "" }, "all"),
      list.map((v) => h("option", { value: v, selected: query.get(name) === v }, v))));
  const filters = h("form.filters", { role: "search", "aria-label": "Filter heat pumps" },
    select("location", "Building / location", options("location")),
    select("manufacturer", "Manufacturer", options("manufacturer")),
    h("label", {}, "Search ", h("input", { name: "q", type: "search", value: query.get("q") || "", placeholder: "name or id" })));
  const summary = h("p.muted", { id: "fleet-summary", "aria-live": "polite" });
  const tbody = h("tbody");
  const table = h("table", { id: "fleet-table" },
    h("caption.muted", {}, "Heat pumps; values update live"),
    h("thead", {}, h("tr", {}, ["Heat pump", "Location", "Model", "State", "Last success", "Errors", "Alerts", "Key values"].map((t) => h("th", { scope: "col" }, t)))),
    tbody);
  view.append(h("h1", {}, "Fleet"), filters, summary, h("div.scroll", {}, table));

  const cell = {};
  const keyText = (p) => keyFields(p).map((f) => {
    const r = (models[p.model] || {})[f];
    const v = (values[p.id] || {})[f];
    return (r && r.description ? r.description : f) + ": " + (HPM.label(r, v) || HPM.formatValue(v, r && r.unit));
  }).join(" · ");

  const renderRow = (p) => {
    const c = cell[p.id];
    c.state.replaceChildren(HPM.stateBadge(p.enabled ? p.state : "disabled"));
    c.row.dataset.state = p.enabled ? p.state : "disabled";
    c.row.dataset.up = String(!!p.up);
    c.last.textContent = HPM.ago(p.last_success);
    c.last.title = HPM.time(p.last_success);
    c.errors.textContent = p.errors === undefined || p.errors === null ? "–" : String(p.errors);
    c.alerts.replaceChildren(alertCount[p.id] ? h("span.alerts-badge", {}, alertCount[p.id] + " active") : h("span.muted", {}, "none"));
    c.values.textContent = keyText(p);
  };

  for (const p of pumps) {
    const row = h("tr", { "data-id": p.id });
    cell[p.id] = { row, state: h("td"), last: h("td"), errors: h("td.num"), alerts: h("td"), values: h("td") };
    row.append(h("th", { scope: "row" }, h("a", { href: "#/device/" + encodeURIComponent(p.id) }, p.name), h("div.muted", {}, p.id)),
      h("td", {}, p.location || "–"), h("td", {}, p.manufacturer || "", " ", h("span.muted", {}, p.model)),
      cell[p.id].state, cell[p.id].last, cell[p.id].errors, cell[p.id].alerts, cell[p.id].values);
    tbody.append(row);
    renderRow(p);
  }

  const applyFilters = () => {
    const f = new FormData(filters);
    const loc = f.get("location"), man = f.get("manufacturer"), q = String(f.get("q") || "").toLowerCase();
    let shown = 0, up = 0;
    for (const p of pumps) {
      const visible = (!loc || p.location === loc) && (!man || p.manufacturer === man) &&
        (!q || p.id.toLowerCase().includes(q) || p.name.toLowerCase().includes(q));
      cell[p.id].row.hidden = !visible;
      if (visible) { shown++; if (p.up) up++; }
    }
    summary.textContent = `${shown} of ${pumps.length} heat pumps shown, ${up} up`;
    const params = new URLSearchParams();
    for (const k of ["location", "manufacturer", "q"]) if (f.get(k)) params.set(k, f.get(k));
    history.replaceState(null, "", "#/" + (params.toString() ? "?" + params : ""));
  };
  filters.addEventListener("input", applyFilters);
  filters.addEventListener("submit", (ev) => ev.preventDefault());
  applyFilters();

  const stop = HPM.onLive((event, ev) => {
    const p = byID[ev.id];
    if (!p) return;
    if (event === "poll") {
      p.state = ev.state; p.up = ev.up;
      if (ev.up && Object.keys(ev.values || {}).length) { values[p.id] = ev.values; p.last_success = ev.timestamp; }
    } else if (event === "state") {
      p.state = ev.state; p.up = ev.up;
      if (ev.last_error) p.last_error = ev.last_error;
    }
    renderRow(p);
    applyFilters();
  });
  // Counters (errors, new devices, alerts) are not in the stream: refresh them at display.yml's refresh_interval.
  const timer = setInterval(async () => {
    try {
      const [fresh, active] = await Promise.all([HPM.get("/api/heatpumps"), HPM.get("/api/alerts?active=true")]);
      if (fresh.some((p) => !byID[p.id]) || fresh.length !== pumps.length) { HPM.route(); return; }
      for (const k in alertCount) delete alertCount[k];
      for (const a of active.alerts) alertCount[a.heatpump_id] = (alertCount[a.heatpump_id] || 0) + 1;
      for (const f of fresh) { Object.assign(byID[f.id], f); renderRow(byID[f.id]); }
      applyFilters();
    } catch (_) { /* the live indicator shows the daemon is away */ }
  }, Math.max(5, display.refresh_interval || 10) * 1000);
  return () => { stop(); clearInterval(timer); };
};
