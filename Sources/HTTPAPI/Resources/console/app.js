// hpmanager console: hash routes (#/, #/device/<id>, #/add, #/compare, #/settings) and the live-feed indicator.
"use strict";
(() => {
  const view = document.getElementById("view");
  const live = document.getElementById("live");
  let cleanup = null;

  // One SSE connection for the whole console; pages subscribe to its events.
  const listeners = new Set();
  HPM.onLive = (fn) => { listeners.add(fn); return () => listeners.delete(fn); };
  HPM.stream((event, data) => listeners.forEach((fn) => fn(event, data)), (connected) => {
    live.textContent = connected ? "live" : "offline";
    live.classList.toggle("on", connected);
    document.body.dataset.live = connected ? "on" : "off";
  });

  const parse = () => {
    const hash = location.hash.replace(/^#\/?/, "");
    const [path, query] = hash.split("?");
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    return { page: parts[0] || "fleet", args: parts.slice(1), query: new URLSearchParams(query || "") };
  };

  const route = async () => {
    if (cleanup) { try { cleanup(); } catch (_) { /* page already gone */ } cleanup = null; }
    const { page, args, query } = parse();
    const render = HPM.pages[page] || HPM.pages.fleet;
    for (const a of document.querySelectorAll("nav a[data-nav]")) {
      if (a.dataset.nav === page || (page === "device" && a.dataset.nav === "fleet")) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    view.replaceChildren();
    document.body.dataset.page = page;
    document.body.dataset.ready = "false";
    try {
      cleanup = (await render(view, args, query)) || null;
    } catch (err) {
      view.append(HPM.error(err));
    }
    document.body.dataset.ready = "true";
    const heading = view.querySelector("h1");
    if (heading && document.activeElement === document.body) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
  };
  HPM.route = route;
  window.addEventListener("hashchange", route);

  const dialog = document.getElementById("token-dialog");
  document.getElementById("token-form").addEventListener("submit", (ev) => {
    const form = ev.target;
    if (ev.submitter && ev.submitter.value === "cancel") return;
    const token = form.token.value.trim();
    sessionStorage.setItem("hpm_token", token);
    if (form.remember.checked) localStorage.setItem("hpm_token", token); else localStorage.removeItem("hpm_token");
    form.reset();
    dialog.close();
    route();
  });

  route();
})();
