// hpmanager console: settings — what the daemon runs with (secrets never shown), edits applied where live.
"use strict";
HPM.pages.settings = async (view) => {
  const h = HPM.h;
  const [settings, display] = await Promise.all([HPM.get("/api/settings"), HPM.get("/api/console")]);
  const c = settings.collector, i = settings.influxdb;
  const num = (name, label, value, attrs) => h("label", {}, label, h("input", Object.assign({ name, id: "set-" + name, type: "number", step: "any", value: String(value) }, attrs || {})));
  const output = h("output", { id: "settings-result", "aria-live": "polite" });
  const form = h("form", { id: "settings-form" },
    h("fieldset", {}, h("legend", {}, "Collector"), h("div.fields", {},
      num("poll_interval", "Poll interval (s)", c.poll_interval, { min: 0.1 }),
      num("batch_size", "Batch size", c.batch_size, { min: 1, step: 1 }),
      num("batch_interval", "Batch interval (s)", c.batch_interval, { min: 0.1 }))),
    h("fieldset", {}, h("legend", {}, "InfluxDB"), h("dl.kv", {},
      h("dt", {}, "Enabled"), h("dd", {}, i.enabled ? "yes" : "no"),
      h("dt", {}, "URL"), h("dd", {}, i.url || "–"), h("dt", {}, "Org / bucket"), h("dd", {}, `${i.org || "–"} / ${i.bucket || "–"}`),
      h("dt", {}, "Token"), h("dd", {}, i.token_set ? "set (never shown)" : "not set"))),
    h("div.actions", {}, h("button", { type: "submit" }, "Apply"), output));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!form.reportValidity()) return;
    const f = new FormData(form);
    const next = JSON.parse(JSON.stringify(settings));
    next.collector.poll_interval = Number(f.get("poll_interval"));
    next.collector.batch_size = Number(f.get("batch_size"));
    next.collector.batch_interval = Number(f.get("batch_interval"));
    output.className = "";
    output.textContent = "applying…";
    try {
      const res = await HPM.api("PUT", "/api/settings", next);
      Object.assign(settings, res);
      output.className = "success";
      output.textContent = "applied";
    } catch (err) {
      output.className = "error";
      output.textContent = err.message;
    }
  });
  const alerts = settings.alerts.length ? h("div.scroll", {}, h("table", {},
    h("thead", {}, h("tr", {}, ["Rule", "Severity", "Heat pumps"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, settings.alerts.map((a) => h("tr", {}, h("td", {}, a.name), h("td", {}, a.severity), h("td", {}, a.heatpumps.length ? a.heatpumps.join(", ") : "all"))))))
    : h("p.muted", {}, "No alert rules.");
  const tokens = Object.entries(settings.http.tokens);
  const remembered = localStorage.getItem("hpm_token") ? "remembered in this browser" : sessionStorage.getItem("hpm_token") ? "for this tab only" : "none";
  view.append(h("h1", {}, "Settings"),
    h("p.muted", {}, "Settings that cannot change while the daemon runs are refused with the reason; edit collector.yml and restart for those."),
    form,
    h("section.card", { "aria-labelledby": "alerts-h" }, h("h2", { id: "alerts-h" }, "Alert rules"), alerts),
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
