"""Hand-computed values of every family at the start, the middle, the end and after it.

The parameters are chosen so that each value can be worked out on paper; the comment on
each row shows the arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrkit.schedules import CosineRestarts, families, parse

from ._examples import EXAMPLES

SQRT2 = math.sqrt(2.0)

# (spec, {step: expected value})
HAND: list[tuple[str, dict[float, float]]] = [
    ("constant(base_lr=0.1)", {0: 0.1, 500: 0.1, 10**9: 0.1}),
    # 0.5 ** floor(t / 10)
    ("step(base_lr=1, step_size=10, gamma=0.5)",
     {0: 1.0, 9: 1.0, 10: 0.5, 25: 0.25, 1000: 0.5**100}),
    # the change is *at* the milestone; the repeated milestone 6 counts twice
    ("multistep(base_lr=1, milestones=[3, 6, 6], gamma=0.5)",
     {0: 1.0, 2: 1.0, 3: 0.5, 5: 0.5, 6: 0.125, 100: 0.125}),
    ("piecewise(boundaries=[3, 6], lrs=[1, 0.5, 0.25])",
     {0: 1.0, 2: 1.0, 3: 0.5, 5.5: 0.5, 6: 0.25, 10**6: 0.25}),
    # 1, then 1 * 0.5 from step 3, then 0.5 * 0.1 from step 6
    ("piecewise_factors(init_lr=1, boundaries=[3, 6], factors=[0.5, 0.1])",
     {0: 1.0, 3: 0.5, 6: 0.05, 99: 0.05}),
    ("interpolate(steps=[0, 10, 20], lrs=[0, 1, 0.5])",
     {0: 0.0, 5: 0.5, 10: 1.0, 15: 0.75, 20: 0.5, 30: 0.5}),
    # half-cosine easing: (1 - cos(pi / 4)) / 2 a quarter of the way
    ("interpolate(steps=[0, 4], lrs=[0, 1], kind=cosine)",
     {0: 0.0, 1: (1 - SQRT2 / 2) / 2, 2: 0.5, 4: 1.0, 9: 1.0}),
    # knots that start late hold the first value before them
    ("interpolate(steps=[10, 20], lrs=[0.4, 0.2])", {0: 0.4, 15: 0.3, 25: 0.2}),
    # 0.5 ** (t / 2)
    ("exponential(init_lr=1, decay_rate=0.5, decay_steps=2)",
     {0: 1.0, 2: 0.5, 3: SQRT2 / 4, 4: 0.25}),
    ("exponential(init_lr=1, decay_rate=0.5, decay_steps=2, staircase=true)",
     {0: 1.0, 1: 1.0, 3: 0.5, 4: 0.25, 5: 0.25}),
    # the decay starts at transition_begin; the floor end_lr holds it at 0.3
    ("exponential(init_lr=1, decay_rate=0.5, decay_steps=2, transition_begin=4, end_lr=0.3)",
     {0: 1.0, 4: 1.0, 6: 0.5, 8: 0.3, 1000: 0.3}),
    # growth clipped from above by end_lr
    ("exponential(init_lr=0.1, decay_rate=2, decay_steps=1, end_lr=0.5)",
     {0: 0.1, 1: 0.2, 2: 0.4, 3: 0.5, 5000: 0.5}),
    # 1 / (1 + 0.5 t / 2)
    ("inverse_time(init_lr=1, decay_rate=0.5, decay_steps=2)",
     {0: 1.0, 2: 1 / 1.5, 4: 0.5, 6: 0.4}),
    ("inverse_time(init_lr=1, decay_rate=0.5, decay_steps=2, staircase=true)",
     {1: 1.0, 3: 1 / 1.5, 4: 0.5}),
    # (1 - 0.2) * (1 - t / 4) ** 2 + 0.2
    ("polynomial(init_lr=1, total_steps=4, end_lr=0.2, power=2)",
     {0: 1.0, 2: 0.4, 4: 0.2, 9: 0.2}),
    # Keras cycle: the horizon stretches to 4 * ceil(t / 4); the end value at 4, 8, ...
    ("polynomial(init_lr=1, total_steps=4, cycle=true)",
     {0: 1.0, 1: 0.75, 4: 0.0, 5: 0.375, 6: 0.25, 8: 0.0, 9: 0.25, 12: 0.0}),
    ("linear(init_lr=1, end_lr=0.5, total_steps=4)", {0: 1.0, 2: 0.75, 4: 0.5, 40: 0.5}),
    # an increasing linear ramp is allowed (optax linear_schedule)
    ("linear(init_lr=0, end_lr=1, total_steps=4)", {0: 0.0, 1: 0.25, 4: 1.0, 5: 1.0}),
    ("linear_warmup(init_lr=0.1, peak_lr=1, warmup_steps=3)",
     {0: 0.1, 1: 0.4, 3: 1.0, 10: 1.0}),
    ("linear_warmup(init_lr=0.1, peak_lr=1, warmup_steps=0)", {0: 1.0, 5: 1.0}),
    # 0.01 * 100 ** (t / 2)
    ("exponential_warmup(init_lr=0.01, peak_lr=1, warmup_steps=2)",
     {0: 0.01, 1: 0.1, 2: 1.0, 5: 1.0}),
    # 0.2 + 0.8 * (1 + cos(pi t / 10)) / 2
    ("cosine(peak_lr=1, total_steps=10, end_lr=0.2)", {0: 1.0, 5: 0.6, 10: 0.2, 15: 0.2}),
    ("cosine(peak_lr=1, total_steps=10, end_lr=0.2, after_end=periodic)",
     {0: 1.0, 5: 0.6, 10: 0.2, 15: 0.6, 20: 1.0, 30: 0.2}),
    # the exponent applies to the half cosine: 0.2 + 0.8 * 0.5 ** 2
    ("cosine(peak_lr=1, total_steps=10, end_lr=0.2, exponent=2)",
     {0: 1.0, 5: 0.4, 10: 0.2, 11: 0.2}),
    # the warmup counts in total_steps: warmup over 0..2, cosine over 2..10
    ("cosine(peak_lr=1, total_steps=10, warmup_steps=2)",
     {0: 0.0, 1: 0.5, 2: 1.0, 6: 0.5, 10: 0.0, 11: 0.0}),
    # cycles of 2, 6, 18 starting at 0, 2, 8, 26; heights 1, 0.5, 0.25, 0.125
    ("cosine_restarts(peak_lr=1, cycle_steps=2, cycle_mult=3, peak_decay=0.5)",
     {0: 1.0, 1: 0.5, 2: 0.5, 5: 0.25, 7: 0.5 * (1 + math.cos(math.pi * 5 / 6)) / 2,
      8: 0.25, 17: 0.125, 26: 0.125}),
    # equal cycles of 4 with a floor of 0.1
    ("cosine_restarts(peak_lr=1, cycle_steps=4, end_lr=0.1)",
     {0: 1.0, 2: 0.55, 4: 1.0, 6: 0.55, 40: 1.0}),
    # triangle 0 -> 1 over 2 steps and back over 2
    ("cyclic(base_lr=0, max_lr=1, step_size_up=2)",
     {0: 0.0, 1: 0.5, 2: 1.0, 3: 0.5, 4: 0.0, 6: 1.0, 1002: 1.0}),
    ("cyclic(base_lr=0, max_lr=1, step_size_up=2, mode=triangular2)",
     {2: 1.0, 4: 0.0, 6: 0.5, 10: 0.25, 14: 0.125}),
    # exp_range scales by gamma ** t
    ("cyclic(base_lr=0, max_lr=1, step_size_up=2, mode=exp_range, gamma=0.5)",
     {0: 0.0, 1: 0.25, 2: 0.25, 6: 1 / 64}),
    # up 2, down 6: at t=5, x = 5/8 and (x - 1) / (r - 1) = (-3/8) / (-3/4) = 0.5
    ("cyclic(base_lr=0.1, max_lr=1.1, step_size_up=2, step_size_down=6)",
     {0: 0.1, 2: 1.1, 5: 0.6, 8: 0.1}),
    # PyTorch: peak at pct * N - 1 = 2, min = 1 / 25 / 1e4 at N - 1 = 9, held after
    ("onecycle(peak_lr=1, total_steps=10)",
     {0: 0.04, 1: 0.52, 2: 1.0, 9: 4e-6, 10: 4e-6, 500: 4e-6}),
    # three linear phases ending at 2, 4 and 9: 0.04 -> 1 -> 0.04 -> 4e-6
    ("onecycle(peak_lr=1, total_steps=10, three_phase=true, anneal=linear)",
     {0: 0.04, 1: 0.52, 2: 1.0, 3: 0.52, 4: 0.04, 6: 0.04 - 0.4 * (0.04 - 4e-6), 9: 4e-6}),
    # sqrt(4 / (t + 4))
    ("inverse_sqrt(peak_lr=1, timescale=4)", {0: 1.0, 12: 0.5, 60: 0.25}),
    # 2 / sqrt(16) * min(s ** -0.5, s / 8) with s = max(t, 1): peak 2 / sqrt(16 * 4) at W=4
    ("noam(d_model=16, warmup_steps=4, factor=2)",
     {0: 0.0625, 1: 0.0625, 2: 0.125, 4: 0.25, 16: 0.125, 64: 0.0625}),
    # stable until 6, then linear from 1 to 0.2 over 4 steps
    ("wsd(peak_lr=1, total_steps=10, decay_steps=4, end_lr=0.2, decay_shape=linear)",
     {0: 1.0, 6: 1.0, 8: 0.6, 10: 0.2, 20: 0.2}),
    ("wsd(peak_lr=1, total_steps=10, decay_steps=4, end_lr=0.2, decay_shape=cosine)",
     {6: 1.0, 8: 0.6, 10: 0.2}),
    # 1 - sqrt(1/4) = 0.5 a quarter into the decay
    ("wsd(peak_lr=1, total_steps=10, decay_steps=4, end_lr=0.2)",
     {6: 1.0, 7: 0.6, 10: 0.2, 11: 0.2}),
    # Megatron's exponential: 2 * 0.5 ** p - 1, = sqrt(2) - 1 half-way
    ("wsd(peak_lr=1, total_steps=10, decay_steps=4, decay_shape=exponential)",
     {6: 1.0, 8: SQRT2 - 1, 10: 0.0}),
    # (1 - tanh(-7 (1 - r) + 3 r)) / 2: (1 + tanh 7) / 2 at 0, (1 + tanh 2) / 2 half-way
    ("tanh(peak_lr=1, total_steps=4)",
     {0: (1 + math.tanh(7)) / 2, 2: (1 + math.tanh(2)) / 2, 4: 0.0, 10: 0.0}),
    # symmetric bounds cross 0 half-way: exactly the middle of the range
    ("tanh(peak_lr=1, total_steps=4, end_lr=0.2, lower=-3, upper=3)",
     {2: 0.6, 4: 0.2}),
    # the second piece runs on local time t - 3
    ("join(pieces=[constant(base_lr=1), linear(init_lr=1, total_steps=2)], boundaries=[3])",
     {0: 1.0, 2: 1.0, 3: 1.0, 4: 0.5, 5: 0.0, 99: 0.0}),
    ("scaled(schedule=constant(base_lr=0.2), factor=0.5)", {0: 0.1, 10: 0.1}),
    ("product(first=constant(base_lr=2), second=exponential(init_lr=1, decay_rate=0.5))",
     {0: 2.0, 1: 1.0, 3: 0.25}),
]


@pytest.mark.parametrize(("spec", "expected"), HAND, ids=[s for s, _ in HAND])
def test_hand_computed_values(spec, expected):
    schedule = parse(spec)
    for t, value in expected.items():
        assert schedule(t) == pytest.approx(value, rel=1e-12, abs=1e-15), f"{spec} at t={t}"


def test_every_family_has_hand_computed_values():
    covered = {type(parse(spec)).family for spec, _ in HAND}
    assert set(families()) <= covered, sorted(set(families()) - covered)
    assert set(EXAMPLES) <= covered


@pytest.mark.parametrize(("t0", "mult"), [(1, 3), (5, 3), (1, 2), (3, 4), (2, 7)])
def test_restart_steps_are_placed_exactly_at_integer_multipliers(t0, mult):
    # PyTorch's step(epoch) and timm take the cycle from a float log and misplace the
    # restarts at T_mult=3: t = 121, 29524 (T_0=1) and 605 (T_0=5). The starts here are
    # summed as integers.
    schedule = CosineRestarts(peak_lr=1.0, cycle_steps=t0, cycle_mult=mult, end_lr=0.0,
                              peak_decay=0.5)
    start, length, cycle = 0, t0, 0
    starts = []
    while start < 10**15:
        starts.append((start, cycle))
        start, length, cycle = start + length, length * mult, cycle + 1
    steps = np.array([s for s, _ in starts], dtype=np.float64)
    heights = np.array([0.5**i for _, i in starts])
    np.testing.assert_array_equal(schedule(steps), heights)  # each restart at its peak
    # the step before a restart is the last of the previous cycle, at local step L - 1
    lengths = np.diff(steps)
    before = schedule(steps[1:] - 1)
    expected = heights[:-1] * (1 + np.cos(np.pi * (lengths - 1) / lengths)) / 2
    np.testing.assert_allclose(before, expected, rtol=1e-6, atol=1e-12)
    if (t0, mult) == (1, 3):
        assert {121, 29524} <= {int(s) for s in steps}
    if (t0, mult) == (5, 3):
        assert 605 in {int(s) for s in steps}


def test_non_integer_multiplier_stretches_each_cycle():
    # cycles 2, 3, 4.5, 6.75 start at 0, 2, 5, 9.5: Keras' float32 log puts step 5 at the
    # end of cycle 1, but 5 = 2 + 3 is exactly the start of cycle 2
    s = CosineRestarts(peak_lr=1.0, cycle_steps=2, cycle_mult=1.5, peak_decay=0.8, end_lr=0.1)
    assert s.cycle_starts(20) == [0, 2, 5.0, 9.5, 16.25]
    assert s(5) == pytest.approx(0.1 + 0.9 * 0.8**2)
    assert s(9) == pytest.approx(0.1 + 0.9 * 0.8**2 * (1 + math.cos(math.pi * 4 / 4.5)) / 2)
    assert s(9.5) == pytest.approx(0.1 + 0.9 * 0.8**3)
