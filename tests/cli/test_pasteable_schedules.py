"""The schedule line that ``auto`` and ``tune`` print is accepted by ``lrkit schedule``."""

from __future__ import annotations

import json
import textwrap

from ._invoke import run_cli

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
            optimizer=lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9),
            loss_fn=torch.nn.functional.mse_loss, train_data=data, val_data=data,
            batch_size=32, epochs=5, schedule="cosine(warmup_steps=0.1)")
""")


def _line(out: str, prefix: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(prefix))[len(prefix):]


def _schedule_values(capsys, spec: str) -> list[float]:
    code, out, err = run_cli(capsys, "schedule", spec, "--format", "json")
    assert code == 0, err
    return json.loads(out)["lr"]


def test_auto_prints_a_spec_that_lrkit_schedule_accepts(capsys, tmp_path) -> None:
    task = tmp_path / "my_task.py"
    task.write_text(TASK)
    args = ["auto", "--task", f"{task}:make_task", "--budget", "0.6", "--no-curvature",
            "--no-report"]
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    printed = _line(out, "schedule: ").strip()
    assert not printed.startswith("{'")  # not a Python repr
    code, doc_out, err = run_cli(capsys, *args, "--json")
    assert code == 0, err
    spec = json.loads(doc_out)["schedule"]
    assert spec["family"] == "join"  # the warmup is a join: nested pieces must print too
    from lrkit.schedules import from_spec

    expected = from_spec(spec).values(32).tolist()
    assert _schedule_values(capsys, printed)[:32] == expected


def test_tune_prints_a_spec_that_lrkit_schedule_accepts(capsys) -> None:
    code, out, err = run_cli(capsys, "tune", "--task", "breast-cancer-logreg", "--storage",
                             "memory", "--epochs", "1", "--no-progress", "--trials", "2",
                             "--sampler", "random", "--pruner", "none", "--schedule", "cosine",
                             "--warmup", "0.1,0.2")
    assert code == 0, err
    printed = _line(out, "schedule spec: ").strip()
    values = _schedule_values(capsys, printed)
    assert max(values) > 0 and len(values) > 1
