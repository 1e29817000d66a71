// hpmanager console: a small SVG chart component (line charts, sparklines, state timelines).
"use strict";
(() => {
  const NS = "http://www.w3.org/2000/svg";
  const s = (tag, attrs, ...children) => {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, v);
    for (const c of children) if (c !== undefined && c !== null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return el;
  };

  /// "Nice" tick values covering [min, max].
  const ticks = (min, max, count) => {
    if (!(max > min)) return [min];
    const raw = (max - min) / Math.max(1, count);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => st >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toFixed(10)));
    return out;
  };

  const timeLabel = (t, span) => {
    const d = new Date(t * 1000);
    if (span > 2 * 86400) return d.toLocaleDateString(undefined, { weekday: "short", day: "numeric" });
    return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  };

  const extent = (series, from, to) => {
    let lo = Infinity, hi = -Infinity, t0 = from, t1 = to;
    for (const serie of series) for (const [t, v] of serie.points) {
      if (v < lo) lo = v; if (v > hi) hi = v;
      if (t0 === undefined || t < t0) t0 = t; if (t1 === undefined || t > t1) t1 = t;
    }
    if (lo === Infinity) { lo = 0; hi = 1; }
    if (lo === hi) { lo -= 1; hi += 1; }
    const pad = (hi - lo) * 0.05;
    return { lo: lo - pad, hi: hi + pad, t0: t0 === undefined ? 0 : t0, t1: t1 === undefined || t1 === t0 ? (t0 || 0) + 1 : t1 };
  };

  const path = (points, x, y) => {
    let d = "";
    points.forEach(([t, v], i) => { d += (i ? "L" : "M") + x(t).toFixed(1) + " " + y(v).toFixed(1); });
    return d;
  };

  /// A line chart: series = [{name, points: [[unix, value], …]}], options {from, to, unit, title, height}.
  HPM.lineChart = (series, options) => {
    const o = options || {};
    const W = 640, H = o.height || 220, L = 48, R = 8, T = 10, B = 24;
    const e = extent(series, o.from, o.to);
    const x = (t) => L + ((t - e.t0) / (e.t1 - e.t0)) * (W - L - R);
    const y = (v) => T + (1 - (v - e.lo) / (e.hi - e.lo)) * (H - T - B);
    const label = (o.title || "Chart") + (series.length ? ": " + series.map((se) => se.name).join(", ") : "");
    const svg = s("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label }, s("title", {}, label));
    for (const v of ticks(e.lo, e.hi, 4)) {
      svg.append(s("line", { class: "axis", x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      svg.append(s("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end" }, HPM.formatValue(v)));
    }
    const span = e.t1 - e.t0, steps = 5;
    for (let i = 0; i <= steps; i++) {
      const t = e.t0 + (span * i) / steps;
      svg.append(s("text", { x: x(t), y: H - 6, "text-anchor": i === 0 ? "start" : i === steps ? "end" : "middle" }, timeLabel(t, span)));
    }
    if (o.unit) svg.append(s("text", { x: 2, y: T + 4 }, o.unit));
    series.forEach((serie, i) => {
      if (!serie.points.length) return;
      svg.append(s("path", { class: "line c" + (i % 8), d: path(serie.points, x, y) }, s("title", {}, serie.name)));
    });
    if (!series.some((se) => se.points.length)) svg.append(s("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no data in this range"));
    const figure = HPM.h("figure.chart", {}, svg);
    if (series.length > 1 || o.legend) {
      figure.append(HPM.h("ul.legend", {}, series.map((se, i) => HPM.h("li", {}, HPM.h("span.swatch.c" + (i % 8)), se.name))));
    }
    return figure;
  };

  /// A sparkline (no axes) of [[unix, value], …].
  HPM.sparkline = (points, name) => {
    const W = 120, H = 28;
    const e = extent([{ points }]);
    const x = (t) => 1 + ((t - e.t0) / (e.t1 - e.t0)) * (W - 2);
    const y = (v) => 2 + (1 - (v - e.lo) / (e.hi - e.lo)) * (H - 4);
    const svg = s("svg", { class: "spark", viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img",
      "aria-label": (name || "trend") + (points.length ? ", last " + HPM.formatValue(points[points.length - 1][1]) : ", no data") });
    if (points.length) svg.append(s("path", { class: "line c0", d: path(points, x, y) }));
    return svg;
  };

  /// An operating-state timeline: coloured segments per value of an enum/bool register, with labels.
  HPM.timeline = (points, labelOf, from, to, name) => {
    const W = 640, H = 44;
    const span = Math.max(1, to - from);
    const x = (t) => ((Math.min(Math.max(t, from), to) - from) / span) * W;
    const values = [...new Set(points.map((p) => p[1]))];
    const svg = s("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": (name || "state") + " timeline" });
    points.forEach(([t, v], i) => {
      const end = i + 1 < points.length ? points[i + 1][0] : to;
      const w = Math.max(0.5, x(end) - x(t));
      svg.append(s("rect", { class: "c" + (values.indexOf(v) % 8), x: x(t), y: 0, width: w, height: 24 },
        s("title", {}, (labelOf(v) || v) + " from " + new Date(t * 1000).toLocaleString())));
    });
    svg.append(s("text", { x: 0, y: H - 4 }, timeLabel(from, span)));
    svg.append(s("text", { x: W, y: H - 4, "text-anchor": "end" }, timeLabel(to, span)));
    const figure = HPM.h("figure.chart", {}, svg);
    figure.append(HPM.h("ul.legend", {}, values.map((v, i) => HPM.h("li", {}, HPM.h("span.swatch.c" + (i % 8)), labelOf(v) || String(v)))));
    return figure;
  };
})();
