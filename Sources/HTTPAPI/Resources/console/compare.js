// hpmanager console: comparison — chosen devices and registers, side by side and overlaid over time.
"use strict";
HPM.pages.compare = async (view, _args, query) => {
  const h = HPM.h;
  const pumps = await HPM.get("/api/heatpumps");
  const picked = new Set((query.get("ids") || pumps.slice(0, 2).map((p) => p.id).join(",")).split(",").filter(Boolean));
  const range = HPM.ranges.find((r) => r.key === query.get("range")) || HPM.ranges[0];
  const models = {};
  await Promise.all([...new Set(pumps.map((p) => p.model))].map(async (m) => { models[m] = await HPM.registers(m).catch(() => ({})); }));
  const chosenPumps = pumps.filter((p) => picked.has(p.id));
  // Registers the chosen devices have in common first, then the rest.
  const counts = {};
  for (const p of chosenPumps) for (const name of Object.keys(models[p.model] || {})) counts[name] = (counts[name] || 0) + 1;
  const candidates = Object.keys(counts).sort((a, b) => counts[b] - counts[a] || a.localeCompare(b));
  const defaultRegs = candidates.filter((n) => counts[n] === chosenPumps.length && /temp/.test(n)).slice(0, 2);
  const regs = new Set((query.get("regs") || defaultRegs.join(",")).split(",").filter(Boolean));

  const form = h("form", { id: "compare-form" },
    h("fieldset", {}, h("legend", {}, "Heat pumps"), h("div.checks", {}, pumps.map((p) =>
      h("label.inline", {}, h("input", { type: "checkbox", name: "ids", value: p.id, checked: picked.has(p.id) }), `${p.name} (${p.location || p.id})`)))),
    h("fieldset", {}, h("legend", {}, "Registers"), candidates.length ? h("div.checks", {}, candidates.map((n) => {
      const r = chosenPumps.map((p) => (models[p.model] || {})[n]).find(Boolean) || {};
      return h("label.inline", {}, h("input", { type: "checkbox", name: "regs", value: n, checked: regs.has(n) }),
        `${r.description || n}${counts[n] < chosenPumps.length ? " (some)" : ""}`);
    })) : h("p.muted", {}, "Choose heat pumps first.")),
    h("label", {}, "Range ", h("select", { name: "range" }, HPM.ranges.map((r) => h("option", { value: r.key, selected: r.key === range.key }, r.label)))),
    h("div.actions", {}, h("button", { type: "submit" }, "Compare")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    location.hash = `#/compare?ids=${f.getAll("ids").map(encodeURIComponent).join(",")}&regs=${f.getAll("regs").map(encodeURIComponent).join(",")}&range=${f.get("range")}`;
  });
  view.append(h("h1", {}, "Compare"), form);
  if (!chosenPumps.length || !regs.size) return;

  const [data, ...histories] = await Promise.all([HPM.get("/api/data/all"),
    ...chosenPumps.map((p) => HPM.get(`/api/heatpumps/${encodeURIComponent(p.id)}/history?minutes=${range.minutes}`).catch(() => ({ series: {} })))]);
  const regList = [...regs];
  const unitOf = (n) => (chosenPumps.map((p) => (models[p.model] || {})[n]).find(Boolean) || {}).unit || "";
  view.append(h("section.card", { "aria-labelledby": "side-h" }, h("h2", { id: "side-h" }, "Side by side (now)"),
    h("div.scroll", {}, h("table", { id: "compare-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Register"), chosenPumps.map((p) => h("th", { scope: "col" }, p.name)))),
      h("tbody", {}, regList.map((n) => h("tr", {}, h("th", { scope: "row" }, n),
        chosenPumps.map((p) => {
          const r = (models[p.model] || {})[n];
          const v = (data[p.id] || {})[n];
          return h("td.num", {}, r ? HPM.label(r, v) || HPM.formatValue(v, r.unit) : "n/a");
        }))))))));
  const from = Date.now() / 1000 - range.minutes * 60;
  const overlays = h("section", { "aria-labelledby": "over-h" }, h("h2", { id: "over-h" }, `Overlaid (${range.label})`));
  for (const n of regList) {
    overlays.append(h("div.card", {}, h("h3", {}, n),
      HPM.lineChart(chosenPumps.map((p, i) => ({ name: p.name, points: histories[i].series[n] || [] })),
        { from, to: Date.now() / 1000, unit: HPM.unit(unitOf(n)), title: n, legend: true })));
  }
  view.append(overlays);
};
