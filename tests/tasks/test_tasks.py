"""The Task contract, the built-in tasks, load_task and train."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
import textwrap

import pytest
import torch

from lrkit.errors import ConfigError, UserCodeError
from lrkit.tasks import LR_PARAMETER, Task, builtin_tasks, fill_schedule, load_task, train

BUILTIN = ["breast-cancer-logreg", "diabetes-mlp", "digits-cnn", "digits-mlp"]


def test_import_does_not_pull_torch():
    code = "import sys, lrkit.tasks, lrkit; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_task_shape(name):
    task = builtin_tasks()[name]()
    assert isinstance(task, Task) and task.name == name
    assert task.total_steps == task.epochs * task.steps_per_epoch
    x, y = task.train_data[0]
    model = task.model()
    out = model(x.unsqueeze(0))
    loss = task.loss_fn(out, y.unsqueeze(0))
    assert loss.dim() == 0 and math.isfinite(float(loss.detach()))
    assert task.model() is not model  # a fresh model every call
    assert len(task.val_data) > 0
    assert x.dtype == torch.float32


def test_builtin_set_is_what_the_issue_names():
    assert sorted(builtin_tasks()) == BUILTIN
    assert builtin_tasks()["digits-cnn"]().schedule == "cosine"
    cnn = builtin_tasks()["digits-cnn"]().model()
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in cnn.modules())


def test_train_is_deterministic_and_leaves_global_rng_alone():
    task = builtin_tasks()["breast-cancer-logreg"]()
    state = torch.get_rng_state()
    a = train(task, 0.1, seed=3, epochs=2)
    assert torch.equal(torch.get_rng_state(), state)
    b = train(task, 0.1, seed=3, epochs=2)
    c = train(task, 0.1, seed=4, epochs=2)
    assert a.val_losses == b.val_losses and a.train_losses == b.train_losses
    assert a.val_losses != c.val_losses
    assert a.steps == 2 * task.steps_per_epoch and not a.diverged
    assert a.final_val_loss == a.val_losses[-1] and a.lr == 0.1 and a.seed == 3


def test_train_learns():
    task = builtin_tasks()["breast-cancer-logreg"]()
    low = train(task, 1e-6, epochs=2).final_val_loss
    good = train(task, 0.3, epochs=2).final_val_loss
    assert good < 0.5 * low


def test_train_reports_divergence_as_inf():
    task = dataclasses.replace(builtin_tasks()["diabetes-mlp"](), schedule=None,
                               optimizer=lambda p, lr: torch.optim.SGD(p, lr=lr))
    res = train(task, 1e3, total_steps=30)
    assert res.diverged and res.final_val_loss == math.inf and res.steps < 30


def test_train_budget_overrides_and_early_stop():
    task = builtin_tasks()["breast-cancer-logreg"]()
    res = train(task, 0.1, total_steps=30)
    assert res.steps == 30 and len(res.val_losses) == 2  # 26 + 4 updates: 2 epochs
    small = train(task, 0.1, epochs=1, train_fraction=0.25)
    assert small.steps == len(task.train_data) // 4 // task.batch_size
    seen = []
    stopped = train(task, 0.1, epochs=5, on_epoch=lambda e, v: seen.append((e, v)) or e == 2)
    assert [e for e, _ in seen] == [1, 2] and len(stopped.val_losses) == 2
    assert seen[-1][1] == stopped.val_losses[-1]


def test_train_follows_schedule_and_keeps_group_ratios():
    base = builtin_tasks()["breast-cancer-logreg"]()
    seen: list[list[float]] = []

    class Spy(torch.optim.SGD):
        def step(self, closure=None):
            seen.append([g["lr"] for g in self.param_groups])
            return super().step(closure)

    def two_groups(params, lr):
        w, b = list(params)
        return Spy([{"params": [w]}, {"params": [b], "lr": lr * 0.1}], lr=lr)

    task = dataclasses.replace(base, optimizer=two_groups, schedule="cosine", epochs=1)
    train(task, 0.2, total_steps=10)
    expected = task.lr_schedule(0.2, 10).values(10)
    assert [s[0] for s in seen] == pytest.approx(expected.tolist())
    assert [s[1] for s in seen] == pytest.approx((0.1 * expected).tolist())


@pytest.mark.parametrize("kwargs", [{"lr": 0.0}, {"lr": float("nan")}, {"lr": 0.1, "seed": -1},
                                    {"lr": 0.1, "epochs": 0}, {"lr": 0.1, "train_fraction": 0}])
def test_train_rejects_bad_arguments(kwargs):
    task = builtin_tasks()["breast-cancer-logreg"]()
    with pytest.raises(ConfigError) as err:
        train(task, **kwargs)
    assert "=" in str(err.value) and ";" in str(err.value)


def test_lr_schedule_fills_lr_and_total_steps():
    s = fill_schedule("cosine(warmup_steps=0.1)", 0.4, 100)
    assert s(10) == pytest.approx(0.4) and s(100) == pytest.approx(0.0)
    assert fill_schedule({"family": "onecycle"}, 0.3, 50).to_spec()["total_steps"] == 50
    assert fill_schedule("constant(base_lr=9)", 0.1, 5)(0) == 0.1  # the height is replaced
    for family, param in LR_PARAMETER.items():
        assert param in {f.name for f in dataclasses.fields(
            __import__("lrkit.schedules", fromlist=["x"]).families()[family])}
    with pytest.raises(ConfigError, match="no single LR parameter"):
        fill_schedule("noam(d_model=512, warmup_steps=10)", 0.1, 10)


def test_task_validation():
    task = builtin_tasks()["breast-cancer-logreg"]()
    with pytest.raises(ConfigError, match="batch_size"):
        dataclasses.replace(task, batch_size=0)
    with pytest.raises(ConfigError, match="model"):
        dataclasses.replace(task, model=3)
    with pytest.raises(ConfigError, match="train_data"):
        dataclasses.replace(task, train_data=object())
    with pytest.raises(ConfigError, match="family"):
        dataclasses.replace(task, schedule="nonsense_family")


TASK_FILE = """
import torch
import lrkit
from lrkit.tasks import builtin_tasks

def make_task():
    return builtin_tasks()["breast-cancer-logreg"]()

def wrong():
    return 42

def broken():
    raise RuntimeError("boom")

not_callable = 3
"""


def test_load_task_from_file(tmp_path):
    path = tmp_path / "mytask.py"
    path.write_text(textwrap.dedent(TASK_FILE))
    assert load_task(f"{path}:make_task").name == "breast-cancer-logreg"
    assert load_task(str(path)).name == "breast-cancer-logreg"  # make_task by default
    with pytest.raises(ConfigError, match=r"has no function 'make_tsk'.*did you mean 'make_task'"):
        load_task(f"{path}:make_tsk")
    with pytest.raises(ConfigError, match=r"returned a int, not an lrkit\.Task"):
        load_task(f"{path}:wrong")
    with pytest.raises(UserCodeError, match="raised RuntimeError: boom"):
        load_task(f"{path}:broken")
    with pytest.raises(ConfigError, match="not a function"):
        load_task(f"{path}:not_callable")
    with pytest.raises(ConfigError, match="does not exist"):
        load_task(f"{tmp_path / 'missing.py'}:make_task")
    bad = tmp_path / "bad.py"
    bad.write_text("import not_a_module_anywhere\n")
    with pytest.raises(UserCodeError, match=r"importing .* raised ModuleNotFoundError"):
        load_task(f"{bad}:make_task")


def test_load_task_unknown_name_suggests():
    with pytest.raises(ConfigError, match="did you mean 'digits-mlp'"):
        load_task("digits-mpl")
