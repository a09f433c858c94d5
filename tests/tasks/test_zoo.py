"""The task zoo: every pair builds and trains, the contract holds, the split is clean."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

from lrkit.errors import ConfigError
from lrkit.tasks import Task, load_task, train
from lrkit.tasks.zoo import FAMILY_SPLIT, SPLITS, ZOO, ZooPair, zoo_pairs
from lrkit.tasks.zoo.families import OPTIMIZERS

SPLIT_JSON = Path(__file__).resolve().parents[2] / "benchmarks" / "zoo" / "split.json"
# a small LR every optimizer survives for 2 updates
SAFE_LR = 1e-3


def test_api_shape():
    assert [f.name for f in dataclasses.fields(ZooPair)] == [
        "name", "family", "split", "make", "description"]
    assert len(ZOO) >= 40
    for name, pair in ZOO.items():
        assert pair.name == name and pair.split in SPLITS
        assert pair.family in FAMILY_SPLIT and pair.description
    with pytest.raises(dataclasses.FrozenInstanceError):
        ZOO[next(iter(ZOO))].name = "x"  # type: ignore[misc]
    assert zoo_pairs() == list(ZOO.values())
    with pytest.raises(ConfigError, match="split = 'train'"):
        zoo_pairs("train")


@pytest.mark.parametrize("name", sorted(ZOO))
def test_every_pair_builds_and_trains(name):
    task = ZOO[name].make()
    assert isinstance(task, Task) and task.name == name
    assert 8 <= task.batch_size <= 512
    assert 100 <= task.total_steps <= 5100, task.total_steps
    model = task.model()
    assert task.model() is not model  # fresh every call
    # 4 updates: onecycle cannot be laid out on fewer than 4 (an empty phase)
    res = train(task, SAFE_LR, seed=0, total_steps=4)
    assert res.steps == 4 and not res.diverged
    assert math.isfinite(res.final_val_loss) and res.final_val_loss > 0


def test_pairs_are_deterministic_across_builds():
    a, b = ZOO["moons-mlp-nest-cos"].make(), ZOO["moons-mlp-nest-cos"].make()
    assert torch.equal(a.train_data.tensors[0], b.train_data.tensors[0])
    r1 = train(a, 0.05, seed=3, total_steps=20)
    r2 = train(b, 0.05, seed=3, total_steps=20)
    assert r1.val_losses == r2.val_losses


def test_no_family_straddles_the_split_and_json_agrees():
    split_of: dict[str, set[str]] = {}
    for p in ZOO.values():
        split_of.setdefault(p.family, set()).add(p.split)
    assert all(len(s) == 1 for s in split_of.values())
    recorded = json.loads(SPLIT_JSON.read_text())
    assert recorded["families"] == {f: s for f, (s, _) in FAMILY_SPLIT.items()}
    assert recorded["dev"] == [p.name for p in zoo_pairs("dev")]
    assert recorded["test"] == [p.name for p in zoo_pairs("test")]
    for split in SPLITS[2:]:
        assert recorded[split] == [p.name for p in zoo_pairs(split)]


@pytest.mark.parametrize(("split", "kinds"), [("holdout", {"LSTM", "LayerNorm", "Tanh"}),
                                              ("holdout2", {"LayerNorm", "Tanh", "Dropout"}),
                                              ("holdout3", {"Tanh", "Dropout"}),
                                              ("holdout4", {"Conv1d", "BatchNorm1d",
                                                            "TokenAttention",
                                                            "MatrixFactorization"}),
                                              ("holdout5", {"PatchTransformer", "CausalTCN",
                                                            "GELU", "Linear"}),
                                              ("holdout6", {"ConvAutoencoder",
                                                            "FeatureTransformer", "SiLU",
                                                            "Siamese"}),
                                              ("holdout7", {"GraphNet", "MixtureOfExperts",
                                                            "CouplingFlow",
                                                            "FactorizationMachine"}),
                                              ("holdout8", {"VAE", "DeepSets", "SELU",
                                                            "OrdinalNet"}),
                                              ("holdout9", {"MixtureDensityNet", "GRUTagger",
                                                            "RandomFeatures",
                                                            "MultiTaskNet"}),
                                              ("holdout10", {"UNet1d", "FiLMNet", "HashedBag",
                                                             "AttentionPool"}),
                                              ("holdout11", {"ListScorer", "Siren", "SoftTree",
                                                             "DiagonalSSM"}),
                                              ("holdout12", {"PhysicsInformedNet", "ConvCTC",
                                                             "MADE", "HyperNet"})])
def test_each_holdout_is_new_families(split, kinds):
    fresh = zoo_pairs(split)
    assert len(fresh) >= 8 and len({p.family for p in fresh}) >= 4
    seen = {p.family for p in ZOO.values() if p.split != split}
    assert not {p.family for p in fresh} & seen
    assert kinds <= {type(m).__name__ for p in fresh for m in p.make().model().modules()}


def _parts(pair: ZooPair) -> tuple[str, str]:
    opt, schedule = pair.name.rsplit("-", 2)[1:]
    return opt, schedule


def test_both_halves_are_varied():
    n_dev, n_test = len(zoo_pairs("dev")), len(zoo_pairs("test"))
    assert 0.4 <= n_dev / (n_dev + n_test) <= 0.6
    for split in ("dev", "test"):
        pairs = zoo_pairs(split)
        optimizers = {OPTIMIZERS[_parts(p)[0]][0] for p in pairs}
        schedules = {_parts(p)[1] for p in pairs}
        assert {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad"} <= optimizers, split
        assert len(schedules) >= 6, (split, schedules)
        assert len({p.family for p in pairs}) >= 8
    everything = Counter(_parts(p)[1] for p in ZOO.values())
    assert set(everything) == {"const", "step", "cos", "wcos", "1cyc", "wsd", "lin"}


def test_model_kinds_cover_the_issue():
    kinds: dict[str, set[str]] = {split: set() for split in SPLITS}
    for pair in ZOO.values():
        model = pair.make().model()
        names = {type(m).__name__ for m in model.modules()}
        kinds[pair.split] |= names
    for split in ("dev", "test"):
        assert {"Linear", "BatchNorm2d", "Conv2d"} <= kinds[split]
    everywhere = kinds["dev"] | kinds["test"]
    assert {"LSTM", "GRU", "TransformerEncoder", "ResNet", "Dropout"} <= everywhere


def test_load_task_zoo_and_unknown_name():
    task = load_task("zoo:wine-logreg-adam-cos")
    assert task.name == "wine-logreg-adam-cos"
    with pytest.raises(ConfigError) as err:
        load_task("zoo:wine-logreg-adam-cosine")
    msg = str(err.value)
    assert "\n" not in msg and "zoo:wine-logreg-adam-cos" in msg
    with pytest.raises(ConfigError, match=r"python -m lrkit\.tasks\.zoo"):
        load_task("zoo:zzzz")


def test_cli_lists_and_rejects():
    out = subprocess.run([sys.executable, "-m", "lrkit.tasks.zoo", "test"],
                         capture_output=True, text=True, check=True)
    assert len(out.stdout.splitlines()) == len(zoo_pairs("test"))
    bad = subprocess.run([sys.executable, "-m", "lrkit.tasks.zoo", "nope"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "split = 'nope'" in bad.stderr


def test_zoo_import_does_not_pull_torch():
    code = "import sys, lrkit.tasks.zoo; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_schedule_lengths_given_as_fractions_scale_with_the_run():
    from lrkit.tasks import fill_schedule

    long, short = (fill_schedule("wsd(decay_steps=0.2, warmup_steps=0.05)", 1.0, n)
                   for n in (1000, 40))
    assert long.values(1000)[799] == 1.0 and long.values(1000)[900] < 1.0
    assert short.values(40)[31] == 1.0 and short.values(40)[36] < 1.0
    step = fill_schedule("multistep(milestones=[0.5, 0.75], gamma=0.1)", 1.0, 8).values(8)
    assert step.tolist() == pytest.approx([1, 1, 1, 1, 0.1, 0.1, 0.01, 0.01])
    assert fill_schedule("step(step_size=0.25)", 1.0, 8).values(8)[2] == 0.1
    assert fill_schedule("step(step_size=3)", 1.0, 8).values(8)[3] == pytest.approx(0.1)
    assert fill_schedule("cosine(warmup_steps=0.05)", 1.0, 1).values(1)[0] == 1.0
