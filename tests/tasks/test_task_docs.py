"""docs/task.md runs as written, and the Task's ``forward`` hook reaches every verb that trains.

Each ``python`` block of the page is written to a file and run: blocks that define
``make_task`` are loaded the way ``--task file.py:make_task`` loads them and put through
``train``, the range test and the curvature measurement.
"""

from __future__ import annotations

import math
import re
import runpy
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from lrkit.curvature import measure_task
from lrkit.errors import ConfigError
from lrkit.rangetest import find
from lrkit.tasks import Task, load_task, train
from lrkit.tasks.data import evaluate, fixed_batches

DOC = Path(__file__).resolve().parents[2] / "docs" / "task.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
TASK_BLOCKS = [b for b in BLOCKS if "def make_task" in b]


def test_the_page_has_the_three_examples_the_issue_asks_for() -> None:
    assert len(TASK_BLOCKS) == 3
    assert sum("forward=" in b for b in TASK_BLOCKS) == 2
    assert any("transformers" in b and "model(**batch).loss" in b for b in TASK_BLOCKS)


@pytest.mark.parametrize("block", range(len(BLOCKS)))
def test_every_block_runs_as_written(block, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / f"block{block}.py"
    path.write_text(BLOCKS[block])
    runpy.run_path(str(path), run_name="__main__")


def _initial_val_loss(task: Task) -> float:
    torch.manual_seed(0)
    model = task.model()
    return evaluate(model, task.loss_fn, fixed_batches(task.val_data, 64), None, task.forward)


@pytest.mark.parametrize("index", range(len(TASK_BLOCKS)))
def test_each_example_task_trains_range_tests_and_measures(index, tmp_path) -> None:
    path = tmp_path / f"example{index}.py"
    path.write_text(TASK_BLOCKS[index])
    task = load_task(f"{path}:make_task")
    start = _initial_val_loss(task)
    lr = 1e-3 if "AdamW" in TASK_BLOCKS[index] or "Adam(" in TASK_BLOCKS[index] else 0.05
    result = train(task, lr=lr, epochs=2)
    assert not result.diverged and result.final_val_loss < start
    sweep = find(task, start_lr=1e-5, end_lr=1.0, steps=15)
    assert sweep.updates >= 5 and math.isfinite(sweep.losses[0])
    report = measure_task(task, n_batches=2, max_hvps=4)
    assert report.sharpness.value > 0 and math.isfinite(report.sharpness.value)


def test_forward_hook_is_what_training_minimises() -> None:
    # the hook's loss, not loss_fn's: a hook that ignores the targets and pulls every
    # output to 5 must end with outputs near 5
    x = torch.randn(64, 3, generator=torch.Generator().manual_seed(0))
    data = torch.utils.data.TensorDataset(x, torch.zeros(64, 1))
    task = Task("pull-to-5", model=lambda: torch.nn.Linear(3, 1),
                optimizer=lambda p, lr: torch.optim.SGD(p, lr=lr), loss_fn=None,
                train_data=data, val_data=data, batch_size=16, epochs=30,
                forward=lambda model, batch: ((model(batch[0]) - 5.0) ** 2).mean())
    result = train(task, lr=0.1)
    assert result.final_val_loss < 0.05


def test_a_task_needs_loss_fn_or_forward() -> None:
    data = torch.utils.data.TensorDataset(torch.zeros(4, 1), torch.zeros(4))
    with pytest.raises(ConfigError, match=r"task\.loss_fn = None: must be callable; pass "
                                          r"loss_fn=\.\.\., or forward="):
        Task("t", model=lambda: torch.nn.Linear(1, 1), optimizer=lambda p, lr: None,
             loss_fn=None, train_data=data, val_data=data, batch_size=2, epochs=1)
    with pytest.raises(ConfigError, match=r"task\.forward = 3: must be callable"):
        Task("t", model=lambda: torch.nn.Linear(1, 1), optimizer=lambda p, lr: None,
             loss_fn=None, train_data=data, val_data=data, batch_size=2, epochs=1,
             forward=3)


def test_a_schedule_too_short_for_its_run_names_the_run() -> None:
    # one full batch, one epoch: a one-cycle schedule has no room for its two phases
    data = torch.utils.data.TensorDataset(torch.zeros(8, 1), torch.zeros(8, 1))
    with pytest.raises(ConfigError, match=r"onecycle\.total_steps = 1: must be >= 2.*"
                                          r"task\.schedule = 'onecycle' on a run of 1 updates: "
                                          r"1 epochs x 1 batches of 8; more epochs, a "
                                          r"smaller batch or another schedule\)$"):
        Task("t", model=lambda: torch.nn.Linear(1, 1), optimizer=lambda p, lr: None,
             loss_fn=torch.nn.functional.mse_loss, train_data=data, val_data=data,
             batch_size=8, epochs=1, schedule="onecycle")


def test_dict_batches_without_a_hook_get_a_one_line_fix() -> None:
    class Dicts(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return 8

        def __getitem__(self, i: int) -> dict:
            return {"x": torch.zeros(2), "y": torch.zeros(1)}

    task = Task("d", model=lambda: torch.nn.Linear(2, 1),
                optimizer=lambda p, lr: torch.optim.SGD(p, lr=lr),
                loss_fn=torch.nn.functional.mse_loss, train_data=Dicts(), val_data=Dicts(),
                batch_size=4, epochs=1)
    with pytest.raises(ConfigError, match="pass forward=lambda model, batch"):
        train(task, lr=0.1)


SIBLING = textwrap.dedent("""
    from helpers_for_task import make_data   # a module beside this file

    import torch
    import lrkit

    def make_task():
        data = make_data()
        return lrkit.Task("sibling", model=lambda: torch.nn.Linear(2, 1),
                          optimizer=lambda p, lr: torch.optim.SGD(p, lr=lr),
                          loss_fn=torch.nn.functional.mse_loss, train_data=data,
                          val_data=data, batch_size=4, epochs=1)
""")


def test_a_task_file_imports_its_sibling_modules(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "helpers_for_task.py").write_text(
        "import torch\n\ndef make_data():\n"
        "    return torch.utils.data.TensorDataset(torch.zeros(8, 2), torch.zeros(8, 1))\n")
    (folder / "my_task.py").write_text(SIBLING)
    monkeypatch.chdir(tmp_path)  # not the task's folder: as a user runs it from elsewhere
    monkeypatch.setattr(sys, "path", list(sys.path))  # undo the loader's path entry after
    monkeypatch.delitem(sys.modules, "helpers_for_task", raising=False)
    task = load_task("project/my_task.py:make_task")
    assert task.name == "sibling" and len(task.train_data) == 8


def test_auto_runs_every_stage_through_the_hook(tmp_path, capsys) -> None:
    import json

    from lrkit.auto import auto
    from tests.cli._invoke import run_cli

    path = tmp_path / "weighted.py"
    path.write_text(next(b for b in TASK_BLOCKS if "weighted_step" in b))
    code, out, err = run_cli(capsys, "auto", "--task", f"{path}:make_task", "--budget", "1",
                             "--no-report", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert "range test" in {s["name"] for s in doc["stages"]} and doc["lr"] > 0
    # the curvature stage is off by default; switched on, it measures through the hook too
    rec = auto(load_task(f"{path}:make_task"), curvature=True)
    curvature = rec.stage("curvature")
    assert curvature is not None and curvature.data["sharpness"] > 0


def test_an_op_without_a_second_derivative_is_a_one_line_error() -> None:
    class Attention(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.proj = torch.nn.Linear(4, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            q = self.proj(x).unsqueeze(1)  # (batch, heads=1, seq, dim)
            return torch.nn.functional.scaled_dot_product_attention(q, q, q).mean(dim=(1, 2))

    x = torch.randn(32, 6, 4, generator=torch.Generator().manual_seed(0))
    data = torch.utils.data.TensorDataset(x, torch.zeros(32, 4))
    task = Task("sdpa", model=Attention, optimizer=lambda p, lr: torch.optim.SGD(p, lr=lr),
                loss_fn=torch.nn.functional.mse_loss, train_data=data, val_data=data,
                batch_size=8, epochs=1)
    try:
        report = measure_task(task, n_batches=1, max_hvps=3)
    except ConfigError as err:
        assert "no second derivative" in str(err) and "--curvature" in str(err)
    else:  # a torch build whose fused attention has a double backward measures it
        assert report.sharpness.value >= 0


def test_compare_trains_through_the_hook_as_train_does(tmp_path) -> None:
    from lrkit.compare.entries import entries
    from lrkit.compare.runner import run_unit

    path = tmp_path / "weighted.py"
    path.write_text(next(b for b in TASK_BLOCKS if "weighted_step" in b))
    task = load_task(f"{path}:make_task")
    row = entries(["constant"], [])[0]
    rec = run_unit(task, row, 0.01, seed=0, total_steps=64)
    direct = train(task, lr=0.01, total_steps=64)
    assert not rec["diverged"]
    assert rec["final_val_loss"] == pytest.approx(direct.final_val_loss, rel=1e-9)
