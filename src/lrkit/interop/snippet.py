"""``snippet``: ready-to-paste code that rebuilds an lrkit schedule in another library.

Where the library has a native equivalent with the same rate at every update it is used
(``CosineAnnealingLR``, ``SequentialLR`` of native pieces, ``keras...CosineDecay`` with
warmup, ``optax.join_schedules``, a ``transformers.get_scheduler`` name); otherwise the
snippet goes through lrkit's adapter (``to_torch``, ``to_keras``, ``to_optax``) or, for
Hugging Face, a ``LambdaLR``. ``lrkit schedule SPEC --export torch`` prints it.

>>> from lrkit.schedules import parse
>>> print(snippet(parse("cosine(peak_lr=0.1, total_steps=100, after_end=periodic)"), "torch"))
import torch
<BLANKLINE>
# optimizer = torch.optim.SGD(model.parameters(), lr=0.1)  # the lr these schedulers scale
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=100, eta_min=0.0)
# call scheduler.step() after every optimizer.step()
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lrkit.errors import ConfigError, SpecError
from lrkit.interop._params import lookup
from lrkit.interop.hf_config import HF_FUNCTIONS
from lrkit.schedules import (
    Constant,
    Cosine,
    CosineRestarts,
    Cyclic,
    Exponential,
    Interpolate,
    InverseSqrt,
    InverseTime,
    Join,
    LinearWarmup,
    MultiStep,
    OneCycle,
    Piecewise,
    Polynomial,
    Schedule,
    Step,
    horizon,
)

__all__ = ["snippet"]

_TORCH = "torch.optim.lr_scheduler."


def _num(x: float) -> str:
    """A float literal that reads back exactly."""
    return repr(float(x))


def _steps(x: float) -> str:
    """A step count: an int literal when it is whole."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _int_like(x: float) -> int | None:
    return int(x) if float(x).is_integer() else None


def _spec_literal(schedule: Schedule) -> str:
    try:
        spec = schedule.to_spec()
    except SpecError as err:
        raise ConfigError(f"schedule: {err}") from None
    return repr(spec)  # a Python literal: True/False/None, floats that read back exactly


def _flatten(schedule: Schedule, start: int = 0) -> list[tuple[int, Schedule]]:
    """(start, piece) of a join, nested joins flattened (their local times compose)."""
    if not isinstance(schedule, Join):
        return [(start, schedule)]
    out = []
    for b, piece in zip((0, *schedule.boundaries), schedule.pieces, strict=True):
        out.extend(_flatten(piece, start + b))
    return out


# ---------------------------------------------------------------- torch

def _torch_piece(s: Schedule, base: float) -> list[tuple[int, str]] | None:
    """PyTorch schedulers (with local start offsets) equal to ``s`` on an optimizer of lr
    ``base``, as SequentialLR pieces; None when there is none."""
    if isinstance(s, Constant):
        if s.base_lr == base:
            return [(0, "ConstantLR(optimizer, factor=1.0, total_iters=0)")]
        return [(0, f"LambdaLR(optimizer, lambda step: {_num(s.base_lr / base)})")]
    if isinstance(s, Step) and s.base_lr == base and _int_like(s.step_size):
        return [(0, f"StepLR(optimizer, step_size={int(s.step_size)}, gamma={_num(s.gamma)})")]
    if isinstance(s, MultiStep) and s.base_lr == base:
        return [(0, f"MultiStepLR(optimizer, milestones={list(s.milestones)}, "
                    f"gamma={_num(s.gamma)})")]
    if (isinstance(s, Exponential) and s.init_lr == base and s.decay_steps == 1
            and not s.staircase and s.transition_begin == 0 and s.end_lr is None):
        return [(0, f"ExponentialLR(optimizer, gamma={_num(s.decay_rate)})")]
    if (isinstance(s, Polynomial) and s.init_lr == base and s.end_lr == 0 and not s.cycle
            and _int_like(s.total_steps)):
        return [(0, f"PolynomialLR(optimizer, total_iters={int(s.total_steps)}, "
                    f"power={_num(s.power)})")]
    if (isinstance(s, LinearWarmup) and s.warmup_steps and _int_like(s.warmup_steps)
            and 0 < s.init_lr <= base and s.peak_lr <= base):
        return [(0, f"LinearLR(optimizer, start_factor={_num(s.init_lr / base)}, "
                    f"end_factor={_num(s.peak_lr / base)}, total_iters={int(s.warmup_steps)})")]
    if isinstance(s, LinearWarmup) and not s.warmup_steps:
        return _torch_piece(Constant(s.peak_lr), base)
    if isinstance(s, LinearWarmup) and s.init_lr == 0 and s.peak_lr > 0:
        # LinearLR cannot start at 0; a LambdaLR factor can
        w = _steps(s.warmup_steps)
        return [(0, f"LambdaLR(optimizer, lambda step: min(step, {w}) / {w} * "
                    f"{_num(s.peak_lr / base)})")]
    if (isinstance(s, Cosine) and s.peak_lr == base and s.exponent == 1
            and _int_like(s.total_steps)):
        t_max = int(s.total_steps)
        cos = f"CosineAnnealingLR(optimizer, T_max={t_max}, eta_min={_num(s.end_lr)})"
        if s.after_end == "periodic":
            return [(0, cos)]
        # PyTorch's cosine rises again after T_max; hold the floor with a constant factor
        return [(0, cos), (t_max, f"LambdaLR(optimizer, lambda step: {_num(s.end_lr / base)})")]
    if (isinstance(s, CosineRestarts) and s.peak_lr == base and s.peak_decay == 1
            and _int_like(s.cycle_steps) and _int_like(s.cycle_mult)):
        return [(0, f"CosineAnnealingWarmRestarts(optimizer, T_0={int(s.cycle_steps)}, "
                    f"T_mult={int(s.cycle_mult)}, eta_min={_num(s.end_lr)})")]
    return None


def _torch_alone(s: Schedule) -> str | None:
    """Schedulers that set absolute rates and rewrite the optimizer: only on their own."""
    if (isinstance(s, Cyclic) and s.scale_fn is None
            and s.scale_mode == ("iterations" if s.mode == "exp_range" else "cycle")):
        down = "None" if s.step_size_down is None else _steps(s.step_size_down)
        return (f"CyclicLR(optimizer, base_lr={_num(s.base_lr)}, max_lr={_num(s.max_lr)}, "
                f"step_size_up={_steps(s.step_size_up)}, step_size_down={down}, "
                f"mode={s.mode!r}, gamma={_num(s.gamma)}, cycle_momentum=False)")
    if isinstance(s, OneCycle):
        return (f"OneCycleLR(optimizer, max_lr={_num(s.peak_lr)}, total_steps={s.total_steps}, "
                f"pct_start={_num(s.pct_start)}, anneal_strategy={s.anneal!r}, "
                f"div_factor={_num(s.div_factor)}, "
                f"final_div_factor={_num(s.final_div_factor)}, "
                f"three_phase={s.three_phase}, cycle_momentum=False)")
    return None


def _natural_base(s: Schedule) -> float:
    """The rate a PyTorch scheduler would scale to reproduce ``s``: its starting or peak lr."""
    if isinstance(s, LinearWarmup):
        return max(s.init_lr, s.peak_lr)
    for name in ("base_lr", "init_lr", "peak_lr"):
        if hasattr(s, name):
            return float(getattr(s, name))
    return 0.0


def _torch_native(schedule: Schedule) -> tuple[float | None, str] | None:
    alone = _torch_alone(schedule)
    if alone is not None:
        return None, _TORCH + alone
    parts = _flatten(schedule)
    base = max(_natural_base(p) for _, p in parts)
    if base <= 0:
        return None
    pieces: list[tuple[int, str]] = []
    for start, part in parts:
        native = _torch_piece(part, base)
        if native is None:
            return None
        pieces.extend((start + offset, code) for offset, code in native)
    if len(pieces) == 1:
        return base, _TORCH + pieces[0][1]
    inner = ",\n        ".join(_TORCH + code for _, code in pieces)
    milestones = [start for start, _ in pieces[1:]]
    return base, (f"{_TORCH}SequentialLR(\n    optimizer,\n    schedulers=[\n        {inner},\n"
                  f"    ],\n    milestones={milestones},\n)")


def _torch_snippet(schedule: Schedule) -> str:
    native = _torch_native(schedule)
    if native is not None:
        base, code = native
        lr = ("the schedulers set the rate themselves" if base is None
              else "the lr these schedulers scale")
        return "\n".join([
            "import torch", "",
            f"# optimizer = torch.optim.SGD(model.parameters(), lr={_num(base or 0.1)})  # {lr}",
            f"scheduler = {code}",
            "# call scheduler.step() after every optimizer.step()"])
    ref = float(schedule(0))
    lr = _num(ref) if ref > 0 else _num(_peak(schedule))
    return "\n".join([
        "import torch", "import lrkit", "from lrkit.interop import to_torch", "",
        f"schedule = lrkit.schedules.from_spec({_spec_literal(schedule)})",
        f"# optimizer = torch.optim.SGD(model.parameters(), lr={lr})  # groups keep their "
        "ratio to this lr",
        "scheduler = to_torch(schedule, optimizer)",
        "# call scheduler.step() after every optimizer.step()"])


# ---------------------------------------------------------------- keras

_KERAS = "keras.optimizers.schedules."


def _keras_native(s: Schedule) -> str | None:
    if isinstance(s, Exponential) and s.transition_begin == 0 and s.end_lr is None:
        return (f"{_KERAS}ExponentialDecay(initial_learning_rate={_num(s.init_lr)}, "
                f"decay_steps={_steps(s.decay_steps)}, decay_rate={_num(s.decay_rate)}, "
                f"staircase={s.staircase})")
    if isinstance(s, Piecewise):
        # Keras changes value one step after each boundary
        return (f"{_KERAS}PiecewiseConstantDecay(boundaries={[b - 1 for b in s.boundaries]}, "
                f"values={[float(v) for v in s.lrs]})")
    if isinstance(s, Polynomial):
        return (f"{_KERAS}PolynomialDecay(initial_learning_rate={_num(s.init_lr)}, "
                f"decay_steps={_steps(s.total_steps)}, end_learning_rate={_num(s.end_lr)}, "
                f"power={_num(s.power)}, cycle={s.cycle})")
    if isinstance(s, InverseTime):
        return (f"{_KERAS}InverseTimeDecay(initial_learning_rate={_num(s.init_lr)}, "
                f"decay_steps={_steps(s.decay_steps)}, decay_rate={_num(s.decay_rate)}, "
                f"staircase={s.staircase})")
    if _keras_cosine(s):
        assert isinstance(s, Cosine)
        return (f"{_KERAS}CosineDecay(initial_learning_rate={_num(s.peak_lr)}, "
                f"decay_steps={_steps(s.total_steps)}, alpha={_num(s.end_lr / s.peak_lr)})")
    if (isinstance(s, Join) and len(s.pieces) == 2 and isinstance(s.pieces[0], LinearWarmup)
            and s.pieces[0].warmup_steps == s.boundaries[0] and _keras_cosine(s.pieces[1])):
        ramp, cos = s.pieces
        assert isinstance(ramp, LinearWarmup) and isinstance(cos, Cosine)
        if ramp.peak_lr == cos.peak_lr:
            return (f"{_KERAS}CosineDecay(initial_learning_rate={_num(ramp.init_lr)}, "
                    f"decay_steps={_steps(cos.total_steps)}, "
                    f"alpha={_num(cos.end_lr / cos.peak_lr)}, "
                    f"warmup_target={_num(cos.peak_lr)}, warmup_steps={s.boundaries[0]})")
    if isinstance(s, CosineRestarts) and s.peak_lr > 0 and s.cycle_mult == 1:
        # growing cycles stay on the adapter: Keras' float32 log misplaces some restarts
        return (f"{_KERAS}CosineDecayRestarts(initial_learning_rate={_num(s.peak_lr)}, "
                f"first_decay_steps={_steps(s.cycle_steps)}, t_mul={_num(s.cycle_mult)}, "
                f"m_mul={_num(s.peak_decay)}, alpha={_num(s.end_lr / s.peak_lr)})")
    return None


def _keras_cosine(s: Schedule) -> bool:
    return (isinstance(s, Cosine) and s.after_end == "hold" and s.exponent == 1
            and s.peak_lr > 0)


def _schedule_snippet(module: str, native: str | None, adapter: str, schedule: Schedule,
                      optimizer: str) -> str:
    """Code for libraries whose optimizers take the schedule itself (Keras, optax)."""
    usage = f"# optimizer = {optimizer}(learning_rate=schedule)"
    if native is not None:
        return "\n".join([f"import {module}", "", f"schedule = {native}", usage])
    return "\n".join([
        f"import {module}", "import lrkit", f"from lrkit.interop import {adapter}", "",
        f"schedule = {adapter}(lrkit.schedules.from_spec({_spec_literal(schedule)}))", usage])


def _keras_snippet(schedule: Schedule) -> str:
    return _schedule_snippet("keras", _keras_native(schedule), "to_keras", schedule,
                             "keras.optimizers.AdamW")


# ---------------------------------------------------------------- optax

def _optax_native(s: Schedule) -> str | None:
    if isinstance(s, Constant):
        return f"optax.constant_schedule({_num(s.base_lr)})"
    if isinstance(s, LinearWarmup):
        if not s.warmup_steps:
            return f"optax.constant_schedule({_num(s.peak_lr)})"
        return (f"optax.linear_schedule(init_value={_num(s.init_lr)}, "
                f"end_value={_num(s.peak_lr)}, transition_steps={_steps(s.warmup_steps)})")
    if isinstance(s, Polynomial) and not s.cycle:
        return (f"optax.polynomial_schedule(init_value={_num(s.init_lr)}, "
                f"end_value={_num(s.end_lr)}, power={_num(s.power)}, "
                f"transition_steps={_steps(s.total_steps)})")
    if isinstance(s, Exponential):
        end = "None" if s.end_lr is None else _num(s.end_lr)
        return (f"optax.exponential_decay(init_value={_num(s.init_lr)}, "
                f"transition_steps={_steps(s.decay_steps)}, decay_rate={_num(s.decay_rate)}, "
                f"transition_begin={s.transition_begin}, staircase={s.staircase}, "
                f"end_value={end})")
    if isinstance(s, Cosine) and s.after_end == "hold" and s.peak_lr > 0:
        return (f"optax.cosine_decay_schedule(init_value={_num(s.peak_lr)}, "
                f"decay_steps={_steps(s.total_steps)}, alpha={_num(s.end_lr / s.peak_lr)}, "
                f"exponent={_num(s.exponent)})")
    if isinstance(s, Piecewise) and all(v > 0 for v in s.lrs[:-1]):
        scales = {b: s.lrs[k + 1] / s.lrs[k] for k, b in enumerate(s.boundaries)}
        return (f"optax.piecewise_constant_schedule(init_value={_num(s.lrs[0])}, "
                f"boundaries_and_scales={_scale_dict(scales)})")
    if (isinstance(s, Interpolate) and s.steps[0] == 0 and all(v > 0 for v in s.lrs[:-1])
            and all(b > a for a, b in zip(s.steps, s.steps[1:], strict=False))):
        scales = {s.steps[k + 1]: s.lrs[k + 1] / s.lrs[k] for k in range(len(s.steps) - 1)}
        return (f"optax.piecewise_interpolate_schedule({s.kind!r}, "
                f"init_value={_num(s.lrs[0])}, boundaries_and_scales={_scale_dict(scales)})")
    if isinstance(s, Join):
        pieces = [_optax_native(p) for p in s.pieces]
        if all(p is not None for p in pieces):
            inner = ",\n        ".join(p for p in pieces if p is not None)
            return (f"optax.join_schedules(\n    schedules=[\n        {inner},\n    ],\n"
                    f"    boundaries={list(s.boundaries)},\n)")
    return None


def _scale_dict(scales: dict[int, float]) -> str:
    return "{" + ", ".join(f"{b}: {_num(v)}" for b, v in scales.items()) + "}"


def _optax_snippet(schedule: Schedule) -> str:
    return _schedule_snippet("optax", _optax_native(schedule), "to_optax", schedule,
                             "optax.adamw")


# ---------------------------------------------------------------- Hugging Face

def _hf_native(s: Schedule) -> tuple[float, str, int, int | None, dict[str, Any]] | None:
    """(lr, get_scheduler name, warmup, training steps, kwargs) when ``s`` is one."""
    warm = 0
    ramp_peak = None
    if (isinstance(s, Join) and len(s.pieces) == 2 and isinstance(s.pieces[0], LinearWarmup)
            and s.pieces[0].init_lr == 0 and s.pieces[0].warmup_steps == s.boundaries[0]):
        # HF's warmup: t / W from 0 to the rate the decay starts from
        warm, ramp_peak, s = s.boundaries[0], s.pieces[0].peak_lr, s.pieces[1]
    if isinstance(s, LinearWarmup) and s.init_lr == 0 and s.warmup_steps and not warm:
        return s.peak_lr, "constant_with_warmup", int(s.warmup_steps), None, {}
    if isinstance(s, Constant) and not warm:
        return s.base_lr, "constant", 0, None, {}
    lr = _natural_base(s)
    if lr <= 0 or (ramp_peak is not None and ramp_peak != lr):
        return None
    if isinstance(s, Polynomial) and not s.cycle and _int_like(s.total_steps):
        total = warm + int(s.total_steps)
        if s.end_lr == 0 and s.power == 1:
            return lr, "linear", warm, total, {}
        if s.end_lr < lr:
            return lr, "polynomial", warm, total, {"lr_end": s.end_lr, "power": s.power}
    # after_end "hold" (lrkit's default) equals HF's cosine for every update of the run,
    # t <= total; only past the run's end does HF's cosine rise again
    if (isinstance(s, Cosine) and s.after_end in ("periodic", "hold") and s.exponent == 1
            and _int_like(s.total_steps)):
        total = warm + int(s.total_steps)
        if s.end_lr == 0:
            return lr, "cosine", warm, total, {}
        return lr, "cosine_with_min_lr", warm, total, {"min_lr_rate": s.end_lr / lr}
    if isinstance(s, InverseSqrt):  # HF's 1 / sqrt((t + timescale - W) / timescale)
        return lr, "inverse_sqrt", warm, None, {"timescale": s.timescale}
    return None


def _hf_snippet(schedule: Schedule) -> str:
    native = _hf_native(schedule)
    if native is not None:
        lr, name, warm, total, kwargs = native
        # transformers' own function for the name (what HF's docs and examples call)
        function = {v: k for k, v in HF_FUNCTIONS.items()}[name]
        args = ["optimizer"] + ([] if name == "constant" else [f"num_warmup_steps={warm}"])
        if total is not None:
            args.append(f"num_training_steps={total}")
        args += [f"{k}={_num(v)}" for k, v in kwargs.items()]
        call = f"scheduler = {function}({', '.join(args)})"
        if len(call) > 88:
            call = f"scheduler = {function}(\n    " + ", ".join(args) + ")"
        tail = schedule.pieces[-1] if isinstance(schedule, Join) else schedule
        lines = ["import torch", f"from transformers import {function}", "",
                 f"# optimizer = torch.optim.AdamW(model.parameters(), lr={_num(lr)})", call]
        if isinstance(tail, Cosine) and tail.after_end == "hold":
            lines += [f"# the spec's rate at every update of the {total}-update run (past",
                      "# its end HF's cosine rises again where the spec holds its end value)"]
        lines.append("# or Trainer(..., optimizers=(optimizer, scheduler))")
        return "\n".join(lines)
    peak = _peak(schedule)
    return "\n".join([
        "import torch", "import lrkit", "",
        f"schedule = lrkit.schedules.from_spec({_spec_literal(schedule)})",
        f"# optimizer = torch.optim.AdamW(model.parameters(), lr={_num(peak)})",
        "scheduler = torch.optim.lr_scheduler.LambdaLR(",
        f"    optimizer, lambda step: schedule(step) / {_num(peak)})",
        "# or Trainer(..., optimizers=(optimizer, scheduler))"])


def _peak(schedule: Schedule) -> float:
    """The largest rate over the schedule's horizon (or its first 10,000 updates)."""
    n = horizon(schedule) or 10_000
    peak = float(np.max(schedule.values(max(n, 1))))
    return peak if peak > 0 else 1.0


_SNIPPETS: dict[str, Callable[[Schedule], str]] = {
    "hf": _hf_snippet,
    "keras": _keras_snippet,
    "optax": _optax_snippet,
    "torch": _torch_snippet,
}
_ALIASES = {"pytorch": "torch", "transformers": "hf", "huggingface": "hf", "jax": "optax"}


def snippet(schedule: Schedule, framework: str) -> str:
    """Python code that rebuilds ``schedule`` in ``framework`` (torch, keras, optax or hf).

    The code assumes the names the library's docs use (``optimizer``, ``model``); a comment
    shows the optimizer lr it expects.

    Raises:
        ConfigError: an unknown framework (with the closest match), or a schedule with no
            native form and no JSON spec (a Python callable inside).
    """
    key = lookup("--export", framework, _SNIPPETS, _ALIASES)
    if not isinstance(schedule, Schedule):
        raise ConfigError(f"schedule = {schedule!r}: must be an lrkit Schedule; "
                          "pass e.g. lrkit.schedules.parse('cosine(...)')")
    return _SNIPPETS[key](schedule)
