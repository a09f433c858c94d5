"""Paired tests against hand-computed values."""

from __future__ import annotations

import math

import pytest

from lrkit.compare.stats import paired, spread


def test_paired_t_matches_the_hand_computation() -> None:
    # d = 1, 2, 3: mean 2, sd 1, t = 2 / (1 / sqrt 3) = 3.4641 with 2 df -> p = 0.07418
    p = paired([2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    assert p.mean_diff == pytest.approx(2.0)
    assert p.t_p == pytest.approx(0.07418, abs=1e-4)
    assert p.losses == 3 and p.sign_p == pytest.approx(0.25)
    assert not p.worse  # p > 0.05: within the seed noise
    assert "within seed noise" in p.verdict()


def test_a_consistent_gap_is_worse() -> None:
    p = paired([1.10, 1.21, 1.30, 1.41], [1.0, 1.1, 1.2, 1.3])
    assert p.worse and p.t_p < 0.001


def test_sign_test_with_ten_seeds() -> None:
    # 10 of 10 worse: two-sided binomial p = 2 / 1024
    p = paired([1.0 + i for i in range(10)], [0.5 + i for i in range(10)])
    assert p.sign_p == pytest.approx(2 / 1024)


def test_a_diverged_seed_is_a_loss_and_makes_the_mean_infinite() -> None:
    p = paired([0.5, math.inf, 0.6], [0.4, 0.5, 0.5])
    assert p.losses == 3 and math.isinf(p.mean_diff) and math.isnan(p.t_p)
    assert p.worse and p.sign_p == pytest.approx(0.25)  # blowing up is not seed noise
    assert spread([0.5, math.inf])[0] == math.inf


def test_identical_rows_are_not_worse() -> None:
    p = paired([0.5, 0.6], [0.5, 0.6])
    assert not p.worse and p.losses == 0 and p.sign_p == 1.0
