"""The auto HTML report: what was tuned, code that runs, the LR marked, a true legend."""

from __future__ import annotations

import html
import re
import textwrap
import warnings
from typing import Any

import numpy as np
import pytest
import torch

from lrkit.schedules import from_spec

TASK = textwrap.dedent("""
    import torch
    from torch.utils.data import TensorDataset

    import lrkit

    def make_task():
        g = torch.Generator().manual_seed(0)
        x = torch.randn(2048, 4, generator=g)
        y = x @ torch.tensor([[1.0], [-2.0], [0.5], [0.0]])
        data = TensorDataset(x, y)
        return lrkit.Task(
            "tiny-regression", model=lambda: torch.nn.Linear(4, 1),
            optimizer=lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9,
                                                    weight_decay=1e-4),
            loss_fn=torch.nn.functional.mse_loss, train_data=data, val_data=data,
            batch_size=32, epochs=5, schedule="cosine(warmup_steps=0.1)")
""")


@pytest.fixture(scope="module")
def report(tmp_path_factory: Any) -> tuple[Any, str, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("auto")
    (folder / "my_task.py").write_text(TASK)
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "lrkit", "auto", "--task", f"{folder / 'my_task.py'}:make_task",
         "--budget", "0.6", "--report", str(folder / "report"), "--json"],
        capture_output=True, text=True, timeout=300, check=True)
    doc = json.loads(out.stdout)
    return folder / "report", (folder / "report" / "index.html").read_text(), doc


def _pre(page: str, name: str) -> str:
    match = re.search(rf'<pre id="{name}"><code>(.*?)</code></pre>', page, flags=re.S)
    assert match, page
    return html.unescape(match.group(1))


def _run(code: str, n: int) -> np.ndarray:
    torch.manual_seed(0)
    namespace: dict[str, Any] = {"torch": torch, "model": torch.nn.Linear(4, 1)}
    exec(code.replace("# optimizer = ", "optimizer = "), namespace)
    opt, sched = namespace["optimizer"], namespace["scheduler"]
    rates = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n):
            rates.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
    return np.asarray(rates)


def test_the_report_says_what_was_tuned(report) -> None:
    _, page, _ = report
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    text = " ".join(text.split())
    assert "What was tuned" in text
    assert "Linear, 5 parameters" in text
    assert "SGD, momentum=0.9, weight_decay=0.0001" in text
    assert "2,048 training / 2,048 validation examples, batch 32" in text
    assert "5 epochs = 320 updates, schedule cosine(warmup_steps=0.1)" in text


def test_the_three_lines_and_the_native_code_run_the_recommended_schedule(report) -> None:
    _, page, doc = report
    lines = _pre(page, "code")
    assert len(lines.splitlines()) == 3 and "momentum=0.9" in lines
    want = from_spec(doc["schedule"]).values(320)
    np.testing.assert_allclose(_run(lines, 320), want, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(_run(_pre(page, "native"), 320), want, rtol=1e-9, atol=1e-15)


def test_the_range_test_plot_marks_the_recommended_lr(monkeypatch, tmp_path) -> None:
    from lrkit.rangetest import RangeTestResult
    from lrkit.report import rangetest_plot

    lrs = np.logspace(-5, 0, 40)
    x = np.log10(lrs)
    res = RangeTestResult.from_curves([(lrs, 1 - np.tanh(x + 3) + np.exp(3 * x))],
                                      stop_reasons=["diverged"])
    seen: dict[str, Any] = {}
    monkeypatch.setattr(rangetest_plot, "save_figure",
                        lambda fig, path: seen.setdefault("fig", fig) and path)
    rangetest_plot.plot_range_test(res, tmp_path / "rt.png", marks=[(0.0123, "recommended")])
    ax = seen["fig"].axes[0]
    red = [line for line in ax.get_lines() if line.get_label() == "recommended"]
    assert len(red) == 1 and red[0].get_xdata()[0] == pytest.approx(0.0123)
    assert "recommended" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_the_candidates_legend_matches_how_rungs_are_drawn() -> None:
    from lrkit.auto.pipeline import Recommendation
    from lrkit.auto.search import Trial
    from lrkit.report.auto_report import _candidates_axes

    def trial(lr: float, rung: int, losses: list[float]) -> Trial:
        return Trial(lr=lr, rung=rung, steps=10 * len(losses), val_losses=tuple(losses),
                     loss=losses[-1], cost_runs=0.1)

    trials = (trial(0.01, 0, [1.0]), trial(0.1, 0, [0.8]), trial(0.1, 1, [0.8, 0.5]))
    rec = Recommendation(task="t", lr=0.1, schedule={"family": "constant", "base_lr": 0.1},
                         warmup_steps=0, cost_runs=1.0, stages=(), trials=trials)
    ax = _candidates_axes(rec).axes[0]
    lines = ax.get_lines()
    assert [ln.get_linestyle() for ln in lines] == ["--", "--", "-"]
    assert [ln.get_markerfacecolor() == "none" for ln in lines] == [True, True, False]
    assert "open circles, dashed: rung 0" in ax.get_title()
