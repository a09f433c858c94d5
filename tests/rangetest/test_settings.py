"""SweepSettings: one object for the sweep settings of find, range_test and sweep_torch."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from lrkit.errors import ConfigError
from lrkit.integrations import torch as lrkit_torch
from lrkit.rangetest import SweepSettings, find, range_test
from lrkit.rangetest.torch_adapter import TorchSweep, sweep_torch

FIELDS = {f.name for f in dataclasses.fields(SweepSettings)}


@pytest.mark.parametrize("function", [find, range_test, sweep_torch])
def test_the_settings_are_declared_once_not_in_each_signature(function) -> None:
    params = inspect.signature(function).parameters
    assert not FIELDS & set(params), function.__name__
    assert "settings" in params
    assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def test_keywords_and_a_settings_object_run_the_same_sweep() -> None:
    by_keywords = find("breast-cancer-logreg", start_lr=1e-4, end_lr=10.0, steps=30)
    by_object = find("breast-cancer-logreg", SweepSettings(start_lr=1e-4, steps=30))
    assert by_keywords.lrs == by_object.lrs and by_keywords.losses == by_object.losses
    assert by_keywords.settings == by_object.settings


def test_a_keyword_replaces_the_field_of_the_settings() -> None:
    base = SweepSettings(steps=30, end_lr=1.0)
    merged = SweepSettings.of(base, end_lr=2.0)
    assert (merged.steps, merged.end_lr, base.end_lr) == (30, 2.0, 1.0)
    assert SweepSettings.of(base) is base


def test_an_unknown_keyword_is_a_type_error_with_the_closest_setting() -> None:
    with pytest.raises(TypeError, match="'stps'; did you mean 'steps'"):
        find("breast-cancer-logreg", stps=30)


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"steps": 2}, "steps = 2: must be >= 5"),
    ({"start_lr": 1.0, "end_lr": 0.1}, "end_lr = 0.1: must be greater than start_lr"),
    ({"mode": "log"}, "mode = 'log'"),
    ({"extend": 0.5}, "extend = 0.5"),
    ({"accumulation_steps": 0}, "accumulation_steps = 0: must be >= 1"),
    ({"val_every": 5, "val_batches": 0}, "val_batches = 0: must be >= 1"),
])
def test_a_bad_setting_is_refused_when_built(kwargs, words) -> None:
    with pytest.raises(ConfigError, match=words):
        SweepSettings(**kwargs)


def _objects():
    torch.manual_seed(0)
    x = torch.randn(128, 4)
    y = x @ torch.ones(4, 1)
    model = torch.nn.Linear(4, 1)
    return model, torch.optim.SGD(model.parameters(), lr=0.1), DataLoader(
        TensorDataset(x, y), batch_size=16)


def test_sweep_torch_answers_a_named_tuple() -> None:
    model, opt, loader = _objects()
    out = sweep_torch(model, opt, torch.nn.functional.mse_loss, loader,
                      SweepSettings(steps=10, start_lr=1e-3, end_lr=1.0))
    assert isinstance(out, TorchSweep) and out.group_ratios == [1.0]
    record, ratios, micro = out
    assert ratios is out.group_ratios
    assert micro == out.micro_batches >= record.updates


def test_range_test_and_the_torch_integration_take_the_settings_object() -> None:
    settings = SweepSettings(steps=12, start_lr=1e-3, end_lr=1.0)
    model, opt, loader = _objects()
    direct = range_test(model, opt, torch.nn.functional.mse_loss, loader, settings)
    via_keywords = range_test(model, opt, torch.nn.functional.mse_loss, loader, steps=12,
                              start_lr=1e-3, end_lr=1.0)
    via_integration = lrkit_torch.find(model, opt, torch.nn.functional.mse_loss, loader,
                                       settings=settings)
    assert direct.lrs == via_keywords.lrs == via_integration.lrs
