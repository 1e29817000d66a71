// hpmanager console: the API client, the SSE reader and small DOM helpers. No dependencies.
"use strict";
const HPM = (window.HPM = { pages: {} });

HPM.token = () => sessionStorage.getItem("hpm_token") || localStorage.getItem("hpm_token") || "";

HPM.headers = (extra) => {
  const headers = Object.assign({ Accept: "application/json" }, extra || {});
  const token = HPM.token();
  if (token) headers.Authorization = "Bearer " + token;
  return headers;
};

/// Calls the REST API; rejects with an Error carrying `status` and the API's error `code`.
HPM.api = async (method, path, body) => {
  const init = { method, headers: HPM.headers(body === undefined ? {} : { "Content-Type": "application/json" }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (!res.ok) {
    const err = new Error((data && data.error && data.error.message) || res.status + " " + res.statusText);
    err.status = res.status;
    err.code = data && data.error && data.error.code;
    err.field = data && data.error && data.error.field;
    if (res.status === 401) HPM.askToken();
    throw err;
  }
  return data;
};
HPM.get = (path) => HPM.api("GET", path);

HPM.askToken = () => {
  const dialog = document.getElementById("token-dialog");
  if (!dialog || dialog.open) return;
  dialog.showModal();
};

/// Server-Sent Events over fetch (so the bearer token can be sent). Reconnects after 3 s.
/// Returns a function that stops the stream.
HPM.stream = (onEvent, onStatus) => {
  let stopped = false, controller = null;
  const dispatch = (block) => {
    let event = "message"; const data = [];
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") event = value; else if (field === "data") data.push(value);
    }
    if (!data.length) return;
    let payload;
    try { payload = JSON.parse(data.join("\n")); } catch (_) { return; }
    onEvent(event, payload);
  };
  (async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await fetch("/api/stream", { headers: HPM.headers({ Accept: "text/event-stream" }), signal: controller.signal });
        if (res.status === 401) HPM.askToken();
        if (!res.ok || !res.body) throw new Error("stream " + res.status);
        onStatus(true);
        const reader = res.body.getReader(), decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) { dispatch(buffer.slice(0, end)); buffer = buffer.slice(end + 2); }
        }
      } catch (_) { /* reconnect below */ }
      if (stopped) return;
      onStatus(false);
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
  })();
  return () => { stopped = true; if (controller) controller.abort(); };
};

/// h("tag.class", {attr: value, onclick: fn}, child, …): children are nodes, strings or arrays.
HPM.h = (spec, attrs, ...children) => {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag);
  if (classes.length) el.className = classes.join(" ");
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "text") el.textContent = value;
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  const add = (child) => {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) child.forEach(add);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  };
  children.forEach(add);
  return el;
};

HPM.stateBadge = (state) => HPM.h("span.state.state-" + (state || "unknown"), { "data-state": state || "unknown" }, state || "unknown");

/// Display symbols for the unit names the models use.
HPM.units = { celsius: "°C", kelvin: "K", percent: "%", kwh: "kWh", kw: "kW", w: "W", wh: "Wh", hz: "Hz", hours: "h", "l/min": "l/min", bar: "bar" };
HPM.unit = (unit) => (unit === "enum" || unit === "bitmap" ? "" : HPM.units[(unit || "").toLowerCase()] || unit || "");

HPM.formatValue = (value, unit) => {
  if (value === undefined || value === null) return "–";
  if (typeof value === "number") {
    const text = Number.isInteger(value) ? String(value) : value.toFixed(Math.abs(value) >= 100 ? 1 : 2).replace(/\.?0+$/, "");
    const symbol = HPM.unit(unit);
    return symbol ? text + " " + symbol : text;
  }
  return String(value);
};

HPM.ago = (seconds) => {
  if (!seconds) return "never";
  const d = Date.now() / 1000 - seconds;
  if (d < 60) return Math.max(0, Math.round(d)) + " s ago";
  if (d < 3600) return Math.round(d / 60) + " min ago";
  if (d < 86400) return Math.round(d / 3600) + " h ago";
  return new Date(seconds * 1000).toLocaleString();
};

HPM.time = (seconds) => (seconds ? new Date(seconds * 1000).toLocaleString() : "–");

/// Registers of a model, cached for the page's life: name → register.
HPM.registersCache = {};
HPM.registers = async (model) => {
  if (!HPM.registersCache[model]) {
    const list = await HPM.get("/api/registers/" + encodeURIComponent(model));
    HPM.registersCache[model] = Object.fromEntries(list.map((r) => [r.name, r]));
  }
  return HPM.registersCache[model];
};

/// Label of an enum value, where the register has one.
HPM.label = (register, value) => {
  if (!register || typeof value !== "number") return null;
  if (register.enum_values && register.enum_values[String(value)] !== undefined) return register.enum_values[String(value)];
  if (register.data_type === "bool") return value ? "on" : "off";
  return null;
};

/// A page's category for a register, for grouping live values.
HPM.category = (register) => {
  if (!register) return "Other";
  if (register.writable) return "Setpoints and controls";
  const unit = (register.unit || "").toLowerCase();
  if (register.enum_values || register.data_type === "bool" || unit === "bitmap" || unit === "enum") return "Operating state";
  if (unit.includes("°") || unit === "celsius" || unit === "kelvin" || unit === "k" || /temp/.test(register.name)) return "Temperatures";
  if (/^(m?w|kw|kwh|wh|mwh|a|v|va|kva|%|percent)$/.test(unit) || /power|energy|current|voltage/.test(register.name)) return "Power and energy";
  if (/^(hz|rpm|l\/min|l\/h|m3\/h|bar|kpa|pa)$/.test(unit)) return "Flow, pressure and speed";
  return "Other";
};

HPM.error = (err) => HPM.h("p.error", { role: "alert" }, err && err.message ? err.message : String(err));
