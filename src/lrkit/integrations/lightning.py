"""lrkit on PyTorch Lightning: the range test, the live LR doctor and ``auto``'s Task.

``find(trainer, module, datamodule)`` runs the range test through Lightning's own fit
loop: ``configure_optimizers`` builds the optimizer (no fitted trainer needed),
``training_step`` computes the loss, and the trainer's precision, gradient accumulation,
gradient clipping, devices and DDP strategy apply. It fits on a private copy of your
trainer's settings (no logger, no checkpoints, no validation, none of your callbacks), so
your ``Trainer`` object is never touched; the module's weights, buffers, modes and
attributes and the random states are restored exactly afterwards. The sweep is the one
``lrkit find`` runs (``lrkit.rangetest.runner.Sweep``) and the result is the same
``RangeTestResult``.

    import lrkit.integrations.lightning as lrl
    result = lrl.find(trainer, module, datamodule=dm)
    print(result.suggestion)

``LRDoctor`` is a Lightning ``Callback`` running ``lrkit.diagnose``'s detectors on the
training loss while the run trains (``lrkit.integrations.doctor``). Both are exercised
against the real Lightning in ``tests/integrations/test_lightning_integration.py``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import tempfile
import warnings
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

__all__ = ["LRDoctor", "find", "task_from_lightning"]

_EXTRA = "lightning"
log = logging.getLogger("lrkit.integrations")


def _pl() -> Any:
    return require("lightning.pytorch", extra=_EXTRA)


def _loss_of(outputs: Any) -> Any:
    """The loss in what ``training_step`` returned (a tensor or a dict with ``loss``)."""
    if isinstance(outputs, dict):
        return outputs.get("loss")
    return outputs


def _trainer_settings(trainer: Any, callback: Any, max_steps: int, root: str) -> dict[str, Any]:
    """Keyword arguments for a private Trainer that trains like ``trainer`` does."""
    from lightning.pytorch.strategies import DDPStrategy, SingleDeviceStrategy

    strategy: Any
    if isinstance(trainer.strategy, DDPStrategy):
        if type(trainer.strategy).__name__ != "DDPStrategy" or \
                getattr(trainer.strategy, "_start_method", "popen") != "popen":
            raise ConfigError(f"trainer.strategy = {type(trainer.strategy).__name__}: lrkit's "
                              "Lightning find supports a single device and strategy='ddp' "
                              "(launched by torchrun or Lightning's script launcher)")
        strategy = DDPStrategy(process_group_backend=trainer.strategy.process_group_backend)
    elif isinstance(trainer.strategy, SingleDeviceStrategy):
        strategy = "auto"
    else:
        raise ConfigError(f"trainer.strategy = {type(trainer.strategy).__name__}: lrkit's "
                          "Lightning find supports a single device and strategy='ddp'; "
                          "run it on a Trainer with one of those")
    accel = trainer.accelerator
    devices: Any = trainer.num_devices
    if type(accel).__name__ != "CPUAccelerator":
        devices = list(trainer.device_ids)
    return {
        "accelerator": type(accel)(),
        "devices": devices,
        "num_nodes": trainer.num_nodes,
        "strategy": strategy,
        "precision": trainer.precision,
        "accumulate_grad_batches": trainer.accumulate_grad_batches,
        "gradient_clip_val": trainer.gradient_clip_val,
        "gradient_clip_algorithm": trainer.gradient_clip_algorithm,
        "max_steps": max_steps,
        "max_epochs": -1,
        "limit_val_batches": 0,
        "num_sanity_val_steps": 0,
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "callbacks": [callback],
        "default_root_dir": root,
        "use_distributed_sampler": trainer._accelerator_connector.use_distributed_sampler,
    }


class _SweepCallback:
    """Drives a ``Sweep`` from Lightning's hooks (built on first use: Lightning is optional)."""

    def __new__(cls, sweep: Sweep) -> Any:
        pl = _pl()

        class SweepCallback(pl.Callback):  # type: ignore[name-defined]
            def __init__(self) -> None:
                self.sweep = sweep
                self.ratios: list[float] = []
                self.window: list[float] = []
                self.last_step = 0
                self.micro = 0
                self.scale: float | None = None

            def on_train_start(self, trainer: Any, module: Any) -> None:
                # The sweep sets the LR itself: the module's schedulers must not step.
                trainer.strategy.lr_scheduler_configs = []
                if len(trainer.optimizers) != 1:
                    raise ConfigError(f"configure_optimizers: returned {len(trainer.optimizers)} "
                                      "optimizers; lrkit's range test sweeps one optimizer")
                groups = trainer.optimizers[0].param_groups
                base = [float(g.get("initial_lr", g["lr"])) for g in groups]
                if not (math.isfinite(base[0]) and base[0] > 0):
                    raise ConfigError(f"optimizer.param_groups[0]['lr'] = {base[0]!r}: must "
                                      "be > 0 to keep the groups' LR ratios")
                self.ratios = [b / base[0] for b in base]
                self.last_step = trainer.global_step

            def on_before_optimizer_step(self, trainer: Any, module: Any,
                                         optimizer: Any) -> None:
                lr = self.sweep.lr
                for group, ratio in zip(optimizer.param_groups, self.ratios, strict=True):
                    group["lr"] = lr * ratio
                scaler = getattr(trainer.precision_plugin, "scaler", None)
                self.scale = float(scaler.get_scale()) if scaler is not None else None

            def on_train_batch_end(self, trainer: Any, module: Any, outputs: Any,
                                   batch: Any, batch_idx: int) -> None:
                loss = _loss_of(outputs)
                if loss is None:
                    raise ConfigError("training_step: returned no loss; return the loss "
                                      "tensor (or a dict with 'loss') for the range test")
                self.micro += 1
                # Lightning divides the returned loss by accumulate_grad_batches
                self.window.append(float(loss.detach()) * trainer.accumulate_grad_batches)
                if trainer.global_step == self.last_step:
                    return  # mid-accumulation: no update yet
                self.last_step = trainer.global_step
                value = sum(self.window) / len(self.window)
                self.window = []
                value = _dist.mean_over_ranks(value)
                scaler = getattr(trainer.precision_plugin, "scaler", None)
                if scaler is not None and self.scale is not None and \
                        scaler.is_enabled() and float(scaler.get_scale()) < self.scale:
                    done = self.sweep.record(None)  # the scaler skipped this update
                else:
                    done = self.sweep.record(value)
                if done:
                    trainer.should_stop = True

        return SweepCallback()


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence Lightning's start-up banner and hints for the private fit."""
    loggers = [logging.getLogger(n) for n in ("lightning.pytorch", "lightning.fabric",
                                               "pytorch_lightning", "lightning")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _attrs(obj: Any) -> dict[str, Any]:
    return dict(vars(obj)) if obj is not None else {}


def _put_attrs(obj: Any, saved: dict[str, Any]) -> None:
    """Put an object's attributes back as they were (references, not copies)."""
    if obj is None:
        return
    current = vars(obj)
    for key in [k for k in current if k not in saved]:
        del current[key]
    for key, value in saved.items():
        if current.get(key, _MISSING) is not value:
            current[key] = value


_MISSING = object()


def find(trainer: Any, module: Any, datamodule: Any = None, *, train_dataloaders: Any = None,
         settings: SweepSettings | None = None, rule: str = "lrkit",
         schedule: str | dict[str, Any] | None = None, total_steps: int | None = None,
         **sweep_settings: Any) -> RangeTestResult:
    """LR range test on a LightningModule through Lightning's own training loop.

    Args:
        trainer: your ``lightning.pytorch.Trainer`` (read only: its precision,
            accumulation, clipping, devices and strategy are copied; it is not fitted).
        module: your ``LightningModule``; ``configure_optimizers`` gives the optimizer
            (its first optimizer's parameter groups keep their LR ratios; the
            schedulers it returns are not stepped during the sweep).
        datamodule: your ``LightningDataModule`` (or pass ``train_dataloaders=``).
        train_dataloaders: a DataLoader, when there is no datamodule.
        settings: the sweep (``lrkit.rangetest.SweepSettings``: ``start_lr``, ``end_lr``,
            ``steps``, ``mode``, ``diverge``, ``extend``, ``max_skipped``); each may also
            be given as a keyword (``steps=50``), which replaces the field of ``settings``.
            The accumulation is the Trainer's ``accumulate_grad_batches``;
            there is no validation probe.
        rule: the suggestion rule (``lrkit.rangetest.RULES``).
        schedule, total_steps: the real run's schedule shape and length, for ``peak_lr``.
        sweep_settings: fields of ``SweepSettings``, as keywords.

    Returns:
        The RangeTestResult (identical on every rank under DDP; rank 0 logs it).

    Raises:
        ConfigError: an unsupported strategy, several optimizers, a training step that
            returns no loss, or a bad sweep argument.
    """
    sweep_args = SweepSettings.of(settings, **sweep_settings).framework_only(
        "Lightning", "the Trainer's accumulate_grad_batches")
    pl = _pl()
    if not isinstance(trainer, pl.Trainer):
        raise ConfigError(f"trainer = {type(trainer).__name__}: must be a lightning Trainer; "
                          "pass the Trainer you would call fit() on")
    if not isinstance(module, pl.LightningModule):
        raise ConfigError(f"module = {type(module).__name__}: must be a LightningModule; "
                          "pass the module you would fit")
    if datamodule is None and train_dataloaders is None and not _has_loader(module):
        raise ConfigError("datamodule = None: no training data; pass datamodule= or "
                          "train_dataloaders=, or define train_dataloader() on the module")
    sweep = Sweep(**sweep_args.stop_rules())
    callback = _SweepCallback(sweep)
    snap = Snapshot.capture(module)
    module_attrs, dm_attrs = _attrs(module), _attrs(datamodule)
    child_attrs = [(m, _attrs(m)) for m in module.modules() if m is not module]
    with tempfile.TemporaryDirectory(prefix="lrkit-find-") as root:
        private_args = _trainer_settings(
            trainer, callback, sweep.max_updates + 10 * sweep_args.max_skipped, root)
        try:
            with _quiet():
                private = pl.Trainer(**private_args)
                private.fit(module, datamodule=datamodule, train_dataloaders=train_dataloaders)
        finally:
            snap.restore()
            _put_attrs(module, module_attrs)
            _put_attrs(datamodule, dm_attrs)
            for m, saved in child_attrs:
                _put_attrs(m, saved)
    record = sweep.result()
    if not record.lrs:
        raise ConfigError("module: the range test recorded no update; check that "
                          "training_step returns a loss and the data is not empty")
    accumulation = int(trainer.accumulate_grad_batches)
    result = _result([record], rule, callback.ratios or [1.0], callback.micro, None, schedule,
                     total_steps, _settings(framework="lightning",
                                            start_lr=sweep_args.start_lr,
                                            end_lr=sweep_args.end_lr, steps=sweep_args.steps,
                                            mode=sweep_args.mode,
                                            accumulation_steps=accumulation,
                                            precision=str(trainer.precision)))
    if _dist.rank() == 0:
        log.info("lrkit range test (Lightning): suggested LR %.3g (range %.3g-%.3g)",
                 result.suggestion, *result.range)
    return result


def _has_loader(module: Any) -> bool:
    pl = _pl()
    return type(module).train_dataloader is not pl.LightningModule.train_dataloader


class LRDoctor:
    """A Lightning ``Callback``: the live LR doctor on the training loss of every update.

    Reports once per problem, with evidence and a corrected LR, to Python logging and to
    every logger of the trainer (``lrkit_doctor/<kind>`` metrics with the corrected LR).

    Args:
        mode: ``"warn"`` (default), ``"stop"`` (ends ``fit``) or ``"act"`` (multiplies the
            LR of the optimizer and its schedulers by the advised factor).
        **options: passed to ``lrkit.integrations.doctor.Doctor``.

    Example (not run here):
        trainer = L.Trainer(callbacks=[LRDoctor()])
    """

    def __new__(cls, mode: str = "warn", **options: Any) -> Any:
        pl = _pl()

        class LightningLRDoctor(pl.Callback):  # type: ignore[name-defined]
            """lrkit's live LR doctor as a Lightning Callback."""

            def __init__(self) -> None:
                self.doctor = Doctor(mode, **options)
                self._last_step = -1
                self._window: list[float] = []
                self._trainer: Any = None

            def on_train_start(self, trainer: Any, module: Any) -> None:
                self._trainer = trainer
                self._last_step = trainer.global_step
                if self.doctor.steps_per_epoch is None and trainer.num_training_batches and \
                        math.isfinite(trainer.num_training_batches):
                    self.doctor.steps_per_epoch = max(
                        1.0, trainer.num_training_batches / trainer.accumulate_grad_batches)
                if self.doctor.total_steps is None:
                    total = trainer.estimated_stepping_batches
                    if isinstance(total, int | float) and math.isfinite(total) and total >= 1:
                        self.doctor.total_steps = int(total)
                self.doctor.on_finding = self._log_finding

            def _log_finding(self, finding: Any, message: str) -> None:
                trainer = self._trainer
                if trainer is None:
                    return
                value = finding.suggested_lr if finding.suggested_lr is not None else math.nan
                for logger in trainer.loggers:
                    logger.log_metrics({f"lrkit_doctor/{finding.kind}": value},
                                       step=trainer.global_step)

            def on_train_end(self, trainer: Any, module: Any) -> None:
                self.doctor.finish()

            def on_train_batch_end(self, trainer: Any, module: Any, outputs: Any,
                                   batch: Any, batch_idx: int) -> None:
                loss = _loss_of(outputs)
                if loss is None:
                    return
                self._window.append(float(loss.detach()) * trainer.accumulate_grad_batches)
                if trainer.global_step == self._last_step:
                    return
                self._last_step = trainer.global_step
                value = sum(self._window) / len(self._window)
                self._window = []
                opt = trainer.optimizers[0]
                # the LR the update used: schedulers step after on_train_batch_end
                lr = float(opt.param_groups[0]["lr"])
                self.doctor.step(value, lr=lr, step=trainer.global_step - 1)
                factor = self.doctor.take_lr_factor()
                if factor != 1.0:
                    for opt_ in trainer.optimizers:
                        scheds = [c.scheduler for c in trainer.lr_scheduler_configs
                                  if c.scheduler.optimizer is opt_]
                        scale_lr(opt_, factor, scheds[0] if scheds else None)
                if self.doctor.should_stop:
                    trainer.should_stop = True

        return LightningLRDoctor()


def task_from_lightning(module: Any, datamodule: Any = None, *, trainer: Any = None,
                        epochs: int | None = None, name: str | None = None) -> Any:
    """An lrkit ``Task`` from a LightningModule (see ``lrkit.integrations.tasks``)."""
    from lrkit.integrations.tasks import task_from_lightning as build

    return build(module, datamodule, trainer=trainer, epochs=epochs, name=name)
