"""Range-test restore keeps the caller's objects: optimizer state tensors are restored in
place (references stay valid), loaders wrapped in the user's objects get their generators
back, and a one-shot iterator is reported, since nothing can rewind it."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from lrkit.rangetest import state
from lrkit.rangetest.torch_adapter import sweep_torch


def _setup():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = TensorDataset(torch.randn(64, 4), torch.randn(64, 1))
    for x, y in DataLoader(data, batch_size=16):  # give Adam some state first
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    return model, opt, data


def test_optimizer_state_is_restored_in_place():
    model, opt, data = _setup()
    p0 = next(iter(model.parameters()))
    held_dict = opt.state[p0]
    held = {k: v for k, v in held_dict.items()}
    values = {k: v.clone() for k, v in held.items()}
    loader = DataLoader(data, batch_size=16, shuffle=True,
                        generator=torch.Generator().manual_seed(1))
    sweep_torch(model, opt, torch.nn.functional.mse_loss, loader, steps=10)
    assert opt.state[p0] is held_dict
    for k, v in held.items():
        assert opt.state[p0][k] is v, k  # the same tensor object the caller holds
        assert torch.equal(v, values[k]), k


def test_state_created_during_the_run_is_dropped():
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    snap = state.Snapshot.capture(model, opt)
    model(torch.ones(1, 2)).sum().backward()
    opt.step()
    assert len(opt.state) == 2
    snap.restore()
    assert len(opt.state) == 0


class UserLoader:
    """A user's own iterable wrapping a DataLoader (e.g. one adding augmentation)."""

    def __init__(self, loader):
        self.loader = loader

    def __iter__(self):
        for x, y in self.loader:
            yield x + 0.0, y


def test_a_dataloader_wrapped_in_a_users_iterable_gets_its_generator_back():
    model, opt, data = _setup()
    gen = torch.Generator().manual_seed(7)
    inner = DataLoader(data, batch_size=16, shuffle=True, generator=gen)
    before = gen.get_state()
    sweep_torch(model, opt, torch.nn.functional.mse_loss, UserLoader(inner), steps=10)
    assert torch.equal(gen.get_state(), before)


def test_a_one_shot_iterator_is_reported():
    model, opt, data = _setup()
    it = iter(DataLoader(data, batch_size=4))
    with pytest.warns(RuntimeWarning, match="one-shot iterator"):
        sweep_torch(model, opt, torch.nn.functional.mse_loss, it, steps=5, extend=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sweep_torch(model, opt, torch.nn.functional.mse_loss,
                    DataLoader(data, batch_size=16), steps=5, extend=1)
