"""lrkit on Keras 3: the range test, the live LR doctor and ``auto``'s Task.

``find(model, x, y)`` runs lrkit's sweep (``lrkit.rangetest.runner.sweep``) with the
compiled model's own ``train_on_batch``: its ``train_step``, loss, optimizer (a
``LossScaleOptimizer`` under a mixed-precision policy: the updates it skips are not
recorded) and the optimizer's ``gradient_accumulation_steps`` (one LR per real update, the
recorded loss is the window's mean). The LR is written to the optimizer's learning-rate
variable; a ``LearningRateSchedule`` is set aside during the sweep and put back after.
Afterwards every model variable (weights, BatchNorm statistics, dropout seed states), the
optimizer's variables (slots and iteration count; an optimizer that was not built yet is
built first and returned with its initial values), the compiled metrics, Keras's global
seed state and the Python/NumPy/torch random states are restored exactly.

    import lrkit.integrations.keras as lrk
    result = lrk.find(model, x_train, y_train, batch_size=64)

``LRDoctorCallback`` is a ``keras.callbacks.Callback`` feeding each batch's loss and LR to
``lrkit.integrations.doctor.Doctor``. Keras needs a backend that is installed: set
``KERAS_BACKEND=torch`` (the tests use it) before importing keras. Exercised against the
real Keras in ``tests/integrations/test_keras_integration.py``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
from collections.abc import Iterator
from typing import Any

import numpy as np

from lrkit._check import INPUT as check
from lrkit._deps import require
from lrkit.errors import ConfigError
from lrkit.integrations.doctor import Doctor
from lrkit.rangetest.api import _result, _settings
from lrkit.rangetest.result import RangeTestResult
from lrkit.rangetest.runner import sweep
from lrkit.rangetest.settings import SweepSettings

__all__ = ["LRDoctorCallback", "find", "task_from_keras"]

_EXTRA = "keras"
log = logging.getLogger("lrkit.integrations")


def _keras() -> Any:
    keras = require("keras", extra=_EXTRA)
    return keras


def _inner(optimizer: Any) -> Any:
    """The optimizer that owns the learning rate (inside a LossScaleOptimizer)."""
    return getattr(optimizer, "inner_optimizer", optimizer)


def _global_seed_generator() -> Any:
    try:
        from keras.src.backend.common import global_state
    except ImportError:  # pragma: no cover - a Keras without the private module
        return None
    return global_state.get_global_attribute("global_seed_generator")


def _drop_global_seed_generator() -> None:
    from keras.src.backend.common import global_state

    global_state.set_global_attribute("global_seed_generator", None)


@contextlib.contextmanager
def _kept(model: Any) -> Iterator[None]:
    """Put the model's, optimizer's and metrics' variables and every RNG back afterwards."""
    optimizer = model.optimizer
    # Keras's fit pulls one extra batch from its shuffled loader while the compiled loss,
    # metrics or optimizer are unbuilt (to build them), which shifts the batch order; so
    # what the sweep built is marked unbuilt again, and fit afterwards draws as before.
    parts = [p for p in (getattr(model, "_compile_loss", None),
                         getattr(model, "_compile_metrics", None), optimizer)
             if p is not None and hasattr(p, "built")]
    unbuilt = [p for p in parts if not p.built]
    if not optimizer.built:
        # built now so that its initial slot values can be restored: the next fit then
        # starts from exactly what a fresh build gives
        optimizer.build(model.trainable_variables)
    variables = list(model.variables) + list(optimizer.variables) + \
        list(model.metrics_variables)
    unique: list[Any] = []
    for v in variables:  # a variable can be reachable twice (shared layers)
        if all(v is not u for u in unique):
            unique.append(v)
    saved = [np.array(v.numpy(), copy=True) for v in unique]
    gen = _global_seed_generator()
    gen_state = None if gen is None else np.array(gen.state.numpy(), copy=True)
    inner = _inner(optimizer)
    lr_object = inner._learning_rate
    rng: dict[str, Any] = {"python": random.getstate(), "numpy": np.random.get_state()}
    torch = _torch()
    if torch is not None:
        rng["torch"] = torch.get_rng_state()
    try:
        yield
    finally:
        inner._learning_rate = lr_object
        for part in unbuilt:
            part.built = False
        for v, value in zip(unique, saved, strict=True):
            v.assign(value)
        if gen is not None and gen_state is not None:
            gen.state.assign(gen_state)
        elif gen is None:
            _drop_global_seed_generator()  # made during the sweep: fit makes its own
        random.setstate(rng["python"])
        np.random.set_state(rng["numpy"])
        if torch is not None:
            torch.set_rng_state(rng["torch"])


def _torch() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - a Keras on the JAX backend without torch
        return None
    return torch


def _batches(x: Any, y: Any, batch_size: int, seed: int) -> Iterator[tuple[Any, Any]]:
    """Endless shuffled epochs of full batches of the arrays ``x``/``y`` (own generator)."""
    xs = np.asarray(x)
    ys = np.asarray(y)
    n = len(xs)
    if n != len(ys):
        raise ConfigError(f"y: has {len(ys)} rows but x has {n}; pass matching arrays")
    if n == 0:
        raise ConfigError("x: is empty; pass the training inputs")
    size = min(batch_size, n)
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(n)
        for k in range(n // size):
            idx = order[k * size:(k + 1) * size]
            yield xs[idx], ys[idx]


def find(model: Any, x: Any, y: Any, *, settings: SweepSettings | None = None,
         batch_size: int = 32, rule: str = "lrkit", seed: int = 0,
         schedule: str | dict[str, Any] | None = None, total_steps: int | None = None,
         **sweep_settings: Any) -> RangeTestResult:
    """LR range test on a compiled Keras model with its own ``train_on_batch``.

    Args:
        model: a compiled ``keras.Model`` (``model.compile(optimizer=..., loss=...)``).
        x, y: the training inputs and targets (arrays with one row per example).
        batch_size: examples per batch (Keras's ``fit`` default is 32).
        settings: the sweep (``lrkit.rangetest.SweepSettings``: ``start_lr``, ``end_lr``,
            ``steps``, ``mode``, ``diverge``, ``extend``, ``max_skipped``); each may also
            be given as a keyword (``steps=50``), which replaces the field of ``settings``.
            The accumulation is the optimizer's ``gradient_accumulation_steps``;
            there is no validation probe.
        rule: the suggestion rule (``lrkit.rangetest.RULES``).
        seed: the batch order of the sweep (its own generator; the global RNGs are left
            as they were).
        schedule, total_steps: the real run's schedule shape and length, for ``peak_lr``.
        sweep_settings: fields of ``SweepSettings``, as keywords.

    Returns:
        The RangeTestResult.

    Raises:
        ConfigError: an uncompiled model, mismatched data or a bad sweep argument.
    """
    sweep_args = SweepSettings.of(settings, **sweep_settings).framework_only(
        "Keras", "the optimizer's gradient_accumulation_steps")
    keras = _keras()
    if not isinstance(model, keras.Model):
        raise ConfigError(f"model = {type(model).__name__}: must be a keras.Model; pass the "
                          "model you would fit")
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", False):
        raise ConfigError("model: is not compiled; call model.compile(optimizer=..., "
                          "loss=...) first")
    check.count("batch_size", batch_size, example="32", exact=True)
    batches = _batches(x, y, batch_size, seed)
    if not model.built:
        xb, _ = next(_batches(x, y, batch_size, seed))
        model(xb)  # build it from the data's shape, before the state is captured
    optimizer = model.optimizer
    inner = _inner(optimizer)
    accumulation = int(getattr(inner, "gradient_accumulation_steps", None) or 1)
    micro = 0
    with _kept(model):
        from keras.optimizers.schedules import LearningRateSchedule

        if isinstance(inner._learning_rate, LearningRateSchedule):
            # the sweep sets the rate itself: a plain variable stands in for the schedule
            inner._learning_rate = keras.Variable(1.0, name="lrkit_sweep_lr",
                                                  dtype="float32", trainable=False)

        def step(lr: float) -> float | None:
            nonlocal micro
            inner.learning_rate = lr
            before = int(inner.iterations.numpy())
            losses = []
            for _ in range(accumulation):
                xb, yb = next(batches)
                out = model.train_on_batch(xb, yb, return_dict=True)
                micro += 1
                losses.append(float(out["loss"]))
            if int(inner.iterations.numpy()) == before and all(map(math.isfinite, losses)):
                return None  # the loss scaler skipped the update
            return sum(losses) / len(losses)

        record = sweep(step, **sweep_args.stop_rules())
    return _result([record], rule, [1.0], micro, None, schedule, total_steps,
                   _settings(framework="keras", start_lr=sweep_args.start_lr,
                             end_lr=sweep_args.end_lr, steps=sweep_args.steps,
                             mode=sweep_args.mode, accumulation_steps=accumulation,
                             batch_size=batch_size, seed=seed))


class LRDoctorCallback:
    """A ``keras.callbacks.Callback``: the live LR doctor on every batch's loss.

    Keras logs a running mean of the loss over the epoch; the callback recovers each
    batch's own loss from consecutive means. Findings go to the ``lrkit.doctor`` logger
    and into the epoch's ``logs`` as ``lrkit_doctor_<kind>`` (the corrected LR), where
    ``CSVLogger``/``TensorBoard`` callbacks after it record them.

    Args:
        mode: ``"warn"`` (default), ``"stop"`` (sets ``model.stop_training``) or
            ``"act"`` (multiplies the optimizer's LR variable by the advised factor; an
            optimizer driven by a ``LearningRateSchedule`` is warned about instead).
        **options: passed to ``lrkit.integrations.doctor.Doctor``.

    Example (not run here):
        model.fit(x, y, callbacks=[LRDoctorCallback()])
    """

    def __new__(cls, mode: str = "warn", **options: Any) -> Any:
        keras = _keras()

        class KerasLRDoctor(keras.callbacks.Callback):  # type: ignore[name-defined]
            """lrkit's live LR doctor as a Keras Callback."""

            def __init__(self) -> None:
                super().__init__()
                self.doctor = Doctor(mode, **options)
                self._mean = 0.0
                self._seen = 0
                self._updates = 0
                self._extra: dict[str, float] = {}

            def on_train_begin(self, logs: Any = None) -> None:
                params = self.params or {}
                if self.doctor.steps_per_epoch is None and params.get("steps"):
                    self.doctor.steps_per_epoch = float(params["steps"])
                if self.doctor.total_steps is None and params.get("steps") and \
                        params.get("epochs"):
                    self.doctor.total_steps = int(params["steps"]) * int(params["epochs"])

                def note(finding: Any, message: str) -> None:
                    value = finding.suggested_lr
                    self._extra[f"lrkit_doctor_{finding.kind}"] = \
                        math.nan if value is None else float(value)

                self.doctor.on_finding = note

            def on_train_end(self, logs: Any = None) -> None:
                self.doctor.finish()

            def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
                self._mean, self._seen = 0.0, 0

            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                if not logs or "loss" not in logs:
                    return
                mean = float(logs["loss"])
                k = self._seen + 1
                loss = k * mean - (k - 1) * self._mean if self._seen else mean
                self._mean, self._seen = mean, k
                inner = _inner(self.model.optimizer)
                lr = float(inner.learning_rate)
                self.doctor.step(loss, lr=lr, step=self._updates)
                self._updates += 1
                factor = self.doctor.take_lr_factor()
                if factor != 1.0:
                    from keras.optimizers.schedules import LearningRateSchedule

                    if isinstance(inner._learning_rate, LearningRateSchedule):
                        logging.getLogger("lrkit.doctor").warning(
                            "lrkit doctor: the optimizer follows a LearningRateSchedule, "
                            "which cannot be rescaled in place; rebuild it at %.3g",
                            lr * factor)
                    else:
                        inner.learning_rate = lr * factor
                if self.doctor.should_stop:
                    self.model.stop_training = True

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                if logs is not None and self._extra:
                    logs.update(self._extra)
                    self._extra = {}

        return KerasLRDoctor()


def task_from_keras(model: Any, x: Any, y: Any, *, validation_data: Any = None,
                    batch_size: int = 32, epochs: int = 1, name: str | None = None) -> Any:
    """An lrkit ``Task`` from a compiled Keras model (see ``lrkit.integrations.tasks``)."""
    from lrkit.integrations.tasks import task_from_keras as build

    return build(model, x, y, validation_data=validation_data, batch_size=batch_size,
                 epochs=epochs, name=name)
