"""Scaling laws that give a language model's LR (and batch size) from its size and compute.

Each law is a pure function of ``LawArgs`` returning a ``LawResult`` that carries the
numbers, the arithmetic for the audit trail and the recipe the law was fitted with
(optimizer, warmup, schedule): a law's LR is only meaningful with its recipe.

>>> r = LAWS["deepseek"](LawArgs(compute_flops=1e20))
>>> f"{r.lr:.3e}", f"{r.batch_tokens:.4g}"
('9.860e-04', '1.017e+06')
>>> r = LAWS["deepseek"](LawArgs(n_layers=30, d_model=4096, seq_len=4096, tokens=2e12))
>>> f"{r.compute:.4g}", f"{r.lr:.3g}"
('8.456e+22', '0.000425')
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

from lrkit.errors import ConfigError

__all__ = [
    "GPT3_TABLE",
    "LAWS",
    "LawArgs",
    "LawResult",
    "deepseek",
    "deepseek_flops_per_token",
    "gpt3_lr",
    "porian",
    "step_law",
]


@dataclasses.dataclass(frozen=True)
class LawArgs:
    """What the user knows about the run (any field may be missing)."""

    compute_flops: float | None = None
    tokens: float | None = None
    model_params: float | None = None
    n_layers: int | None = None
    d_model: int | None = None
    seq_len: int | None = None


@dataclasses.dataclass(frozen=True)
class LawResult:
    """A scaling law's answer and the recipe it holds for.

    Attributes:
        name: Law name (``--scaling-law``).
        label: Display name.
        lr: Optimal peak LR.
        batch_tokens: Optimal batch size in tokens.
        compute: Compute C used (FLOPs), when the law uses it.
        text: The law's arithmetic, for the audit trail.
        evidence: Evidence ids used (the law first).
        optimizer: Optimizer of the recipe.
        beta1, beta2: Betas of the recipe, where the source states them.
        warmup_steps: Warmup of the recipe (None: use lrkit's warmup rules).
        schedule: Decay of the recipe (a ``--schedule`` name).
        end_lr: Absolute final LR of the recipe, if it fixes one.
        warnings: Extrapolations and approximations.
    """

    name: str
    label: str
    lr: float
    batch_tokens: float
    compute: float | None
    text: str
    evidence: tuple[str, ...]
    optimizer: str = "adamw"
    beta1: float | None = None
    beta2: float | None = None
    warmup_steps: int | None = None
    schedule: str = "cosine"
    end_lr: float | None = None
    warnings: tuple[str, ...] = ()
    compute_text: str = ""


def deepseek_flops_per_token(n_layers: int, d_model: int, seq_len: int) -> float:
    """DeepSeek's M = 72 n_layer d_model^2 + 12 n_layer d_model l_seq (Bi et al. 2024 §3.2).

    >>> deepseek_flops_per_token(30, 4096, 4096)
    42278584320
    """
    return 72 * n_layers * d_model**2 + 12 * n_layers * d_model * seq_len


def _need(law: str, what: str) -> ConfigError:
    return ConfigError(parameter="scaling_law", value=law, rule=f"needs {what}")


def deepseek(args: LawArgs) -> LawResult:
    """eta_opt = 0.3118 C^-0.1250, B_opt = 0.2920 C^0.3271 tokens (Bi et al. 2024 §3.1).

    C is ``compute_flops`` if given, else M * D from the architecture (``n_layers``,
    ``d_model``, ``seq_len``) and ``tokens``, else the approximation 6 N D.
    """
    warnings: list[str] = []
    evidence = ["law.deepseek", "law.deepseek-compute"]
    if args.compute_flops is not None:
        c = args.compute_flops
        how = f"C = {c:.4g} FLOPs (given; DeepSeek counts C = M x D)"
        evidence.pop()
    elif (nl := args.n_layers) and (dm := args.d_model) and (sl := args.seq_len) \
            and (tk := args.tokens):
        m = deepseek_flops_per_token(nl, dm, sl)
        c = m * tk
        how = (f"M = 72 x {nl} x {dm}^2 + 12 x {nl} x {dm} x {sl} = {m:.4g} FLOPs/token; "
               f"C = M x D = {m:.4g} x {tk:.4g} = {c:.4g}")
    elif args.model_params is not None and args.tokens is not None:
        c = 6.0 * args.model_params * args.tokens
        how = f"C ~ 6 N D = 6 x {args.model_params:.4g} x {args.tokens:.4g} = {c:.4g}"
        warnings.append("DeepSeek law: C approximated as 6 N D; DeepSeek fitted on C = M x D "
                        "(pass --n-layers, --d-model and --seq-len for their definition)")
    else:
        raise _need("deepseek", "the compute: pass --compute-flops, or --n-layers, --d-model, "
                    "--seq-len and --tokens, or --model-params and --tokens")
    if not 1e17 <= c <= 1e20:
        warnings.append(f"DeepSeek law: C = {c:.3g} lies outside its fitted range (1e17 .. 2e19, "
                        "validated at 1e20); the values are an extrapolation")
    lr = 0.3118 * c ** -0.1250
    batch = 0.2920 * c ** 0.3271
    text = (f"eta_opt = 0.3118 x {c:.4g}^-0.1250 = {lr:.4g}; "
            f"B_opt = 0.2920 x {c:.4g}^0.3271 = {batch:.4g} tokens")
    return LawResult("deepseek", "DeepSeek LLM law", lr, batch, c, text, tuple(evidence),
                     beta1=0.9, beta2=0.95, warmup_steps=2000,
                     schedule="multistep", warnings=tuple(warnings), compute_text=how)


def step_law(args: LawArgs) -> LawResult:
    """eta_opt = 1.79 N^-0.713 D^0.307, B_opt = 0.58 D^0.571 tokens (Li et al. 2025)."""
    if args.model_params is None or args.tokens is None:
        raise _need("step-law", "--model-params (non-vocabulary parameters N) and --tokens (D)")
    n, d = args.model_params, args.tokens
    lr = 1.79 * n ** -0.713 * d ** 0.307
    batch = 0.58 * d ** 0.571
    text = (f"eta_opt = 1.79 x {n:.4g}^-0.713 x {d:.4g}^0.307 = {lr:.4g}; "
            f"B_opt = 0.58 x {d:.4g}^0.571 = {batch:.4g} tokens")
    return LawResult("step-law", "Step Law", lr, batch, 6.0 * n * d, text, ("law.step-law",),
                     warmup_steps=2000, schedule="cosine", end_lr=1e-5)


def porian(args: LawArgs) -> LawResult:
    """eta_opt = 3.7 N^-0.36, B_opt = 0.7576 N^0.703 tokens (Porian et al. 2024)."""
    if args.model_params is None:
        raise _need("porian", "--model-params (the number of parameters N)")
    n = args.model_params
    lr = 3.7 * n ** -0.36
    batch = 0.7576 * n ** 0.703
    warnings = []
    if not 5e6 <= n <= 9.01e8:
        warnings.append(f"Porian law: N = {n:.3g} lies outside the fitted 5M .. 901M "
                        "parameters; the values are an extrapolation")
    warnings.append("Porian law: coefficients are from a secondary table (Step Law "
                    "comparison), not checked against the paper")
    text = (f"eta_opt = 3.7 x {n:.4g}^-0.36 = {lr:.4g}; "
            f"B_opt = 0.7576 x {n:.4g}^0.703 = {batch:.4g} tokens")
    return LawResult("porian", "Porian et al. law", lr, batch, None, text, ("law.porian",),
                     warmup_steps=None, schedule="cosine", warnings=tuple(warnings))


LAWS: dict[str, Callable[[LawArgs], LawResult]] = {
    "deepseek": deepseek,
    "step-law": step_law,
    "porian": porian,
}

# Brown et al. 2020, Table 2.1: (parameters, peak LR)
GPT3_TABLE: tuple[tuple[float, float], ...] = (
    (125e6, 6.0e-4), (350e6, 3.0e-4), (760e6, 2.5e-4), (1.3e9, 2.0e-4),
    (2.7e9, 1.6e-4), (6.7e9, 1.2e-4), (13e9, 1.0e-4), (175e9, 0.6e-4),
)


def gpt3_lr(model_params: float) -> tuple[float, str]:
    """Peak LR for an N-parameter LM, log-log interpolated in GPT-3's Table 2.1 (clamped).

    >>> gpt3_lr(1.3e9)[0]
    0.0002
    >>> round(gpt3_lr(1e12)[0], 10)
    6e-05
    """
    xs = [math.log(n) for n, _ in GPT3_TABLE]
    ys = [math.log(lr) for _, lr in GPT3_TABLE]
    x = math.log(model_params)
    if x <= xs[0]:
        return GPT3_TABLE[0][1], f"N = {model_params:.3g} <= 125M: clamped to 6e-4"
    if x >= xs[-1]:
        return GPT3_TABLE[-1][1], f"N = {model_params:.3g} >= 175B: clamped to 6e-5"
    for i in range(len(xs) - 1):
        if xs[i] <= x <= xs[i + 1]:
            w = (x - xs[i]) / (xs[i + 1] - xs[i])
            lr = math.exp(ys[i] + w * (ys[i + 1] - ys[i]))
            (n0, lr0), (n1, lr1) = GPT3_TABLE[i], GPT3_TABLE[i + 1]
            return lr, (f"N = {model_params:.3g} between {n0:.3g} ({lr0:g}) and "
                        f"{n1:.3g} ({lr1:g}): log-log interpolation = {lr:.4g}")
    raise AssertionError("unreachable")  # pragma: no cover
