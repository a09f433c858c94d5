"""The HTML report of ``lrkit auto``: range-test curve, candidates' learning curves, schedule.

``write_report(rec, folder)`` writes ``index.html`` and three PNG figures into ``folder``;
every file is written atomically, ``index.html`` last, so a half-written report never
has an index.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import numpy as np

from lrkit._io import write_atomic
from lrkit.auto.pipeline import Recommendation
from lrkit.errors import ConfigError
from lrkit.report._html import html_head
from lrkit.report._mpl import pyplot, save_figure
from lrkit.schedules import from_spec, horizon

__all__ = ["write_report"]


def _candidates_axes(rec: Recommendation) -> Any:
    """The candidates' figure: rung-0 runs as open circles on dashed lines, the others as
    filled circles on solid lines (a short run is often one point, so the marker, not the
    line, has to tell the rungs apart)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    cmap = plt.get_cmap("viridis")
    lrs = sorted({t.lr for t in rec.trials})
    for trial in rec.trials:
        color = cmap(lrs.index(trial.lr) / max(len(lrs) - 1, 1))
        losses = [v if math.isfinite(v) else np.nan for v in trial.val_losses]
        x = np.linspace(trial.steps / max(len(losses), 1), trial.steps, len(losses))
        first = trial.rung == 0
        ax.plot(x, losses, marker="o", color=color, linestyle="--" if first else "-",
                markerfacecolor="none" if first else color,
                label=f"{trial.lr:.3g} (rung {trial.rung})")
    ax.set_xlabel("updates (compressed schedule)")
    ax.set_ylabel("validation loss")
    ax.set_title("search candidates (open circles, dashed: rung 0; "
                 "filled circles, solid: rung 1 and up)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return fig


def _candidates_figure(rec: Recommendation, path: Path) -> None:
    save_figure(_candidates_axes(rec), path)


def describe_task(task: Any, lr: float) -> list[tuple[str, str]]:
    """``(what, value)`` rows that say what was tuned: model, optimizer, data, budget.

    The model and optimizer are built once (seeded, the caller's RNG untouched) to read
    their class, size and settings.
    """
    from lrkit.tasks import seeded_rng

    with seeded_rng(0):
        model = task.model()
        optimizer = task.optimizer(model.parameters(), float(lr))
    params = sum(p.numel() for p in model.parameters())
    group = optimizer.param_groups[0]
    settings = [f"{k}={group[k]:g}" for k in ("momentum", "weight_decay") if group.get(k)]
    if "betas" in group:
        settings.append("betas=({:g},{:g})".format(*group["betas"]))  # no space: see below
    shape = task.schedule if isinstance(task.schedule, str) else (
        task.schedule.get("family", "") if task.schedule else "constant")
    step = "custom forward(model, batch)" if getattr(task, "forward", None) else (
        getattr(task.loss_fn, "__name__", type(task.loss_fn).__name__))
    return [
        ("model", f"{type(model).__name__}, {params:,} parameters"),
        ("optimizer", ", ".join([type(optimizer).__name__, *settings])),
        ("loss", step),
        ("data", f"{len(task.train_data):,} training / {len(task.val_data):,} validation "
                 f"examples, batch {task.batch_size}"),
        ("budget", f"{task.epochs} epochs = {task.total_steps:,} updates, schedule {shape}"),
    ]


def pytorch_lines(rec: Recommendation, optimizer: str = "SGD") -> str:
    """The three lines that use the result in a PyTorch training loop (lrkit at run time).

    ``optimizer`` is the optimizer row of ``describe_task`` ("SGD, momentum=0.9"): its
    class and settings go into the constructor, the recommended LR is added.
    """
    from lrkit.cli._common import compact_spec

    name, *settings = optimizer.split(", ")  # betas=(0.9,0.999) holds no ", "
    args = ", ".join(["model.parameters()", f"lr={rec.lr!r}", *settings])
    return "\n".join([
        "from lrkit.interop import to_torch; from lrkit.schedules import parse",
        f"optimizer = torch.optim.{name}({args})",
        f"scheduler = to_torch(parse({compact_spec(rec.schedule)!r}), optimizer)"
        "  # scheduler.step() after each optimizer.step()"])


def _schedule_figure(rec: Recommendation, path: Path) -> None:
    schedule = from_spec(rec.schedule)
    n = horizon(schedule) or 1000
    t = np.arange(n)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.plot(t, schedule(t), linewidth=1.6)
    ax.set_xlabel("update")
    ax.set_ylabel("learning rate")
    ax.set_title(f"recommended schedule (peak {rec.lr:.3g})")
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def _stage_rows(rec: Recommendation) -> str:
    return "\n".join(
        f"<tr><td>{html.escape(s.name)}</td><td>{html.escape(s.summary)}</td>"
        f"<td>{s.cost_runs:.3f}</td></tr>" for s in rec.stages)


def write_report(rec: Recommendation, folder: str | Path, task: Any = None) -> Path:
    """Write the report for ``rec`` into ``folder`` (created if missing); return index.html.

    ``task`` (the lrkit Task that ``rec`` is for) adds what was tuned: the model, the
    optimizer, the data sizes and the budget, and names the optimizer in the code lines.

    Raises:
        ConfigError: ``folder`` cannot be created (a file in its path, no permission).
    """
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(parameter="folder", value=str(out), flag="--report",
                          rule=f"cannot create the folder ({err.strerror})",
                          fix="pass a folder path you can write to") from None
    figures: list[tuple[str, str]] = []
    if rec.range_test is not None:
        from lrkit.rangetest import RangeTestResult
        from lrkit.report.rangetest_plot import plot_range_test

        # the LR auto recommends is the answer; the range test's own suggestion is one input
        plot_range_test(RangeTestResult.from_dict(rec.range_test), out / "range_test.png",
                        marks=[(rec.lr, f"recommended {rec.lr:.3g}")])
        figures.append(("range_test.png", "Range test: loss against LR, with the "
                                          "recommended LR in red"))
    if rec.trials:
        _candidates_figure(rec, out / "candidates.png")
        figures.append(("candidates.png", "Search: the candidates' validation curves"))
    _schedule_figure(rec, out / "schedule.png")
    figures.append(("schedule.png", "The recommended schedule"))
    regret = ("not measured: every candidate diverged" if rec.measured is None
              else rec.measured.summary())
    rows = [] if task is None else describe_task(task, rec.lr)
    optimizer = rows[1][1] if rows else "SGD"
    from lrkit.interop import snippet
    from lrkit.schedules import from_spec as _spec

    body: dict[str, Any] = {
        "task": ("" if not rows else "<h2>What was tuned</h2><table>" + "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
            + "</table>"),
        "code": html.escape(pytorch_lines(rec, optimizer)),
        "native": html.escape(snippet(_spec(rec.schedule), "torch")),
        "head": html_head(html.escape(f"lrkit auto: {rec.task}"), width=860),
        "lr": f"{rec.lr:.4g}", "regret": html.escape(regret), "cost": f"{rec.cost_runs:.2f}",
        "warmup": rec.warmup_steps, "stages": _stage_rows(rec),
        "figures": "\n".join(f'<figure><img src="{name}" alt="{html.escape(alt)}">'
                             f"<figcaption>{html.escape(alt)}</figcaption></figure>"
                             for name, alt in figures),
        "spec": html.escape(str(rec.schedule)),
        "notes": "".join(f"<p class=\"note\">Note: {html.escape(n)}</p>" for n in rec.notes),
    }
    page = _TEMPLATE.format(**body)
    index = out / "index.html"
    write_atomic(index, page)
    return index


_TEMPLATE = """{head}<p class="big">Train with peak LR <b>{lr}</b> ({warmup} warmup updates).</p>
<p>How close it is: {regret}. Cost of finding it: {cost} training runs.</p>
{notes}
{task}
<h2>Use it in PyTorch</h2>
<pre id="code"><code>{code}</code></pre>
<p>Or without lrkit at run time, with PyTorch's own schedulers:</p>
<pre id="native"><code>{native}</code></pre>
<h2>Stages</h2>
<table><tr><th>stage</th><th>finding</th><th>cost (runs)</th></tr>
{stages}
</table>
{figures}
<h2>Schedule spec</h2><p><code>{spec}</code></p>
</body></html>
"""
