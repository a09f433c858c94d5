// Schedule explorer: rows of specs -> /api/schedule -> one chart; import and export.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const rows = $("rows");
  const examples = JSON.parse($("initial").textContent);
  let controller = null;
  let lastCurves = [];

  function addRow(spec, label) {
    const node = $("row-template").content.firstElementChild.cloneNode(true);
    node.querySelector(".spec").value = spec;
    node.querySelector(".label").value = label || `schedule ${rows.children.length + 1}`;
    node.querySelector(".remove").addEventListener("click", () => {
      if (rows.children.length > 1) { node.remove(); refresh(); }
    });
    rows.appendChild(node);
    fit(node.querySelector(".spec"));
    refresh();
  }

  function rowNodes() { return Array.from(rows.children); }

  // grow each spec box to show its whole text
  function fit(area) { area.style.height = "auto"; area.style.height = `${area.scrollHeight + 2}px`; }

  function refresh() {
    const nodes = rowNodes();
    nodes.forEach((node, i) => {
      node.querySelector(".swatch").style.background = lrkit.COLORS[i % lrkit.COLORS.length];
      node.querySelector(".remove").disabled = nodes.length === 1;
    });
    const which = $("exp-which");
    const chosen = which.value;
    which.innerHTML = "";
    nodes.forEach((node, i) => {
      const opt = document.createElement("option");
      opt.value = String(i);
      opt.textContent = node.querySelector(".label").value || `schedule ${i + 1}`;
      which.appendChild(opt);
    });
    if (chosen && Number(chosen) < nodes.length) which.value = chosen;
    $("add").disabled = nodes.length >= 8;
    update();
  }

  async function draw() {
    const nodes = rowNodes();
    nodes.forEach((n) => n.querySelector(".spec").removeAttribute("aria-invalid"));
    const body = {
      schedules: nodes.map((n) => n.querySelector(".spec").value),
      labels: nodes.map((n, i) => n.querySelector(".label").value || `schedule ${i + 1}`),
    };
    const steps = $("steps").value.trim();
    if (steps !== "") body.steps = Number(steps);
    if (controller) controller.abort();
    controller = new AbortController();
    let result;
    try { result = await lrkit.post("/api/schedule", body, controller.signal); }
    catch (err) { return; }  // superseded by a newer request
    if (!result.ok) {
      lrkit.showError($("error"), result.data.detail);
      const m = /^schedules\.(\d+)$/.exec(result.data.field || "");
      if (m && nodes[Number(m[1])]) nodes[Number(m[1])].querySelector(".spec").setAttribute("aria-invalid", "true");
      return;
    }
    lrkit.showError($("error"), "");
    lastCurves = result.data.curves;
    // normalised: each schedule on its own run, 0..1 (a 1,000-step run is not squashed
    // beside a 10,000-step one); a schedule without a total length keeps the shown steps
    const norm = $("normalise").checked;
    const traces = lastCurves.map((c) => {
      if (!norm) return {x: c.step, y: c.lr, name: c.label};
      const length = c.horizon || result.data.steps;
      const keep = c.step.map((s, i) => i).filter((i) => c.step[i] <= length);
      return {x: keep.map((i) => c.step[i] / length), y: keep.map((i) => c.lr[i]), name: c.label};
    });
    await lrkit.plot($("chart"), traces, {log: $("log").checked,
                                          xTitle: norm ? "fraction of the run" : "step"});
    $("chart").dataset.steps = String(result.data.steps);
    const sampled = lastCurves.some((c) => c.downsampled);
    $("sampled").textContent = sampled
      ? `${result.data.steps.toLocaleString("en")} updates, drawn from at most ${lastCurves[0].step.length.toLocaleString("en")} points per curve (each bucket keeps its min and max).`
      : "";
    $("sampled").classList.toggle("hidden", !sampled);
    const tbody = $("stats").querySelector("tbody");
    tbody.innerHTML = "";
    lastCurves.forEach((c, i) => {
      const tr = document.createElement("tr");
      const cells = [c.label, c.max_lr, c.min_lr, c.final_lr];
      cells.forEach((v, j) => {
        const td = document.createElement("td");
        if (j === 0) {
          const sw = document.createElement("span");
          sw.className = "swatch"; sw.style.background = lrkit.COLORS[i % lrkit.COLORS.length];
          sw.style.marginRight = ".4rem"; sw.style.verticalAlign = "middle";
          td.append(sw, document.createTextNode(v));
        } else {
          td.textContent = lrkit.fmt(v); td.dataset.value = String(v); td.className = "num";
        }
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    document.body.dataset.ready = "schedules";
  }
  const update = lrkit.debounce(draw, 200);

  async function importConfig() {
    const body = {framework: $("imp-framework").value, name: $("imp-name").value.trim(),
                  args: $("imp-args").value};
    const result = await lrkit.post("/api/schedule/import", body);
    if (!result.ok) { lrkit.showError($("imp-error"), result.data.detail); return; }
    lrkit.showError($("imp-error"), "");
    const spec = result.data.text || JSON.stringify(result.data.spec);
    addRow(spec, `${body.framework}:${body.name}`);
  }

  async function exportCode() {
    const node = rowNodes()[Number($("exp-which").value || 0)];
    const body = {schedule: node.querySelector(".spec").value, framework: $("exp-framework").value};
    const result = await lrkit.post("/api/schedule/export", body);
    const pre = $("snippet");
    if (!result.ok) {
      lrkit.showError($("exp-error"), result.data.detail);
      pre.classList.add("hidden"); $("copy").disabled = true; return;
    }
    lrkit.showError($("exp-error"), "");
    pre.textContent = result.data.snippet;
    pre.classList.remove("hidden");
    $("copy").disabled = false;
  }

  async function copySnippet() {
    const text = $("snippet").textContent;
    try {
      await navigator.clipboard.writeText(text);
    } catch (err) {  // no clipboard permission: select the text so Ctrl+C works
      const range = document.createRange();
      range.selectNodeContents($("snippet"));
      const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
      $("copied").textContent = "selected, press Ctrl+C";
      return;
    }
    $("copied").textContent = "copied";
    setTimeout(() => { $("copied").textContent = ""; }, 2000);
  }

  $("add").addEventListener("click", () => {
    const sel = $("example");
    addRow(sel.value, sel.options[sel.selectedIndex].textContent);
  });
  $("steps").addEventListener("input", update);
  $("log").addEventListener("change", update);
  $("normalise").addEventListener("change", update);
  $("import").addEventListener("click", importConfig);
  // switching library offers that library's example, unless the user already typed their own
  const importExamples = JSON.parse($("import-examples").textContent);
  let shownExample = importExamples[$("imp-framework").value];
  $("imp-framework").addEventListener("change", () => {
    const untouched = shownExample && $("imp-name").value === shownExample[0]
      && $("imp-args").value === shownExample[1];
    shownExample = importExamples[$("imp-framework").value];
    if (untouched && shownExample) {
      $("imp-name").value = shownExample[0];
      $("imp-args").value = shownExample[1];
    }
  });
  ["imp-framework", "imp-name", "imp-args"].forEach((id) =>
    $(id).addEventListener("input", () => lrkit.showError($("imp-error"), "")));
  $("export").addEventListener("click", exportCode);
  $("copy").addEventListener("click", copySnippet);
  rows.addEventListener("input", (e) => { if (e.target.classList.contains("spec")) fit(e.target); });
  rows.addEventListener("input", lrkit.debounce(refresh, 300));

  addRow(examples["cosine with warmup"], "cosine with warmup");
  addRow(examples["warmup-stable-decay"], "warmup-stable-decay");
})();
