// Diagnose page: upload a log -> /api/diagnose -> findings above the plotted curves.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const LOSS = new Set(["train_loss", "val_loss"]);
  let lastFile = null;

  function tooLarge(file, max) {
    return `file = '${file.name}': larger than the ${+(max / 1048576).toFixed(2)} MB upload limit; ` +
      "upload a smaller log (export fewer metrics or a subset of steps), or run `lrkit diagnose` on it locally";
  }

  async function submit(event, sweep) {
    event.preventDefault();
    const input = $("file");
    const files = Array.from(input.files);
    const file = files[0];
    if (!file) { lrkit.showError($("error"), "file: missing; choose the log file to upload"); return; }
    const max = Number(input.dataset.maxBytes);
    const big = files.find((f) => f.size > max);
    if (big) { lrkit.showError($("error"), tooLarge(big, max)); return; }
    if (file !== lastFile) {  // a new log: forget the previous one's runs
      lastFile = file;
      $("run-name").innerHTML = "";
      $("run-field").classList.add("hidden");
    }
    const form = new FormData();
    files.forEach((f) => form.append("file", f, f.name));
    const metric = $("metric").value.trim();
    if (metric) form.append("metric", metric);
    if (sweep || files.length > 1) {  // every run of the logs, each by the LR it logged
      form.append("sweep", "1");
    } else {
      const lr = $("lr").value.trim();
      if (lr) form.append("lr", lr);
      if ($("run-name").value) form.append("run", $("run-name").value);
    }
    $("submit").disabled = true;
    $("submit").textContent = "Reading…";
    document.body.dataset.state = "busy";
    let result;
    try {
      const response = await fetch("/api/diagnose", {method: "POST", body: form});
      result = await lrkit.decode(response);
    } catch (err) {
      result = {ok: false, data: {detail: "cannot reach the lrkit server; is `lrkit serve` still running?"}};
    } finally {
      $("submit").disabled = false;
      $("submit").textContent = "Diagnose";
    }
    if (!result.ok) {
      lrkit.showError($("error"), result.data.detail);
      $("results").classList.add("hidden");
      $("chart-card").classList.add("hidden");
      document.body.dataset.state = "error";
      return;
    }
    lrkit.showError($("error"), "");
    await render(result.data);
  }

  function text(tag, content, cls) {
    const el = document.createElement(tag);
    el.textContent = content;
    if (cls) el.className = cls;
    return el;
  }

  function measurement(value) {
    if (typeof value === "number") return lrkit.fmt(value);
    return String(value);
  }

  function labelled(label, value, cls) {
    const p = document.createElement("p");
    p.appendChild(text("strong", `${label}: `));
    const span = text("span", value, cls);
    p.appendChild(span);
    return [p, span];
  }

  function renderFindings(findings) {
    const box = $("findings");
    box.innerHTML = "";
    if (!findings.length) {
      box.appendChild(text("p", "No problem found in this run.", "ok"));
      return;
    }
    findings.forEach((f) => {
      const card = document.createElement("article");
      card.className = `finding severity-${f.severity}`;
      card.dataset.kind = f.kind;
      const h = text("h3", f.title || f.kind);
      h.appendChild(text("span", f.severity, "badge"));
      card.appendChild(h);
      if (f.cause) card.appendChild(labelled("Why", f.cause)[0]);
      if (f.action) card.appendChild(labelled("Do", f.action)[0]);
      if (f.suggested_lr !== null && f.suggested_lr !== undefined) {
        const [p, span] = labelled("Suggested LR", lrkit.fmt(f.suggested_lr), "suggested-lr");
        span.dataset.value = String(f.suggested_lr);
        card.appendChild(p);
      }
      if (f.suggested_schedule) {
        const [p, span] = labelled("Suggested schedule", "");
        const link = document.createElement("code");
        link.textContent = f.suggested_schedule;
        span.appendChild(link);
        card.appendChild(p);
      }
      const named = Object.entries(f.evidence || {})
        .filter(([k, v]) => !["steps", "values"].includes(k) && !Array.isArray(v) && v !== null && typeof v !== "object");
      if (named.length) {
        card.appendChild(text("p", "Evidence: " + named.map(([k, v]) => `${k.replace(/_/g, " ")} ${measurement(v)}`).join(" · "), "note"));
      }
      box.appendChild(card);
    });
  }

  function curveName(c) { return c.run ? `${c.name} (${c.run})` : c.name; }

  // finding markers: the evidence points on the diagnosed curve, and a line at the onset
  function findingTraces(doc, onX2) {
    const SEV = {critical: "#b3261e", warning: "#8a5a00", info: "#2457c5"};
    return (doc.findings || []).filter((f) => f.evidence && Array.isArray(f.evidence.steps)
        && Array.isArray(f.evidence.values) && f.evidence.steps.length)
      .map((f) => Object.assign({
        x: f.evidence.steps, y: f.evidence.values, mode: "markers", name: `⚠ ${f.kind.replace(/_/g, " ")}`,
        marker: {size: 10, symbol: "circle-open", line: {width: 2}, color: SEV[f.severity] || "#495057"},
        hovertemplate: `${f.title}<extra></extra>`,
      }, onX2 ? {xaxis: "x2"} : {}));
  }

  const VERDICT_COLOR = {too_high: "#b3261e", too_low: "#2457c5", ok: "#1b7f3b"};

  // a sweep: one row per run, by LR, and the final loss against the LR
  async function renderSweep(doc) {
    $("r-file").textContent = doc.file;
    $("r-format").textContent = `sweep of ${doc.runs.length} runs · ${doc.metric}`;
    $("r-lr").textContent = lrkit.fmt(doc.suggested_lr);
    $("r-lr").dataset.value = String(doc.suggested_lr);
    $("r-convergence").textContent = "–";
    $("r-convergence").dataset.value = "null";
    $("r-summary").textContent = doc.summary;
    $("r-summary").className = "verdict ok";
    const box = $("findings");
    box.innerHTML = "";
    const table = document.createElement("table");
    table.id = "sweep-table";
    table.className = "rules";
    const head = table.createTHead().insertRow();
    ["run", "LR", "final", "vs best", "verdict", "judged by"].forEach((h) => head.appendChild(text("th", h)));
    const body = table.createTBody();
    doc.runs.forEach((r) => {
      const row = body.insertRow();
      row.dataset.verdict = r.verdict;
      const vs = r.lr === doc.best_lr ? "best" : r.gap === null ? "diverged" : `+${Math.round(100 * r.gap)}%`;
      [r.name, lrkit.fmt(r.lr), r.final === null ? "diverged" : lrkit.fmt(r.final), vs,
       r.verdict.replace(/_/g, " "), r.basis].forEach((v) => row.appendChild(text("td", v)));
    });
    box.appendChild(table);
    const notes = $("notes");
    notes.innerHTML = "";
    (doc.notes || []).forEach((n) => notes.appendChild(text("li", n)));
    $("results").classList.remove("hidden");
    const finite = doc.runs.filter((r) => r.final !== null);
    $("chart-card").classList.toggle("hidden", !finite.length);
    if (finite.length) {
      await lrkit.plot($("chart"), [{
        x: finite.map((r) => r.lr), y: finite.map((r) => r.final), name: `final ${doc.metric}`,
        mode: "lines+markers", text: finite.map((r) => r.name),
        marker: {size: 11, color: finite.map((r) => VERDICT_COLOR[r.verdict] || "#495057")},
      }], {xTitle: "peak learning rate", yTitle: `final ${doc.metric}`});
      await Plotly.relayout($("chart"), {"xaxis.type": "log", hovermode: "closest"});
      $("sampled").classList.add("hidden");
    }
    document.body.dataset.state = "ready";
  }

  async function render(doc) {
    if (doc.kind === "sweep") return renderSweep(doc);
    $("r-file").textContent = doc.file;
    $("r-format").textContent = `${doc.format} · ${doc.metric}`;
    const lr = doc.suggested_lr;
    $("r-lr").textContent = lr === null || lr === undefined ? "–" : lrkit.fmt(lr);
    $("r-lr").dataset.value = String(lr);
    const conv = doc.estimated_convergence_epoch;
    $("r-convergence").textContent = conv === null || conv === undefined ? "–" : lrkit.fmt(conv);
    $("r-convergence").dataset.value = String(conv);
    const summary = $("r-summary");
    summary.textContent = doc.summary;
    summary.className = `verdict ${doc.verdict === "ok" && (doc.findings || []).some((f) => f.severity !== "info") ? "schedule" : doc.verdict}`;
    renderFindings(doc.findings || []);
    const notes = $("notes");
    notes.innerHTML = "";
    (doc.notes || []).forEach((n) => notes.appendChild(text("li", n)));
    if (doc.check_lr !== null && doc.check_lr !== undefined) {
      // one curve says less than two: name the run that would check this verdict
      const check = text("li", `To check this verdict, train once more at LR ${lrkit.fmt(doc.check_lr)} and upload both logs together (choose both files): a run judged beside one a decade away is right far more often than alone.`);
      check.id = "check-lr";
      check.dataset.value = String(doc.check_lr);
      notes.appendChild(check);
    }
    const runs = doc.runs || [];
    if (runs.length > 1 && !$("run-name").options.length) {
      runs.forEach((r) => { const o = document.createElement("option"); o.value = r; o.textContent = r; $("run-name").appendChild(o); });
      $("run-field").classList.remove("hidden");
    }
    if (runs.length > 1) $("run-name").value = doc.run;
    $("results").classList.remove("hidden");

    const curves = doc.curves || [];
    $("chart-card").classList.toggle("hidden", !curves.length);
    if (curves.length) await renderChart(doc, curves);
    document.body.dataset.state = "ready";
  }

  async function renderChart(doc, curves) {
    const hasStep = curves.some((c) => c.axis === "step");
    const hasEpoch = curves.some((c) => c.axis === "epoch");
    const both = hasStep && hasEpoch;
    const metricCurve = curves.find((c) => c.name === doc.metric) || curves[0];
    const traces = curves.map((c) => {
      const t = {x: c.x, y: c.y, name: curveName(c), connectgaps: false};
      if (c.kind === "lr") { t.yaxis = "y2"; t.line = {dash: "dot", width: 2}; }
      if (c.axis === "epoch" && both) t.xaxis = "x2";
      if (!LOSS.has(c.kind) && c.kind !== "lr") t.visible = "legendonly";
      if (c.name === doc.metric) t.line = Object.assign({width: 3}, t.line || {});
      return t;
    });
    traces.push(...findingTraces(doc, metricCurve.axis === "epoch" && both));
    const hasLr = curves.some((c) => c.kind === "lr");
    await lrkit.plot($("chart"), traces, {xTitle: hasStep ? "step" : "epoch", yTitle: doc.metric});
    const relayout = {showlegend: true, "margin.r": hasLr ? 64 : 12};
    if (hasLr) {
      // linear: a schedule that decays to 0 has no place on a log axis
      relayout.yaxis2 = {title: {text: "learning rate"}, overlaying: "y", side: "right",
                         tickformat: ".3~g", tickmode: "auto", rangemode: "tozero", showgrid: false,
                         automargin: true};
    }
    if (both) {
      relayout.xaxis2 = {title: {text: "epoch"}, overlaying: "x", side: "top", showgrid: false};
      relayout["margin.t"] = 40;
    }
    await Plotly.relayout($("chart"), relayout);
    const sampled = curves.filter((c) => c.downsampled);
    $("sampled").textContent = sampled.length
      ? `Long curves drawn from ${sampled[0].x.length.toLocaleString("en")} of their ${sampled[0].points.toLocaleString("en")} points.`
      : "";
    $("sampled").classList.toggle("hidden", !sampled.length);
  }

  $("form").addEventListener("submit", (event) => submit(event, false));
  $("sweep").addEventListener("click", (event) => submit(event, true));
  $("file").addEventListener("change", () => { if ($("file").files.length) $("form").requestSubmit(); });
  $("run-name").addEventListener("change", () => $("form").requestSubmit());
})();
