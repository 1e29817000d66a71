// hpmanager console: the add-device wizard — model and setup text, connection and templates, test read, save.
"use strict";
HPM.pages.add = async (view) => {
  const h = HPM.h;
  const models = await HPM.get("/api/models");
  const manufacturers = [...new Set(models.map((m) => m.manufacturer || "Other"))].sort();

  const manufacturer = h("select", { id: "wiz-manufacturer", name: "manufacturer", required: true },
    h("option", { value: "" }, "choose…"), manufacturers.map((m) => h("option", { value: m }, m)));
  const model = h("select", { id: "wiz-model", name: "model", required: true, disabled: true }, h("option", { value: "" }, "choose a manufacturer first"));
  const setup = h("div", { id: "wiz-setup", "aria-live": "polite" });
  const templatesBox = h("div", { id: "wiz-templates" });
  const field = (name, label, attrs) => h("label", {}, label, h("input", Object.assign({ name, id: "wiz-" + name }, attrs)));
  const result = h("div", { id: "wiz-result", "aria-live": "polite" });
  const saved = h("div", { id: "wiz-saved", "aria-live": "polite" });

  const chosen = () => models.find((m) => m.name === model.value);
  manufacturer.addEventListener("change", () => {
    const list = models.filter((m) => (m.manufacturer || "Other") === manufacturer.value);
    model.replaceChildren(h("option", { value: "" }, "choose…"), ...list.map((m) => h("option", { value: m.name }, `${m.name} — ${m.description}`)));
    model.disabled = !list.length;
    if (list.length === 1) { model.value = list[0].name; model.dispatchEvent(new Event("change")); } else showModel();
  });
  const showModel = () => {
    const m = chosen();
    setup.replaceChildren();
    templatesBox.replaceChildren();
    if (!m) return;
    setup.append(h("p", {}, `${m.registers} registers`, m.source !== "builtin" ? ` (from ${m.source})` : ""),
      m.setup ? h("pre.setup", {}, m.setup) : h("p.muted", {}, "No setup notes for this model; Modbus TCP usually listens on port 502, unit id 1."));
    for (const t of m.templates || []) {
      templatesBox.append(h("fieldset", { "data-template": t.key }, h("legend", {}, `${t.label} (${t.registers} registers each)`),
        h("div.checks", {}, t.instances.map((inst) => h("label.inline", {},
          h("input", { type: "checkbox", name: "tpl-" + t.key, value: inst, checked: (t.default || []).includes(inst) }), inst)))));
    }
  };
  model.addEventListener("change", showModel);

  const form = h("form", { id: "wizard", novalidate: false },
    h("fieldset", {}, h("legend", {}, "1. Manufacturer and model"),
      h("div.fields", {}, h("label", { for: "wiz-manufacturer" }, "Manufacturer", manufacturer), h("label", { for: "wiz-model" }, "Model", model)), setup),
    h("fieldset", {}, h("legend", {}, "2. Connection"),
      h("div.fields", {},
        field("name", "Name", { required: true, placeholder: "Plant room 1", autocomplete: "off" }),
        field("id", "Id (optional)", { pattern: "[A-Za-z0-9_.\\-]{1,64}", placeholder: "from the name" }),
        field("location", "Building / location", { placeholder: "Basement" }),
        field("host", "Host", { required: true, placeholder: "192.0.2.10", autocomplete: "off" }),
        field("port", "Port", { type: "number", min: 1, max: 65535, value: "502", required: true }),
        field("unit_id", "Unit id", { type: "number", min: 0, max: 255, value: "1", required: true }),
        field("poll_interval", "Poll interval (s, optional)", { type: "number", min: 1, step: "any" })),
      templatesBox),
    h("fieldset", {}, h("legend", {}, "3. Test read"),
      h("p.muted", {}, "Reads every register once on a connection of its own; nothing is saved."),
      h("button.secondary", { type: "button", id: "wiz-test" }, "Run test read"), result),
    h("fieldset", {}, h("legend", {}, "4. Save"),
      h("button", { type: "submit", id: "wiz-save" }, "Save heat pump"), saved));
  view.append(h("h1", {}, "Add a heat pump"), form);

  const body = () => {
    const f = new FormData(form);
    const b = {
      name: String(f.get("name") || "").trim(), manufacturer: manufacturer.value || undefined, model: model.value,
      location: String(f.get("location") || "").trim() || undefined,
      connection: { host: String(f.get("host") || "").trim(), port: Number(f.get("port")), unit_id: Number(f.get("unit_id")) },
    };
    if (f.get("id")) b.id = String(f.get("id")).trim();
    if (f.get("poll_interval")) b.poll_interval = Number(f.get("poll_interval"));
    const config = {};
    for (const t of (chosen() || {}).templates || []) {
      const picked = f.getAll("tpl-" + t.key).map(String);
      config[t.key] = t.key === "zones" ? picked.map(Number) : picked;
    }
    if (Object.keys(config).length) b.config = config;
    return b;
  };

  document.getElementById("wiz-test").addEventListener("click", async (ev) => {
    if (!form.reportValidity()) return;
    const button = ev.currentTarget;
    button.disabled = true;
    result.replaceChildren(h("p", {}, "reading…"));
    try {
      const b = body();
      const [test, regs] = await Promise.all([HPM.api("POST", "/api/test", b), HPM.registers(b.model)]);
      const rejected = new Set(test.rejected);
      result.dataset.values = String(test.values.length);
      result.replaceChildren(
        h("p.success", {}, `${test.values.length} values in ${test.requests} requests, ${test.duration.toFixed(2)} s` +
          (test.rejected.length ? `; ${test.rejected.length} registers rejected by the device` : "")),
        h("div.scroll", {}, h("table", { id: "wiz-values" },
          h("thead", {}, h("tr", {}, ["Register", "Value", "Note"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {},
            test.values.map((v) => {
              const r = regs[v.register];
              return h("tr", { "data-register": v.register }, h("th", { scope: "row" }, (r && r.description) || v.register, h("div.muted", {}, v.register)),
                h("td.num", {}, v.label ? `${v.label} (${v.value})` : HPM.formatValue(v.value, r && r.unit)), h("td", {}, ""));
            }),
            [...rejected].map((name) => h("tr", { "data-register": name, "data-rejected": "true" },
              h("th", { scope: "row" }, ((regs[name] || {}).description) || name, h("div.muted", {}, name)), h("td.num", {}, "–"),
              h("td.error", {}, "rejected (Illegal Data Address): quarantined, retried rarely")))))));
    } catch (err) {
      result.replaceChildren(HPM.error(err));
    } finally {
      button.disabled = false;
    }
  });

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!form.reportValidity()) return;
    const button = document.getElementById("wiz-save");
    button.disabled = true;
    try {
      const res = await HPM.api("POST", "/api/heatpumps", body());
      saved.replaceChildren(h("p.success", {}, "Saved as ", h("a", { href: "#/device/" + encodeURIComponent(res.id), id: "wiz-saved-link" }, res.id),
        "; it is polled now."));
      saved.dataset.id = res.id;
    } catch (err) {
      saved.replaceChildren(HPM.error(err));
    } finally {
      button.disabled = false;
    }
  });
};
