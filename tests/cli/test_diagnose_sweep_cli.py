"""``lrkit diagnose PATH PATH ...`` and ``--sweep``: real TensorBoard runs written by
torch's SummaryWriter, the JSON document, and the one-line refusals (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ._invoke import run_cli

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"


def _tensorboard_runs(root: Path, lrs: list[float]) -> list[Path]:
    """Train one small regression net per LR (same seed) and log it with SummaryWriter."""
    import torch
    from torch.utils.tensorboard import SummaryWriter

    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 8, generator=g)
    y = x @ torch.randn(8, 1, generator=g) + 0.1 * torch.randn(256, 1, generator=g)
    folders = []
    for lr in lrs:
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(),
                                    torch.nn.Linear(16, 1))
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        folder = root / f"lr{lr:g}"
        writer = SummaryWriter(str(folder))
        for step in range(120):
            batch = slice((step * 32) % 256, (step * 32) % 256 + 32)
            loss = torch.nn.functional.mse_loss(model(x[batch]), y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            writer.add_scalar("train/loss", loss.item(), step)
            writer.add_scalar("train/lr", lr, step)
        writer.close()
        folders.append(folder)
    return folders


def test_tensorboard_runs_through_the_cli(capsys, tmp_path):
    lrs = [0.001, 0.03, 0.3]
    folders = _tensorboard_runs(tmp_path, lrs)
    code, out, _ = run_cli(capsys, "diagnose", *folders, "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["kind"] == "sweep" and doc["metric"] == "train/loss"
    assert [r["lr"] for r in doc["runs"]] == pytest.approx(lrs)
    # the best is the run whose logged loss ends lowest (read back independently)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tails = []
    for folder in folders:
        acc = EventAccumulator(str(folder))
        acc.Reload()
        values = [e.value for e in acc.Scalars("train/loss")]
        tails.append(float(np.mean(values[-12:])))
    assert doc["best_lr"] == pytest.approx(lrs[int(np.argmin(tails))])
    assert [r["final"] for r in doc["runs"]] == pytest.approx(tails, rel=1e-5)
    # the readable report names every run
    code, out, _ = run_cli(capsys, "diagnose", *folders)
    assert code == 0 and "sweep of 3 runs" in out and "lr0.03" in out
    # the folder that holds the three runs, with --sweep: the same sweep
    code, out, _ = run_cli(capsys, "diagnose", tmp_path, "--sweep", "--json")
    assert code == 0
    whole = json.loads(out)
    assert [r["lr"] for r in whole["runs"]] == pytest.approx(lrs)
    assert whole["best_lr"] == doc["best_lr"]
    assert [r["verdict"] for r in whole["runs"]] == [r["verdict"] for r in doc["runs"]]


@pytest.mark.parametrize("extra,needle", [
    (["--lr", "0.1"], "--lr = 0.1: not with a sweep"),
    (["--run", "x"], "--run = x: not with a sweep"),
    (["--plot", "out.png"], "--plot = out.png: not with a sweep"),
])
def test_one_run_options_are_refused_for_a_sweep(capsys, extra, needle):
    store = LOGS / "mlflow" / "mlflow.db"
    code, _, err = run_cli(capsys, "diagnose", store, "--sweep", *extra)
    assert code == 2 and needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_sweep_without_logged_lrs_exits_2(capsys):
    code, _, err = run_cli(capsys, "diagnose", LOGS / "wandb" / "wandb_export.csv", "--sweep")
    assert code == 2 and "records no learning rate" in err and "--lr" in err


def test_a_log_with_one_run_is_not_a_sweep(capsys):
    code, _, err = run_cli(capsys, "diagnose", LOGS / "plain" / "log.csv", "--sweep")
    assert code == 2 and "at least two runs" in err


def test_a_metric_the_runs_lack_is_refused_not_ignored(capsys, tmp_path):
    # a sweep must not quietly compare the training loss when asked for another curve
    for lr in (0.01, 0.1):
        rows = "".join(f"{s},{1.0 + 0.99 ** s},{lr}\n" for s in range(50))
        (tmp_path / f"lr{lr}.csv").write_text("step,loss,lr\n" + rows)
    code, _, err = run_cli(capsys, "diagnose", tmp_path / "lr0.01.csv",
                           tmp_path / "lr0.1.csv", "--metric", "bleu")
    assert code == 2 and "metric = 'bleu'" in err and len(err.strip().splitlines()) == 1
