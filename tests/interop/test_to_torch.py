"""to_torch: a real LRScheduler that reproduces the lrkit schedule, resumes and keeps ratios."""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
import pytest

from lrkit.errors import ConfigError
from lrkit.interop import from_torch, to_torch
from lrkit.schedules import Cosine, Cyclic, LinearWarmup, parse

from .samples import SAMPLES

RTOL = 1e-12


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_to_torch_reproduces_the_schedule(name: str, torch_rates: Any, same_rates: Any) -> None:
    schedule = SAMPLES[name]
    n = 150
    # a group whose lr is schedule(0) follows the schedule (group 0 when schedule(0) is 0)
    lr = float(schedule(0)) or 0.1
    got = torch_rates(lambda opt: to_torch(schedule, opt), n, lr=lr)
    same_rates(got, schedule.values(n), RTOL)


def _model_and_optimizer(torch: Any, lrs: list[float]) -> tuple[Any, Any]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 1))
    groups = [{"params": layer.parameters(), "lr": lr} for layer, lr in zip(model, lrs,
                                                                             strict=True)]
    return model, torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)


def _train(torch: Any, model: Any, opt: Any, sched: Any, steps: int) -> list[list[float]]:
    x = torch.linspace(-1, 1, 24).reshape(8, 3)
    rates = []
    for _ in range(steps):
        rates.append([g["lr"] for g in opt.param_groups])
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
        sched.step()
    return rates


def test_groups_keep_their_ratio(torch: Any) -> None:
    schedule = parse("cosine(peak_lr=0.1, total_steps=40, warmup_steps=5, warmup_init_lr=0.01)")
    model, opt = _model_and_optimizer(torch, [0.01, 0.001])  # group 0 starts at schedule(0)
    rates = np.asarray(_train(torch, model, opt, to_torch(schedule, opt), 40))
    np.testing.assert_allclose(rates[:, 0], schedule.values(40), rtol=RTOL)
    np.testing.assert_allclose(rates[:, 1], schedule.values(40) / 10, rtol=RTOL)


def test_warmup_from_zero_uses_group_zero_as_reference(torch: Any) -> None:
    schedule = parse("cosine(peak_lr=0.1, total_steps=40, warmup_steps=5)")  # schedule(0) = 0
    model, opt = _model_and_optimizer(torch, [0.1, 0.05])
    rates = np.asarray(_train(torch, model, opt, to_torch(schedule, opt), 20))
    np.testing.assert_allclose(rates[:, 0], schedule.values(20), rtol=RTOL)
    np.testing.assert_allclose(rates[:, 1], schedule.values(20) / 2, rtol=RTOL)
    model, opt = _model_and_optimizer(torch, [0.1, 0.05])
    explicit = to_torch(schedule, opt, reference_lr=0.05)
    assert [g["lr"] for g in opt.param_groups] == [0.0, 0.0]
    rates = np.asarray(_train(torch, model, opt, explicit, 10))
    np.testing.assert_allclose(rates[:, 1], schedule.values(10), rtol=RTOL)


def test_resume_mid_run_continues_identically(torch: Any) -> None:
    schedule = from_torch("SequentialLR", 0.1, schedulers=[
        ("LinearLR", {"start_factor": 0.1, "total_iters": 5}),
        ("CosineAnnealingLR", {"T_max": 45})], milestones=[5])
    model0, opt0 = _model_and_optimizer(torch, [0.1, 0.02])
    straight = _train(torch, model0, opt0, to_torch(schedule, opt0), 50)

    model, opt = _model_and_optimizer(torch, [0.1, 0.02])
    sched = to_torch(schedule, opt)
    first = _train(torch, model, opt, sched, 20)
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(),
                "sched": sched.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)  # plain data only: no pickled classes

    model2, opt2 = _model_and_optimizer(torch, [0.1, 0.02])
    sched2 = to_torch(parse("constant(base_lr=0.5)"), opt2)  # replaced by the saved spec
    sched2.load_state_dict(saved["sched"])
    opt2.load_state_dict(saved["opt"])
    model2.load_state_dict(saved["model"])
    assert sched2.schedule == schedule
    rest = _train(torch, model2, opt2, sched2, 30)
    np.testing.assert_array_equal(np.asarray(first + rest), np.asarray(straight))
    x = torch.ones(1, 3)
    assert torch.equal(model0(x), model2(x))  # the same updates, bit for bit


def test_lrkit_scheduler_inside_sequential_lr(torch: Any, torch_rates: Any,
                                              same_rates: Any) -> None:
    """SequentialLR hands over through the closed form, which the adapter provides."""
    cosine = Cosine(0.1, total_steps=30)

    def build(opt: Any) -> Any:
        warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=5)
        return torch.optim.lr_scheduler.SequentialLR(opt, [warm, to_torch(cosine, opt)], [5])

    want = parse("join(pieces=[linear_warmup(init_lr=0.01, peak_lr=0.1, warmup_steps=5), "
                 "cosine(peak_lr=0.1, total_steps=30)], boundaries=[5])")
    same_rates(torch_rates(build, 40, lr=0.1), want.values(40), RTOL)


def test_schedule_with_callable_resumes_with_the_live_object(torch: Any) -> None:
    schedule = Cyclic(0.01, 0.1, step_size_up=3, scale_fn=lambda c: 0.5 ** c)
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=0.01)
    sched = to_torch(schedule, opt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(4):
            sched.step()
    state = sched.state_dict()
    assert state["schedule_spec"] is None
    again = to_torch(schedule, torch.optim.SGD([param], lr=0.01))
    again.load_state_dict(state)
    assert again.last_epoch == 4
    assert again.optimizer.param_groups[0]["lr"] == pytest.approx(float(schedule(4)))


def test_bad_arguments(torch: Any) -> None:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ConfigError, match="must be an lrkit Schedule"):
        to_torch("cosine", opt)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="reference_lr"):
        to_torch(LinearWarmup(0.0, 0.1, 5), opt, reference_lr=0.0)
