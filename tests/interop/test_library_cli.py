"""from_library and the CLI's --from / --export."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from lrkit.cli.app import main
from lrkit.errors import ConfigError
from lrkit.interop import from_hf, from_keras, from_library, from_optax, from_torch


def _run(argv: list[str], capsys: Any) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
        raise SystemExit(0)
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out, out.err


@pytest.mark.parametrize(("source", "pairs", "direct"), [
    ("torch:OneCycleLR", ["lr=0.1", "max_lr=0.1", "total_steps=1000"],
     lambda: from_torch("OneCycleLR", 0.1, max_lr=0.1, total_steps=1000)),
    ("torch:SequentialLR", ["lr=0.1", "schedulers=[LinearLR(start_factor=0.1,total_iters=5),"
                            "CosineAnnealingLR(T_max=95)]", "milestones=[5]"],
     lambda: from_torch("SequentialLR", 0.1, schedulers=[
         ("LinearLR", {"start_factor": 0.1, "total_iters": 5}),
         ("CosineAnnealingLR", {"T_max": 95})], milestones=[5])),
    ("keras:CosineDecay", ["initial_learning_rate=0", "decay_steps=90", "warmup_target=0.1",
                           "warmup_steps=10"],
     lambda: from_keras("CosineDecay", initial_learning_rate=0, decay_steps=90,
                        warmup_target=0.1, warmup_steps=10)),
    ("optax:piecewise_constant", ["init_value=0.1", "boundaries_and_scales=[[30,0.1],[60,0.1]]"],
     lambda: from_optax("piecewise_constant", init_value=0.1,
                        boundaries_and_scales={30: 0.1, 60: 0.1})),
    ("optax:sgdr", ["cosine_kwargs=[dict(init_value=0,peak_value=0.1,warmup_steps=5,"
                    "decay_steps=50),dict(init_value=0,peak_value=0.05,warmup_steps=5,"
                    "decay_steps=50)]"],
     lambda: from_optax("sgdr", cosine_kwargs=[
         {"init_value": 0, "peak_value": 0.1, "warmup_steps": 5, "decay_steps": 50},
         {"init_value": 0, "peak_value": 0.05, "warmup_steps": 5, "decay_steps": 50}])),
    ("hf:cosine", ["lr=0.1", "num_warmup_steps=10", "num_training_steps=100"],
     lambda: from_hf("cosine", 0.1, 10, 100)),
])
def test_from_on_the_command_line(source: str, pairs: list[str], direct: Any,
                                  capsys: Any) -> None:
    code, out, _ = _run(["schedule", "--from", source, *pairs, "--steps", "120",
                         "--format", "json"], capsys)
    assert code == 0
    doc = json.loads(out)
    np.testing.assert_array_equal(doc["lr"], direct().values(120))


def test_from_library_dispatches_and_aliases() -> None:
    params = {"lr": 0.1, "step_size": 3}
    assert from_library("torch", "StepLR", params) == from_torch("StepLR", 0.1, step_size=3)
    assert params == {"lr": 0.1, "step_size": 3}  # the caller's dict is left alone
    assert from_library("pytorch", "StepLR", params) == from_library("torch", "StepLR", params)
    assert (from_library("transformers", "linear", {"lr": 0.1, "num_warmup_steps": 1,
                                                    "num_training_steps": 5})
            == from_hf("linear", 0.1, 1, 5))


@pytest.mark.parametrize(("framework", "name", "params", "message"), [
    ("torhc", "StepLR", {}, "framework = 'torhc': unknown name; did you mean 'torch'?"),
    ("torch", "StepLRR", {"lr": 0.1}, "did you mean 'StepLR'?"),
    ("torch", "StepLR", {"lr": 0.1, "stepsize": 3}, "StepLR.stepsize = 3: unknown parameter; "
                                                    "did you mean 'step_size'?"),
    ("hf", "cosine", {"num_warmup_steps": 1}, "hf:cosine.lr: missing"),
    ("keras", "ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 10,
                                   "decay_rat": 0.5}, "did you mean 'decay_rate'?"),
    ("torch", "ReduceLROnPlateau", {"lr": 0.1}, "follows a validation metric"),
])
def test_from_library_errors(framework: str, name: str, params: dict[str, Any],
                             message: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_library(framework, name, params)
    assert message in str(info.value)


@pytest.mark.parametrize("argv", [
    ["schedule", "--from", "torch:CosineAnealingLR", "lr=0.1", "T_max=10"],
    ["schedule", "--from", "optax:cosine_decay", "init_value=0.1", "decay_step=10"],
    ["schedule", "--from", "mxnet:FactorScheduler", "step=10"],
    ["schedule", "cosine(peak_lr=0.1,total_steps=10)", "--export", "jaxx"],
])
def test_cli_bad_input_exits_2_with_one_line(argv: list[str], capsys: Any) -> None:
    code, out, err = _run(argv, capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("lrkit: error: ") and err.count("\n") == 1
    assert "did you mean" in err or "pick one of" in err


def test_export_prints_a_snippet(capsys: Any) -> None:
    code, out, _ = _run(["schedule", "cosine(peak_lr=0.1,total_steps=100,warmup_steps=10)",
                         "--export", "keras"], capsys)
    assert code == 0
    assert "keras.optimizers.schedules.CosineDecay(initial_learning_rate=0.0" in out
    code, out, _ = _run(["schedule", "--from", "hf:linear", "lr=0.1", "num_warmup_steps=10",
                         "num_training_steps=100", "--export", "hf"], capsys)
    assert code == 0
    assert ('get_linear_schedule_with_warmup(\n    optimizer, num_warmup_steps=10, '
            'num_training_steps=100)') in out
