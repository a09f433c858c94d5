"""The evidence table and the Recommendation contract (every output cites its rules)."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from lrkit.errors import ConfigError
from lrkit.rules import (
    DECAYS,
    EVIDENCE,
    LAWS,
    MODEL_KINDS,
    OPTIMIZERS,
    SCALING_RULES,
    CalcInput,
    calculate,
    evidence,
)

REQUIRED = {"initial_lr", "final_lr", "decay_type", "optimizer", "warmup_steps",
            "estimated_convergence_epoch", "rules", "schedule"}


def test_evidence_rows_are_complete_and_url_free():
    assert len({row.id for row in EVIDENCE}) == len(EVIDENCE)
    for row in EVIDENCE:
        for name, value in row.to_dict().items():
            assert isinstance(value, str) and value.strip(), (row.id, name)
            assert not re.search(r"https?://|www\.", value), (row.id, name)


def test_every_table_entry_points_at_an_evidence_row():
    for info in OPTIMIZERS.values():
        evidence(info.evidence)
    for kind in MODEL_KINDS.values():
        evidence(kind.evidence)
        if kind.lr_evidence:
            evidence(kind.lr_evidence)
    for decay_id in DECAYS.values():
        evidence(decay_id)
    for name in SCALING_RULES:
        evidence(f"scaling.{name}")
    for name in LAWS:
        evidence(f"law.{name}")


def test_unknown_evidence_id_suggests():
    with pytest.raises(ConfigError, match=r"did you mean 'scaling\.linear'"):
        evidence("scaling.linaer")


SWEEP = [
    {"optimizer": opt, "model": model, "batch_size": 1024, "base_batch_size": 256,
     "epochs": 3, "steps_per_epoch": 40}
    for opt, model in itertools.product(["auto", *OPTIMIZERS], [None, *MODEL_KINDS])
] + [
    {"model": "llm", "model_params": 1.3e9, "total_steps": 5000},
    {"model": "resnet", "fine_tune": True, "layers": 4, "epochs": 5, "steps_per_epoch": 10},
    {"optimizer": "momentum", "lipschitz": 4.0, "total_steps": 100},
    {"optimizer": "momentum", "base_lr": 5.0, "lipschitz": 4.0, "total_steps": 100},
    {"optimizer": "adam", "lipschitz": 4.0},
    {"scaling_law": "porian", "model_params": 3e8, "tokens": 6e9, "seq_len": 2048},
    {"scaling_law": "deepseek", "model_params": 1e9, "tokens": 2e10, "seq_len": 2048},
]


@pytest.mark.parametrize("kwargs", SWEEP, ids=[str(k) for k in SWEEP])
def test_recommendation_contract(kwargs):
    rec = calculate(CalcInput(**kwargs))
    doc = json.loads(json.dumps(rec.to_dict(), allow_nan=False))
    assert doc.keys() >= REQUIRED
    assert doc["rules"], "every output lists the rules it used"
    for rule in doc["rules"]:
        row = evidence(rule["id"])
        assert rule["source"] == row.source and rule["detail"]
    assert rec.initial_lr > 0
    lo, hi = rec.lr_range
    assert 0 < lo < hi
    if rec.total_steps is not None:
        assert doc["schedule"]["step"][0] == 0
        assert doc["schedule"]["step"][-1] == rec.total_steps
        assert len(doc["schedule"]["step"]) == len(doc["schedule"]["lr"])
        assert max(doc["schedule"]["lr"]) == pytest.approx(rec.initial_lr)
    assert rec.summary().startswith("initial (peak) LR")


def test_fine_tuning_is_ten_times_smaller_and_layer_rates_follow_gamma():
    scratch = calculate(CalcInput(model="resnet", total_steps=100))
    tuned = calculate(CalcInput(model="resnet", fine_tune=True, layers=3, layer_decay=0.5,
                                total_steps=100))
    assert tuned.initial_lr == pytest.approx(scratch.initial_lr / 10)
    assert tuned.layer_lrs == pytest.approx(tuple(tuned.initial_lr * 0.5 ** (3 - layer)
                                                  for layer in (1, 2, 3)))
    default = calculate(CalcInput(model="resnet", fine_tune=True, layers=2))
    assert default.layer_lrs[0] == pytest.approx(default.initial_lr / 2.6)


def test_curvature_sets_one_over_l_and_caps_at_the_ceiling():
    rec = calculate(CalcInput(optimizer="sgd", lipschitz=4.0))
    assert rec.initial_lr == pytest.approx(0.25) and rec.max_stable_lr == pytest.approx(0.5)
    capped = calculate(CalcInput(optimizer="momentum", base_lr=5.0, lipschitz=4.0))
    assert capped.max_stable_lr == pytest.approx((2 + 2 * 0.9) / 4)
    assert capped.initial_lr < capped.max_stable_lr
    adam = calculate(CalcInput(optimizer="adam", lipschitz=4.0))
    assert adam.max_stable_lr is None and any("does not bound" in w for w in adam.warnings)


def test_optimizer_recommendation_follows_the_model():
    assert calculate(CalcInput(model="resnet")).optimizer == "nesterov"
    assert calculate(CalcInput(model="transformer")).optimizer == "adamw"
    rec = calculate(CalcInput(model="resnet", optimizer="adam"))
    assert rec.optimizer == "adam" and "usual choice" in rec.optimizer_reason
    # a sibling of the recipe's optimizer keeps the recipe but is named as given
    sibling = calculate(CalcInput(model="cnn", optimizer="momentum"))
    assert sibling.optimizer == "momentum"
    assert sibling.optimizer_reason.startswith("SGD + momentum as given")
    assert calculate(CalcInput(model="cnn")).optimizer_reason.startswith("SGD with Nesterov")


def test_transformer_recipe_lr_and_warmup():
    rec = calculate(CalcInput(model="transformer", batch_size=256, total_steps=1_000_000))
    assert rec.initial_lr == pytest.approx(1e-4)  # BERT: Adam 1e-4 at batch 256
    # BERT warmed up over 10k of 1M steps: the 1% attention rule beats Adam's 2000 steps
    assert rec.warmup_steps == 10_000 and rec.decay_type == "linear"
    assert rec.rules[2].id == "warmup.transformer"


def test_transformer_fine_tuning_uses_the_bert_recipe_not_the_factor():
    rec = calculate(CalcInput(model="transformer", fine_tune=True, batch_size=32,
                              total_steps=3000))
    assert rec.initial_lr == pytest.approx(3e-5)  # BERT App. A.3 grid middle, batch 32
    assert "finetune.transformer-recipe" in [r.id for r in rec.rules]
    assert "finetune.factor" not in [r.id for r in rec.rules]


def test_llm_warmup_is_at_least_one_percent():
    rec = calculate(CalcInput(model="llm", model_params=3e9, total_steps=100_000))
    assert rec.warmup_steps == 1000   # not Adam's 40 steps for beta2 = 0.95
    assert rec.optimizer_params["beta2"] == 0.95


def test_docs_list_every_rule():
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "calculator.md"
    text = doc.read_text(encoding="utf-8")
    missing = [row.id for row in EVIDENCE if f"`{row.id}`" not in text]
    assert not missing, f"docs/calculator.md lacks {missing}"
