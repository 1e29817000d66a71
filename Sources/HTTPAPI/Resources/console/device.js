// hpmanager console: one heat pump — live values by category, sparklines, history, state timeline, alerts, writes.
"use strict";
HPM.ranges = [{ key: "1h", minutes: 60, label: "1 h" }, { key: "24h", minutes: 1440, label: "24 h" }, { key: "7d", minutes: 10080, label: "7 d" }];

HPM.pages.device = async (view, args, query) => {
  const h = HPM.h;
  const id = args[0];
  const range = HPM.ranges.find((r) => r.key === query.get("range")) || HPM.ranges[0];
  const enc = encodeURIComponent(id);
  const [pump, latest, alerts, display] = await Promise.all([
    HPM.get("/api/heatpumps/" + enc), HPM.get("/api/data/" + enc), HPM.get("/api/alerts?id=" + enc), HPM.get("/api/console"),
  ]);
  const registers = Object.fromEntries(pump.registers.map((r) => [r.name, r]));
  // Registers of groups this device does not poll (config: {groups: [...]}) have no live value:
  // they appear only in the write section's "other registers" chooser.
  const polled = pump.registers.filter((r) => r.polled !== false);
  const unpolled = pump.registers.filter((r) => r.polled === false);
  const values = Object.assign({}, latest.values);
  const now = Date.now() / 1000, from = now - range.minutes * 60;
  const sparkMinutes = (display.sparkline_minutes_per_pump || {})[id] || display.sparkline_minutes || 30;

  // Header and status.
  const state = h("span");
  const status = h("dl.kv");
  const renderStatus = () => {
    state.replaceChildren(HPM.stateBadge(pump.enabled ? pump.state : "disabled"));
    status.replaceChildren(...[
      h("dt", {}, "Model"), h("dd", {}, `${pump.manufacturer} ${pump.model}`),
      h("dt", {}, "Location"), h("dd", {}, pump.location || "–"),
      h("dt", {}, "Last success"), h("dd", { title: HPM.time(pump.last_success) }, HPM.ago(pump.last_success)),
      h("dt", {}, "Errors"), h("dd", {}, String(pump.errors ?? "–")),
      pump.last_error ? [h("dt", {}, "Last error"), h("dd.error", {}, pump.last_error)] : null,
      pump.link ? [h("dt", {}, "Link"), h("dd", {}, `${pump.link} unit ${pump.unit_id ?? ""}`)] : null,
      pump.quarantined && pump.quarantined.length ? [h("dt", {}, "Rejected registers"), h("dd", {}, pump.quarantined.join(", "))] : null].flat().filter(Boolean));
  };
  renderStatus();
  const rangeNav = h("div.seg", { role: "group", "aria-label": "Time range" }, HPM.ranges.map((r) =>
    h("button", { type: "button", "aria-pressed": String(r.key === range.key),
      onclick: () => { location.hash = `#/device/${enc}?range=${r.key}`; } }, r.label)));
  view.append(h("p", {}, h("a", { href: "#/" }, "← Fleet")),
    h("h1", {}, pump.name, " ", state), h("div.card", {}, status));

  // Derived metrics (COP where the model has the inputs): only the series the model declares.
  const derived = pump.derived || [];
  const derivedCells = {};
  if (derived.length) {
    const list = h("dl.kv");
    for (const d of derived) {
      derivedCells[d.name] = h("dd.num", { "data-derived": d.name });
      list.append(h("dt", {}, HPM.derivedLabels[d.name] || d.name), derivedCells[d.name]);
      if (d.value !== undefined && values[d.name] === undefined) values[d.name] = d.value;
    }
    view.append(h("section.card", { "aria-labelledby": "derived-h", id: "derived" }, h("h2", { id: "derived-h" }, "Performance"), list,
      h("p.muted", {}, "COP is shown while the compressor runs outside defrost; starts and run time count since the daemon started.")));
  }
  const renderDerived = () => {
    for (const [name, cell] of Object.entries(derivedCells)) cell.textContent = HPM.formatDerived(name, values[name]);
  };
  renderDerived();
  view.append(rangeNav);

  // Live values grouped by category, each with a sparkline of display.yml's sparkline_minutes.
  const sparkHistory = await HPM.get(`/api/heatpumps/${enc}/history?minutes=${sparkMinutes}`).catch(() => ({ series: {} }));
  const valueCells = {};
  const groups = {};
  for (const r of polled) (groups[HPM.category(r)] = groups[HPM.category(r)] || []).push(r);
  const order = ["Temperatures", "Operating state", "Power and energy", "Flow, pressure and speed", "Setpoints and controls", "Other"];
  const valuesSection = h("section", { "aria-labelledby": "values-h" }, h("h2", { id: "values-h" }, "Live values"));
  for (const name of order.filter((n) => groups[n])) {
    const tbody = h("tbody");
    for (const r of groups[name]) {
      const cellValue = h("td.num", { "data-register": r.name });
      valueCells[r.name] = cellValue;
      tbody.append(h("tr", {}, h("th", { scope: "row" }, r.description || r.name, h("div.muted", {}, r.name)), cellValue,
        h("td", {}, r.data_type === "string" ? null : HPM.sparkline(sparkHistory.series[r.name] || [], r.description || r.name))));
    }
    valuesSection.append(h("div.card", {}, h("h3", {}, name),
      h("div.scroll", {}, h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Register"), h("th", { scope: "col" }, "Value"), h("th", { scope: "col" }, `Last ${sparkMinutes} min`))), tbody))));
  }
  const renderValues = () => {
    for (const [name, cellValue] of Object.entries(valueCells)) {
      const r = registers[name], v = values[name];
      const label = HPM.label(r, v);
      cellValue.textContent = label ? `${label} (${v})` : HPM.formatValue(v, r.unit);
    }
  };
  renderValues();
  view.append(valuesSection);

  // History chart of one chosen register over the range.
  const numeric = polled.filter((r) => r.data_type !== "string");
  const chartBox = h("div");
  const chooser = h("select", { id: "history-register" }, numeric.map((r) => h("option", { value: r.name }, `${r.description || r.name} (${HPM.unit(r.unit) || "–"})`)));
  const firstTemp = numeric.find((r) => HPM.category(r) === "Temperatures");
  if (firstTemp) chooser.value = firstTemp.name;
  const drawHistory = async () => {
    const r = registers[chooser.value];
    if (!r) return;
    try {
      const body = await HPM.get(`/api/heatpumps/${enc}/history?minutes=${range.minutes}&register=${encodeURIComponent(r.name)}`);
      chartBox.replaceChildren(HPM.lineChart([{ name: r.description || r.name, points: body.series[r.name] || [] }],
        { from, to: Date.now() / 1000, unit: HPM.unit(r.unit), title: `${r.name} over ${range.label}` }));
    } catch (err) { chartBox.replaceChildren(HPM.error(err)); }
  };
  chooser.addEventListener("change", drawHistory);
  view.append(h("section.card", { "aria-labelledby": "history-h" }, h("h2", { id: "history-h" }, `History (${range.label})`),
    h("label", { for: "history-register" }, "Register"), chooser, chartBox));
  drawHistory();

  // Operating-state timeline: each enum/bool register's values over the range; the last change of each.
  const stateRegisters = polled.filter((r) => r.enum_values || r.data_type === "bool");
  const timelineBox = h("section.card", { "aria-labelledby": "timeline-h" }, h("h2", { id: "timeline-h" }, `Operating states (${range.label})`));
  view.append(timelineBox);
  if (stateRegisters.length) {
    const hours = Math.max(1, Math.round(range.minutes / 60));
    const [changes, ...histories] = await Promise.all([
      HPM.get(`/api/heatpumps/${enc}/state-changes?hours=${hours}`).catch(() => ({ changes: [] })),
      ...stateRegisters.slice(0, 6).map((r) => HPM.get(`/api/heatpumps/${enc}/history?minutes=${range.minutes}&register=${encodeURIComponent(r.name)}`).catch(() => ({ series: {} }))),
    ]);
    stateRegisters.slice(0, 6).forEach((r, i) => {
      const points = histories[i].series[r.name] || [];
      timelineBox.append(h("h3", {}, r.description || r.name),
        points.length ? HPM.timeline(points, (v) => HPM.label(r, v), from, Date.now() / 1000, r.name) : h("p.muted", {}, "no data in this range"));
    });
    timelineBox.append(h("h3", {}, "Last change of each state"), h("div.scroll", {}, h("table", {},
      h("thead", {}, h("tr", {}, ["State", "Changed", "From", "To"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, changes.changes.map((c) => h("tr", {}, h("td", {}, (registers[c.register] || {}).description || c.register),
        h("td", {}, HPM.time(c.at)), h("td", {}, c.from_label || (c.from ?? "–")), h("td", {}, c.to_label || c.to)))))));
  } else {
    timelineBox.append(h("p.muted", {}, "This model has no enum or boolean registers."));
  }

  // Alerts.
  const active = alerts.alerts.filter((a) => !a.resolved_at), past = alerts.alerts.filter((a) => a.resolved_at);
  const alertTable = (list) => list.length ? h("div.scroll", {}, h("table", {},
    h("thead", {}, h("tr", {}, ["Rule", "Severity", "Raised", "Resolved", "Message"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, list.map((a) => h("tr", {}, h("td", {}, a.rule), h("td", {}, a.severity), h("td", {}, HPM.time(a.raised_at)),
      h("td", {}, HPM.time(a.resolved_at)), h("td", {}, a.message)))))) : h("p.muted", {}, "none");
  view.append(h("section.card", { "aria-labelledby": "alerts-h" }, h("h2", { id: "alerts-h" }, "Alerts"),
    h("h3", {}, `Active (${active.length})`), alertTable(active), h("h3", {}, `Past (${past.length})`), alertTable(past)));

  // A write form per writable register.
  const writable = polled.filter((r) => r.writable);
  const otherWritable = unpolled.filter((r) => r.writable);
  const writes = h("section.card", { "aria-labelledby": "writes-h" }, h("h2", { id: "writes-h" }, "Write"));
  if (!writable.length && !otherWritable.length) writes.append(h("p.muted", {}, "This model has no writable registers."));
  for (const r of writable) writes.append(HPM.writeForm(id, r, () => values[r.name]));
  if (otherWritable.length) {
    // Hundreds of parameters (NIBE's service groups): one chooser and one form, not a form each.
    const slot = h("div", { id: "other-write" });
    const pick = h("select", { id: "other-register" }, otherWritable.map((r) => h("option", { value: r.name }, `${r.description || r.name} (${r.group || "–"})`)));
    const show = () => { slot.replaceChildren(HPM.writeForm(id, registers[pick.value], () => undefined)); };
    pick.addEventListener("change", show);
    writes.append(h("h3", {}, `Other registers (${otherWritable.length}, in groups this device does not poll)`),
      h("label", {}, "Register ", pick), slot);
    show();
  }
  view.append(writes);

  const stop = HPM.onLive((event, ev) => {
    if (ev.id !== id) return;
    pump.state = ev.state; pump.up = ev.up;
    if (event === "poll" && ev.up && Object.keys(ev.values || {}).length) {
      // Derived series absent from a poll (COP while off or defrosting) are no longer current.
      for (const name of Object.keys(derivedCells)) if (!(name in ev.values)) delete values[name];
      Object.assign(values, ev.values); pump.last_success = ev.timestamp; renderValues(); renderDerived();
    }
    if (event === "state" && ev.last_error) pump.last_error = ev.last_error;
    renderStatus();
  });
  return stop;
};

HPM.derivedLabels = {
  cop: "COP now", scop_day: "SCOP today", scop_month: "SCOP this month", scop_season: "SCOP this season",
  compressor_starts_total: "Compressor starts", compressor_runtime_seconds_total: "Compressor run time",
  short_cycling: "Short-cycling", defrost_active: "Defrost",
};

/// A derived value for people: COP with two decimals, run time in h/min, flags as words; "–" when absent.
HPM.formatDerived = (name, v) => {
  if (v === undefined || v === null) return "–";
  if (name === "short_cycling") return v ? "yes" : "no";
  if (name === "defrost_active") return v ? "running" : "no";
  if (name === "compressor_runtime_seconds_total") return v >= 3600 ? `${Math.floor(v / 3600)} h ${Math.round((v % 3600) / 60)} min` : `${Math.round(v / 60)} min`;
  if (name === "compressor_starts_total") return String(v);
  return v.toFixed(2);
};

/// A form writing one register: the input fits its type and range; the result (or the API's
/// message, e.g. 409 eeprom_budget or 422 out_of_range) is announced in the form's output.
HPM.writeForm = (id, r, current) => {
  const h = HPM.h;
  const inputID = "write-" + r.name.replace(/[^A-Za-z0-9_-]/g, "_");
  let input;
  if (r.enum_values) {
    input = h("select", { id: inputID, name: "value" }, Object.entries(r.enum_values).map(([v, label]) => h("option", { value: v }, `${label} (${v})`)));
  } else if (r.data_type === "bool") {
    input = h("select", { id: inputID, name: "value" }, h("option", { value: "true" }, "on"), h("option", { value: "false" }, "off"));
  } else if (r.data_type === "string") {
    input = h("input", { id: inputID, name: "value", type: "text", required: true });
  } else {
    input = h("input", { id: inputID, name: "value", type: "number", step: "any", required: true, inputmode: "decimal",
      min: r.min ?? undefined, max: r.max ?? undefined });
  }
  const now = current();
  if (now !== undefined && now !== null) input.value = typeof now === "boolean" ? String(now) : String(now);
  const range = r.min !== undefined && r.min !== null || r.max !== undefined && r.max !== null ? `range ${r.min ?? "–"} … ${r.max ?? "–"} ${HPM.unit(r.unit)}` : "";
  const hints = [range, r.eeprom ? "stored in EEPROM: writes count against the daily EEPROM budget" : "", r.access === "write" ? "write-only" : ""].filter(Boolean);
  const output = h("output", { for: inputID, "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "Write");
  const form = h("form.write", { "data-register": r.name, "aria-label": "Write " + (r.description || r.name) },
    h("label", { for: inputID }, `${r.description || r.name} (${r.name})${HPM.unit(r.unit) ? " in " + HPM.unit(r.unit) : ""}`), input, button,
    hints.length ? h("span.hint", {}, hints.join(" · ")) : null, output);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!form.reportValidity()) return;
    const raw = input.value;
    const value = input.type === "number" || r.enum_values ? Number(raw) : raw === "true" ? true : raw === "false" ? false : raw;
    button.disabled = true;
    output.className = "";
    output.textContent = "writing…";
    try {
      const res = await HPM.api("POST", "/api/control/" + encodeURIComponent(id), { sensor: r.name, value });
      output.className = res.verified ? "success" : "";
      output.textContent = `${res.outcome}: wrote ${HPM.formatValue(res.requested, r.unit)}` +
        (res.read_back !== undefined && res.read_back !== null ? `, read back ${HPM.formatValue(res.read_back, r.unit)}` : "") +
        (res.previous !== undefined && res.previous !== null ? ` (was ${HPM.formatValue(res.previous, r.unit)})` : "");
      form.dataset.result = res.outcome;
    } catch (err) {
      output.className = "error";
      output.textContent = (err.code === "eeprom_budget" ? "EEPROM budget: " : "") + err.message;
      form.dataset.result = err.code || "error";
    } finally {
      button.disabled = false;
    }
  });
  return form;
};
