"""Errors in the user's own task code: one line naming their function, the last line of
their code and the exception, exit 2; --debug / LRKIT_DEBUG=1 add the traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from lrkit.errors import UserCodeError
from lrkit.usercode import blame, is_user_file

from ._invoke import run_cli

TASKS = textwrap.dedent('''
    import sys
    import torch
    from torch.utils.data import TensorDataset
    from lrkit import Task

    DATA = TensorDataset(torch.randn(64, 4), torch.randn(64, 1))


    class Net(torch.nn.Module):
        def __init__(self, fail=False, nan=False):
            super().__init__()
            self.lin = torch.nn.Linear(4, 1)
            self.fail, self.nan = fail, nan

        def forward(self, x):
            if self.fail:
                raise RuntimeError("shape mismatch in my layer")
            out = self.lin(x)
            return out * float("nan") if self.nan else out


    class Empty(torch.nn.Module):
        def forward(self, x):
            return x[:, :1]


    def mse(out, y):
        return ((out - y) ** 2).mean()


    def base(**kw):
        args = dict(name="t", model=Net, optimizer=lambda p, lr: torch.optim.SGD(p, lr=lr),
                    loss_fn=mse, train_data=DATA, val_data=DATA, batch_size=16, epochs=1)
        args.update(kw)
        return Task(**args)


    def forward_fails():
        return base(model=lambda: Net(fail=True))


    def loss_fails():
        def my_loss(out, y):
            return out.missing_attribute
        return base(loss_fn=my_loss)


    def optimizer_fails():
        def my_opt(params, lr):
            raise ValueError("unknown optimizer option")
        return base(optimizer=my_opt)


    def no_params():
        return base(model=Empty)


    def non_scalar():
        return base(loss_fn=lambda out, y: (out - y) ** 2)


    def nan_out():
        return base(model=lambda: Net(nan=True))


    def factory_exits():
        sys.exit(0)


    def factory_fails():
        return {}["missing"]
''')


@pytest.fixture(scope="module")
def tasks(tmp_path_factory):
    path = tmp_path_factory.mktemp("user") / "mytask.py"
    path.write_text(TASKS)
    return path


CASES = {
    "forward_fails": r"Net\.forward\(\) failed at .*mytask\.py:\d+ \(raise RuntimeError.*"
                     r"RuntimeError: shape mismatch",
    "loss_fails": r"your my_loss\(\) failed at .*mytask\.py:\d+ .*AttributeError",
    "optimizer_fails": r"your my_opt\(\) failed .*ValueError: unknown optimizer option",
    "no_params": r"your lambda failed .*empty parameter list",
    "non_scalar": r"task\.loss_fn: returned a tensor of shape \(16, 1\), not a scalar",
    "nan_out": r"loss is nan at the first update",
    "factory_exits": r"factory_exits\(\) called sys\.exit\(0\)",
    "factory_fails": r"factory_fails\(\) raised KeyError: 'missing' \(at .*mytask\.py:\d+\)",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_find_blames_the_users_function(capsys, tasks, case):
    code, _, err = run_cli(capsys, "find", "--task", f"{tasks}:{case}", "--steps", "5")
    assert code == 2, err
    line = err.strip().splitlines()[-1]
    assert line.startswith("lrkit: error: ") and "Traceback" not in err
    assert __import__("re").search(CASES[case], line), line


@pytest.mark.parametrize("verb", [["sharpness"], ["tune", "--trials", "2", "--epochs", "1"],
                                  ["auto", "--no-report"]])
@pytest.mark.parametrize("case", ["loss_fails", "forward_fails"])
def test_every_training_verb_blames_the_users_function(capsys, tasks, verb, case, tmp_path,
                                                       monkeypatch):
    monkeypatch.chdir(tmp_path)  # tune's default sqlite file goes here
    if verb[0] == "tune":
        # in a process of its own: Optuna's log handler keeps the first test's stderr
        proc = subprocess.run([sys.executable, "-m", "lrkit.cli.app", *verb, "--task",
                               f"{tasks}:{case}"], capture_output=True, text=True,
                              timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
        code, err = proc.returncode, proc.stderr
    else:
        code, _, err = run_cli(capsys, *verb, "--task", f"{tasks}:{case}")
    assert code == 2, err
    assert "Traceback" not in err and "mytask.py:" in err


def test_debug_shows_the_traceback(capsys, tasks, monkeypatch):
    monkeypatch.delenv("LRKIT_DEBUG", raising=False)
    try:
        code, _, err = run_cli(capsys, "--debug", "find", "--task", f"{tasks}:loss_fails",
                               "--steps", "5")
    finally:
        os.environ.pop("LRKIT_DEBUG", None)  # main() set it for the process
    assert code == 2
    assert "Traceback (most recent call last)" in err and "lrkit/rangetest" in err
    assert err.strip().splitlines()[-1].startswith("lrkit: error: your my_loss()")


def test_lrkit_own_bugs_keep_their_traceback(capsys, monkeypatch):
    import functools
    import operator

    # a failure with no frame of user code (a function defined here would be "theirs")
    bug = functools.partial(operator.getitem, {})
    monkeypatch.setattr("lrkit.diagnose.diagnose", bug)
    with pytest.raises(TypeError):  # not turned into a user error: lrkit's bug
        run_cli(capsys, "diagnose", __file__)
    try:
        {}["x"]
    except KeyError as err:
        assert blame(err, user_files=lambda f: False) is None
    assert not is_user_file(__import__("lrkit").__file__)
    assert not is_user_file(pytest.__file__) and is_user_file("/home/me/train.py")


def test_blame_keeps_the_cause(tmp_path):
    p = tmp_path / "user.py"
    p.write_text("def f():\n    raise OSError('disk')\n")
    ns: dict = {}
    exec(compile(p.read_text(), str(p), "exec"), ns)
    try:
        ns["f"]()
    except OSError as err:
        blamed = blame(err, user_files=lambda f: f == str(p))
    assert isinstance(blamed, UserCodeError) and isinstance(blamed.__cause__, OSError)
    assert blamed.function == "your f()" and blamed.where.endswith("user.py:2")
