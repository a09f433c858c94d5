"""ReduceOnPlateau against PyTorch's and Keras' own classes, and its resumable state."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrkit.errors import ConfigError
from lrkit.schedules import ReduceOnPlateau, from_spec

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

# metrics that plateau, repeat, improve a little and a lot, go negative, and sometimes NaN
metric = st.one_of(st.sampled_from([1.0, 1.0, 0.99995, 0.5, 2.0, -1.0, 0.0]),
                   st.floats(-10.0, 10.0), st.just(math.nan))
metrics = st.lists(metric, min_size=1, max_size=40)

torch_config = st.fixed_dictionaries({
    "mode": st.sampled_from(["min", "max"]),
    "factor": st.sampled_from([0.1, 0.5, 0.3]),
    "patience": st.integers(0, 4),
    "threshold": st.sampled_from([0.0, 1e-4, 0.01, 0.5]),
    "threshold_mode": st.sampled_from(["rel", "abs"]),
    "cooldown": st.integers(0, 3),
    "min_lr": st.sampled_from([0.0, 1e-3, 0.05]),
    "eps": st.sampled_from([1e-8, 0.0, 1e-3]),
})


def torch_lrs(config: dict, values: list[float], init_lr: float = 1.0) -> list[float]:
    """The LR of each epoch under torch.optim.lr_scheduler.ReduceLROnPlateau."""
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=init_lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **config)
    out = []
    for m in values:
        out.append(opt.param_groups[0]["lr"])
        sched.step(m)
    return out


@SETTINGS
@given(config=torch_config, values=metrics)
def test_matches_pytorch_reduce_lr_on_plateau(config, values):
    ours = ReduceOnPlateau(init_lr=1.0, patience_rule="gt", **config)
    assert ours.simulate(values).tolist() == torch_lrs(config, values)


def test_pytorch_reduces_after_patience_plus_one_bad_epochs():
    # the reference vector: patience 2 on a flat metric
    config = {"factor": 0.5, "patience": 2}
    flat = [1.0] * 7
    assert torch_lrs(config, flat) == [1, 1, 1, 1, 0.5, 0.5, 0.5]
    assert ReduceOnPlateau(init_lr=1.0, **config).simulate(flat).tolist() == torch_lrs(config,
                                                                                        flat)


# -- Keras ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras_model():
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss="mse")
    return keras, model


def keras_lrs(keras, model, values, *, factor, patience, min_delta, cooldown, min_lr, mode):
    """The LR of each epoch under keras.callbacks.ReduceLROnPlateau, driven epoch by epoch."""
    model.optimizer.learning_rate = 1.0
    cb = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=factor, patience=patience,
                                           min_delta=min_delta, cooldown=cooldown,
                                           min_lr=min_lr, mode=mode)
    cb.set_model(model)
    cb.on_train_begin()
    out = []
    for epoch, m in enumerate(values):
        out.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
        cb.on_epoch_end(epoch, {"val_loss": m})
    return out


# Keras keeps the LR in float32 and compares metrics in float32: dyadic factors, floors and
# small integer metrics keep every comparison and product exact in both precisions
keras_config = st.fixed_dictionaries({
    "factor": st.sampled_from([0.5, 0.25]),
    "patience": st.integers(0, 4),
    "min_delta": st.sampled_from([0.0, 0.5, 1.0, 2.0]),
    "cooldown": st.integers(0, 3),
    "min_lr": st.sampled_from([0.0, 0.125, 2.0**-6]),
    "mode": st.sampled_from(["min", "max"]),
})


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@SETTINGS
@given(config=keras_config, values=st.lists(st.integers(-3, 3).map(float), min_size=1,
                                            max_size=30))
def test_matches_the_keras_callback_with_its_mapping(keras_model, config, values):
    keras, model = keras_model
    expected = keras_lrs(keras, model, values, **config)
    ours = ReduceOnPlateau(init_lr=1.0, factor=config["factor"], patience=config["patience"],
                           threshold=config["min_delta"], threshold_mode="abs",
                           mode=config["mode"], cooldown=max(config["cooldown"] - 1, 0),
                           min_lr=config["min_lr"], eps=0.0, patience_rule="ge")
    assert ours.simulate(values).tolist() == expected


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_keras_reduces_after_patience_bad_epochs(keras_model):
    keras, model = keras_model
    flat = [1.0] * 7
    expected = keras_lrs(keras, model, flat, factor=0.5, patience=2, min_delta=0.0,
                         cooldown=0, min_lr=0.0, mode="min")
    assert expected == [1, 1, 1, 0.5, 0.5, 0.25, 0.25]
    ours = ReduceOnPlateau(init_lr=1.0, factor=0.5, patience=2, threshold=0.0,
                           threshold_mode="abs", patience_rule="ge", eps=0.0)
    assert ours.simulate(flat).tolist() == expected


def test_ge_with_patience_zero_cuts_on_every_bad_epoch_but_never_after_an_improvement():
    p = ReduceOnPlateau(init_lr=1.0, factor=0.5, patience=0, patience_rule="ge")
    assert p.simulate([3.0, 2.0, 1.0, 1.0, 0.5, 0.5]).tolist() == [1, 1, 1, 1, 0.5, 0.5]


# -- state: stepping, simulating, saving, resuming ------------------------------------------


@SETTINGS
@given(config=torch_config, values=metrics, cut=st.integers(0, 40),
       rule=st.sampled_from(["gt", "ge"]))
def test_a_saved_mid_run_state_resumes_identically(config, values, cut, rule):
    cut = min(cut, len(values))
    whole = ReduceOnPlateau(init_lr=0.3, patience_rule=rule, **config)
    expected = [whole.step(m) for m in values]

    first = ReduceOnPlateau(init_lr=0.3, patience_rule=rule, **config)
    got = [first.step(m) for m in values[:cut]]
    text = json.dumps(first.to_spec(), allow_nan=False)  # strict JSON, inf written as text
    resumed = ReduceOnPlateau.from_spec(json.loads(text))
    assert resumed == first
    got += [resumed.step(m) for m in values[cut:]]
    assert got == expected
    assert resumed == whole


@SETTINGS
@given(config=torch_config, values=metrics)
def test_simulate_is_step_by_step_and_leaves_the_state_alone(config, values):
    p = ReduceOnPlateau(init_lr=1.0, **config)
    before = p.to_spec()
    simulated = p.simulate(values)
    assert p.to_spec() == before
    stepped = [p.lr]
    for m in values[:-1]:
        stepped.append(p.step(m))
    np.testing.assert_array_equal(simulated, stepped)
    assert np.all(np.diff(simulated) <= 0) and np.all(simulated >= config["min_lr"])


def test_state_round_trip_of_a_fresh_and_a_max_mode_instance():
    for p in (ReduceOnPlateau(init_lr=0.1), ReduceOnPlateau(init_lr=0.1, mode="max")):
        spec = json.loads(json.dumps(p.to_spec()))
        assert spec["best"] in ("inf", "-inf")
        assert ReduceOnPlateau.from_spec(spec) == p


def test_the_step_counter_and_cooldown_are_part_of_the_state():
    p = ReduceOnPlateau(init_lr=1.0, factor=0.5, patience=0, cooldown=2)
    p.step(1.0)
    p.step(1.0)  # bad epoch 1 > patience 0: cut, then 2 cooldown epochs
    assert (p.lr, p.cooldown_left, p.num_bad, p.steps) == (0.5, 2, 0, 2)
    spec = p.to_spec()
    assert (spec["cooldown_left"], spec["steps"], spec["best"]) == (2, 2, 1.0)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"init_lr": -1.0}, r"^reduce_on_plateau\.init_lr = -1\.0: a learning rate cannot be "),
    ({"init_lr": 1.0, "factor": 1.0}, r"^reduce_on_plateau\.factor = 1\.0: must lie in \(0, 1\)"),
    ({"init_lr": 1.0, "patience": -1}, r"^reduce_on_plateau\.patience = -1: must be >= 0"),
    ({"init_lr": 1.0, "threshold": -0.1}, r"^reduce_on_plateau\.threshold = -0\.1: cannot be "),
    ({"init_lr": 1.0, "mode": "up"}, r"^reduce_on_plateau\.mode = 'up': must be one of"),
    ({"init_lr": 1.0, "threshold_mode": "pct"}, r"^reduce_on_plateau\.threshold_mode = 'pct'"),
    ({"init_lr": 1.0, "patience_rule": "gte"}, r"^reduce_on_plateau\.patience_rule = 'gte'"),
    ({"init_lr": 1.0, "min_lr": math.nan}, r"^reduce_on_plateau\.min_lr = nan: must be finite"),
    ({"init_lr": 1.0, "num_bad": -2}, r"^reduce_on_plateau\.num_bad = -2: must be >= 0"),
    ({"init_lr": 1.0, "best": "low"}, r"^reduce_on_plateau\.best = 'low': must be a number"),
])
def test_bad_configuration_is_refused_in_one_line(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ReduceOnPlateau(**kwargs)


def test_bad_specs_and_metrics_are_refused():
    with pytest.raises(ConfigError, match=r"^reduce_on_plateau\.patiense = 3: unknown parameter"):
        ReduceOnPlateau.from_spec({"family": "reduce_on_plateau", "init_lr": 1, "patiense": 3})
    with pytest.raises(ConfigError, match=r"^reduce_on_plateau\.init_lr = None: missing"):
        ReduceOnPlateau.from_spec({"family": "reduce_on_plateau"})
    with pytest.raises(ConfigError, match=r"^family = 'cosine': is not reduce_on_plateau"):
        ReduceOnPlateau.from_spec({"family": "cosine", "init_lr": 1})
    with pytest.raises(ConfigError, match=r"^reduce_on_plateau\.best = 'high': must be a "):
        ReduceOnPlateau.from_spec({"init_lr": 1, "best": "high"})
    with pytest.raises(ConfigError, match=r"^reduce_on_plateau\.metric = 'loss': must be a "):
        ReduceOnPlateau(init_lr=1.0).step("loss")
    # the schedule registry points at the right door
    with pytest.raises(ConfigError, match=r"ReduceOnPlateau\.from_spec"):
        from_spec({"family": "reduce_on_plateau", "init_lr": 1.0})


def test_a_nan_metric_counts_as_a_bad_epoch():
    p = ReduceOnPlateau(init_lr=1.0, factor=0.5, patience=1)
    assert p.simulate([1.0, math.nan, math.nan, math.nan]).tolist() == [1.0, 1.0, 1.0, 0.5]
