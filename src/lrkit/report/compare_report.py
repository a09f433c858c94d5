"""The figure and HTML report of ``lrkit compare``, written beside ``lrkit auto``'s.

``write_report(result, folder)`` writes ``compare_curves.png`` (every row's training loss,
validation loss and LR against the update, on one figure) and ``compare.html`` (the table);
``index.html`` stays ``auto``'s. Each file is written atomically, the page last.

>>> callable(write_report)
True
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import numpy as np

from lrkit._io import write_atomic
from lrkit.errors import ConfigError
from lrkit.report._html import html_head
from lrkit.report._mpl import pyplot, save_figure

__all__ = ["curves_figure", "write_report"]


def _mean_curve(runs: tuple[dict[str, Any], ...], key: str, x_key: str) -> tuple[Any, Any]:
    # seeds may stop at different updates (a diverged seed): average where all have values
    series = [(np.asarray(r["curve"][x_key] if x_key in r.get("curve", {}) else r[x_key]),
               np.asarray(r["curve"][key] if key in r.get("curve", {}) else r[key], float))
              for r in runs]
    n = min(len(y) for _, y in series) if series else 0
    if n == 0:
        return np.array([]), np.array([])
    y = np.mean([s[1][:n] for s in series], axis=0)
    return series[0][0][:n], np.where(np.isfinite(y), y, np.nan)


def _smooth(y: Any) -> Any:
    # a moving average over 1/25 of the run: single-batch losses would hide the trend
    width = max(1, len(y) // 25)
    if width == 1 or len(y) == 0:
        return y
    kernel = np.ones(width) / width
    padded = np.concatenate([np.full(width - 1, y[0]), y])
    return np.convolve(padded, kernel, mode="valid")


def curves_figure(result: Any, path: str | Path) -> Path:
    """Loss (training, thin; validation, markers) and LR against the update, every row,
    averaged over the evaluation seeds; loss on a log scale."""
    plt = pyplot()
    fig, (ax_loss, ax_lr) = plt.subplots(2, 1, figsize=(8, 7.5), sharex=True,
                                         gridspec_kw={"height_ratios": [3, 2]})
    cmap = plt.get_cmap("tab10")
    for k, row in enumerate(result.rows):
        color = cmap(k % 10)
        x, y = _mean_curve(row.runs, "loss", "update")
        ax_loss.plot(x, _smooth(y), color=color, linewidth=0.9, alpha=0.55)
        vx, vy = _mean_curve(row.runs, "val_losses", "val_updates")
        label = f"{row.name} (lr {row.lr:.3g}): {row.mean:.4g}" if math.isfinite(row.mean) \
            else f"{row.name} (lr {row.lr:.3g}): diverged"
        ax_loss.plot(vx, vy, color=color, marker="o", markersize=3.5, linewidth=1.6,
                     label=label)
        lx, ly = _mean_curve(row.runs, "lr", "update")
        ax_lr.plot(lx, ly, color=color, linewidth=1.4)
    ax_loss.set_yscale("log")
    ax_loss.set_ylabel("loss (thin: training, smoothed; dots: validation)")
    ax_loss.set_title(f"{result.task}: mean over seeds {', '.join(map(str, result.seeds))}")
    ax_loss.grid(alpha=0.3, which="both")
    ax_loss.legend(fontsize=7)
    ax_lr.set_yscale("log")
    ax_lr.set_xlabel("update")
    ax_lr.set_ylabel("learning rate used")
    ax_lr.grid(alpha=0.3, which="both")
    return save_figure(fig, path)


def _cell(value: float | None, spec: str = ".4g") -> str:
    if value is None:
        return "-"
    if math.isinf(value):
        return "diverged"
    return "nan" if math.isnan(value) else format(value, spec)


def _rows(result: Any) -> str:
    out = []
    for rank, row in enumerate(result.rows, 1):
        verdict = "best" if row.vs_best is None else row.vs_best.verdict()
        losses = ", ".join(_cell(v) for v in row.losses)
        out.append(
            f"<tr><td>{rank}</td><td>{html.escape(row.name)}</td>"
            f"<td>{row.lr:.3g}{' (grid end)' if row.edge else ''}<br><small>"
            f"{html.escape(row.lr_source)}</small></td>"
            f"<td>{_cell(row.mean)} ± {_cell(row.std, '.2g')}<br><small>{losses}</small></td>"
            f"<td>{_cell(row.metric_mean, '.4f')}</td><td>{html.escape(verdict)}</td>"
            f"<td>{row.selection_cost_runs:.2f} + {row.eval_cost_runs:.2f}</td></tr>")
    return "\n".join(out)


def write_report(result: Any, folder: str | Path) -> Path:
    """Write ``compare.html`` and ``compare_curves.png`` into ``folder``; return the page.

    Raises:
        ConfigError: ``folder`` cannot be created.
    """
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(parameter="folder", value=str(out), flag="--report",
                          rule=f"cannot create the folder ({err.strerror})",
                          fix="pass a folder path you can write to") from None
    curves_figure(result, out / "compare_curves.png")
    how = (f"each row's LR chosen by <code>lrkit auto</code> at budget {result.budget:g}"
           if result.mode == "auto" else "each row's LR chosen on a grid of full runs")
    tied = result.tied_with_best()
    page = _TEMPLATE.format(
        head=html_head(html.escape(f"lrkit compare: {result.task}"), width=960),
        best=html.escape(result.best.name), lr=f"{result.best.lr:.3g}",
        tied=html.escape(", ".join(tied) if tied else "none"), how=how,
        select_seed=result.select_seed, seeds=", ".join(map(str, result.seeds)),
        metric=html.escape(result.best.metric_name or "metric"), rows=_rows(result),
        cost=f"{result.cost_runs:.2f}", compute=f"{result.compute_seconds:.1f}",
        wall=f"{result.wall_seconds:.1f}", alpha=f"{result.alpha:g}",
        store=html.escape(result.store))
    index = out / "compare.html"
    write_atomic(index, page)
    return index


_TEMPLATE = """{head}<p class="big">Best: <b>{best}</b> at LR <b>{lr}</b>.
Within seed noise of it: {tied}.</p>
<p>How: {how} (selection seed {select_seed}), then every row trained on seeds {seeds};
rows are ranked by mean final validation loss and compared with the best row by a paired
t-test and a sign test over the seeds (&alpha; = {alpha}).
Cost: {cost} training runs ({compute} s of compute, {wall} s wall). Runs: {store}.</p>
<table><tr><th>#</th><th>entry</th><th>LR</th><th>val loss (per seed)</th>
<th>{metric}</th><th>vs best</th><th>cost: select + eval (runs)</th></tr>
{rows}
</table>
<figure><img src="compare_curves.png" alt="learning curves and LRs of every row">
<figcaption>Loss and LR against the update, mean over seeds.</figcaption></figure>
</body></html>
"""
