// Calculator page: form -> /api/calc -> results panel, schedule chart and rules table.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("form");
  const fields = JSON.parse($("fields").textContent);
  let controller = null;

  // The form's values as CalcInput fields; empty optional inputs are left out (default).
  function values() {
    const out = {};
    const problems = [];
    for (const f of fields) {
      const el = form.elements[f.name];
      if (!el) continue;
      const raw = f.kind === "bool" ? "" : el.value.trim();
      let v;
      if (f.kind === "bool") {
        if (el.checked === Boolean(f.default)) continue;
        v = el.checked;
      } else if (f.kind === "int" || f.kind === "float") {
        if (el.validity && el.validity.badInput) {
          problems.push(`${f.flag}: not a number; type digits, e.g. ${f.kind === "int" ? "256" : "0.1"}`);
          continue;
        }
        if (raw === "") { if (f.optional) continue; v = null; } else v = Number(raw);
      } else if (f.kind === "pairs") {
        if (raw === "") continue;
        const parsed = parsePairs(raw, f);
        if (typeof parsed === "string") { problems.push(parsed); continue; }
        v = parsed;
      } else {
        if (raw === "") { if (f.optional) continue; v = null; } else v = raw;
      }
      out[f.name] = v;
    }
    return {body: out, problem: problems[0]};
  }

  // "epoch, loss" (or just "loss") per line -> [[epoch, loss], ...] or [loss, ...]
  function parsePairs(text, f) {
    const rows = [];
    const lines = text.split(/\n/).map((l) => l.trim()).filter((l) => l !== "");
    for (let i = 0; i < lines.length; i++) {
      const cells = lines[i].split(/[\s,;]+/).filter((c) => c !== "").map(Number);
      if (!cells.length || cells.length > 2 || cells.some((c) => !Number.isFinite(c))) {
        return `${f.flag} line ${i + 1} = '${lines[i]}': not numbers; write 'epoch, loss' or 'loss' on each line`;
      }
      rows.push(cells.length === 2 ? cells : cells[0]);
    }
    return rows;
  }

  function cliLine(body) {
    const parts = ["lrkit calc"];
    for (const f of fields) {
      if (!(f.name in body) || f.kind === "pairs") continue;
      const v = body[f.name];
      if (f.kind === "bool") { parts.push(v ? f.flag : `--no-${f.flag.slice(2)}`); continue; }
      if (v === null || v === f.default) continue;
      parts.push(`${f.flag} ${/^[\w.+%-]+$/.test(String(v)) ? v : JSON.stringify(String(v))}`);
    }
    if ("loss_history" in body) parts.push("--loss-history LOSSES.csv");
    return parts.join(" ");
  }

  function show(key, value) {
    const dd = document.querySelector(`#results dd[data-key="${key}"]`);
    if (!dd) return;
    dd.textContent = typeof value === "number" ? lrkit.fmt(value)
      : (value === null || value === undefined ? "–" : String(value));
    dd.dataset.value = value === undefined ? "" : JSON.stringify(value);
  }

  function ruleRow(rule) {
    const r = typeof rule === "string" ? {id: rule} : rule;
    const tr = document.createElement("tr");
    const id = document.createElement("td");
    id.textContent = r.title || r.id || "";
    if (r.id) { const c = document.createElement("div"); c.className = "note"; c.textContent = r.id; id.appendChild(c); }
    const what = document.createElement("td");
    what.textContent = r.detail || r.formula || "";
    const src = document.createElement("td");
    src.textContent = r.source || "";
    tr.append(id, what, src);
    return tr;
  }

  async function run() {
    const {body, problem} = values();
    $("cli-line").textContent = cliLine(body);
    if (problem) { lrkit.showError($("error"), problem); return; }
    if (controller) controller.abort();
    controller = new AbortController();
    let result;
    try { result = await lrkit.post("/api/calc", body, controller.signal); }
    catch (err) { return; }  // superseded by a newer request
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    if (!result.ok) {
      lrkit.showError($("error"), result.data.detail);
      // the message starts with the JSON field it is about (batch_size = 0: ...)
      const m = /^(?:--)?([\w-]+)/.exec(result.data.detail || "");
      const el = m && form.elements[m[1].replace(/-/g, "_")];
      if (el && el.setAttribute) el.setAttribute("aria-invalid", "true");
      document.body.dataset.state = "error";
      return;
    }
    lrkit.showError($("error"), "");
    const doc = result.data;
    for (const key of ["initial_lr", "final_lr", "decay_type", "optimizer", "warmup_steps",
                       "estimated_convergence_epoch"]) show(key, doc[key]);
    if (doc.warmup_steps === null && doc.warmup_epochs !== null && doc.warmup_epochs !== undefined) {
      const dd = document.querySelector('#results dd[data-key="warmup_steps"]');
      dd.textContent = `${lrkit.fmt(doc.warmup_epochs)} epochs`;
    }
    $("reason").textContent = doc.optimizer_reason || "";
    const notes = $("notes");
    notes.innerHTML = "";
    for (const w of (doc.warnings || [])) {
      const li = document.createElement("li"); li.textContent = w; notes.appendChild(li);
    }
    const tbody = $("rules").querySelector("tbody");
    tbody.innerHTML = "";
    (doc.rules || []).forEach((r) => tbody.appendChild(ruleRow(r)));
    const sched = doc.schedule || {step: [], lr: []};
    $("chart-card").classList.toggle("hidden", !sched.step.length);
    if (sched.step.length) {
      await lrkit.plot($("chart"), [{x: sched.step, y: sched.lr, name: "recommended"}], {
        xTitle: doc.steps_per_epoch ? `step (${doc.steps_per_epoch} per epoch)` : "step"});
    }
    document.body.dataset.state = "ready";
  }
  const update = lrkit.debounce(run, 200);

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  form.addEventListener("submit", (e) => { e.preventDefault(); run(); });
  run();
})();
