"""to_torch on an optimizer built the way PyTorch's and transformers' own examples build it.

Each case runs the library's scheduler on one optimizer and ``to_torch(from_*(...))`` on
an identical one, built with the same lr, and compares the rates of both param groups at
every update. With ``schedule(0)`` as the default reference lr, every schedule that starts
below the optimizer's lr (a LinearLR warmup, OneCycleLR, a warmup from 0) ran at the wrong
scale; the default is now the optimizer's own lr.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from lrkit.errors import ConfigError
from lrkit.interop import from_hf, from_torch, to_torch
from lrkit.interop.hf_config import HF_FUNCTIONS

N = 60
LR = 0.05


def _optimizer(torch: Any, kind: str = "sgd") -> Any:
    torch.manual_seed(0)
    body, head = torch.nn.Linear(3, 3), torch.nn.Linear(3, 1)
    groups = [{"params": body.parameters()}, {"params": head.parameters(), "lr": LR * 10}]
    if kind == "adamw":
        return torch.optim.AdamW(groups, lr=LR)
    return torch.optim.SGD(groups, lr=LR, momentum=0.9)


def _rates(opt: Any, sched: Any, n: int = N) -> np.ndarray:
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n):
            out.append([g["lr"] for g in opt.param_groups])
            opt.step()
            sched.step()
    return np.asarray(out)


TORCH_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "LinearLR warmup": ("LinearLR", {"start_factor": 0.1, "total_iters": 10}),
    "ConstantLR": ("ConstantLR", {"factor": 0.5, "total_iters": 7}),
    "OneCycleLR": ("OneCycleLR", {"max_lr": LR, "total_steps": N, "cycle_momentum": False}),
    # eta_min = 0: PyTorch adds eta_min unscaled to every group, to_torch keeps ratios
    "CosineAnnealingLR": ("CosineAnnealingLR", {"T_max": 20}),
    "ExponentialLR": ("ExponentialLR", {"gamma": 0.95}),
    "PolynomialLR": ("PolynomialLR", {"total_iters": 30, "power": 2.0}),
}


@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_to_torch_matches_pytorch_on_the_same_optimizer(case: str, torch: Any) -> None:
    name, kwargs = TORCH_CASES[case]
    native_opt = _optimizer(torch)
    native = getattr(torch.optim.lr_scheduler, name)(native_opt, **kwargs)
    want = _rates(native_opt, native)
    opt = _optimizer(torch)
    got = _rates(opt, to_torch(from_torch(name, LR, **kwargs), opt))
    # OneCycleLR sets every group to the same absolute rates; to_torch keeps the head's
    # 10x ratio by design, so there only group 0 is PyTorch's
    groups = 1 if name == "OneCycleLR" else 2
    np.testing.assert_allclose(got[:, :groups], want[:, :groups], rtol=1e-12, atol=1e-15)


def test_to_torch_matches_hf_cosine_with_min_lr_on_adamw(torch: Any, transformers: Any) -> None:
    kw = {"num_warmup_steps": 10, "num_training_steps": N}
    native_opt = _optimizer(torch, "adamw")
    native = transformers.get_scheduler("cosine_with_min_lr", native_opt, **kw,
                                        scheduler_specific_kwargs={"min_lr_rate": 0.1})
    want = _rates(native_opt, native)
    opt = _optimizer(torch, "adamw")
    got = _rates(opt, to_torch(from_hf("cosine_with_min_lr", LR, **kw, min_lr_rate=0.1), opt))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_hf_function_names_are_transformers_own(transformers: Any) -> None:
    table = {t.value: f.__name__ for t, f in transformers.TYPE_TO_SCHEDULER_FUNCTION.items()}
    for function, name in HF_FUNCTIONS.items():
        assert table[name] == function
        assert callable(getattr(transformers, function))


def _hf_native_rates(torch: Any, transformers: Any, function: str, n: int,
                     **kwargs: Any) -> np.ndarray:
    opt = _optimizer(torch, "adamw")
    return _rates(opt, getattr(transformers, function)(opt, **kwargs), n)[:, 0]


@pytest.mark.parametrize(("function", "kwargs"), [
    ("get_cosine_schedule_with_warmup", {"num_warmup_steps": 5, "num_training_steps": N}),
    ("get_linear_schedule_with_warmup", {"num_warmup_steps": 5, "num_training_steps": N}),
    ("get_polynomial_decay_schedule_with_warmup",
     {"num_warmup_steps": 5, "num_training_steps": N, "lr_end": 1e-4, "power": 2.0}),
    ("get_constant_schedule_with_warmup", {"num_warmup_steps": 5}),
])
def test_from_hf_reads_the_function_names(function: str, kwargs: dict[str, Any], torch: Any,
                                          transformers: Any) -> None:
    want = _hf_native_rates(torch, transformers, function, N, **kwargs)
    got = from_hf(function, LR, **kwargs).values(N)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_cli_from_hf_function_name(capsys: Any, torch: Any, transformers: Any) -> None:
    from tests.cli._invoke import run_cli

    code, out, err = run_cli(capsys, "schedule", "--from", "hf:get_cosine_schedule_with_warmup",
                             f"lr={LR}", "num_warmup_steps=5", f"num_training_steps={N}",
                             "--steps", N, "--format", "json")
    assert code == 0, err
    import json

    want = _hf_native_rates(torch, transformers, "get_cosine_schedule_with_warmup", N,
                            num_warmup_steps=5, num_training_steps=N)
    np.testing.assert_allclose(json.loads(out)["lr"], want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("spec", [
    "cosine(peak_lr=0.05, total_steps=60, warmup_steps=5)",  # after_end hold: lrkit's default
    "cosine(peak_lr=0.05, total_steps=60, warmup_steps=5, end_lr=0.005)",
    "polynomial(init_lr=0.05, total_steps=60, end_lr=0, power=1, warmup_steps=5)",
])
def test_export_hf_writes_transformers_own_function(spec: str, torch: Any,
                                                    transformers: Any) -> None:
    from lrkit.interop import snippet
    from lrkit.schedules import parse

    schedule = parse(spec)
    code = snippet(schedule, "hf")
    assert "lrkit" not in code and "LambdaLR" not in code, code
    assert "from transformers import get_" in code and "_schedule" in code, code
    torch.manual_seed(0)
    namespace: dict[str, Any] = {"model": torch.nn.Linear(2, 1)}
    exec(code.replace("# optimizer = ", "optimizer = "), namespace)
    got = _rates(namespace["optimizer"], namespace["scheduler"], N + 1)[:, 0]
    np.testing.assert_allclose(got, schedule.values(N + 1), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["LambdaLR", "MultiplicativeLR", "SWALR"])
def test_unconvertible_torch_schedulers_say_why(name: str) -> None:
    with pytest.raises(ConfigError, match=rf"'{name}': not converted: .*(Python code|anneals)"):
        from_torch(name, 0.1)


@pytest.mark.parametrize("kwargs", [
    {"cycle_momentum": True}, {"max_momentum": 0.9}, {"base_momentum": 0.8}])
def test_an_explicit_momentum_cycle_is_refused_not_ignored(
        kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="learning rate only, not the momentum cycle"):
        from_torch("OneCycleLR", max_lr=0.1, total_steps=100, **kwargs)
    with pytest.raises(ConfigError, match="cycle_momentum=False"):
        from_torch("CyclicLR", base_lr=0.01, max_lr=0.1, **kwargs)
    # PyTorch's defaults (nothing said about momentum) and an explicit False convert
    from_torch("OneCycleLR", max_lr=0.1, total_steps=100)
    from_torch("OneCycleLR", max_lr=0.1, total_steps=100, cycle_momentum=False,
               max_momentum=0.9)


def test_docs_list_what_is_not_converted() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "interop.md").read_text()
    section = text.split("## What is not converted", 1)[1]
    for name in ("LambdaLR", "MultiplicativeLR", "SWALR", "cycle_momentum"):
        assert name in section
