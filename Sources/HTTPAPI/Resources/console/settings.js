// hpmanager console: settings — what the daemon runs with (secrets never shown); the poll interval,
// InfluxDB's destination and batching and the alert rules change live (PUT /api/settings, admin token).
"use strict";
HPM.pages.settings = async (view) => {
  const h = HPM.h;
  const [initial, display] = await Promise.all([HPM.get("/api/settings"), HPM.get("/api/console")]);
  let settings = initial;
  const live = new Set(settings.live);
  const c = settings.collector, i = settings.influxdb;
  const source = (key) => {
    const s = settings.sources[key];
    return s ? h("span.muted", { "data-source": key }, s === "runtime" ? " (changed live)" : " (collector.yml)") : "";
  };
  const input = (key, label, value, attrs) => {
    const name = key.replace(".", "-");
    return h("label", {}, label, source(key), h("input", Object.assign({ name, id: "set-" + name, value: String(value), "data-key": key,
      disabled: live.has(key) ? undefined : "" }, attrs || {})));
  };
  const num = (key, label, value, attrs) => input(key, label, value, Object.assign({ type: "number", step: "any" }, attrs || {}));
  const text = (key, label, value, attrs) => input(key, label, value, Object.assign({ type: "text", autocomplete: "off" }, attrs || {}));
  const output = h("output", { id: "settings-result", "aria-live": "polite" });
  const rules = h("textarea", { id: "set-alerts", name: "alerts", rows: "8", spellcheck: "false", "data-key": "alerts",
    "aria-describedby": "alerts-help", disabled: live.has("alerts") ? undefined : "" });
  rules.value = JSON.stringify(settings.alerts, null, 2);
  const resets = h("div.fields", { id: "settings-resets" });
  const form = h("form", { id: "settings-form", novalidate: "" },
    h("fieldset", {}, h("legend", {}, "Collector"), h("div.fields", {},
      num("collector.poll_interval", "Default poll interval (s)", c.poll_interval, { min: 0.05, max: 86400 }),
      num("collector.batch_size", "InfluxDB batch size", c.batch_size, { min: 1, step: 1 }),
      num("collector.batch_interval", "InfluxDB flush interval (s)", c.batch_interval, { min: 0.01 }))),
    h("fieldset", {}, h("legend", {}, "InfluxDB"), h("dl.kv", {},
      h("dt", {}, "Enabled"), h("dd", {}, i.enabled ? `yes (API v${i.version})` : "no (turning it on needs a restart)"),
      h("dt", {}, "Token"), h("dd", { id: "influx-token" }, i.token_set ? "set (never shown)" : "not set")),
      h("div.fields", {},
        text("influxdb.url", "URL", i.url),
        text("influxdb.org", "Org", i.org), text("influxdb.bucket", "Bucket", i.bucket), text("influxdb.database", "Database (v1)", i.database),
        text("influxdb.token_file", "Token file (path; the token is read from it, never sent here)", i.token_file))),
    h("fieldset", {}, h("legend", {}, "Alert rules"), source("alerts"),
      h("label", { for: "set-alerts" }, "Rules (JSON, as under alerts: in collector.yml)"), rules,
      h("p.muted", { id: "alerts-help" }, "Each rule: name, and one of register with above or below, offline_for, error_rate_above (with window); optional for, hysteresis, severity (info, warning, critical), heatpumps.")),
    resets,
    h("div.actions", {}, h("button", { type: "submit" }, "Apply"), output));
  const controls = () => Array.from(form.querySelectorAll("[data-key]"));
  const renderResets = () => {
    const overridden = Object.keys(settings.overrides || {}).sort();
    resets.replaceChildren(...overridden.map((key) => h("button.secondary", { type: "button", "data-reset": key, onclick: () => apply({ [key]: null }, key) },
      `Use collector.yml's ${key}`)));
  };
  const refresh = (next) => {
    settings = next;
    for (const el of controls()) {
      const key = el.dataset.key;
      if (key === "alerts") el.value = JSON.stringify(settings.alerts, null, 2);
      else {
        const [section, field] = key.split(".");
        el.value = String(settings[section][field]);
      }
    }
    for (const badge of form.querySelectorAll("[data-source]")) {
      const s = settings.sources[badge.dataset.source];
      badge.textContent = s === "runtime" ? " (changed live)" : " (collector.yml)";
    }
    document.getElementById("influx-token").textContent = settings.influxdb.token_set ? "set (never shown)" : "not set";
    renderResets();
  };
  const body = (changes) => {
    const b = {};
    for (const [key, value] of Object.entries(changes)) {
      if (key === "alerts") { b.alerts = value; continue; }
      const [section, field] = key.split(".");
      (b[section] = b[section] || {})[field] = value;
    }
    return b;
  };
  const apply = async (changes, label) => {
    for (const el of controls()) el.removeAttribute("aria-invalid");
    output.className = "";
    output.textContent = "applying…";
    try {
      const res = await HPM.api("PUT", "/api/settings", body(changes));
      refresh(res);
      output.className = "success";
      output.textContent = res.changed && res.changed.length ? "applied: " + res.changed.join(", ") : "nothing changed";
    } catch (err) {
      output.className = "error";
      output.textContent = (err.code ? `[${err.code}] ` : "") + err.message;
      const bad = err.field && form.querySelector(`[data-key="${err.field}"]`);
      if (bad) { bad.setAttribute("aria-invalid", "true"); bad.focus(); }
    }
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const changes = {};
    for (const el of controls()) {
      if (el.disabled) continue;
      const key = el.dataset.key;
      if (key === "alerts") {
        let parsed;
        try { parsed = JSON.parse(el.value); } catch (e) {
          el.setAttribute("aria-invalid", "true");
          output.className = "error";
          output.textContent = "alert rules: not valid JSON (" + e.message + ")";
          return;
        }
        if (JSON.stringify(parsed) !== JSON.stringify(settings.alerts)) changes.alerts = parsed;
        continue;
      }
      const [section, field] = key.split(".");
      const value = el.type === "number" ? (el.value === "" ? el.value : Number(el.value)) : el.value;
      if (value !== settings[section][field]) changes[key] = value;
    }
    apply(changes);
  });
  renderResets();
  const tokens = Object.entries(settings.http.tokens);
  const remembered = localStorage.getItem("hpm_token") ? "remembered in this browser" : sessionStorage.getItem("hpm_token") ? "for this tab only" : "none";
  view.append(h("h1", {}, "Settings"),
    h("p.muted", {}, "Changes apply at once and survive restarts; changing them needs an admin token. A later edit of the same key in collector.yml (then a reload) wins. Settings that cannot change while the daemon runs are refused with the reason."),
    form,
    h("section.card", { "aria-labelledby": "http-h" }, h("h2", { id: "http-h" }, "HTTP"), h("dl.kv", {},
      h("dt", {}, "Listen"), h("dd", {}, settings.http.listen + (settings.http.tls ? " (TLS)" : "")),
      h("dt", {}, "Tokens"), h("dd", {}, tokens.length ? tokens.map(([n, r]) => `${n} (${r})`).join(", ") : "none: loopback clients only"),
      h("dt", {}, "This browser's token"), h("dd", {}, remembered, " ",
        h("button.secondary", { type: "button", onclick: () => HPM.askToken() }, "Set"), " ",
        h("button.secondary", { type: "button", onclick: () => { localStorage.removeItem("hpm_token"); sessionStorage.removeItem("hpm_token"); HPM.route(); } }, "Forget")))),
    h("section.card", { "aria-labelledby": "display-h" }, h("h2", { id: "display-h" }, "Display (display.yml)"), h("dl.kv", {},
      h("dt", {}, "Refresh interval"), h("dd", {}, `${display.refresh_interval} s`),
      h("dt", {}, "Sparklines"), h("dd", {}, `${display.sparkline_minutes} min`),
      h("dt", {}, "Key values"), h("dd", {}, Object.keys(display.visible_fields).length ? Object.entries(display.visible_fields).map(([k, v]) => `${k}: ${v.join(", ")}`).join("; ") : "default (first three numeric registers)"))));
};
