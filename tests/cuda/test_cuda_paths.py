"""The CUDA paths, on a real GPU: mixed precision, RNG restore, curvature, optimizers.

Skipped where torch sees no CUDA device (CI has none). On a GPU machine:
``PYTHONPATH=src python -m pytest tests/cuda``.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from lrkit.curvature import (  # noqa: E402
    fixed_batches,
    hessian_top_eigenvalue,
    preconditioned_top_eigenvalue,
)
from lrkit.optim import SGDHD, AdamHD  # noqa: E402
from lrkit.rangetest import range_test  # noqa: E402

F = torch.nn.functional


def _data(n: int = 512, seed: int = 0) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 20, generator=g)
    return TensorDataset(x, (x[:, :3].sum(1) > 0).long())


def _model(device: str = "cuda", seed: int = 0) -> Any:
    torch.manual_seed(seed)
    # Dropout draws from the CUDA generator on every training forward: the sweep moves it
    return torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Dropout(0.1),
                               torch.nn.Linear(64, 2)).to(device)


def _loader(seed: int = 0) -> DataLoader:
    return DataLoader(_data(), batch_size=32, shuffle=True,
                      generator=torch.Generator().manual_seed(seed))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.device == b.device and torch.equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _warm(model: Any, opt: Any, loader: DataLoader, scaler: Any = None,
          dtype: Any = None) -> None:
    """One real update, so the optimizer and the scaler have state worth restoring."""
    x, y = next(iter(loader))
    with torch.autocast("cuda", dtype=dtype, enabled=dtype is not None):
        loss = F.cross_entropy(model(x.cuda()), y.cuda())
    opt.zero_grad()
    if scaler is None:
        loss.backward()
        opt.step()
    else:
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()


def _snapshot(model: Any, opt: Any, scaler: Any = None) -> dict[str, Any]:
    return {"params": copy.deepcopy(model.state_dict()),
            "opt": copy.deepcopy(opt.state_dict()),
            "scaler": None if scaler is None else copy.deepcopy(scaler.state_dict()),
            "cuda_rng": torch.cuda.get_rng_state(), "cpu_rng": torch.get_rng_state(),
            "training": [m.training for m in model.modules()]}


def _restored(before: dict[str, Any], model: Any, opt: Any, scaler: Any = None) -> None:
    after = _snapshot(model, opt, scaler)
    for key in before:
        assert _same(before[key], after[key]), f"{key} was not restored"


def test_fp16_with_a_grad_scaler_restores_every_state_and_both_rngs() -> None:
    model, loader = _model(), _loader()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cuda")
    _warm(model, opt, loader, scaler, torch.float16)
    before = _snapshot(model, opt, scaler)
    # the sweep itself must move the CUDA generator, or restoring it proves nothing
    probe_rng = torch.cuda.get_rng_state()
    model(torch.randn(4, 20, device="cuda"))
    assert not torch.equal(probe_rng, torch.cuda.get_rng_state())
    torch.cuda.set_rng_state(probe_rng)

    res = range_test(model, opt, F.cross_entropy, loader, start_lr=1e-6, end_lr=10, steps=60,
                     scaler=scaler, autocast_dtype=torch.float16)
    assert math.isfinite(res.suggestion) and 1e-6 < res.suggestion < 10
    assert res.updates > 0 and all(math.isfinite(v) for v in res.losses)
    _restored(before, model, opt, scaler)


def test_updates_the_scaler_skips_do_not_advance_the_lr() -> None:
    model, loader = _model(), _loader()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    # 2**40 overflows fp16 gradients at once: the scaler skips and halves until it fits
    scaler = torch.amp.GradScaler("cuda", init_scale=2.0 ** 40)
    before = _snapshot(model, opt, scaler)
    res = range_test(model, opt, F.cross_entropy, loader, start_lr=1e-5, end_lr=1.0, steps=40,
                     scaler=scaler, autocast_dtype=torch.float16)
    assert res.skipped >= 10  # 2**40 -> about 2**16 takes ~24 halvings
    # the recorded curve starts at start_lr and advances by one ratio per real update
    ratios = [b / a for a, b in zip(res.lrs, res.lrs[1:], strict=False)]
    assert res.lrs[0] == pytest.approx(1e-5)
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-9)
    _restored(before, model, opt, scaler)


def test_bf16_autocast_sweeps_and_restores() -> None:
    model, loader = _model(), _loader()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    _warm(model, opt, loader, None, torch.bfloat16)
    before = _snapshot(model, opt)
    res = range_test(model, opt, F.cross_entropy, loader, start_lr=1e-6, end_lr=10, steps=60,
                     autocast_dtype=torch.bfloat16)
    assert math.isfinite(res.suggestion) and res.skipped == 0
    _restored(before, model, opt)


def test_an_interrupt_mid_sweep_restores_the_cuda_rng_and_the_model() -> None:
    model, loader = _model(), _loader()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    _warm(model, opt, loader)
    before = _snapshot(model, opt)
    calls = 0

    def forward(m: Any, batch: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 15:
            raise KeyboardInterrupt
        x, y = batch
        return F.cross_entropy(m(x.cuda()), y.cuda())

    with pytest.raises(KeyboardInterrupt):
        range_test(model, opt, None, loader, steps=40, forward=forward)
    assert calls == 15
    _restored(before, model, opt)


def test_sharpness_of_a_cuda_model_on_cpu_batches_matches_the_cpu() -> None:
    batches = fixed_batches(_data(), 64, 2)
    values = {}
    for device in ("cpu", "cuda"):
        model = _model(device)
        rng = torch.cuda.get_rng_state()
        est = hessian_top_eigenvalue(model, F.cross_entropy, batches, max_hvps=20)
        assert torch.equal(rng, torch.cuda.get_rng_state())
        assert all(m.training for m in model.modules())  # left in train mode, as found
        values[device] = est.value
    # each estimate is within its tol (1e-3) of the truth; the start vectors differ by device
    assert values["cuda"] == pytest.approx(values["cpu"], rel=2e-3)


def test_adam_preconditioned_sharpness_reads_cuda_optimizer_state_like_the_cpu() -> None:
    batches = fixed_batches(_data(), 64, 2)
    values = {}
    for device in ("cpu", "cuda"):
        model = _model(device).double()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        model.eval()  # no dropout: the CPU and GPU runs take the same steps
        for x, y in batches * 3:
            opt.zero_grad()
            F.cross_entropy(model(x.to(device).double()), y.to(device)).backward()
            opt.step()
        model.train()
        est = preconditioned_top_eigenvalue(
            model, lambda out, y: F.cross_entropy(out, y),
            [(x.double(), y) for x, y in batches], optimizer=opt, max_hvps=20)
        values[device] = est.value
    # each estimate is within its tol (1e-3) of the truth; the start vectors differ by device
    assert values["cuda"] == pytest.approx(values["cpu"], rel=2e-3)


@pytest.mark.parametrize(("make", "lr0"), [
    (lambda p: SGDHD(p, lr=0.05, hypergrad_lr=1e-3), 0.05),
    (lambda p: AdamHD(p, lr=1e-3, hypergrad_lr=1e-7), 1e-3)])
def test_hypergradient_optimizers_step_the_same_on_cuda_as_on_cpu(make: Any, lr0: float) -> None:
    data = _data(256)
    x, y = data.tensors
    runs = {}
    for device in ("cpu", "cuda"):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(20, 32), torch.nn.Tanh(),
                                    torch.nn.Linear(32, 2)).to(device).double()
        opt = make(model.parameters())
        for i in range(20):
            xb, yb = x[i * 8:(i + 1) * 8].to(device).double(), y[i * 8:(i + 1) * 8].to(device)
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
        lr = opt.param_groups[0]["lr"]
        runs[device] = (float(lr), [p.detach().cpu() for p in model.parameters()])
    assert runs["cpu"][0] != lr0  # the hypergradient moved the LR: there is something to compare
    assert runs["cuda"][0] == pytest.approx(runs["cpu"][0], rel=1e-9)
    for a, b in zip(runs["cpu"][1], runs["cuda"][1], strict=True):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-12)


def test_accumulated_fp16_updates_advance_the_lr_once_per_update() -> None:
    model, loader = _model(), _loader()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = torch.amp.GradScaler("cuda")
    before = _snapshot(model, opt, scaler)
    res = range_test(model, opt, F.cross_entropy, loader, start_lr=1e-5, end_lr=1.0, steps=30,
                     accumulation_steps=4, scaler=scaler, autocast_dtype=torch.float16)
    assert res.micro_batches == 4 * (res.updates + res.skipped)
    assert len(res.lrs) == res.updates
    _restored(before, model, opt, scaler)


@pytest.mark.parametrize("options", [{"fused": True},
                                     {"capturable": True, "lr": torch.tensor(1e-3)}])
def test_fused_and_capturable_adamw_on_cuda_sweep_and_restore(options: dict) -> None:
    model, loader = _model(), _loader()
    settings = {"lr": 1e-3} | options
    if isinstance(settings["lr"], torch.Tensor):
        settings["lr"] = settings["lr"].cuda()
    opt = torch.optim.AdamW(model.parameters(), **settings)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=100)
    _warm(model, opt, loader)
    scheduler.step()
    before = _snapshot(model, opt)
    sched_before = copy.deepcopy(scheduler.state_dict())
    res = range_test(model, opt, F.cross_entropy, loader, start_lr=1e-6, end_lr=10, steps=50,
                     scheduler=scheduler)
    assert math.isfinite(res.suggestion)
    assert res.lrs[0] == pytest.approx(1e-6) and res.lrs[-1] > 1e-2
    _restored(before, model, opt)
    assert _same(sched_before, scheduler.state_dict())
    # and training goes on: a fused or capturable step needs its state on the GPU
    _warm(model, opt, loader)
    assert opt.state[next(iter(model.parameters()))]["step"].device.type == "cuda"


def _on_gpu(name: str) -> Any:
    """A built-in task whose model factory puts the model on the GPU, as a user's might."""
    import dataclasses

    from lrkit.tasks import builtin_tasks

    task = builtin_tasks()[name]()
    return dataclasses.replace(task, model=lambda: task.model().cuda())


def test_a_task_whose_model_lives_on_the_gpu_trains_there_like_on_the_cpu() -> None:
    from lrkit.tasks import builtin_tasks, train

    rng = torch.cuda.get_rng_state()
    gpu = _on_gpu("breast-cancer-logreg")
    cpu = builtin_tasks()["breast-cancer-logreg"]()
    on_gpu, on_cpu = train(gpu, 0.5, seed=3), train(cpu, 0.5, seed=3)
    assert on_gpu.steps == on_cpu.steps == cpu.total_steps
    assert on_gpu.final_val_loss == pytest.approx(on_cpu.final_val_loss, rel=1e-3)
    assert train(gpu, 0.5, seed=3).val_losses == on_gpu.val_losses  # seeded: repeatable
    assert torch.equal(rng, torch.cuda.get_rng_state())  # the caller's CUDA stream is untouched


def test_find_sharpness_and_auto_run_on_a_gpu_task() -> None:
    from lrkit.auto import auto
    from lrkit.curvature import measure_task
    from lrkit.rangetest import find

    task = _on_gpu("breast-cancer-logreg")
    res = find(task, steps=60)
    assert math.isfinite(res.suggestion)
    report = measure_task(task, n_batches=2, warm_steps=3, warm_lr=0.1, max_hvps=10)
    assert report.sharpness.value > 0 and "after 3 warm steps" in report.point
    rec = auto(task, budget=1.0)
    assert math.isfinite(rec.lr) and rec.lr > 0 and rec.cost_runs <= 1.05
    assert [s.name for s in rec.stages] == ["prior", "range test", "curvature", "search",
                                            "choice"]
    assert "sharpness" in rec.stages[2].summary
