"""lrkit.integrations.keras against the real Keras 3 (torch backend)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import lrkit.integrations.keras as lrk  # noqa: E402
from lrkit.diagnose import diagnose  # noqa: E402
from lrkit.errors import ConfigError  # noqa: E402
from lrkit.rangetest import SweepSettings  # noqa: E402


def data(n: int = 512):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 8)).astype("float32")
    return x, x[:, :4].sum(1, keepdims=True) - x[:, 4:].sum(1, keepdims=True)


def model(lr=1e-3, accumulation=None, schedule=False):
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                          keras.layers.Dropout(0.2), keras.layers.BatchNormalization(),
                          keras.layers.Dense(1)])
    rate = keras.optimizers.schedules.CosineDecay(lr, 100) if schedule else lr
    m.compile(optimizer=keras.optimizers.Adam(rate, gradient_accumulation_steps=accumulation),
              loss="mse")
    return m


@pytest.mark.parametrize(("accumulation", "schedule"), [(None, False), (2, True)])
def test_find_then_fit_is_bit_identical(accumulation, schedule):
    x, y = data()
    m = model(accumulation=accumulation, schedule=schedule)
    res = lrk.find(m, x, y, start_lr=1e-5, end_lr=1.0, steps=30)
    assert res.suggestion > 0 and res.stop_reasons == ("diverged",)
    assert res.micro_batches == (accumulation or 1) * res.updates
    hist = m.fit(x, y, epochs=2, batch_size=32, verbose=0).history["loss"]
    ref = model(accumulation=accumulation, schedule=schedule)
    assert ref.fit(x, y, epochs=2, batch_size=32, verbose=0).history["loss"] == hist
    assert all(np.array_equal(a.numpy(), b.numpy())
               for a, b in zip(m.variables, ref.variables, strict=True))


def test_find_leaves_a_trained_model_and_its_optimizer_alone():
    x, y = data()
    m = model()
    m.fit(x, y, epochs=1, verbose=0)
    before = [v.numpy().copy() for v in m.variables + m.optimizer.variables]
    lrk.find(m, x, y, steps=20, end_lr=1.0)
    after = [v.numpy() for v in m.variables + m.optimizer.variables]
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_bad_input():
    x, y = data()
    raw = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])
    with pytest.raises(ConfigError, match="not compiled"):
        lrk.find(raw, x, y)
    with pytest.raises(ConfigError, match="y: has 3 rows"):
        lrk.find(model(), x, y[:3])
    with pytest.raises(ConfigError, match="model = "):
        lrk.find(object(), x, y)
    with pytest.raises(ConfigError, match=r"^batch_size = 0: must be >= 1; pass e.g. 32$"):
        lrk.find(model(), x, y, batch_size=0)
    with pytest.raises(ConfigError, match=r"^batch_size = 32.0: must be an integer"):
        lrk.find(model(), x, y, batch_size=32.0)


def test_find_takes_the_sweep_settings_object():
    x, y = data(128)
    quick = SweepSettings(start_lr=1e-5, end_lr=1.0, steps=12)
    by_object = lrk.find(model(), x, y, settings=quick)
    by_keywords = lrk.find(model(), x, y, start_lr=1e-5, end_lr=1.0, steps=12)
    assert by_object.lrs == by_keywords.lrs and by_object.losses == by_keywords.losses
    assert lrk.find(model(), x, y, settings=quick, start_lr=1e-3).lrs[0] == pytest.approx(1e-3)
    with pytest.raises(TypeError, match="did you mean 'steps'"):
        lrk.find(model(), x, y, settings=quick, stps=5)
    with pytest.raises(ConfigError, match=r"^settings.accumulation_steps = 2: the Keras find "
                                          "takes the accumulation from the optimizer"):
        lrk.find(model(), x, y, settings=SweepSettings(accumulation_steps=2))


def test_doctor_callback_stop_and_agreement(tmp_path, caplog):
    x, y = data()
    doctor = lrk.LRDoctorCallback(mode="stop", min_points=10, overhead=0.5)
    m = model(lr=5.0)
    with caplog.at_level(logging.WARNING, logger="lrkit.doctor"):
        m.fit(x, y, epochs=10, batch_size=32, verbose=0, callbacks=[doctor])
    live = [f.kind for f in doctor.doctor.findings]
    assert live and doctor.doctor.should_stop and len(doctor.doctor.losses) < 160
    after = diagnose(doctor.doctor.write_csv(tmp_path / "run.csv"))
    assert after.verdict == "too_high" and live[0] in [f.kind for f in after.findings]
