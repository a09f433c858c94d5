"""Exact snapshot and restore of everything a range test touches (torch imported lazily).

``Snapshot.capture`` copies, to CPU memory: every parameter and buffer (BatchNorm running
statistics and ``num_batches_tracked`` included, non-persistent buffers too) with their
gradients and ``requires_grad`` flags, each module's train/eval mode, the optimizer's state
and parameter-group hyperparameters and attributes, a GradScaler's and an LR scheduler's
full state, and the Python, NumPy, torch CPU (and CUDA, when initialised) random states,
plus the state of any ``torch.Generator`` a DataLoader or its sampler owns.
``restore`` writes all of it back *in place*: the same tensor, parameter, group-dict and
state objects the caller holds end up with the original values, so references held by the
optimizer or the caller stay valid.

>>> import torch
>>> model = torch.nn.Linear(2, 1)
>>> before = checksum(model)
>>> snap = Snapshot.capture(model)
>>> with torch.no_grad():
...     _ = model.weight.add_(1.0)
>>> snap.restore()
>>> checksum(model) == before
True
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import random
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from lrkit._deps import require

__all__ = ["Snapshot", "checksum", "loader_generators", "preserved", "unrestorable"]


def _clone(value: Any) -> Any:
    torch = require("torch", extra="torch")
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    return copy.deepcopy(value)


def _put(target: Any, saved: Any) -> None:
    """Write the saved CPU copy back into ``target`` in place (same object, same device)."""
    torch = require("torch", extra="torch")
    with torch.no_grad():
        if target.shape == saved.shape and target.dtype == saved.dtype:
            target.copy_(saved)
        else:  # the run replaced the storage (e.g. a resize): put the original back
            target.data = saved.to(target.device, copy=True)


def loader_generators(loaders: Iterable[Any]) -> list[Any]:
    """The ``torch.Generator`` objects owned by these DataLoaders and their samplers."""
    torch = require("torch", extra="torch")
    found: list[Any] = []
    for loader in _reachable_loaders(loaders):
        for owner in (loader, getattr(loader, "sampler", None),
                      getattr(getattr(loader, "batch_sampler", None), "sampler", None)):
            gen = getattr(owner, "generator", None)
            if isinstance(gen, torch.Generator) and all(gen is not g for g in found):
                found.append(gen)
    return found


def _reachable_loaders(loaders: Iterable[Any]) -> list[Any]:
    """The loaders themselves and, for the user's own wrapper objects, the DataLoaders
    held in their attributes (two levels deep): their generators are restorable too."""
    torch = require("torch", extra="torch")
    out: list[Any] = []
    todo = [(loader, 0) for loader in loaders]
    while todo:
        obj, depth = todo.pop(0)
        if any(obj is o for o in out):
            continue
        out.append(obj)
        if depth >= 2 or isinstance(obj, torch.utils.data.DataLoader):
            continue
        try:
            attrs = list(vars(obj).values())
        except TypeError:  # no __dict__ (a list, a generator)
            continue
        todo += [(v, depth + 1) for v in attrs
                 if isinstance(v, torch.utils.data.DataLoader | torch.utils.data.Sampler)
                 or (hasattr(v, "__iter__") and hasattr(v, "__dict__")
                     and not isinstance(v, torch.nn.Module | torch.Tensor))]
    return out


def unrestorable(loaders: Iterable[Any]) -> list[str]:
    """Why some of ``loaders`` cannot be left where they were, one line each.

    A one-shot iterator (a generator, ``iter(loader)``) is consumed by the range test: the
    batches it yielded are gone, and nothing can rewind it.

    >>> unrestorable([iter([1, 2]), [1, 2]])  # doctest: +ELLIPSIS
    ['a list_iterator is a one-shot iterator: the batches the range test drew ...']
    """
    notes = []
    for loader in loaders:
        # an Iterator is its own iter(); calling iter() on a DataLoader would start workers
        if isinstance(loader, Iterator):
            notes.append(f"a {type(loader).__name__} is a one-shot iterator: the batches the "
                         "range test drew from it are consumed; pass the DataLoader "
                         "(re-iterable) itself to leave it untouched")
    return notes


class Snapshot:
    """A restorable copy of model, optimizer, scaler, scheduler and random states."""

    def __init__(self) -> None:
        self._modules: list[tuple[Any, bool, dict[str, Any], dict[str, Any]]] = []
        self._params: list[tuple[Any, Any, Any, bool]] = []
        self._buffers: list[tuple[Any, Any]] = []
        self._optimizer: Any = None
        self._group_list: tuple[list[Any], list[Any]] = ([], [])
        self._state_obj: Any = None
        self._groups: list[tuple[dict[str, Any], dict[str, Any]]] = []
        # param -> (its state dict, {key: (the live value, a CPU copy, its device)})
        self._opt_state: dict[Any, tuple[dict[str, Any], dict[str, tuple[Any, Any, Any]]]] = {}
        self._opt_attrs: dict[str, Any] = {}
        self._scaler: Any = None
        self._scaler_state: dict[str, Any] = {}
        self._scheduler: Any = None
        self._scheduler_state: dict[str, Any] = {}
        self._rng: dict[str, Any] = {}
        self._generators: list[tuple[Any, Any]] = []

    @classmethod
    def capture(cls, model: Any, optimizer: Any = None, *, scaler: Any = None,
                scheduler: Any = None, loaders: Iterable[Any] = ()) -> Snapshot:
        """Copy the current state of everything given (and the global RNGs)."""
        torch = require("torch", extra="torch")
        snap = cls()
        seen_p: set[int] = set()
        seen_b: set[int] = set()
        for module in model.modules():
            snap._modules.append((module, module.training, dict(module._parameters),
                                  dict(module._buffers)))
            for p in module._parameters.values():
                if p is not None and id(p) not in seen_p:
                    seen_p.add(id(p))
                    grad = None if p.grad is None else _clone(p.grad)
                    snap._params.append((p, _clone(p), grad, p.requires_grad))
            for b in module._buffers.values():
                if b is not None and id(b) not in seen_b:
                    seen_b.add(id(b))
                    snap._buffers.append((b, _clone(b)))
        if optimizer is not None:
            snap._optimizer = optimizer
            # the list, its group dicts and the state dict themselves: a framework may
            # replace them (accelerate's prepare calls load_state_dict, which builds new
            # ones), and the caller's references must be the live ones again afterwards
            snap._group_list = (optimizer.param_groups, list(optimizer.param_groups))
            snap._state_obj = optimizer.state
            for group in optimizer.param_groups:
                snap._groups.append((group, {k: _clone(v) for k, v in group.items()
                                             if k != "params"}))
            # each value with the device it lives on: Adam's scalar ``step`` is on the CPU,
            # but on the parameters' GPU for fused and capturable optimizers
            # the per-parameter dicts and their tensors are kept too: restore writes the
            # values back into those same objects (a caller holding exp_avg sees it back)
            snap._opt_state = {p: (st, {k: (v, _clone(v), getattr(v, "device", None))
                                        for k, v in st.items()})
                               for p, st in optimizer.state.items()}
            snap._opt_attrs = {k: v for k, v in vars(optimizer).items()
                               if k not in ("state", "param_groups")}
        if scaler is not None:
            snap._scaler = scaler
            snap._scaler_state = copy.deepcopy(vars(scaler))
        if scheduler is not None:
            snap._scheduler = scheduler
            snap._scheduler_state = copy.deepcopy(scheduler.state_dict())
        snap._rng = {"python": random.getstate(), "numpy": np.random.get_state(),
                     "torch": torch.get_rng_state()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            snap._rng["cuda"] = torch.cuda.get_rng_state_all()
        snap._generators = [(g, g.get_state()) for g in loader_generators(loaders)]
        return snap

    def restore(self) -> None:
        """Put every captured value back, in place. Safe to call more than once."""
        torch = require("torch", extra="torch")
        for module, training, params, buffers in self._modules:
            module.training = training
            module._parameters.clear()
            module._parameters.update(params)
            module._buffers.clear()
            module._buffers.update(buffers)
        for p, value, grad, requires_grad in self._params:
            _put(p, value)
            p.grad = None if grad is None else grad.to(p.device, copy=True)
            p.requires_grad_(requires_grad)
        for b, value in self._buffers:
            _put(b, value)
        if self._optimizer is not None:
            opt = self._optimizer
            groups, members = self._group_list
            groups[:] = members
            opt.param_groups = groups
            opt.state = self._state_obj
            for group, saved in self._groups:
                for key in [k for k in group if k != "params" and k not in saved]:
                    del group[key]
                for key, value in saved.items():
                    group[key] = _restored(value, group.get(key))
            for p in [p for p in opt.state if p not in self._opt_state]:
                del opt.state[p]  # state the run created for a parameter that had none
            for p, (st, values) in self._opt_state.items():
                for key in [k for k in st if k not in values]:
                    del st[key]
                for key, (obj, saved, device) in values.items():
                    st[key] = _in_place(obj, saved, device)
                opt.state[p] = st
            for key in [k for k in vars(opt) if k not in ("state", "param_groups")
                        and k not in self._opt_attrs]:
                delattr(opt, key)
            for key, value in self._opt_attrs.items():
                setattr(opt, key, value)
        if self._scaler is not None:
            vars(self._scaler).clear()
            vars(self._scaler).update(copy.deepcopy(self._scaler_state))
        if self._scheduler is not None:
            self._scheduler.load_state_dict(copy.deepcopy(self._scheduler_state))
        random.setstate(self._rng["python"])
        np.random.set_state(self._rng["numpy"])
        torch.set_rng_state(self._rng["torch"])
        if "cuda" in self._rng:
            torch.cuda.set_rng_state_all(self._rng["cuda"])
        for gen, state in self._generators:
            gen.set_state(state)


def _restored(saved: Any, current: Any) -> Any:
    torch = require("torch", extra="torch")
    if isinstance(saved, torch.Tensor):
        if isinstance(current, torch.Tensor) and current.shape == saved.shape:
            _put(current, saved)
            return current
        return saved.clone()
    return copy.deepcopy(saved)


def _in_place(obj: Any, saved: Any, device: Any) -> Any:
    """``obj`` (a captured optimizer-state value) holding its saved value again: the same
    tensor object, on its own device, when it can hold it; else a fresh copy."""
    torch = require("torch", extra="torch")
    if isinstance(obj, torch.Tensor) and isinstance(saved, torch.Tensor):
        _put(obj, saved)
        return obj
    return _copy_to(saved, device)


def _copy_to(saved: Any, device: Any) -> Any:
    """A fresh copy of a saved value, on the device it was captured from (None: not a tensor)."""
    if device is None:
        return copy.deepcopy(saved)
    return saved.to(device, copy=True)


@contextlib.contextmanager
def preserved(model: Any, optimizer: Any = None, *, scaler: Any = None, scheduler: Any = None,
              loaders: Iterable[Any] = ()) -> Iterator[Snapshot]:
    """Context manager: capture on entry, restore on exit, whatever happens inside.

    The restore also runs on an exception or KeyboardInterrupt, which then propagates.
    """
    snap = Snapshot.capture(model, optimizer, scaler=scaler, scheduler=scheduler,
                            loaders=loaders)
    try:
        yield snap
    finally:
        snap.restore()


def checksum(model: Any, optimizer: Any = None, *, scaler: Any = None,
             include_rng: bool = True) -> str:
    """SHA-256 over parameters, gradients, buffers, modes, optimizer state and RNG states.

    Two equal checksums mean the run after this point is bit-identical.
    """
    torch = require("torch", extra="torch")
    h = hashlib.sha256()

    def add(value: Any) -> None:
        if isinstance(value, torch.Tensor):
            t = value.detach().to("cpu").contiguous()
            # the device too: a fused optimizer's step moved to the CPU breaks the next step
            h.update(str((value.device, t.dtype, tuple(t.shape))).encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        elif isinstance(value, dict):
            for k in sorted(value, key=str):
                h.update(str(k).encode())
                add(value[k])
        elif isinstance(value, list | tuple):
            for v in value:
                add(v)
        else:
            h.update(repr(value).encode())

    for name, p in model.named_parameters():
        h.update(name.encode())
        add(p)
        add(p.grad if p.grad is not None else "no-grad")
        add(p.requires_grad)
    for name, b in model.named_buffers():
        h.update(name.encode())
        add(b)
    add([m.training for m in model.modules()])
    if optimizer is not None:
        params = [p for g in optimizer.param_groups for p in g["params"]]
        for g in optimizer.param_groups:
            add({k: v for k, v in g.items() if k != "params"})
        for i, p in enumerate(params):
            if p in optimizer.state:
                h.update(str(i).encode())
                add(dict(optimizer.state[p]))
    if scaler is not None:
        add(scaler.state_dict())
    if include_rng:
        add(torch.get_rng_state())
        add(repr(random.getstate()))
        state: Any = np.random.get_state(legacy=True)
        add([state[0], np.asarray(state[1]).tobytes(), *state[2:]])
    return h.hexdigest()
