"""Property-based tests (hypothesis) over every family and over the spec parser."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lrkit.errors import LrkitError
from lrkit.schedules import CosineRestarts, families, from_spec, parse, parse_spec

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

lr = st.one_of(st.just(0.0), st.floats(1e-8, 10.0))
pos_lr = st.floats(1e-6, 10.0)
unit = st.floats(0.0, 1.0)
count = st.integers(1, 100_000)
length = st.one_of(st.integers(1, 100_000), st.floats(0.5, 100_000.0))
sorted_ints = st.lists(st.integers(0, 100_000), max_size=5).map(sorted)


def _piecewise():
    return st.lists(st.integers(0, 100_000), max_size=5, unique=True).map(sorted).flatmap(
        lambda b: st.fixed_dictionaries({
            "family": st.just("piecewise"), "boundaries": st.just(b),
            "lrs": st.lists(lr, min_size=len(b) + 1, max_size=len(b) + 1)}))


def _interpolate():
    return st.lists(st.integers(0, 10_000), min_size=1, max_size=5).map(sorted).flatmap(
        lambda s: st.fixed_dictionaries({
            "family": st.just("interpolate"), "steps": st.just(s),
            "lrs": st.lists(lr, min_size=len(s), max_size=len(s)),
            "kind": st.sampled_from(["linear", "cosine"])}))


def _exponential():
    decaying = st.fixed_dictionaries({
        "family": st.just("exponential"), "init_lr": lr, "decay_rate": st.floats(0.01, 0.999),
        "decay_steps": length, "staircase": st.booleans(),
        "transition_begin": st.integers(0, 1000)},
        optional={"end_lr": st.one_of(st.none(), lr)})
    # a growing exponential needs a ceiling to stay finite
    growing = st.fixed_dictionaries({
        "family": st.just("exponential"), "init_lr": pos_lr, "decay_rate": st.floats(1.01, 3.0),
        "decay_steps": length, "staircase": st.booleans(), "end_lr": st.floats(10.0, 100.0)})
    return st.one_of(decaying, growing)


def _wsd():
    return st.tuples(length, unit).flatmap(lambda tu: st.fixed_dictionaries({
        "family": st.just("wsd"), "peak_lr": lr, "total_steps": st.just(tu[0]),
        "decay_steps": st.just(max(tu[0] * tu[1], 0.5) if tu[0] >= 0.5 else tu[0]),
        "end_lr": lr, "decay_shape": st.sampled_from(["linear", "cosine", "1-sqrt",
                                                      "exponential"])}))


def _simple():
    """Small specs used as the parts of join, scaled and product."""
    return st.one_of(
        st.fixed_dictionaries({"family": st.just("constant"), "base_lr": lr}),
        st.fixed_dictionaries({"family": st.just("cosine"), "peak_lr": lr, "total_steps": length}),
        st.fixed_dictionaries({"family": st.just("polynomial"), "init_lr": lr,
                               "total_steps": length, "end_lr": lr}))


def _join():
    return st.integers(1, 3).flatmap(lambda n: st.fixed_dictionaries({
        "family": st.just("join"),
        "pieces": st.lists(_simple(), min_size=n, max_size=n),
        "boundaries": st.lists(st.integers(1, 10_000), min_size=n - 1, max_size=n - 1,
                               unique=True).map(sorted)}))


STRATEGIES = {
    "constant": st.fixed_dictionaries({"family": st.just("constant"), "base_lr": lr}),
    "step": st.fixed_dictionaries({"family": st.just("step"), "base_lr": lr,
                                   "step_size": length, "gamma": unit}),
    "multistep": st.fixed_dictionaries({"family": st.just("multistep"), "base_lr": lr,
                                        "milestones": sorted_ints, "gamma": unit}),
    "piecewise": _piecewise(),
    "interpolate": _interpolate(),
    "exponential": _exponential(),
    "inverse_time": st.fixed_dictionaries({
        "family": st.just("inverse_time"), "init_lr": lr, "decay_rate": st.floats(0.0, 10.0),
        "decay_steps": length, "staircase": st.booleans()}),
    "polynomial": st.fixed_dictionaries({
        "family": st.just("polynomial"), "init_lr": lr, "total_steps": length, "end_lr": lr,
        "power": st.floats(0.1, 5.0), "cycle": st.booleans()}),
    "linear_warmup": st.fixed_dictionaries({
        "family": st.just("linear_warmup"), "init_lr": lr, "peak_lr": lr,
        "warmup_steps": st.integers(0, 10_000)}),
    "exponential_warmup": st.fixed_dictionaries({
        "family": st.just("exponential_warmup"), "init_lr": pos_lr, "peak_lr": pos_lr,
        "warmup_steps": length}),
    "cosine": st.fixed_dictionaries({
        "family": st.just("cosine"), "peak_lr": lr, "total_steps": length, "end_lr": lr,
        "exponent": st.floats(0.1, 4.0), "after_end": st.sampled_from(["hold", "periodic"])}),
    "cosine_restarts": st.fixed_dictionaries({
        "family": st.just("cosine_restarts"), "peak_lr": lr, "cycle_steps": length,
        "cycle_mult": st.one_of(st.integers(1, 4), st.floats(1.05, 3.0)),
        "peak_decay": unit, "end_lr": lr}),
    "cyclic": st.fixed_dictionaries({
        "family": st.just("cyclic"), "base_lr": lr, "max_lr": lr, "step_size_up": length,
        "step_size_down": st.one_of(st.none(), length),
        "mode": st.sampled_from(["triangular", "triangular2", "exp_range"]),
        "gamma": st.floats(0.9, 1.0)}),
    "onecycle": st.fixed_dictionaries({
        "family": st.just("onecycle"), "peak_lr": lr, "total_steps": st.integers(100, 100_000),
        "pct_start": st.floats(0.05, 0.45), "div_factor": st.floats(1.0, 100.0),
        "final_div_factor": st.floats(1.0, 1e5), "three_phase": st.booleans(),
        "anneal": st.sampled_from(["cos", "linear"])}),
    "inverse_sqrt": st.fixed_dictionaries({
        "family": st.just("inverse_sqrt"), "peak_lr": lr, "timescale": length}),
    "noam": st.fixed_dictionaries({
        "family": st.just("noam"), "d_model": st.integers(1, 4096),
        "warmup_steps": st.integers(1, 10_000), "factor": st.floats(0.0, 10.0)}),
    "wsd": _wsd(),
    "tanh": st.fixed_dictionaries({
        "family": st.just("tanh"), "peak_lr": lr, "total_steps": length, "end_lr": lr,
        "lower": st.floats(-10.0, 0.0), "upper": st.floats(0.1, 10.0)}),
    "join": _join(),
    "scaled": st.fixed_dictionaries({"family": st.just("scaled"), "schedule": _simple(),
                                     "factor": st.floats(0.0, 10.0)}),
    "product": st.fixed_dictionaries({"family": st.just("product"), "first": _simple(),
                                      "second": _simple()}),
}
# a family without a strategy of its own above is drawn from the examples its class
# declares: every property test covers it, though only at those parameters
DRAWN = {family: STRATEGIES[family] if family in STRATEGIES
         else st.sampled_from([parse_spec(spec) for spec in cls.examples])
         for family, cls in families().items() if family in STRATEGIES or cls.examples}
any_spec = st.one_of(*DRAWN.values())
steps = st.one_of(st.integers(0, 10**7), st.floats(0.0, 1e7))


def to_compact(value) -> str:
    """Write a JSON-style spec in the compact grammar (the inverse of parse_spec)."""
    if isinstance(value, dict):
        args = ", ".join(f"{k}={to_compact(v)}" for k, v in value.items() if k != "family")
        return f"{value['family']}({args})"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(to_compact(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def test_every_family_has_a_strategy():
    assert set(DRAWN) == set(families()), sorted(set(families()) - set(DRAWN))
    assert set(STRATEGIES) <= set(families())


# -- every family ----------------------------------------------------------------------------


@SETTINGS
@given(spec=any_spec, t=st.lists(steps, min_size=1, max_size=20))
def test_values_are_finite_and_non_negative(spec, t):
    schedule = from_spec(spec)
    values = schedule(np.asarray(t, dtype=np.float64))
    assert np.isfinite(values).all() and (values >= 0).all(), (spec, t, values)


@SETTINGS
@given(spec=any_spec)
def test_spec_round_trips_through_json_text(spec):
    schedule = from_spec(spec)
    text = json.dumps(schedule.to_spec(), allow_nan=False)
    assert from_spec(json.loads(text)) == schedule
    assert parse(text) == schedule


@SETTINGS
@given(spec=any_spec)
def test_the_compact_string_builds_the_same_schedule_as_the_json(spec):
    assert parse(to_compact(spec)) == from_spec(spec)
    # and the schedule's own spec, written compactly, too
    schedule = from_spec(spec)
    assert parse(to_compact(schedule.to_spec())) == schedule


@SETTINGS
@given(spec=any_spec, t=st.lists(st.integers(0, 10**6), min_size=1, max_size=10))
def test_scalar_and_array_agree(spec, t):
    schedule = from_spec(spec)
    array = schedule(np.asarray(t))
    assert [schedule(x) for x in t] == array.tolist()


def _first_value(spec) -> float:
    """f(0) as each family documents it."""
    f = spec["family"]
    if f == "constant":
        return spec["base_lr"]
    if f == "step":
        return spec["base_lr"]
    if f == "multistep":
        return spec["base_lr"] * spec["gamma"] ** spec["milestones"].count(0)
    if f == "piecewise":
        return spec["lrs"][1 if spec["boundaries"][:1] == [0] else 0]
    if f == "interpolate":
        zeros = spec["steps"].count(0)
        return spec["lrs"][zeros - 1 if zeros else 0]
    if f == "exponential":
        end = spec.get("end_lr")
        if end is None:
            return spec["init_lr"]
        return (max if spec["decay_rate"] < 1 else min)(spec["init_lr"], end)
    if f in ("inverse_time", "polynomial", "exponential_warmup"):
        return spec["init_lr"]
    if f == "linear_warmup":
        return spec["init_lr"] if spec["warmup_steps"] else spec["peak_lr"]
    if f in ("cosine", "cosine_restarts", "inverse_sqrt", "wsd"):
        return spec["peak_lr"]
    if f == "cyclic":
        return spec["base_lr"]
    if f == "onecycle":
        return spec["peak_lr"] / spec["div_factor"]
    if f == "noam":
        return spec["factor"] * spec["d_model"] ** -0.5 * spec["warmup_steps"] ** -1.5
    if f == "tanh":
        weight = (1 - math.tanh(spec["lower"])) / 2
        return spec["peak_lr"] * weight + spec["end_lr"] * (1 - weight)
    if f == "join":
        return _first_value(spec["pieces"][0])
    if f == "scaled":
        return spec["factor"] * _first_value(spec["schedule"])
    if f == "product":
        return _first_value(spec["first"]) * _first_value(spec["second"])
    raise AssertionError(f"no documented f(0) for {f}")


@SETTINGS
@given(spec=any_spec)
def test_the_documented_value_at_step_0(spec):
    if spec["family"] not in STRATEGIES:
        return  # drawn from its examples: test_values' hand-computed values cover f(0)
    # tanh mixes peak and end with a weight within ~1e-6 of 1: numpy's and math's tanh may
    # differ in the last bit, an error of order 1e-16 * max(peak, end) in absolute terms
    scale = max(spec["peak_lr"], spec["end_lr"]) if spec["family"] == "tanh" else 0.0
    assert from_spec(spec)(0) == pytest.approx(_first_value(spec), rel=1e-12,
                                               abs=max(1e-14 * scale, 1e-300))


def _end_checks(spec):
    """(step, documented value) pairs at and after the end, for the families that have one."""
    f = spec["family"]
    if f == "polynomial":
        T, end = spec["total_steps"], spec["end_lr"]
        if spec["cycle"]:  # the end value recurs at k T (only exactly so for whole T)
            return [(T, end)] + ([(3 * T, end)] if isinstance(T, int) else [])
        return [(T, end), (3 * T, end), (T + 0.5, end)]
    if f == "cosine":
        T, end = spec["total_steps"], spec["end_lr"]
        if spec["after_end"] == "hold":
            return [(T, end), (T + 1, end), (10 * T + 0.5, end)]
        return [(T, end), (3 * T, end), (2 * T, spec["peak_lr"])]
    if f == "wsd":
        T = spec["total_steps"]
        return [(T, spec["end_lr"]), (T + 1, spec["end_lr"])]
    if f == "tanh":
        T = spec["total_steps"]
        return [(T, spec["end_lr"]), (2 * T, spec["end_lr"])]
    if f == "onecycle":
        low = spec["peak_lr"] / spec["div_factor"] / spec["final_div_factor"]
        n = spec["total_steps"]
        return [(n - 1, low), (n, low), (10 * n, low)]
    if f in ("linear_warmup", "exponential_warmup"):
        w = spec["warmup_steps"]
        return [(w, spec["peak_lr"]), (w + 7, spec["peak_lr"])]
    if f == "step":
        return [(0.5 * spec["step_size"], spec["base_lr"]),
                (spec["step_size"], spec["base_lr"] * spec["gamma"])]
    if f == "multistep":
        return [(100_001, spec["base_lr"] * spec["gamma"] ** len(spec["milestones"]))]
    if f in ("piecewise", "interpolate"):
        return [(100_001, spec["lrs"][-1])]
    if f == "exponential" and spec.get("end_lr") is not None:
        return [(1e12, spec["end_lr"])]
    if f == "inverse_time":
        return [(spec["decay_steps"], spec["init_lr"] / (1 + spec["decay_rate"]))]
    if f == "inverse_sqrt":
        return [(3 * spec["timescale"], spec["peak_lr"] / 2)]
    if f == "noam":
        w = spec["warmup_steps"]
        return [(w, spec["factor"] / math.sqrt(spec["d_model"] * w))]
    if f == "cosine_restarts":
        t0, end, peak = spec["cycle_steps"], spec["end_lr"], spec["peak_lr"]
        return [(t0, end + (peak - end) * spec["peak_decay"])]
    if f == "cyclic":
        up = spec["step_size_up"]
        down = spec["step_size_down"] or up
        if spec["mode"] == "triangular":
            return [(up, spec["max_lr"]), (up + down, spec["base_lr"])]
        return []
    if f == "join":
        starts = [0, *spec["boundaries"]]
        return [(b, from_spec(p)(0)) for b, p in zip(starts, spec["pieces"], strict=True)]
    return []


@SETTINGS
@given(spec=any_spec)
def test_the_documented_values_at_and_after_the_end(spec):
    schedule = from_spec(spec)
    for t, expected in _end_checks(spec):
        assert schedule(t) == pytest.approx(expected, rel=1e-9, abs=1e-12), (t, expected)


DECAYS = {"cosine", "polynomial", "exponential", "inverse_time", "step", "multistep", "wsd",
          "tanh", "inverse_sqrt"}


@SETTINGS
@given(spec=st.one_of(*(STRATEGIES[f] for f in sorted(DECAYS))),
       t=st.lists(st.floats(0.0, 3e5), min_size=2, max_size=30))
def test_decays_never_increase(spec, t):
    assume(not spec.get("cycle") and spec.get("after_end") != "periodic")
    assume(spec.get("decay_rate", 0) < 1 or spec["family"] == "inverse_time")
    assume(spec.get("end_lr") is None or spec["family"] == "exponential"
           or spec["end_lr"] <= spec.get("peak_lr", spec.get("init_lr", 0.0)))
    if spec["family"] == "exponential" and spec.get("end_lr") is not None:
        assume(spec["end_lr"] <= spec["init_lr"])
    values = from_spec(spec)(np.sort(np.asarray(t)))
    assert np.all(np.diff(values) <= 1e-12 * max(1.0, float(values.max())))


@SETTINGS
@given(spec=STRATEGIES["exponential"], t=st.lists(steps, min_size=1, max_size=10))
def test_a_staircase_sits_on_or_above_the_continuous_decay(spec, t):
    assume(spec["decay_rate"] < 1)
    smooth = from_spec({**spec, "staircase": False})(np.asarray(t, dtype=np.float64))
    stairs = from_spec({**spec, "staircase": True})(np.asarray(t, dtype=np.float64))
    assert np.all(stairs >= smooth * (1 - 1e-12))


# -- continuity where it is promised -------------------------------------------------------

CONTINUOUS_AT_0 = ["constant", "cosine", "polynomial", "exponential", "inverse_time",
                   "inverse_sqrt", "wsd", "tanh", "cyclic", "onecycle"]


@SETTINGS
@given(spec=st.one_of(*(STRATEGIES[f] for f in CONTINUOUS_AT_0)),
       warm=st.integers(1, 5000), init=lr)
def test_a_warmup_prefix_meets_the_schedule_without_a_jump(spec, warm, init):
    spec = dict(spec)
    if "total_steps" in spec and spec["family"] != "onecycle":
        spec["total_steps"] = spec["total_steps"] + warm
        if spec["family"] == "wsd":
            spec["decay_steps"] = min(spec["decay_steps"], spec["total_steps"] - warm)
    elif spec["family"] == "onecycle":
        spec["total_steps"] += warm
    s = from_spec({**spec, "warmup_steps": warm, "warmup_init_lr": init})
    assert s(0) == pytest.approx(init)
    at = s(warm)
    # the ramp's left limit at the boundary equals the schedule's first value
    assert s.pieces[0](warm) == at
    assert abs(s(warm - 1e-6) - at) <= 2e-6 * abs(at - init) + 1e-15
    assert at == float(s.pieces[1](0))


@SETTINGS
@given(spec=STRATEGIES["onecycle"])
def test_onecycle_phases_meet(spec):
    from lrkit.schedules import OneCycle

    s = from_spec(spec)
    assert isinstance(s, OneCycle)
    for end, _, b in s.phases()[:-1]:
        assert s(end) == pytest.approx(b, rel=1e-12)
        assert s(end + 1e-7) == pytest.approx(b, rel=1e-5, abs=1e-12)
    assert s(np.asarray([p[0] for p in s.phases()])).max() == pytest.approx(spec["peak_lr"])


@SETTINGS
@given(spec=STRATEGIES["cyclic"], t=st.floats(0, 1e5), k=st.integers(1, 50))
def test_triangular_cycles_repeat(spec, t, k):
    assume(spec["mode"] == "triangular")
    s = from_spec(spec)
    up = spec["step_size_up"]
    period = up + (spec["step_size_down"] or up)
    assert s(t + k * period) == pytest.approx(s(t), rel=1e-6, abs=1e-9)


# -- cosine with restarts: the cycle index is exact ------------------------------------------


@SETTINGS
@given(t0=st.integers(1, 50), mult=st.integers(1, 5), t=st.integers(0, 10**12),
       decay=st.floats(0.5, 1.0))
def test_restart_cycle_is_found_with_integer_arithmetic(t0, mult, t, decay):
    if mult == 1:
        cycle, span = t // t0, t0
        start = cycle * t0
    else:
        start, span, cycle = 0, t0, 0
        while start + span <= t:  # exact: Python ints
            start, span, cycle = start + span, span * mult, cycle + 1
    s = CosineRestarts(peak_lr=1.0, cycle_steps=t0, cycle_mult=mult, peak_decay=decay)
    expected = decay**cycle * (1 + math.cos(math.pi * (t - start) / span)) / 2
    assert s(t) == pytest.approx(expected, rel=1e-9, abs=1e-300)
    if t == start:
        assert s(t) == pytest.approx(decay**cycle, rel=1e-14)


# -- the parser never fails with anything but a one-line lrkit error -------------------------

TOKENS = ["cosine", "join", "constant", "linear", "(", ")", "[", "]", ",", "=", "peak_lr",
          "total_steps", "pieces", "boundaries", "base_lr", "0.1", "-1", "1e400", "nan", "inf",
          "'x'", '"', "{", "}", ":", "true", "none", " ", "warmup_steps", "10", "**", "1-sqrt",
          "family", "lambda", ".", "\\", "\x00", "é"]


def _assert_clean_failure(text: str) -> None:
    try:
        parse(text)
    except LrkitError as err:
        message = str(err)
        assert message and "\n" not in message, repr(message)
    except RecursionError:  # pragma: no cover - would be a bug
        raise AssertionError(f"RecursionError on {text[:80]!r}") from None


@SETTINGS
@given(text=st.text(max_size=80))
def test_arbitrary_text_fails_cleanly(text):
    _assert_clean_failure(text)


@SETTINGS
@given(tokens=st.lists(st.sampled_from(TOKENS), max_size=40))
def test_near_miss_specs_fail_cleanly(tokens):
    _assert_clean_failure("".join(tokens))


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(),
              st.text(max_size=8)),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=12)


@SETTINGS
@given(family=st.sampled_from([*sorted(families()), "linear", "piecewise_factors", "nope"]),
       params=st.dictionaries(
           st.sampled_from(["base_lr", "peak_lr", "init_lr", "total_steps", "end_lr", "gamma",
                            "milestones", "boundaries", "lrs", "pieces", "schedule", "first",
                            "warmup_steps", "mode", "cycle_steps", "steps", "factor",
                            "decay_steps", "decay_rate", "scale_fn", "after_end", "bogus"]),
           json_values, max_size=6))
def test_random_json_specs_fail_cleanly_or_build_a_valid_schedule(family, params):
    spec = {"family": family, **params}
    try:
        text = json.dumps(spec)
    except ValueError:
        return
    try:
        schedule = parse(text)
    except LrkitError as err:
        assert "\n" not in str(err)
        return
    values = schedule(np.array([0.0, 1.0, 1e3, 1e6]))
    assert values.shape == (4,)
