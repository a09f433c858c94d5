"""The torch adapter never changes what the caller passed in, and counts real updates only."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from lrkit.errors import ConfigError
from lrkit.rangetest import checksum, range_test
from lrkit.rangetest.runner import lr_at


def make_setup(seed: int = 0):
    """A model with BatchNorm and dropout, Adam with state, a shuffling loader."""
    torch.manual_seed(seed)
    x = torch.randn(96, 6)
    y = (x[:, :3].sum(1) > 0).long()
    model = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(16, 2))
    head, body = list(model[4].parameters()), [p for m in model[:4] for p in m.parameters()]
    opt = torch.optim.Adam([{"params": body}, {"params": head, "lr": 1e-4}], lr=1e-3)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    for xb, yb in loader:  # some real training first, so the optimizer has state
        opt.zero_grad()
        nn.functional.cross_entropy(model(xb), yb).backward()
        opt.step()
    return model, opt, loader


def train_steps(model, opt, loader, n: int) -> list[torch.Tensor]:
    done = 0
    while done < n:
        for xb, yb in loader:
            opt.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
            done += 1
            if done == n:
                break
    return [p.detach().clone() for p in model.parameters()] + \
        [b.clone() for b in model.buffers()]


def test_everything_is_restored_exactly():
    model, opt, loader = make_setup()
    model[3].eval()  # a mixed train/eval state must survive
    model[0].bias.requires_grad_(False)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    scaler = torch.amp.GradScaler("cpu")
    random.seed(5)
    np.random.seed(5)
    before = checksum(model, opt, scaler=scaler)
    sched_state = sched.state_dict()
    groups = opt.param_groups
    res = range_test(model, opt, nn.functional.cross_entropy, loader, steps=30,
                     start_lr=1e-5, end_lr=10.0, scaler=scaler, scheduler=sched)
    assert len(res.lrs) > 10
    assert checksum(model, opt, scaler=scaler) == before
    assert sched.state_dict() == sched_state
    assert opt.param_groups is groups and [g["lr"] for g in groups] == [1e-3, 1e-4]
    assert not model[3].training and model[0].training
    assert not model[0].bias.requires_grad


def test_training_after_range_test_is_bit_identical():
    model, opt, loader = make_setup(1)
    reference = train_steps(model, opt, loader, 12)  # dropout + shuffling use global RNGs
    model, opt, loader = make_setup(1)
    range_test(model, opt, nn.functional.cross_entropy, loader, steps=25, start_lr=1e-4)
    after = train_steps(model, opt, loader, 12)
    assert all(torch.equal(a, b) for a, b in zip(reference, after, strict=True))


def test_loader_generator_is_restored():
    model, opt, _ = make_setup()
    g = torch.Generator().manual_seed(3)
    data = TensorDataset(torch.randn(64, 6), torch.randint(0, 2, (64,)))
    loader = DataLoader(data, batch_size=8, shuffle=True, generator=g)
    state = g.get_state()
    range_test(model, opt, nn.functional.cross_entropy, loader, steps=20, start_lr=1e-4)
    assert torch.equal(g.get_state(), state)


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_restored_on_exception(error):
    model, opt, loader = make_setup()
    before = checksum(model, opt)
    calls = []

    def exploding(out, target):
        calls.append(1)
        if len(calls) == 8:
            raise error("stop")
        return nn.functional.cross_entropy(out, target)

    with pytest.raises(error):
        range_test(model, opt, exploding, loader, steps=30)
    assert checksum(model, opt) == before


class CountingSGD(torch.optim.SGD):
    def __init__(self, params, lr):
        super().__init__(params, lr=lr)
        self.seen: list[list[float]] = []

    def step(self, closure=None):
        self.seen.append([g["lr"] for g in self.param_groups])
        return super().step(closure)


def test_gradient_accumulation_counts_updates_and_records_window_mean():
    w = nn.Linear(1, 1, bias=False)
    opt = CountingSGD([{"params": w.parameters()}], lr=1.0)
    # batch k carries the value k: the recorded loss of update i is the mean of its window
    batches = [(torch.full((1, 1), float(k)), torch.zeros(1, 1)) for k in range(30)]

    def forward(model, batch):
        return model(batch[0]).sum() * 0.0 + batch[0].sum()

    res = range_test(w, opt, None, batches, forward=forward, accumulation_steps=3,
                     start_lr=1e-3, end_lr=1e-1, steps=6, extend=1.0)
    assert len(opt.seen) == 6 and res.micro_batches == 18
    assert [s[0] for s in opt.seen] == pytest.approx([lr_at(i, 1e-3, 1e-1, 6, "exp")
                                                      for i in range(6)])
    assert list(res.losses) == [1.0, 4.0, 7.0, 10.0, 13.0, 16.0]


def test_param_groups_keep_their_ratios():
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 1))
    opt = CountingSGD([{"params": model[0].parameters()},
                       {"params": model[1].parameters(), "lr": 0.25}], lr=1.0)
    data = [(torch.randn(8, 4), torch.randn(8, 1)) for _ in range(5)]
    res = range_test(model, opt, nn.functional.mse_loss, data, steps=10, start_lr=1e-4,
                     end_lr=1e-2, extend=1.0)
    assert all(b == pytest.approx(0.25 * a) for a, b in opt.seen)
    assert res.group_ratios == (1.0, 0.25)
    assert res.group_lrs[1] == pytest.approx(0.25 * res.suggestion)
    assert [g["lr"] for g in opt.param_groups] == [1.0, 0.25]


def test_amp_skipped_steps_do_not_advance_the_lr():
    model = nn.Linear(3, 1)
    opt = CountingSGD(model.parameters(), lr=1.0)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 4, growth_interval=1000)
    bad = {2, 5, 6}  # these micro-batches produce NaN gradients with a finite loss
    batches = [(torch.randn(4, 3), torch.randn(4, 1), k in bad) for k in range(40)]

    def forward(m, batch):
        x, y, poison = batch
        loss = nn.functional.mse_loss(m(x), y)
        if poison:  # d sqrt(|0 * w|) = 0 * inf = NaN, while the value stays 0
            loss = loss + torch.sqrt((m.weight.sum() * 0.0).abs())
        return loss

    before = checksum(model, opt, scaler=scaler)
    res = range_test(model, opt, None, batches, forward=forward, scaler=scaler,
                     start_lr=1e-4, end_lr=1e-2, steps=12, extend=1.0)
    assert res.skipped == 3 and res.updates == 12 and res.micro_batches == 15
    assert len(opt.seen) == 12  # the scaler never called step() on the poisoned updates
    assert list(res.lrs) == pytest.approx([lr_at(i, 1e-4, 1e-2, 12, "exp") for i in range(12)])
    assert checksum(model, opt, scaler=scaler) == before
    assert scaler.get_scale() == 2.0 ** 4


def test_bfloat16_autocast_runs():
    model, opt, loader = make_setup()
    res = range_test(model, opt, nn.functional.cross_entropy, loader, steps=20,
                     start_lr=1e-4, autocast_dtype=torch.bfloat16)
    assert all(np.isfinite(res.losses[:10]))


def test_validation_probe():
    model, opt, loader = make_setup()
    res = range_test(model, opt, nn.functional.cross_entropy, loader, steps=20, start_lr=1e-4,
                     end_lr=1e-1, val_loader=loader, val_batches=2, val_every=5, extend=1.0)
    assert len(res.val_losses) == len(res.lrs) // 5 and res.val_lrs[0] == res.lrs[4]


def test_adapter_rejects_bad_input():
    model, opt, loader = make_setup()
    with pytest.raises(ConfigError, match="accumulation_steps"):
        range_test(model, opt, nn.functional.cross_entropy, loader, accumulation_steps=0)
    with pytest.raises(ConfigError, match="no batches"):
        range_test(model, opt, nn.functional.cross_entropy, [])
    with pytest.raises(ConfigError, match="total_steps"):
        range_test(model, opt, nn.functional.cross_entropy, loader, schedule="cosine")
