"""The calculator's published test vectors: each compared with the number its source prints.

* Goyal et al. 2017 (arXiv:1706.02677): ResNet-50, 0.1 at batch 256 -> 3.2 at 8192 (§2.1,
  §5.1) with a 5-epoch gradual warmup (§2.2).
* DeepSeek LLM (Bi et al. 2024, arXiv:2401.02954): eta = 0.3118 C^-0.125 at C = 1e20; and the
  published 7B / 67B settings (README of deepseek-ai/DeepSeek-LLM and the paper's Table 2:
  7B = 30 layers, d_model 4096, LR 4.2e-4, batch 2304 sequences; 67B = 95 layers, d_model 8192,
  LR 3.2e-4, batch 4608 sequences; both 2T tokens of length 4096). The law is a fit, and the
  published settings are rounded choices, so the comparison is: LR within 3%, batch within
  3% (7B) and 10% (67B, where DeepSeek chose 4608 against the law's 5043).
* Malladi et al. 2022 (arXiv:2205.10287) square-root rule: hand-computed from the rule's
  statement (batch x kappa: lr x sqrt(kappa), 1 - beta -> kappa (1 - beta), eps / sqrt(kappa)).
* Ma & Yarats 2021: 2 / (1 - beta2) = 2000 warmup steps for beta2 = 0.999.
* Step Law (Li et al. 2025): N = 1e9, D = 1e11 -> 1.63e-3 and 1.11e6 tokens (reference note).
"""

from __future__ import annotations

import math

import pytest

from lrkit.rules import CalcInput, calculate, deepseek_flops_per_token, gpt3_lr


def ids(rec):
    return [r.id for r in rec.rules]


def test_goyal_linear_scaling_and_five_epoch_warmup():
    rec = calculate(CalcInput(optimizer="sgd", base_lr=0.1, base_batch_size=256,
                              batch_size=8192))
    assert rec.initial_lr == pytest.approx(3.2, rel=1e-12)
    assert rec.warmup_epochs == 5.0
    assert rec.warmup_steps is None  # steps per epoch unknown
    assert ids(rec) == ["input.base-lr", "scaling.linear", "warmup.gradual"]
    assert "Goyal et al. 2017" in rec.rules[1].source and "§2.1" in rec.rules[1].source
    assert "§2.2" in rec.rules[2].source


def test_goyal_full_recipe_schedule():
    """ImageNet: 1,281,167 images at batch 8192 -> 157 steps/epoch; 90 epochs, step decay."""
    rec = calculate(CalcInput(optimizer="momentum", base_lr=0.1, base_batch_size=256,
                              batch_size=8192, dataset_size=1_281_167, epochs=90,
                              schedule="step"))
    assert rec.steps_per_epoch == 157 and rec.total_steps == 90 * 157
    assert rec.warmup_steps == 5 * 157
    lr = dict(zip(rec.schedule_steps, rec.schedule_lrs, strict=True))
    assert lr[0] == pytest.approx(0.1)            # Goyal start from the unscaled LR
    assert lr[5 * 157] == pytest.approx(3.2)      # and reach k * eta after 5 epochs
    assert lr[30 * 157 - 1] == pytest.approx(3.2)
    assert lr[30 * 157] == pytest.approx(0.32)    # /10 at epochs 30, 60, 80
    assert lr[60 * 157] == pytest.approx(0.032)
    assert lr[80 * 157] == pytest.approx(0.0032)
    assert rec.final_lr == pytest.approx(0.0032)


def test_deepseek_compute_1e20():
    rec = calculate(CalcInput(scaling_law="deepseek", compute_flops=1e20))
    assert rec.initial_lr == pytest.approx(9.86e-4, rel=1e-3)
    assert rec.initial_lr == pytest.approx(0.3118 * 1e20 ** -0.125, rel=1e-12)
    assert rec.scaling_law["batch_tokens"] == pytest.approx(0.2920 * 1e20 ** 0.3271, rel=1e-12)
    assert rec.optimizer == "adamw"
    assert rec.optimizer_params["beta2"] == 0.95
    assert rec.warmup_steps == 2000 and rec.decay_type == "multistep"
    assert "law.deepseek" in ids(rec)


@pytest.mark.parametrize(("size", "layers", "width", "lr_pub", "batch_pub", "batch_tol"), [
    ("7B", 30, 4096, 4.2e-4, 2304, 0.03),
    ("67B", 95, 8192, 3.2e-4, 4608, 0.10),
])
def test_deepseek_published_settings(size, layers, width, lr_pub, batch_pub, batch_tol):
    rec = calculate(CalcInput(scaling_law="deepseek", n_layers=layers, d_model=width,
                              seq_len=4096, tokens=2e12))
    assert rec.initial_lr == pytest.approx(lr_pub, rel=0.03), size
    assert rec.batch_size == pytest.approx(batch_pub, rel=batch_tol), size
    m = 72 * layers * width**2 + 12 * layers * width * 4096
    assert rec.scaling_law["compute_flops"] == pytest.approx(m * 2e12)
    assert ids(rec)[1:3] == ["law.deepseek-compute", "law.deepseek"]
    # the recipe: 2000 warmup steps, 31.6% of the peak at 80% and 10% at 90% of the tokens
    lr = dict(zip(rec.schedule_steps, rec.schedule_lrs, strict=True))
    total = rec.total_steps
    assert total == math.ceil(2e12 / (rec.batch_size * 4096))
    assert lr[2000] == pytest.approx(rec.initial_lr)
    assert lr[round(0.8 * total)] == pytest.approx(rec.initial_lr * math.sqrt(0.1))
    assert lr[round(0.9 * total)] == pytest.approx(rec.initial_lr * 0.1)


def test_deepseek_m_of_7b():
    assert deepseek_flops_per_token(30, 4096, 4096) == pytest.approx(4.228e10, rel=1e-3)


@pytest.mark.parametrize(("kappa", "lr", "beta1", "beta2", "eps"), [
    (4, 2e-3, 0.6, 0.996, 5e-9),        # 256 -> 1024
    (0.25, 5e-4, 0.975, 0.99975, 2e-8),  # 1024 -> 256: the rule also runs backwards
])
def test_malladi_square_root_rule(kappa, lr, beta1, beta2, eps):
    base = 256 if kappa >= 1 else 1024
    rec = calculate(CalcInput(optimizer="adam", base_lr=1e-3, base_batch_size=base,
                              batch_size=int(base * kappa), beta1=0.9, beta2=0.999, eps=1e-8))
    assert rec.initial_lr == pytest.approx(lr, rel=1e-12)
    assert rec.optimizer_params["beta1"] == pytest.approx(beta1, rel=1e-12)
    assert rec.optimizer_params["beta2"] == pytest.approx(beta2, rel=1e-12)
    assert rec.optimizer_params["eps"] == pytest.approx(eps, rel=1e-12)
    assert "scaling.sqrt" in ids(rec)


def test_square_root_rule_keeps_beta_it_cannot_map():
    rec = calculate(CalcInput(optimizer="adam", base_lr=1e-3, base_batch_size=256,
                              batch_size=256 * 16))
    assert rec.initial_lr == pytest.approx(4e-3)
    assert rec.optimizer_params["beta1"] == 0.9   # 1 - 16 x 0.1 < 0: not mappable
    assert rec.optimizer_params["beta2"] == pytest.approx(0.984)
    assert any("beta1 would become" in w for w in rec.warnings)


def test_adam_warmup_two_over_one_minus_beta2():
    rec = calculate(CalcInput(optimizer="adam", beta2=0.999, total_steps=100_000))
    assert rec.warmup_steps == 2000
    assert "warmup.adam" in ids(rec)
    rec95 = calculate(CalcInput(optimizer="adamw", beta2=0.95, total_steps=100_000))
    assert rec95.warmup_steps == 40


def test_step_law_vector():
    rec = calculate(CalcInput(scaling_law="step-law", model_params=1e9, tokens=1e11))
    assert rec.initial_lr == pytest.approx(1.63e-3, rel=2e-3)
    assert rec.scaling_law["batch_tokens"] == pytest.approx(1.11e6, rel=5e-3)


def test_gpt3_table_points_and_interpolation():
    assert gpt3_lr(125e6)[0] == pytest.approx(6e-4)
    assert gpt3_lr(6.7e9)[0] == pytest.approx(1.2e-4)
    mid = gpt3_lr(math.sqrt(1.3e9 * 2.7e9))[0]   # geometric midpoint -> geometric mean
    assert mid == pytest.approx(math.sqrt(2e-4 * 1.6e-4))
