"""Each family against the library it comes from, run live: PyTorch, Keras, optax, HF.

PyTorch and Hugging Face are stepped the way a training loop steps them (read the LR of
update t, then ``opt.step(); sched.step()``) and compared in float64. Keras and optax
compute in float32, so they are compared at rtol 1e-6.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrkit.schedules import parse

torch = pytest.importorskip("torch")


def _torch_lrs(make, n: int, lr: float = 1.0) -> np.ndarray:
    """The LR used by each of n updates of an SGD optimizer driven by ``make(opt)``."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = make(opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(out)


def _torch_cases():
    L = torch.optim.lr_scheduler
    cases = [
        ("StepLR", lambda o: L.StepLR(o, 3, 0.5), "step(base_lr=1, step_size=3, gamma=0.5)", 40),
        ("MultiStepLR", lambda o: L.MultiStepLR(o, [3, 6, 6, 10], 0.5),
         "multistep(base_lr=1, milestones=[3, 6, 6, 10], gamma=0.5)", 20),
        ("ExponentialLR", lambda o: L.ExponentialLR(o, 0.9),
         "exponential(init_lr=1, decay_rate=0.9)", 60),
        ("PolynomialLR", lambda o: L.PolynomialLR(o, 7, 2.0),
         "polynomial(init_lr=1, total_steps=7, power=2)", 20),
        # CosineAnnealingLR is not clamped: it rises again after T_max, with period 2 T_max
        ("CosineAnnealingLR", lambda o: L.CosineAnnealingLR(o, 8, 0.1),
         "cosine(peak_lr=1, total_steps=8, end_lr=0.1, after_end=periodic)", 60),
        ("LinearLR", lambda o: L.LinearLR(o, 0.25, 1.0, 4),
         "linear_warmup(init_lr=0.25, peak_lr=1, warmup_steps=4)", 10),
        ("CosineAnnealingWarmRestarts T_mult=1",
         lambda o: L.CosineAnnealingWarmRestarts(o, 5, 1, 0.1),
         "cosine_restarts(peak_lr=1, cycle_steps=5, end_lr=0.1)", 60),
        ("CosineAnnealingWarmRestarts T_mult=2",
         lambda o: L.CosineAnnealingWarmRestarts(o, 2, 2, 0.01),
         "cosine_restarts(peak_lr=1, cycle_steps=2, cycle_mult=2, end_lr=0.01)", 300),
        # stepping torch recursively is exact; restarts at 1, 4, 13, 40, 121, 364, 1093
        ("CosineAnnealingWarmRestarts T_mult=3", lambda o: L.CosineAnnealingWarmRestarts(o, 1, 3),
         "cosine_restarts(peak_lr=1, cycle_steps=1, cycle_mult=3)", 1200),
    ]
    for mode in ("triangular", "triangular2", "exp_range"):
        cases.append((f"CyclicLR {mode}",
                      lambda o, m=mode: L.CyclicLR(o, 0.1, 1.0, 3, 5, mode=m, gamma=0.99,
                                                   cycle_momentum=False),
                      f"cyclic(base_lr=0.1, max_lr=1, step_size_up=3, step_size_down=5, "
                      f"mode={mode}, gamma=0.99)", 60))
    for n in (10, 13, 100):
        for three in (False, True):
            for anneal in ("cos", "linear"):
                cases.append((
                    f"OneCycleLR N={n} three_phase={three} {anneal}",
                    lambda o, n=n, three=three, a=anneal: L.OneCycleLR(
                        o, 1.0, total_steps=n, pct_start=0.3, anneal_strategy=a,
                        div_factor=10, final_div_factor=100, three_phase=three,
                        cycle_momentum=False),
                    f"onecycle(peak_lr=1, total_steps={n}, pct_start=0.3, div_factor=10, "
                    f"final_div_factor=100, three_phase={three}, anneal={anneal})", n))
    return cases


@pytest.mark.parametrize(("name", "make", "spec", "n"), _torch_cases(),
                         ids=[c[0] for c in _torch_cases()])
def test_matches_pytorch(name, make, spec, n):
    expected = _torch_lrs(make, n)
    np.testing.assert_allclose(parse(spec).values(n), expected, rtol=1e-10, atol=1e-14)


def test_cyclic_custom_scale_matches_pytorch():
    from lrkit.schedules import Cyclic

    L = torch.optim.lr_scheduler
    expected = _torch_lrs(lambda o: L.CyclicLR(o, 0.1, 1.0, 3, 5, scale_fn=lambda x: 1 / x,
                                               scale_mode="cycle", cycle_momentum=False), 40)
    ours = Cyclic(0.1, 1.0, 3, 5, scale_fn=lambda x: 1 / x, scale_mode="cycle")
    np.testing.assert_allclose(ours.values(40), expected, rtol=1e-12)


def _hf_cases():
    return [
        ("get_wsd_schedule linear",
         lambda o, hf: hf.get_wsd_schedule(o, 2, 4, num_training_steps=10, decay_type="linear",
                                           min_lr_ratio=0.1),
         "wsd(peak_lr=1, total_steps=10, decay_steps=4, end_lr=0.1, decay_shape=linear, "
         "warmup_steps=2, warmup_init_lr=0.1)", 1.0),
        ("get_wsd_schedule cosine",
         lambda o, hf: hf.get_wsd_schedule(o, 2, 4, num_training_steps=10, decay_type="cosine",
                                           min_lr_ratio=0.1),
         "wsd(peak_lr=1, total_steps=10, decay_steps=4, end_lr=0.1, decay_shape=cosine, "
         "warmup_steps=2, warmup_init_lr=0.1)", 1.0),
        ("get_wsd_schedule 1-sqrt",
         lambda o, hf: hf.get_wsd_schedule(o, 3, 5, num_training_steps=12, decay_type="1-sqrt"),
         "wsd(peak_lr=1, total_steps=12, decay_steps=5, decay_shape='1-sqrt', warmup_steps=3)",
         1.0),
        ("get_inverse_sqrt_schedule", lambda o, hf: hf.get_inverse_sqrt_schedule(o, 4),
         "inverse_sqrt(peak_lr=1, timescale=4, warmup_steps=4)", 1.0),
        # HF's cosine goes on past the end (it rises again), as after_end=periodic
        ("get_cosine_schedule_with_warmup",
         lambda o, hf: hf.get_cosine_schedule_with_warmup(o, 3, 10),
         "cosine(peak_lr=1, total_steps=10, warmup_steps=3, after_end=periodic)", 1.0),
        ("get_polynomial_decay_schedule_with_warmup",
         lambda o, hf: hf.get_polynomial_decay_schedule_with_warmup(o, 2, 10, lr_end=0.01,
                                                                     power=2.0),
         "polynomial(init_lr=0.5, end_lr=0.01, power=2, total_steps=10, warmup_steps=2)", 0.5),
        ("get_linear_schedule_with_warmup",
         lambda o, hf: hf.get_linear_schedule_with_warmup(o, 2, 10),
         "linear(init_lr=1, total_steps=10, warmup_steps=2)", 1.0),
        ("get_constant_schedule_with_warmup",
         lambda o, hf: hf.get_constant_schedule_with_warmup(o, 3),
         "constant(base_lr=1, warmup_steps=3)", 1.0),
    ]


@pytest.mark.parametrize(("name", "make", "spec", "lr"), _hf_cases(),
                         ids=[c[0] for c in _hf_cases()])
def test_matches_hugging_face(name, make, spec, lr):
    hf = pytest.importorskip("transformers.optimization")
    expected = _torch_lrs(lambda o: make(o, hf), 18, lr=lr)
    np.testing.assert_allclose(parse(spec).values(18), expected, rtol=1e-12, atol=1e-15)


def _optax_cases():
    return [
        ("exponential_decay",
         lambda o: o.exponential_decay(1.0, 3, 0.5, transition_begin=4, staircase=True,
                                       end_value=0.2),
         "exponential(init_lr=1, decay_rate=0.5, decay_steps=3, staircase=true, "
         "transition_begin=4, end_lr=0.2)"),
        ("exponential_decay continuous", lambda o: o.exponential_decay(0.5, 4, 0.3),
         "exponential(init_lr=0.5, decay_rate=0.3, decay_steps=4)"),
        ("cosine_decay_schedule", lambda o: o.cosine_decay_schedule(1.0, 10, alpha=0.1,
                                                                    exponent=2.0),
         "cosine(peak_lr=1, total_steps=10, end_lr=0.1, exponent=2)"),
        # optax's decay_steps counts the warmup, like lrkit's total_steps
        ("warmup_cosine_decay_schedule",
         lambda o: o.warmup_cosine_decay_schedule(0.0, 1.0, 3, 10, 0.1),
         "cosine(peak_lr=1, total_steps=10, end_lr=0.1, warmup_steps=3)"),
        ("polynomial_schedule", lambda o: o.polynomial_schedule(1.0, 0.1, 2.0, 5, 3),
         "join(pieces=[constant(base_lr=1), polynomial(init_lr=1, end_lr=0.1, power=2, "
         "total_steps=5)], boundaries=[3])"),
        ("linear_schedule", lambda o: o.linear_schedule(0.0, 1.0, 6),
         "linear(init_lr=0, end_lr=1, total_steps=6)"),
        ("piecewise_constant_schedule",
         lambda o: o.piecewise_constant_schedule(1.0, {3: 0.5, 6: 0.1}),
         "piecewise_factors(init_lr=1, boundaries=[3, 6], factors=[0.5, 0.1])"),
        ("piecewise_interpolate_schedule linear",
         lambda o: o.piecewise_interpolate_schedule("linear", 1.0, {3: 2.0, 8: 0.1}),
         "interpolate(steps=[0, 3, 8], lrs=[1, 2, 0.2])"),
        ("piecewise_interpolate_schedule cosine",
         lambda o: o.piecewise_interpolate_schedule("cosine", 1.0, {3: 2.0, 8: 0.1}),
         "interpolate(steps=[0, 3, 8], lrs=[1, 2, 0.2], kind=cosine)"),
        # optax's one-cycle peaks at floor(pct * T), one step after PyTorch's
        ("cosine_onecycle_schedule", lambda o: o.cosine_onecycle_schedule(10, 1.0, 0.3, 25, 1e4),
         "interpolate(steps=[0, 3, 10], lrs=[0.04, 1, 4e-6], kind=cosine)"),
        ("join_schedules",
         lambda o: o.join_schedules([o.constant_schedule(0.5), o.linear_schedule(1.0, 0.0, 4)],
                                    [5]),
         "join(pieces=[constant(base_lr=0.5), linear(init_lr=1, total_steps=4)], "
         "boundaries=[5])"),
    ]


@pytest.mark.parametrize(("name", "make", "spec"), _optax_cases(),
                         ids=[c[0] for c in _optax_cases()])
def test_matches_optax(name, make, spec):
    optax = pytest.importorskip("optax")
    steps = np.arange(25)
    schedule = make(optax)
    expected = np.array([float(schedule(int(t))) for t in steps])
    np.testing.assert_allclose(parse(spec)(steps), expected, rtol=1e-6, atol=1e-7)


@pytest.fixture(scope="module")
def keras_schedules():
    keras = pytest.importorskip("keras")
    return keras, keras.optimizers.schedules


def _keras_lrs(keras, schedule, n: int) -> np.ndarray:
    return np.array([float(keras.ops.convert_to_numpy(schedule(t)).item()) for t in range(n)])


def _keras_cases():
    cases = []
    for stair in (False, True):
        cases += [
            (f"ExponentialDecay staircase={stair}",
             lambda ks, s=stair: ks.ExponentialDecay(1.0, 3, 0.5, staircase=s),
             f"exponential(init_lr=1, decay_rate=0.5, decay_steps=3, staircase={stair})"),
            (f"InverseTimeDecay staircase={stair}",
             lambda ks, s=stair: ks.InverseTimeDecay(1.0, 3, 0.5, staircase=s),
             f"inverse_time(init_lr=1, decay_rate=0.5, decay_steps=3, staircase={stair})"),
        ]
    for cycle in (False, True):
        cases.append((f"PolynomialDecay cycle={cycle}",
                      lambda ks, c=cycle: ks.PolynomialDecay(1.0, 4, 0.1, power=2.0, cycle=c),
                      f"polynomial(init_lr=1, total_steps=4, end_lr=0.1, power=2, cycle={cycle})"))
    cases += [
        ("CosineDecay", lambda ks: ks.CosineDecay(1.0, 10, alpha=0.1),
         "cosine(peak_lr=1, total_steps=10, end_lr=0.1)"),
        # Keras' decay_steps excludes the warmup; lrkit's total_steps includes it
        ("CosineDecay warmup",
         lambda ks: ks.CosineDecay(0.0, 10, alpha=0.1, warmup_target=1.0, warmup_steps=5),
         "cosine(peak_lr=1, total_steps=15, end_lr=0.1, warmup_steps=5)"),
        ("CosineDecayRestarts t_mul=3",
         lambda ks: ks.CosineDecayRestarts(1.0, 1, t_mul=3.0, m_mul=0.9, alpha=0.05),
         "cosine_restarts(peak_lr=1, cycle_steps=1, cycle_mult=3, peak_decay=0.9, end_lr=0.05)"),
        # Keras changes *after* each boundary (step <= b): boundaries b + 1 in lrkit
        ("PiecewiseConstantDecay", lambda ks: ks.PiecewiseConstantDecay([3, 6], [1.0, 0.5, 0.25]),
         "piecewise(boundaries=[4, 7], lrs=[1, 0.5, 0.25])"),
    ]
    return cases


@pytest.mark.parametrize(("name", "make", "spec"), _keras_cases(),
                         ids=[c[0] for c in _keras_cases()])
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_matches_keras(keras_schedules, name, make, spec):
    keras, ks = keras_schedules
    expected = _keras_lrs(keras, make(ks), 45)
    np.testing.assert_allclose(parse(spec).values(45), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_keras_restarts_with_a_fractional_multiplier_differ_only_where_keras_misplaces(
        keras_schedules):
    # Keras takes the cycle from a float32 log. With t_mul=1.5 the restart at step 5 (cycles
    # of 2, 3, 4.5, ...) lands in the previous cycle; everywhere else the two agree.
    keras, ks = keras_schedules
    n = 60
    expected = _keras_lrs(keras, ks.CosineDecayRestarts(1.0, 2, t_mul=1.5, m_mul=0.8,
                                                        alpha=0.1), n)
    ours = parse("cosine_restarts(peak_lr=1, cycle_steps=2, cycle_mult=1.5, peak_decay=0.8, "
                 "end_lr=0.1)")
    values = ours.values(n)
    differ = np.flatnonzero(~np.isclose(values, expected, rtol=1e-5, atol=1e-6))
    starts = set(ours.cycle_starts(n))
    assert set(differ.tolist()) <= starts, "lrkit and Keras differ away from a restart"
    # Whether Keras' float32 log misplaces a restart depends on the backend's log kernel
    # (it differs between CPUs): they must differ exactly where that log falls short.
    ordered = sorted(starts)
    t = np.asarray(ordered, dtype=np.float32)
    index = keras.ops.floor(
        keras.ops.log(keras.ops.convert_to_tensor(1.0 + t / 2 * np.float32(0.5), "float32"))
        / keras.ops.log(keras.ops.convert_to_tensor(1.5, "float32")))
    index = np.asarray(keras.ops.convert_to_numpy(index))
    assert differ.tolist() == [s for cycle, s in enumerate(ordered) if index[cycle] < cycle]
    for t in differ:
        cycle = sorted(starts).index(t)
        assert values[t] == pytest.approx(0.1 + 0.9 * 0.8**cycle)  # lrkit restarts here
        assert expected[t] == pytest.approx(0.1, abs=1e-6)  # Keras sits at the old floor


def test_pytorch_onecycle_is_held_after_its_last_step():
    # PyTorch refuses to step past total_steps; lrkit holds the final value there
    s = parse("onecycle(peak_lr=1, total_steps=10)")
    expected = _torch_lrs(lambda o: torch.optim.lr_scheduler.OneCycleLR(
        o, 1.0, total_steps=10, cycle_momentum=False), 10)
    assert s(10) == s(11) == s(10**6) == pytest.approx(expected[-1])
    assert expected[-1] == pytest.approx(1.0 / 25 / 1e4)


def test_noam_matches_the_annotated_transformer_formula():
    # rate(step) = factor * d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5), with
    # step counted from 1 by the Annotated Transformer's LambdaLR (step 0 is mapped to 1)
    def rate(step, d_model=512, factor=2.0, warmup=4000):
        step = max(step, 1)
        return factor * d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5)

    s = parse("noam(d_model=512, warmup_steps=4000, factor=2)")
    for t in (0, 1, 2, 100, 3999, 4000, 4001, 10**5):
        assert s(t) == pytest.approx(rate(t), rel=1e-12)
    assert s(4000) == pytest.approx(2.0 / math.sqrt(512 * 4000))
