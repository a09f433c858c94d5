"""Run a range test on the caller's own model, optimizer and data, then put everything back.

``sweep_torch`` drives the framework-free runner with a ``step(lr)`` built from the caller's
objects. The LR is a common multiplier of the optimizer's parameter groups: group ``g``
gets ``lr * ratio_g`` with ``ratio_g = lr_g / lr_0`` taken from the groups as passed, so
discriminative LRs survive and the reported LR is group 0's. One update consumes
``accumulation_steps`` micro-batches (loss divided by that number for the backward pass,
the recorded loss is the window's mean); an update that a GradScaler skips (inf/NaN
gradients) does not advance the LR and records nothing. Everything the function touches
is captured beforehand and restored in a ``finally`` block (see ``state.Snapshot``).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from lrkit._deps import require
from lrkit.device import model_device, to_device
from lrkit.errors import ConfigError
from lrkit.rangetest.runner import SweepRecord, sweep
from lrkit.rangetest.settings import SweepSettings
from lrkit.rangetest.state import Snapshot, checksum, unrestorable
from lrkit.usercode import scalar_loss

__all__ = ["TorchSweep", "default_forward", "sweep_torch"]


def default_forward(model: Any, loss_fn: Callable[[Any, Any], Any], batch: Any,
                    device: Any) -> Any:
    """``loss_fn(model(inputs), targets)`` for a batch ``(inputs, targets)``."""
    try:
        inputs, targets = batch
    except (TypeError, ValueError):
        raise ConfigError("batch: expected (inputs, targets) pairs from train_data; pass "
                          "forward=lambda model, batch: <loss> for other batch layouts") from None
    return loss_fn(model(to_device(inputs, device)), to_device(targets, device))


def _forever(loader: Iterable[Any]) -> Iterator[Any]:
    """Cycle through ``loader``, re-iterating (a new epoch) when it is exhausted."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ConfigError("train_data: yielded no batches; pass a non-empty DataLoader")


class TorchSweep(NamedTuple):
    """What ``sweep_torch`` measured (a tuple, so ``record, ratios, micro = ...`` works)."""

    record: SweepRecord
    group_ratios: list[float]
    micro_batches: int


def sweep_torch(model: Any, optimizer: Any, loss_fn: Callable[[Any, Any], Any] | None,
                train_data: Iterable[Any], settings: SweepSettings | None = None, *,
                scaler: Any = None, autocast_dtype: Any = None, scheduler: Any = None,
                forward: Callable[[Any, Any], Any] | None = None,
                val_data: Iterable[Any] | None = None, verify: bool = True,
                on_update: Callable[[int, int, float, float], None] | None = None,
                reduce_loss: Callable[[float], float] | None = None,
                **sweep_settings: Any) -> TorchSweep:
    """Sweep the LR on the caller's objects and restore them; see ``range_test``.

    The sweep runs as ``settings`` says (a ``SweepSettings``); its fields may also be given
    as keywords (``steps=50``), which replace those of ``settings``. ``reduce_loss`` maps
    this process's loss of an update to the one the sweep records (under DDP: the mean
    over ranks, so every rank takes the same stop decision).

    Returns:
        ``TorchSweep(record, group_ratios, micro_batches)``.
    """
    torch = require("torch", extra="torch")
    cfg = SweepSettings.of(settings, **sweep_settings)
    accumulation_steps, val_every, val_batches = (cfg.accumulation_steps, cfg.val_every,
                                                  cfg.val_batches)
    if forward is None and loss_fn is None:
        raise ConfigError("loss_fn = None: needed unless forward= is given; pass e.g. "
                          "torch.nn.functional.cross_entropy")
    if not optimizer.param_groups:
        raise ConfigError("optimizer: has no parameter groups; build it on model.parameters()")
    base = [float(g["lr"]) for g in optimizer.param_groups]
    if not (math.isfinite(base[0]) and base[0] > 0):
        raise ConfigError(f"optimizer.param_groups[0]['lr'] = {base[0]!r}: must be > 0 to "
                          "define the other groups' LR ratios; give group 0 a positive LR")
    ratios = [b / base[0] for b in base]
    device = model_device(model)
    loaders = [train_data] + ([val_data] if val_data is not None else [])
    before = checksum(model, optimizer, scaler=scaler) if verify else ""
    snap = Snapshot.capture(model, optimizer, scaler=scaler, scheduler=scheduler,
                            loaders=loaders)
    for note in unrestorable(loaders):
        warnings.warn(f"range test: {note}", RuntimeWarning, stacklevel=2)
    micro = 0

    def run_forward(batch: Any) -> Any:
        if forward is not None:
            return scalar_loss(forward(model, batch), "forward")
        assert loss_fn is not None  # checked above
        return scalar_loss(default_forward(model, loss_fn, batch, device), "loss_fn")

    def autocast() -> Any:
        if autocast_dtype is None:
            return contextlib.nullcontext()
        kind = device.type if device is not None else "cpu"
        return torch.autocast(device_type=kind, dtype=autocast_dtype)

    try:
        batches = _forever(train_data)
        model.train()

        def step(lr: float) -> float | None:
            nonlocal micro
            for group, ratio in zip(optimizer.param_groups, ratios, strict=True):
                if isinstance(group["lr"], torch.Tensor):
                    group["lr"].fill_(lr * ratio)
                else:
                    group["lr"] = lr * ratio
            optimizer.zero_grad(set_to_none=True)
            window: list[float] = []
            for _ in range(accumulation_steps):
                batch = next(batches)
                micro += 1
                with autocast():
                    loss = run_forward(batch)
                value = float(loss.detach().float())
                window.append(value)
                if not math.isfinite(value) and reduce_loss is None:
                    return value  # the runner stops at once
                # (under DDP every rank must run the same backward passes, so a rank
                # whose loss broke finishes the window and the reduced loss stops all)
                scaled = loss / accumulation_steps
                (scaler.scale(scaled) if scaler is not None else scaled).backward()
            if scaler is not None:
                before_scale = scaler.get_scale()
                scaler.step(optimizer)
                scaler.update()
                if scaler.is_enabled() and scaler.get_scale() < before_scale:
                    return None  # overflow: the scaler skipped this update
            else:
                optimizer.step()
            mean = sum(window) / len(window)
            return mean if reduce_loss is None else reduce_loss(mean)

        probe = None
        if val_data is not None and val_every > 0:
            # fixed held-out batches, taken once (inside the snapshot: a shuffling loader
            # draws from the RNGs that are restored afterwards)
            held_out = list(itertools.islice(iter(val_data), val_batches))
            if not held_out:
                raise ConfigError("val_data: yielded no batches; pass a non-empty loader")

            def probe() -> float:
                from lrkit.device import evaluate

                with autocast():
                    if forward is None:
                        assert loss_fn is not None
                        return evaluate(model, loss_fn, held_out, device)
                    return _evaluate_forward(model, forward, held_out)

        record = sweep(step, **cfg.stop_rules(), probe=probe, probe_every=val_every,
                       on_update=on_update)
    finally:
        snap.restore()
    if verify and checksum(model, optimizer, scaler=scaler) != before:
        raise RuntimeError("lrkit range test: the restored state differs from the original; "
                           "please report this as a bug")
    return TorchSweep(record, ratios, micro)


def _evaluate_forward(model: Any, forward: Callable[[Any, Any], Any],
                      batches: list[Any]) -> float:
    torch = require("torch", extra="torch")
    modes = [m.training for m in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            values = [float(forward(model, b)) for b in batches]
    finally:
        for m, mode in zip(model.modules(), modes, strict=True):
            m.training = mode
    return sum(values) / len(values)
