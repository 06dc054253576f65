/* Tiny SVG line charts for the dashboard: time on x, one or more series, optional reference lines. */
(function (global) {
  "use strict";

  const NS = "http://www.w3.org/2000/svg";

  function node(name, attrs, text) {
    const el = document.createElementNS(NS, name);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== undefined && value !== null) el.setAttribute(key, String(value));
    }
    if (text !== undefined) el.textContent = text;
    return el;
  }

  /* Round-number ticks between min and max (about `count` of them). */
  function ticks(min, max, count) {
    const span = max - min;
    if (!(span > 0)) return [min];
    const raw = span / Math.max(1, count);
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(v);
    return out;
  }

  /* UTC clock labels: HH:MM, with seconds when the chart spans only a few minutes. */
  function clock(ts, span) {
    const d = new Date(ts * 1000);
    const parts = [d.getUTCHours(), d.getUTCMinutes()];
    if (span < 300) parts.push(d.getUTCSeconds());
    return parts.map((x) => String(x).padStart(2, "0")).join(":");
  }

  /* UTC date labels for curves over hours and days: MM-DD, with HH:MM under two days. */
  function dateClock(ts, span) {
    const d = new Date(ts * 1000);
    const pad = (x) => String(x).padStart(2, "0");
    const day = pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate());
    return span > 2 * 86400 ? day : day + " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }

  /* Enough decimals to tell neighbouring ticks apart. */
  function decimals(step) {
    return Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  }

  /*
   * opts: {series: [{points: [[t, v], ...], color, width, dashed, dots, area}],
   *        hlines: [{y, color, label}], xMin, xMax, minSpan, yMin, yMax,
   *        yFormat(value, decimals), xFormat(ts, span), zero, empty}
   */
  function lineChart(svg, opts) {
    const width = Math.max(120, svg.clientWidth || 320);
    const height = Math.max(80, svg.clientHeight || 200);
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    while (svg.firstChild) svg.removeChild(svg.firstChild);

    const series = (opts.series || []).filter((s) => s.points && s.points.length);
    const hlines = (opts.hlines || []).filter((h) => Number.isFinite(h.y));
    const m = { left: 52, right: 12, top: 10, bottom: 22 };
    const plotW = width - m.left - m.right;
    const plotH = height - m.top - m.bottom;

    const xs = series.flatMap((s) => s.points.map((p) => p[0]));
    const ys = series.flatMap((s) => s.points.map((p) => p[1])).concat(hlines.map((h) => h.y));
    if (!xs.length && !hlines.length) {
      svg.appendChild(node("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty-text" }, opts.empty || "waiting for data…"));
      return;
    }
    let xMin = opts.xMin ?? Math.min(...xs);
    let xMax = opts.xMax ?? Math.max(...xs);
    if (opts.minSpan && xMax - xMin < opts.minSpan) xMin = xMax - opts.minSpan;
    if (!(xMax > xMin)) { xMin -= 30; xMax += 30; }
    let yMin = opts.yMin ?? Math.min(...ys);
    let yMax = opts.yMax ?? Math.max(...ys);
    if (!(yMax > yMin)) { const pad = Math.abs(yMin) * 0.001 || 1; yMin -= pad; yMax += pad; }
    if (opts.yMin === undefined || opts.yMax === undefined) {
      const pad = (yMax - yMin) * 0.08;
      if (opts.yMin === undefined) yMin -= pad;
      if (opts.yMax === undefined) yMax += pad;
    }
    const X = (t) => m.left + ((t - xMin) / (xMax - xMin)) * plotW;
    const Y = (v) => m.top + (1 - (v - yMin) / (yMax - yMin)) * plotH;
    const yFormat = opts.yFormat || ((v, digits) => v.toFixed(digits));
    const xFormat = opts.xFormat || clock;

    const yTicks = ticks(yMin, yMax, 4);
    const digits = yTicks.length > 1 ? decimals(yTicks[1] - yTicks[0]) : 2;
    for (const v of yTicks) {
      svg.appendChild(node("line", { x1: m.left, x2: width - m.right, y1: Y(v), y2: Y(v), class: "grid-line" }));
      svg.appendChild(node("text", { x: m.left - 6, y: Y(v) + 3, "text-anchor": "end" }, yFormat(v, digits)));
    }
    const xTicks = Math.max(2, Math.floor(plotW / 90));
    for (let i = 0; i <= xTicks; i++) {
      const t = xMin + ((xMax - xMin) * i) / xTicks;
      const anchor = i === 0 ? "start" : i === xTicks ? "end" : "middle";
      svg.appendChild(node("text", { x: X(t), y: height - 6, "text-anchor": anchor }, xFormat(t, xMax - xMin)));
    }
    if (opts.zero && yMin < 0 && yMax > 0) {
      svg.appendChild(node("line", { x1: m.left, x2: width - m.right, y1: Y(0), y2: Y(0), stroke: "#4a556e", "stroke-width": 1 }));
    }
    for (const h of hlines) {
      svg.appendChild(node("line", { x1: m.left, x2: width - m.right, y1: Y(h.y), y2: Y(h.y), stroke: h.color, "stroke-width": 1.5, "stroke-dasharray": "6 4" }));
      if (h.label) {
        svg.appendChild(node("text", { x: width - m.right - 4, y: Y(h.y) - 5, "text-anchor": "end", fill: h.color }, h.label));
      }
    }
    for (const s of series) {
      const pts = s.points.filter((p) => p[0] >= xMin - 1 && p[0] <= xMax + 1);
      if (!pts.length) continue;
      const d = pts.map((p, i) => (i ? "L" : "M") + X(p[0]).toFixed(1) + "," + Y(p[1]).toFixed(1)).join("");
      if (s.area && pts.length > 1) {
        const base = Y(Math.max(yMin, Math.min(yMax, 0)));
        const area = d + `L${X(pts[pts.length - 1][0]).toFixed(1)},${base}L${X(pts[0][0]).toFixed(1)},${base}Z`;
        svg.appendChild(node("path", { d: area, fill: s.color, "fill-opacity": 0.12, stroke: "none" }));
      }
      if (!s.dotsOnly) {
        svg.appendChild(node("path", { d, fill: "none", stroke: s.color, "stroke-width": s.width || 2, "stroke-linejoin": "round", "stroke-dasharray": s.dashed ? "4 3" : null }));
      }
      if (s.dots || s.dotsOnly) {
        for (const p of pts) svg.appendChild(node("circle", { cx: X(p[0]), cy: Y(p[1]), r: 3, fill: s.color }));
      }
      const last = pts[pts.length - 1];
      svg.appendChild(node("circle", { cx: X(last[0]), cy: Y(last[1]), r: 3.5, fill: s.color, stroke: "#0b0f17", "stroke-width": 1.5 }));
    }
  }

  global.Charts = { lineChart, ticks, dateClock };
})(window);
