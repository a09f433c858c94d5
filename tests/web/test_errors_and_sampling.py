"""The one-line message builder and the bounded sampler, on their own."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrkit.errors import ConfigError
from lrkit.schedules import parse
from lrkit.web.api_diagnose import downsample_xy
from lrkit.web.errors import one_line
from lrkit.web.sampling import probe_steps, sample_curve
from lrkit.web.spectext import compact


@pytest.mark.parametrize(("error", "known", "expected"), [
    ({"loc": ("body", "steps"), "type": "int_parsing", "input": "x", "msg": "..."}, (),
     "steps = 'x': must be a whole number; pass e.g. 128"),
    ({"loc": ("body", "stepz"), "type": "extra_forbidden", "input": 1, "msg": "..."},
     ("steps", "labels"), "stepz: unknown parameter; did you mean 'steps'?"),
    ({"loc": ("body", "labels"), "type": "missing", "input": None, "msg": "..."}, (),
     "labels: missing; add labels=..."),
    ({"loc": ("body",), "type": "missing", "input": None, "msg": "..."}, (),
     "request body: missing; send a JSON object, e.g. {}"),
    ({"loc": ("body", "steps"), "type": "greater_than_equal", "input": 0, "msg": "...",
      "ctx": {"ge": 1}}, (), "steps = 0: must be >= 1; pass a value >= 1"),
    ({"loc": ("body", "x"), "type": "weird_new_type", "input": 1, "msg": "Something odd"}, (),
     "x = 1: something odd; see /docs for the allowed values"),
])
def test_one_line(error, known, expected):
    assert one_line([error], known) == expected


def test_one_line_of_nothing_still_says_something():
    assert one_line([]).startswith("request: invalid")


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 10**12), budget=st.integers(2, 5000))
def test_probe_steps_are_bounded_sorted_and_keep_the_ends(n, budget):
    steps = probe_steps(n, budget)
    assert 1 <= len(steps) <= min(n, budget)
    assert steps[0] == 0 and steps[-1] == n - 1
    assert np.all(np.diff(steps) > 0)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 10**10), points=st.integers(2, 2000))
def test_sample_curve_is_bounded_and_exact(n, points):
    s = parse("cyclic(base_lr=0.001, max_lr=0.1, step_size_up=7, mode=triangular2)")
    curve = sample_curve(s, n, points)
    assert len(curve.step) <= min(n, points)
    assert curve.step[0] == 0 and curve.step[-1] == n - 1
    assert curve.lr == [s(t) for t in curve.step]
    assert curve.downsampled == (len(curve.step) < n)


@pytest.mark.parametrize("n", [0, -5, 10**12 + 1, 2.5, True])
def test_sample_curve_refuses_bad_lengths(n):
    with pytest.raises(ConfigError, match="steps = "):
        sample_curve(parse("constant(base_lr=0.1)"), n)


def test_downsample_xy_keeps_every_non_finite_point():
    y = [1.0] * 10_000
    y[1234] = None
    y[5678] = None
    x, _ = downsample_xy(list(range(10_000)), y, max_points=100)
    assert len(x) <= 100
    assert 1234 in x and 5678 in x


@pytest.mark.parametrize("text", [
    "cosine(peak_lr=0.1, total_steps=1000, warmup_steps=100)",
    "cyclic(base_lr=0.001, max_lr=0.1, mode=triangular2)",
    "onecycle(peak_lr=0.1, total_steps=100)",
    "wsd(peak_lr=0.1, total_steps=100, decay_steps=20, warmup_steps=5)",
    "multistep(base_lr=0.1, milestones=[30, 60], gamma=0.1)",
])
def test_compact_text_round_trips(text):
    s = parse(text)
    assert parse(compact(s.to_spec())) == s


def test_compact_quotes_words_that_are_not_plain():
    assert compact({"family": "x", "a": "two words", "b": "true"}) == "x(a='two words', b='true')"
