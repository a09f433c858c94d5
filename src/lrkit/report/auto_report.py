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
from lrkit.report._mpl import pyplot, save_figure
from lrkit.schedules import from_spec, horizon

__all__ = ["write_report"]


def _candidates_figure(rec: Recommendation, path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    cmap = plt.get_cmap("viridis")
    lrs = sorted({t.lr for t in rec.trials})
    for trial in rec.trials:
        color = cmap(lrs.index(trial.lr) / max(len(lrs) - 1, 1))
        losses = [v if math.isfinite(v) else np.nan for v in trial.val_losses]
        x = np.linspace(trial.steps / max(len(losses), 1), trial.steps, len(losses))
        ax.plot(x, losses, marker="o", color=color, linestyle="-" if trial.rung else "--",
                label=f"{trial.lr:.3g} (rung {trial.rung})")
    ax.set_xlabel("updates (compressed schedule)")
    ax.set_ylabel("validation loss")
    ax.set_title("search candidates (dashed: first rung, solid: second)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    save_figure(fig, path)


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


def write_report(rec: Recommendation, folder: str | Path) -> Path:
    """Write the report for ``rec`` into ``folder`` (created if missing); return index.html.

    Raises:
        ConfigError: ``folder`` cannot be created (a file in its path, no permission).
    """
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"--report = '{out}': cannot create the folder "
                          f"({err.strerror}); pass a folder path you can write to") from None
    figures: list[tuple[str, str]] = []
    if rec.range_test is not None:
        from lrkit.rangetest import RangeTestResult

        RangeTestResult.from_dict(rec.range_test).plot(out / "range_test.png")
        figures.append(("range_test.png", "Range test: loss against LR"))
    if rec.trials:
        _candidates_figure(rec, out / "candidates.png")
        figures.append(("candidates.png", "Search: the candidates' validation curves"))
    _schedule_figure(rec, out / "schedule.png")
    figures.append(("schedule.png", "The recommended schedule"))
    regret = ("not measured: every candidate diverged" if rec.measured is None
              else rec.measured.summary())
    body: dict[str, Any] = {
        "title": html.escape(f"lrkit auto: {rec.task}"),
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


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 860px; margin: 2em auto;
       padding: 0 1em; color: #222; }}
.big {{ font-size: 1.6em; }} table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .4em; text-align: left;
          vertical-align: top; }}
img {{ max-width: 100%; }} code {{ background: #f4f4f4; padding: .1em .3em; }}
</style></head><body>
<h1>{title}</h1>
<p class="big">Train with peak LR <b>{lr}</b> ({warmup} warmup updates).</p>
<p>How close it is: {regret}. Cost of finding it: {cost} training runs.</p>
{notes}
<h2>Stages</h2>
<table><tr><th>stage</th><th>finding</th><th>cost (runs)</th></tr>
{stages}
</table>
{figures}
<h2>Schedule spec</h2><p><code>{spec}</code></p>
</body></html>
"""
