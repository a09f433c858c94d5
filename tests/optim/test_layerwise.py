"""param_groups: depth decay, head split, no-decay groups, and ratios kept by training."""

from __future__ import annotations

import itertools

import pytest
import torch

from lrkit.errors import ConfigError
from lrkit.optim import SGDHD, param_groups


class Backbone(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Linear(6, 8)
        self.norm = torch.nn.LayerNorm(8)
        self.block = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.BatchNorm1d(8),
                                         torch.nn.ReLU(), torch.nn.Linear(8, 8))
        self.classifier = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Linear(8, 3))

    def forward(self, x):
        return self.classifier(self.block(self.norm(self.embed(x))))


def by_name(groups):
    return {g["name"]: g for g in groups}


def test_lr_decays_geometrically_with_depth_and_covers_every_parameter_once():
    model = Backbone()
    groups = param_groups(model, base_lr=1.0, decay=0.5)
    layers = sorted({(g["layer"], g["lr"]) for g in groups})
    depth = len(layers)
    assert depth == 7  # embed, norm, block.0, block.1, block.3, classifier.0, classifier.1
    assert [lr for _, lr in layers] == pytest.approx([0.5 ** (depth - 1 - i)
                                                      for i in range(depth)])
    ids = [id(p) for g in groups for p in g["params"]]
    assert sorted(ids) == sorted(id(p) for p in model.parameters())


def test_biases_and_norm_parameters_get_no_weight_decay():
    model = Backbone()
    groups = by_name(param_groups(model, base_lr=0.1, weight_decay=0.05))
    assert groups["norm/no_decay"]["params"] == [model.norm.weight, model.norm.bias]
    assert groups["block.1/no_decay"]["params"] == [model.block[1].weight, model.block[1].bias]
    assert groups["embed"]["params"] == [model.embed.weight]
    assert groups["embed/no_decay"]["params"] == [model.embed.bias]
    for name, g in groups.items():
        assert g["weight_decay"] == (0.0 if name.endswith("no_decay") else 0.05)


def test_without_weight_decay_the_decayed_groups_use_the_optimizer_default():
    groups = by_name(param_groups(Backbone(), base_lr=0.1))
    assert "weight_decay" not in groups["embed"]
    opt = torch.optim.AdamW(list(groups.values()), lr=0.1, weight_decay=0.3)
    assert {g["name"]: g["weight_decay"] for g in opt.param_groups}["embed"] == 0.3


def test_head_split_puts_the_head_on_top_with_its_multiplier():
    model = Backbone()
    groups = param_groups(model, base_lr=0.01, decay=0.5, head="classifier", head_lr_mult=10)
    head = [g for g in groups if g["name"].startswith("head")]
    assert {id(p) for g in head for p in g["params"]} == {
        id(p) for p in model.classifier.parameters()}
    assert all(g["lr"] == pytest.approx(0.1) for g in head)
    top_backbone = max((g for g in groups if not g["name"].startswith("head")),
                       key=lambda g: g["layer"])
    assert top_backbone["name"].startswith("block.3") and top_backbone["lr"] == pytest.approx(0.005)


def test_explicit_layers_and_frozen_and_tied_parameters():
    model = Backbone()
    model.embed.requires_grad_(False)
    model.block[3].weight = model.block[0].weight  # tied: must appear once, in block
    groups = param_groups(model, base_lr=1.0, decay=0.1, layers=["norm", "block", "classifier"])
    assert [g["name"] for g in groups] == ["norm/no_decay", "block", "block/no_decay",
                                           "classifier", "classifier/no_decay"]
    assert [g["lr"] for g in groups] == pytest.approx([0.01, 0.1, 0.1, 1.0, 1.0])
    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids)) == len([p for p in model.parameters() if p.requires_grad])
    assert id(model.embed.weight) not in ids
    assert by_name(groups)["block"]["params"] == [model.block[0].weight]


def test_bare_parameters_use_the_weight_starts_a_layer_rule():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4),
                                torch.nn.Linear(4, 2))
    groups = param_groups(model.parameters(), base_lr=1.0, decay=0.5, weight_decay=0.1)
    assert [(g["name"], g["lr"], len(g["params"])) for g in groups] == [
        ("layer0", 0.5, 1), ("layer0/no_decay", 0.5, 3), ("layer1", 1.0, 1),
        ("layer1/no_decay", 1.0, 1)]


def test_ratios_survive_training_with_a_schedule_and_a_hypergradient_optimizer():
    from lrkit.tasks import Task, train

    torch.manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(64, 6), torch.randint(0, 3, (64,)))
    seen = []

    def optimizer(params, lr):
        opt = torch.optim.SGD(param_groups(params, lr, decay=0.5), lr=lr)
        seen.append(opt)
        return opt

    task = Task("lw", model=Backbone, optimizer=optimizer,
                loss_fn=torch.nn.functional.cross_entropy, train_data=data, val_data=data,
                batch_size=16, epochs=2, schedule="cosine")
    result = train(task, lr=0.1)
    assert not result.diverged
    lrs = sorted({g["lr"] for g in seen[0].param_groups})
    assert all(b / a == pytest.approx(2.0) for a, b in itertools.pairwise(lrs))

    model = Backbone()
    hd = SGDHD(param_groups(model, 0.1, decay=0.5), hypergrad_lr=0.01)
    x, y = torch.randn(16, 6), torch.randint(0, 3, (16,))
    for _ in range(5):
        hd.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        hd.step()
    top = max(g["lr"] for g in hd.param_groups)
    assert top == pytest.approx(hd.lr) and top != pytest.approx(0.1)
    assert all(g["lr"] / top == pytest.approx(0.5 ** (6 - g["layer"])) for g in hd.param_groups)


@pytest.mark.parametrize("kwargs, match", [
    ({"base_lr": -1.0}, "base_lr = -1.0"),
    ({"decay": 0.0}, "decay = 0.0"),
    ({"decay": 1.5}, "decay = 1.5"),
    ({"head": "nope"}, "head = 'nope'"),
    ({"layers": ["embed"]}, "layers: parameter 'norm.weight'"),
    ({"head_lr_mult": 0.0}, "head_lr_mult = 0.0"),
])
def test_bad_arguments(kwargs, match):
    args = {"base_lr": 0.1, **kwargs}
    with pytest.raises(ConfigError, match=match):
        param_groups(Backbone(), **args)


def test_names_need_a_module():
    with pytest.raises(ConfigError, match="need the model itself"):
        param_groups(Backbone().parameters(), 0.1, head="classifier")


def test_the_range_test_sweep_multiplies_all_groups():
    from lrkit.rangetest import find
    from lrkit.tasks import Task

    torch.manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(64, 6), torch.randint(0, 3, (64,)))
    task = Task("lw", model=Backbone,
                optimizer=lambda params, lr: torch.optim.SGD(param_groups(params, lr, decay=0.5),
                                                             lr=lr),
                loss_fn=torch.nn.functional.cross_entropy, train_data=data, val_data=data,
                batch_size=16, epochs=1)
    result = find(task, start_lr=1e-4, end_lr=1.0, steps=8, extend=1.0)
    # groups in depth order: ratios to group 0 (the input layer) are 2**layer
    layers = [g["layer"] for g in param_groups(Backbone().parameters(), 1.0, decay=0.5)]
    assert result.group_ratios == pytest.approx(tuple(2.0 ** k for k in layers))


def test_to_torch_schedules_keep_the_layer_ratios():
    from lrkit.interop import to_torch
    from lrkit.schedules import parse

    model = Backbone()
    groups = param_groups(model, base_lr=0.1, decay=0.5)
    opt = torch.optim.SGD(groups, lr=0.1)
    schedule = parse("cosine(peak_lr=0.1, total_steps=20)")
    scheduler = to_torch(schedule, opt)
    for t in range(1, 8):
        opt.step()
        scheduler.step()
        for g in opt.param_groups:
            assert g["lr"] == pytest.approx(schedule(t) * 0.5 ** (6 - g["layer"]))
