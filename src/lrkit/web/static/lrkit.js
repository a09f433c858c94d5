// Shared helpers for the lrkit pages: JSON calls, number formatting, plotting.
"use strict";
window.lrkit = (function () {
  // POST a JSON body; resolve to {ok, status, data} where data.detail is the one-line error.
  async function post(path, body, signal) {
    let response;
    try {
      response = await fetch(path, {
        method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify(body), signal,
      });
    } catch (err) {
      if (err.name === "AbortError") throw err;
      return {ok: false, status: 0, data: {detail: "cannot reach the lrkit server; is `lrkit serve` still running?"}};
    }
    return decode(response);
  }

  async function decode(response) {
    let data;
    try { data = await response.json(); } catch (err) { data = {detail: `server answered ${response.status} without JSON`}; }
    return {ok: response.ok, status: response.status, data};
  }

  // 4 significant digits, no trailing zeros: 0.1, 0.0003162, 1.5e-7, 12000.
  function fmt(x) {
    if (x === null || x === undefined) return "–";
    if (typeof x !== "number") return String(x);
    if (x === 0) return "0";
    return String(parseFloat(x.toPrecision(4)));
  }

  function debounce(fn, ms) {
    let timer = null;
    return function (...args) { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  }

  const COLORS = ["#2457c5", "#d9480f", "#2b8a3e", "#862e9c", "#c2255c", "#0b7285", "#5c940d", "#495057"];

  // Draw (or redraw in place) a line chart; returns a promise resolved once plotted.
  function plot(el, traces, opts) {
    opts = opts || {};
    const narrow = el.clientWidth < 500;
    // the legend sits under the x-axis title, with room for its rows below the plot
    const named = traces.filter((t) => t.showlegend !== false).length;
    const rows = traces.length > 1 ? (narrow ? named : Math.ceil(named / 3)) : 0;
    const bottom = 56 + 22 * rows;
    const plotHeight = Math.max(80, (el.clientHeight || 360) - 12 - bottom);
    const layout = {
      margin: {l: narrow ? 52 : 64, r: 12, t: 12, b: bottom},
      xaxis: {title: {text: opts.xTitle || "step"}, zeroline: false, automargin: true},
      yaxis: {title: {text: opts.yTitle || "learning rate"}, type: opts.log ? "log" : "linear",
              exponentformat: "e", zeroline: false, automargin: true},
      legend: {orientation: "h", x: 0, xanchor: "left", y: -56 / plotHeight, yanchor: "top"},
      showlegend: traces.length > 1,
      hovermode: "x unified", paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff",
      font: {family: "system-ui, sans-serif", size: 12},
      shapes: opts.shapes || [], annotations: opts.annotations || [],
    };
    const data = traces.map((t, i) => {
      const line = {width: 2, color: COLORS[i % COLORS.length]};
      return Object.assign({type: "scatter", mode: "lines"}, t, {line: Object.assign(line, t.line || {})});
    });
    return Plotly.react(el, data, layout, {responsive: true, displaylogo: false,
      modeBarButtonsToRemove: ["lasso2d", "select2d"]});
  }

  function showError(el, message) {
    el.textContent = message || "";
    el.classList.toggle("hidden", !message);
  }

  return {post, decode, fmt, debounce, plot, showError, COLORS};
})();
