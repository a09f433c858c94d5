"""lrkit on the Hugging Face ``Trainer``: the range test, the live LR doctor and ``auto``'s Task.

``find(trainer)`` runs the range test through ``trainer.train()`` itself: the Trainer's
own ``compute_loss``/``training_step``, optimizer (``create_optimizer``, or the one you
passed in ``optimizers=``), mixed precision, gradient accumulation, gradient clipping and
its accelerate set-up (DDP when launched with ``torchrun``/``accelerate launch``: the loss
the Trainer logs is already the mean over processes). For the sweep the Trainer runs with
its arguments changed to log every update and save, evaluate and report nothing, and with
only lrkit's callback; afterwards the model (weights, buffers, modes), the optimizer and
scheduler (when they existed), the random states, the arguments, the callbacks, the
state and every other attribute of the Trainer and its accelerator are put back, so
``trainer.train()`` afterwards runs exactly as without ``find`` (tested).

    import lrkit.integrations.transformers as lrh
    result = lrh.find(trainer)

``LRDoctorCallback`` is a ``TrainerCallback`` that feeds every loss the Trainer logs to
``lrkit.integrations.doctor.Doctor``: what it reports live, ``lrkit diagnose`` says on
the run's ``trainer_state.json`` afterwards. Both are exercised against the real Trainer
in ``tests/integrations/test_transformers_integration.py``.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
from collections.abc import Iterator
from typing import Any

from lrkit._deps import require
from lrkit.errors import ConfigError
from lrkit.integrations import _dist
from lrkit.integrations.doctor import Doctor, scale_lr
from lrkit.rangetest.api import _result, _settings
from lrkit.rangetest.result import RangeTestResult
from lrkit.rangetest.runner import Sweep
from lrkit.rangetest.settings import SweepSettings
from lrkit.rangetest.state import Snapshot

__all__ = ["LRDoctorCallback", "find", "task_from_trainer"]

_EXTRA = "transformers"
log = logging.getLogger("lrkit.integrations")


def _hf() -> Any:
    require("accelerate", extra=_EXTRA)
    return require("transformers", extra=_EXTRA)


class _SweepCallback:
    """Drives a ``Sweep`` from the Trainer's callback events (built on first use)."""

    def __new__(cls, sweep: Sweep, trainer: Any) -> Any:
        hf = _hf()

        class SweepCallback(hf.TrainerCallback):  # type: ignore[name-defined]
            def __init__(self) -> None:
                self.ratios: list[float] = []
                self.pending = False

            def on_pre_optimizer_step(self, args: Any, state: Any, control: Any,
                                      **kwargs: Any) -> None:
                groups = trainer.optimizer.param_groups
                if not self.ratios:
                    base = [float(g.get("initial_lr", g["lr"])) for g in groups]
                    if not (math.isfinite(base[0]) and base[0] > 0):
                        raise ConfigError(f"optimizer.param_groups[0]['lr'] = {base[0]!r}: "
                                          "must be > 0 to keep the groups' LR ratios")
                    self.ratios = [b / base[0] for b in base]
                lr = sweep.lr
                for group, ratio in zip(groups, self.ratios, strict=True):
                    group["lr"] = lr * ratio
                self.pending = True

            def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
                control.should_log = True  # one loss per update
                if self.pending and trainer.accelerator.optimizer_step_was_skipped:
                    self.pending = False  # the AMP scaler skipped it: not a point
                    if sweep.record(None):
                        control.should_training_stop = True
                return control

            def on_log(self, args: Any, state: Any, control: Any, logs: Any = None,
                       **kwargs: Any) -> Any:
                if not self.pending or not logs or "loss" not in logs:
                    return control
                self.pending = False
                # the Trainer logs the mean over the accumulation window and the processes
                if sweep.record(float(logs["loss"])):
                    control.should_training_stop = True
                return control

        return SweepCallback()


def _shallow(obj: Any) -> dict[str, Any]:
    """An object's attributes, with lists and dicts copied (the run appends to them)."""
    return {k: (copy.copy(v) if isinstance(v, list | dict) else v) for k, v in vars(obj).items()}


def _put(obj: Any, saved: dict[str, Any]) -> None:
    current = vars(obj)
    current.clear()
    current.update(saved)


@contextlib.contextmanager
def _kept(trainer: Any) -> Iterator[None]:
    """Put the Trainer, its accelerator, callbacks, model, optimizer and RNGs back after."""
    opt = trainer.optimizer
    sched = trainer.lr_scheduler
    snap = Snapshot.capture(trainer.model, getattr(opt, "optimizer", opt),
                            scheduler=sched if hasattr(sched, "state_dict") else None)
    saved = {"trainer": _shallow(trainer), "handler": _shallow(trainer.callback_handler),
             "accelerator": _shallow(trainer.accelerator),
             "gradient_state": copy.copy(trainer.accelerator.gradient_state.__dict__),
             "state": copy.deepcopy(trainer.state), "control": copy.deepcopy(trainer.control)}
    try:
        yield
    finally:
        snap.restore()
        _put(trainer.accelerator, saved["accelerator"])
        trainer.accelerator.gradient_state.__dict__.update(saved["gradient_state"])
        _put(trainer.callback_handler, saved["handler"])
        _put(trainer, saved["trainer"])
        trainer.state = saved["state"]
        trainer.control = saved["control"]


def find(trainer: Any, *, settings: SweepSettings | None = None, rule: str = "lrkit",
         schedule: str | dict[str, Any] | None = None, total_steps: int | None = None,
         **sweep_settings: Any) -> RangeTestResult:
    """LR range test on a Hugging Face ``Trainer`` through its own training loop.

    Args:
        trainer: your ``transformers.Trainer`` (with its train_dataset), before or
            between ``train()`` calls.
        settings: the sweep (``lrkit.rangetest.SweepSettings``: ``start_lr``, ``end_lr``,
            ``steps``, ``mode``, ``diverge``, ``extend``, ``max_skipped``); each may also
            be given as a keyword (``steps=50``), which replaces the field of ``settings``.
            The accumulation is ``TrainingArguments.gradient_accumulation_steps``;
            there is no validation probe.
        rule: the suggestion rule (``lrkit.rangetest.RULES``).
        schedule, total_steps: the real run's schedule shape and length, for ``peak_lr``.
        sweep_settings: fields of ``SweepSettings``, as keywords.

    Returns:
        The RangeTestResult (the same on every process under DDP; rank 0 logs it).

    Raises:
        ConfigError: not a Trainer, no training data, or a bad sweep argument.
    """
    sweep_args = SweepSettings.of(settings, **sweep_settings).framework_only(
        "Transformers", "TrainingArguments.gradient_accumulation_steps")
    hf = _hf()
    if not isinstance(trainer, hf.Trainer):
        raise ConfigError(f"trainer = {type(trainer).__name__}: must be a transformers.Trainer;"
                          " pass the Trainer you would call train() on")
    if trainer.train_dataset is None:
        raise ConfigError("trainer.train_dataset = None: nothing to train on; build the "
                          "Trainer with train_dataset=...")
    sweep = Sweep(**sweep_args.stop_rules())
    callback = _SweepCallback(sweep, trainer)
    accumulation = int(trainer.args.gradient_accumulation_steps)
    with _kept(trainer):
        # the arguments are changed in place, not rebuilt: building TrainingArguments
        # again resets accelerate's process state under the Trainer's feet
        args = trainer.args
        kept_args = dict(vars(args))
        from transformers.trainer_utils import IntervalStrategy, SaveStrategy

        args.max_steps = sweep.max_updates + 10 * sweep_args.max_skipped
        args.logging_strategy, args.logging_steps = IntervalStrategy.STEPS, 1
        args.logging_first_step = False
        args.logging_nan_inf_filter = False  # a NaN is the sweep's stop signal, not noise
        args.save_strategy, args.eval_strategy = SaveStrategy.NO, IntervalStrategy.NO
        args.load_best_model_at_end = False
        args.disable_tqdm = True
        trainer.callback_handler.callbacks = [callback]
        try:
            with _quiet():
                trainer.train()
        finally:
            vars(args).clear()
            vars(args).update(kept_args)
    record = sweep.result()
    if not record.lrs:
        raise ConfigError("trainer: the range test recorded no update; check that the "
                          "model returns a loss and train_dataset is not empty")
    micro = (record.updates + record.skipped) * accumulation
    result = _result([record], rule, callback.ratios or [1.0], micro, None, schedule,
                     total_steps, _settings(framework="transformers",
                                            start_lr=sweep_args.start_lr,
                                            end_lr=sweep_args.end_lr, steps=sweep_args.steps,
                                            mode=sweep_args.mode,
                                            accumulation_steps=accumulation))
    if _dist.rank() == 0:
        log.info("lrkit range test (HF Trainer): suggested LR %.3g (range %.3g-%.3g)",
                 result.suggestion, *result.range)
    return result


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hold back the Trainer's per-step log lines during the sweep."""
    hf_logging = _hf().utils.logging
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


class LRDoctorCallback:
    """A ``TrainerCallback``: the live LR doctor on every loss the Trainer logs.

    The doctor sees what the run logs (``logging_steps``), so its findings are the ones
    ``lrkit diagnose`` gives on the run's ``trainer_state.json``. A finding goes to the
    ``lrkit.doctor`` Python logger and, as ``lrkit_doctor/<kind>`` (the corrected LR), into
    the logs of the reporting callbacks that come after it (TensorBoard, W&B, ...).

    Args:
        mode: ``"warn"`` (default), ``"stop"`` (ends ``train()``) or ``"act"``
            (multiplies the optimizer's LR and the scheduler's base LRs by the advised
            factor).
        **options: passed to ``lrkit.integrations.doctor.Doctor``.

    Example (not run here):
        Trainer(model, args, train_dataset=ds, callbacks=[LRDoctorCallback()])
    """

    def __new__(cls, mode: str = "warn", **options: Any) -> Any:
        hf = _hf()
        options.setdefault("model_kind", "transformer")

        class HFLRDoctor(hf.TrainerCallback):  # type: ignore[name-defined]
            """lrkit's live LR doctor as a Hugging Face TrainerCallback."""

            def __init__(self) -> None:
                self.doctor = Doctor(mode, **options)
                self._extra: dict[str, float] = {}

            def on_train_begin(self, args: Any, state: Any, control: Any,
                               **kwargs: Any) -> None:
                if self.doctor.steps_per_epoch is None and state.max_steps and \
                        state.num_train_epochs:
                    self.doctor.steps_per_epoch = state.max_steps / state.num_train_epochs
                if self.doctor.total_steps is None and state.max_steps:
                    # the doctor counts logged points: one per logging_steps updates
                    every = max(1, int(args.logging_steps)) \
                        if str(getattr(args.logging_strategy, "value", "")) == "steps" else 1
                    self.doctor.total_steps = max(1, int(state.max_steps) // every)

                def note(finding: Any, message: str) -> None:
                    value = finding.suggested_lr
                    self._extra[f"lrkit_doctor/{finding.kind}"] = \
                        math.nan if value is None else float(value)

                self.doctor.on_finding = note

            def on_train_end(self, args: Any, state: Any, control: Any,
                             **kwargs: Any) -> None:
                self.doctor.finish()

            def on_log(self, args: Any, state: Any, control: Any, logs: Any = None,
                       **kwargs: Any) -> Any:
                if not logs or "loss" not in logs:
                    return control
                lr = logs.get("learning_rate")
                self.doctor.step(float(logs["loss"]), lr=None if lr is None else float(lr),
                                 step=state.global_step)
                if self._extra:
                    logs.update(self._extra)
                    self._extra = {}
                factor = self.doctor.take_lr_factor()
                optimizer = kwargs.get("optimizer")
                if factor != 1.0 and optimizer is not None:
                    scale_lr(optimizer, factor, kwargs.get("lr_scheduler"))
                if self.doctor.should_stop:
                    control.should_training_stop = True
                return control

        return HFLRDoctor()


def task_from_trainer(trainer: Any, *, epochs: int | None = None,
                      name: str | None = None) -> Any:
    """An lrkit ``Task`` from a Hugging Face Trainer (see ``lrkit.integrations.tasks``)."""
    from lrkit.integrations.tasks import task_from_trainer as build

    return build(trainer, epochs=epochs, name=name)
