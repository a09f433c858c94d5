"""snippet: the printed code, run as a user would paste it, reproduces the schedule."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from lrkit.errors import ConfigError
from lrkit.interop import snippet
from lrkit.schedules import Cyclic, horizon, parse

from .samples import SAMPLES

N = 120
# keras' torch backend converts tensors with np.array(x), which numpy 2 flags
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
# (sample, framework) pairs whose snippet must use the library's own classes, not lrkit
NATIVE = {
    ("cosine", "torch"): "CosineAnnealingLR",
    ("join", "torch"): "SequentialLR",
    ("join_nested", "torch"): "SequentialLR",
    ("onecycle", "torch"): "OneCycleLR",
    ("cyclic", "torch"): "CyclicLR",
    ("cosine_restarts_equal", "torch"): None,  # 6.5-step cycles: no native form
    ("step", "torch"): "StepLR",
    ("multistep", "torch"): "MultiStepLR",
    ("join", "keras"): "CosineDecay(",
    ("piecewise", "keras"): "PiecewiseConstantDecay",
    ("polynomial", "keras"): "PolynomialDecay",
    ("cosine_restarts_equal", "keras"): "CosineDecayRestarts",
    ("cosine_restarts", "keras"): None,  # growing cycles: Keras' float32 log misplaces restarts
    ("join", "optax"): "join_schedules",
    ("piecewise", "optax"): "piecewise_constant_schedule",
    ("interpolate_linear", "optax"): None,  # does not start at step 0
    ("cosine_hold", "optax"): "cosine_decay_schedule",
    ("cosine", "hf"): "get_cosine_with_min_lr_schedule_with_warmup(",
    ("linear_warmup", "hf"): "get_constant_schedule_with_warmup(",
}


def _paste(code: str, names: dict[str, Any]) -> dict[str, Any]:
    namespace = dict(names)
    # the comment line shows the optimizer the code expects: create exactly that one
    exec(code.replace("# optimizer = ", "optimizer = "), namespace)
    return namespace


def _torch_like(code: str, torch: Any, n: int = N) -> np.ndarray:
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    ns = _paste(code, {"model": model})
    opt, sched = ns["optimizer"], ns["scheduler"]
    rates = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(n):
            rates.append(opt.param_groups[0]["lr"])
            opt.step()
            if i < n - 1:
                sched.step()
    return np.asarray(rates)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_torch_snippet(name: str, torch: Any, same_rates: Any) -> None:
    schedule = SAMPLES[name]
    code = snippet(schedule, "torch")
    _check_native(name, "torch", code)
    n = min(N, horizon(schedule) or N)  # OneCycleLR refuses to step past its total_steps
    same_rates(_torch_like(code, torch, n), schedule.values(n), 1e-12)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_hf_snippet(name: str, torch: Any, transformers: Any, same_rates: Any) -> None:
    schedule = SAMPLES[name]
    code = snippet(schedule, "hf")
    _check_native(name, "hf", code)
    # a snippet that says it matches for the run's updates is checked over the run
    n = min(N, (horizon(schedule) or N) + 1) if "at every update of the" in code else N
    same_rates(_torch_like(code, torch, n), schedule.values(n), 1e-12)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_keras_snippet(name: str, keras: Any, same_rates: Any) -> None:
    schedule = SAMPLES[name]
    code = snippet(schedule, "keras")
    _check_native(name, "keras", code)
    made = _paste(code, {})["schedule"]
    steps = keras.ops.convert_to_tensor(np.arange(N), dtype="int64")
    try:
        got = keras.ops.convert_to_numpy(made(steps))
    except (RuntimeError, ValueError, TypeError):  # a Keras class that takes scalar steps only
        got = [float(keras.ops.convert_to_numpy(made(steps[i]))) for i in range(N)]
    same_rates(np.asarray(got, dtype=np.float64), schedule.values(N), 1e-6)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_optax_snippet(name: str, x64: Any, same_rates: Any) -> None:
    schedule = SAMPLES[name]
    code = snippet(schedule, "optax")
    _check_native(name, "optax", code)
    made = _paste(code, {})["schedule"]
    got = np.asarray(x64.jit(x64.vmap(made))(x64.numpy.arange(N)), dtype=np.float64)
    same_rates(got, schedule.values(N), 1e-12)


def _check_native(name: str, framework: str, code: str) -> None:
    if (name, framework) not in NATIVE:
        return
    expected = NATIVE[(name, framework)]
    if expected is None:
        assert "lrkit" in code
    else:
        assert expected in code and "lrkit" not in code, code


def test_unknown_framework_and_unserialisable_schedule() -> None:
    with pytest.raises(ConfigError, match="did you mean 'keras'"):
        snippet(SAMPLES["cosine"], "kera")
    # no native form and no JSON spec (a Python callable inside): nothing to print
    with pytest.raises(ConfigError, match="callable"):
        snippet(Cyclic(0.0, 1.0, step_size_up=2, scale_fn=lambda x: x), "keras")
    assert "to_torch" in snippet(parse("tanh(peak_lr=0.1, total_steps=10)"), "torch")
