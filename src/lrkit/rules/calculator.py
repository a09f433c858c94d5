"""``calculate``: from what the user knows to a cited LR, schedule and convergence estimate.

The steps run in a fixed order, each recorded as an AppliedRule with its numbers:
optimizer -> base LR (scaling law, given LR, curvature, recipe or optimizer default) ->
batch-size scaling -> fine-tuning -> curvature ceiling -> run length -> decay -> warmup ->
schedule -> convergence estimate -> layer-wise rates.

>>> r = calculate(CalcInput(optimizer="sgd", base_lr=0.1, base_batch_size=256,
...                         batch_size=8192))
>>> round(r.initial_lr, 10), r.warmup_epochs
(3.2, 5.0)
>>> round(calculate(CalcInput(scaling_law="deepseek", compute_flops=1e20)).initial_lr, 7)
0.000986
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from lrkit._check import INPUT as check
from lrkit.errors import respell, spell
from lrkit.rules.curvature import optimal_step, stability_ceiling
from lrkit.rules.evidence import evidence
from lrkit.rules.finetune import FINETUNE_FACTOR, ULMFIT_DECAY, layer_rates
from lrkit.rules.inputs import CalcInput
from lrkit.rules.laws import LAWS, LawArgs, LawResult, gpt3_lr
from lrkit.rules.losscurve import fit_loss_curve, read_loss_history
from lrkit.rules.optimizers import MODEL_KINDS, OPTIMIZERS, OptimizerInfo, choose_optimizer
from lrkit.rules.recommendation import AppliedRule, Calculation
from lrkit.rules.scaling import SCALING_RULES
from lrkit.rules.schedule import (
    DECAYS,
    SETTLE_FRACTION,
    build,
    default_end_ratio,
    downsample,
    evaluate,
    settled_step,
)
from lrkit.rules.warmup import WARMUP_CAP, auto_warmup, parse_warmup

__all__ = ["calculate"]

_FAMILY = {"sgd": "sgd", "momentum": "sgd", "nesterov": "sgd", "adam": "adam",
           "adamw": "adam"}


@dataclasses.dataclass
class _Trail:
    """The audit trail being built: applied rules and warnings, in order."""

    rules: list[AppliedRule] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)

    def add(self, rule_id: str, detail: str, **values: Any) -> None:
        evidence(rule_id)  # an unknown id is a bug: fail loudly here, not in to_dict()
        self.rules.append(AppliedRule(rule_id, detail, values))


def calculate(inp: CalcInput) -> Calculation:
    """Recommend the initial LR, schedule, warmup and optimizer for ``inp``.

    Args:
        inp: What the user knows (validated on construction).

    Returns:
        A frozen Calculation whose ``rules`` list every rule used, with its numbers.

    Raises:
        ConfigError: inputs that are valid alone but cannot be used together here
            (e.g. a warmup longer than the run, a scaling law missing its inputs).
        DataError: ``loss_history`` cannot be read or has too few points.
    """
    trail = _Trail()
    kind = MODEL_KINDS.get(inp.model) if inp.model else None
    law = _law(inp, trail)
    name, reason = _optimizer(inp, law, trail)
    info = OPTIMIZERS[name]
    params = _optimizer_params(inp, info, law, trail)

    lr, ref_batch = _base_lr(inp, info, name, law, params, trail)
    base_lr = lr
    lr, kappa, rule_used = _batch_scaling(inp, info, lr, ref_batch, law, params, trail)
    if inp.fine_tune and not any(r.id.startswith("finetune.") for r in trail.rules):
        new = lr * FINETUNE_FACTOR
        trail.add("finetune.factor", f"{lr:.6g} x {FINETUNE_FACTOR:g} = {new:.6g}",
                  factor=FINETUNE_FACTOR, lr=new)
        lr = new
    lr, ceiling = _curvature(inp, info, lr, params, trail)
    factor = lr / base_lr if base_lr > 0 and law is None else 1.0
    lr_range = (info.low * factor, info.high * factor)
    _outside_range(inp, info, lr, lr_range, law, trail)
    _recipe_momentum(inp, info, name, params, trail)

    batch, steps_per_epoch, total, epochs = _run_length(inp, law, trail)
    decay = _decay(inp, kind, law)
    end_ratio = _end_ratio(inp, decay, lr, law, kind, trail)
    large_batch = rule_used == "linear" and kappa is not None and kappa > 1
    warmup_steps, warmup_epochs, warmup_init = _warmup(
        inp, info, params, kind, law, large_batch, lr / kappa if large_batch and kappa else 0.0,
        steps_per_epoch, total, trail)

    final_lr: float | None = None
    spec: dict[str, Any] | None = None
    out_steps: tuple[int, ...] = ()
    out_lrs: tuple[float, ...] = ()
    settle: int | None = None
    if total is not None:
        built = build(decay, peak=lr, end=lr * end_ratio, warmup_steps=warmup_steps or 0,
                      total_steps=total, warmup_init=warmup_init)
        steps, lrs = evaluate(built.schedule, total, built.key_steps)
        final_lr = float(lrs[-1])
        settle = settled_step(steps, lrs)
        ds, dl = downsample(steps, lrs, built.key_steps, inp.max_points)
        out_steps, out_lrs = tuple(int(s) for s in ds), tuple(float(v) for v in dl)
        spec = built.schedule.to_spec()
        trail.add(DECAYS[decay], built.text, decay=decay, end_lr=lr * end_ratio)
    else:
        trail.warnings.append("no run length: pass --epochs with --steps-per-epoch or "
                              "--dataset-size, or --total-steps (or --tokens for an LLM), to "
                              "get the schedule, the final LR and a convergence estimate")

    conv_epoch, conv_step, convergence = _convergence(inp, settle, steps_per_epoch, total,
                                                      trail)

    layer_lrs = None
    if inp.layers is not None:
        gamma = inp.layer_decay if inp.layer_decay is not None else ULMFIT_DECAY
        rates = layer_rates(lr, layers=inp.layers, decay=gamma)
        trail.add("finetune.discriminative",
                  f"eta_l = {lr:.4g} x {gamma:.4g}^({inp.layers} - l): layer 1 {rates[0]:.4g} "
                  f"... layer {inp.layers} {rates[-1]:.4g}", gamma=gamma)
        layer_lrs = tuple(rates)

    law_doc = None
    if law is not None:
        law_doc = {"name": law.name, "lr": law.lr, "batch_tokens": law.batch_tokens,
                   "batch_sequences": (law.batch_tokens / inp.seq_len if inp.seq_len
                                       else None),
                   "compute_flops": law.compute, "detail": law.text}
    return Calculation(
        initial_lr=lr, final_lr=final_lr, decay_type=decay, optimizer=name,
        optimizer_reason=reason, optimizer_params={k: v for k, v in params.items()
                                                   if v is not None},
        warmup_steps=warmup_steps, warmup_epochs=warmup_epochs, total_steps=total,
        steps_per_epoch=steps_per_epoch, epochs=epochs, batch_size=batch, lr_range=lr_range,
        max_stable_lr=ceiling, layer_lrs=layer_lrs, scaling_law=law_doc,
        estimated_convergence_epoch=conv_epoch, estimated_convergence_step=conv_step,
        convergence=convergence, rules=tuple(trail.rules),
        # written with flags (as errors' rules and fixes are); read with Python names
        warnings=tuple(respell(w, "python") for w in trail.warnings),
        flag_warnings=tuple(trail.warnings), schedule_spec=spec, schedule_steps=out_steps,
        schedule_lrs=out_lrs, inputs=inp)


def _law(inp: CalcInput, trail: _Trail) -> LawResult | None:
    if inp.scaling_law is None:
        return None
    law = LAWS[inp.scaling_law](LawArgs(
        compute_flops=inp.compute_flops, tokens=inp.tokens, model_params=inp.model_params,
        n_layers=inp.n_layers, d_model=inp.d_model, seq_len=inp.seq_len))
    trail.warnings.extend(law.warnings)
    return law


def _optimizer(inp: CalcInput, law: LawResult | None, trail: _Trail) -> tuple[str, str]:
    rec, rec_reason, rec_id = choose_optimizer(inp.model)
    if law is not None and inp.optimizer == "auto":
        reason = f"the {law.label} was fitted with {law.optimizer}; its LR holds for it"
        trail.add("choice.transformer-adamw", reason, optimizer=law.optimizer)
        return law.optimizer, reason
    if inp.optimizer == "auto":
        trail.add(rec_id, rec_reason, optimizer=rec)
        return rec, rec_reason
    name = inp.optimizer
    if law is not None and name != law.optimizer:
        trail.warnings.append(f"the {law.label} was fitted with {law.optimizer}, not "
                              f"{name}; its LR may not transfer")
    if inp.model is None:
        return name, "as given (pass --model for a recommendation)"
    if name == rec:
        trail.add(rec_id, rec_reason, optimizer=rec)
        return name, rec_reason
    if _FAMILY.get(name, name) == _FAMILY.get(rec, rec):
        # same family (e.g. momentum for a CNN's Nesterov): the recipe's LR holds, but the
        # reason must not claim the user's optimizer is the recipe's
        trail.add(rec_id, rec_reason, optimizer=rec)
        return name, (f"{OPTIMIZERS[name].label} as given, the family of the usual choice "
                      f"for a {inp.model} ({OPTIMIZERS[rec].label}): {rec_reason}")
    reason = (f"{OPTIMIZERS[name].label} as given; for a {inp.model} the usual choice is "
              f"{OPTIMIZERS[rec].label}: {rec_reason}")
    trail.add(rec_id, f"usual choice for {inp.model}: {OPTIMIZERS[rec].label}", optimizer=rec)
    return name, reason


def _optimizer_params(inp: CalcInput, info: OptimizerInfo, law: LawResult | None,
                      trail: _Trail) -> dict[str, float | None]:
    kind = MODEL_KINDS.get(inp.model) if inp.model else None
    recipe_beta2 = law.beta2 if law and law.beta2 else (kind.beta2 if kind else None)
    params: dict[str, float | None] = {
        "momentum": info.momentum,
        "beta1": law.beta1 if law and law.beta1 and info.beta1 is not None else info.beta1,
        "beta2": recipe_beta2 if recipe_beta2 is not None and info.adaptive else info.beta2,
        "eps": info.eps,
    }
    for key in params:
        given = getattr(inp, key)
        if given is None:
            continue
        if params[key] is None:
            trail.warnings.append(f"{spell(key, 'cli')} = {given:g} is ignored: {info.label} "
                                  f"has no {key}")
        else:
            params[key] = given
    return params


def _base_lr(inp: CalcInput, info: OptimizerInfo, name: str, law: LawResult | None,
             params: dict[str, float | None], trail: _Trail) -> tuple[float, int | None]:
    kind = MODEL_KINDS.get(inp.model) if inp.model else None
    if law is not None:
        detail = law.text
        if len(law.evidence) > 1:  # the compute definition has its own row
            trail.add(law.evidence[1], law.compute_text, compute_flops=law.compute)
        elif law.compute_text:
            detail = f"{law.compute_text}; {law.text}"
        trail.add(law.evidence[0], detail, lr=law.lr, batch_tokens=law.batch_tokens,
                  compute_flops=law.compute)
        return law.lr, None
    if inp.base_lr is not None:
        at = f" at batch {inp.base_batch_size}" if inp.base_batch_size else ""
        trail.add("input.base-lr", f"{inp.base_lr:g}{at} (given)", lr=inp.base_lr)
        return inp.base_lr, inp.base_batch_size
    if inp.lipschitz is not None and not info.adaptive:
        lr = optimal_step(inp.lipschitz)
        trail.add("curvature.optimal", f"1 / L = 1 / {inp.lipschitz:g} = {lr:.6g}", lr=lr)
        return lr, inp.base_batch_size
    same_family = kind is not None and _FAMILY.get(name) == _FAMILY.get(kind.optimizer)
    if (inp.fine_tune and same_family and kind is not None and kind.finetune_lr is not None
            and kind.finetune_evidence):
        trail.add(kind.finetune_evidence, f"{kind.finetune_lr:g} at batch "
                  f"{kind.finetune_batch_size} ({inp.model} fine-tuning recipe)",
                  lr=kind.finetune_lr)
        return kind.finetune_lr, inp.base_batch_size or kind.finetune_batch_size
    if same_family and kind is not None and kind.lr is not None and kind.lr_evidence:
        trail.add(kind.lr_evidence, f"{kind.lr:g} at batch {kind.base_batch_size} "
                  f"({inp.model} recipe)", lr=kind.lr)
        return kind.lr, inp.base_batch_size or kind.base_batch_size
    if inp.model == "llm" and inp.model_params is not None and info.adaptive:
        lr, text = gpt3_lr(inp.model_params)
        trail.add("law.gpt3-table", text, lr=lr)
        return lr, inp.base_batch_size
    if inp.model == "llm":
        trail.warnings.append("LLM without --model-params or --scaling-law: the optimizer "
                              "default is usually too high for an LLM; pass --model-params or "
                              "--scaling-law deepseek --compute-flops C")
    ref = info.base_batch_size
    at = f" at batch {ref}" if ref else ""
    trail.add(info.evidence, f"{info.label} default {info.lr:g}{at}", lr=info.lr)
    return info.lr, inp.base_batch_size or ref


def _batch_scaling(inp: CalcInput, info: OptimizerInfo, lr: float, ref_batch: int | None,
                   law: LawResult | None, params: dict[str, float | None], trail: _Trail
                   ) -> tuple[float, float | None, str | None]:
    if law is not None or inp.batch_size is None:
        if law is not None and inp.scaling != "auto":
            trail.warnings.append(f"--scaling = {inp.scaling} is ignored: the {law.label} "
                                  "sets the LR for its own optimal batch size")
        return lr, None, None
    if ref_batch is None:
        if inp.scaling not in ("auto", "none"):
            trail.warnings.append(f"--scaling = {inp.scaling} not applied: the LR has no "
                                  "reference batch size; pass --base-batch-size")
        elif inp.scaling == "auto":
            # silently ignoring a number the user typed is worse than saying so
            trail.warnings.append(f"--batch-size = {inp.batch_size} is not used to scale the "
                                  f"LR: {lr:g} has no batch size it was tuned at; pass "
                                  "--base-batch-size (the batch of your recipe)")
        return lr, None, None
    kappa = inp.batch_size / ref_batch
    name = info.scaling if inp.scaling == "auto" else inp.scaling
    if kappa == 1.0:
        return lr, kappa, None
    scaled = SCALING_RULES[name](lr, kappa, params)
    why = "default for " + info.label if inp.scaling == "auto" else "chosen"
    trail.add(f"scaling.{name}", f"batch {inp.batch_size} / {ref_batch} = {kappa:g} ({why}): "
              f"{scaled.text}", kappa=kappa, lr=scaled.lr)
    trail.warnings.extend(scaled.warnings)
    params.update(scaled.params)
    if name == "sqrt" and not info.adaptive:
        trail.warnings.append(f"square-root scaling was derived for Adam and RMSprop; for "
                              f"{info.label} it is an extrapolation")
    if name == "linear" and kappa > 32:
        trail.warnings.append(f"batch ratio {kappa:g} exceeds the 32x (8k) Goyal et al. "
                              "validated; linear scaling is known to break down there")
    return scaled.lr, kappa, name


def _curvature(inp: CalcInput, info: OptimizerInfo, lr: float,
               params: dict[str, float | None], trail: _Trail) -> tuple[float, float | None]:
    if inp.lipschitz is None:
        return lr, None
    if info.adaptive or info.name in ("lion", "adafactor", "adagrad", "lamb", "lars"):
        trail.warnings.append(f"--lipschitz: the 2/L ceiling bounds gradient descent on the "
                              f"raw Hessian; it does not bound {info.label}'s LR")
        return lr, None
    beta = params.get("momentum") or 0.0
    ceiling = stability_ceiling(inp.lipschitz, beta)
    text = f"(2 + 2 x {beta:g}) / {inp.lipschitz:g} = {ceiling:.6g}"
    if lr >= ceiling:
        capped = ceiling / 2.0
        trail.add("curvature.stability", f"{text}; {lr:.6g} is not below it, so capped to "
                  f"half the ceiling: {capped:.6g}", ceiling=ceiling, lr=capped)
        trail.warnings.append(f"the LR {lr:.4g} would diverge on curvature L = "
                              f"{inp.lipschitz:g}; capped to {capped:.4g}")
        return capped, ceiling
    trail.add("curvature.stability", f"{text}; {lr:.6g} is below it", ceiling=ceiling)
    return lr, ceiling


def _outside_range(inp: CalcInput, info: OptimizerInfo, lr: float,
                   lr_range: tuple[float, float], law: LawResult | None,
                   trail: _Trail) -> None:
    """Warn when a given LR sits outside the optimizer's typical range.

    The range moves with the batch scaling, so this compares the recipe's LR with where
    the optimizer usually works: an SGD recipe's 0.1 handed to AdamW is 30x too high.
    """
    if law is not None or inp.base_lr is None or lr_range[0] <= lr <= lr_range[1]:
        return
    side, edge = ("above", lr_range[1]) if lr > lr_range[1] else ("below", lr_range[0])
    hint = ""
    if inp.optimizer == "auto":
        hint = (f"; {info.label} was chosen for you: pass the optimizer your "
                f"{inp.base_lr:g} was tuned with (e.g. --optimizer momentum)")
    ratio = max(lr, edge) / min(lr, edge)
    trail.warnings.append(f"the LR {lr:.4g} is {side} {info.label}'s typical range "
                          f"{lr_range[0]:.3g} .. {lr_range[1]:.3g} ({ratio:.3g}x beyond "
                          f"{edge:.3g}){hint}")


def _recipe_momentum(inp: CalcInput, info: OptimizerInfo, name: str,
                     params: dict[str, float | None], trail: _Trail) -> None:
    """Warn when plain SGD is asked for but the model's recipe uses momentum.

    ``--optimizer sgd`` is plain SGD (momentum 0) and its LR is plain SGD's; the recipe the
    reason cites (e.g. the CNN recipe, Nesterov 0.9) is a different optimizer, whose LR is
    about 1 / (1 - momentum) = 10x smaller per unit of effective step.
    """
    kind = MODEL_KINDS.get(inp.model) if inp.model else None
    if kind is None or inp.momentum is not None or params.get("momentum"):
        return
    recipe = OPTIMIZERS[kind.optimizer]
    if (recipe.momentum and name != kind.optimizer
            and _FAMILY.get(name) == _FAMILY.get(kind.optimizer)):
        trail.warnings.append(
            f"--optimizer {name} is {info.label} with momentum=0, but the {inp.model} recipe "
            f"uses {recipe.label} (momentum={recipe.momentum:g}, LR {recipe.lr:g} at batch "
            f"{recipe.base_batch_size}); pass --optimizer {kind.optimizer} to follow it, or "
            f"--momentum {recipe.momentum:g}")


def _run_length(inp: CalcInput, law: LawResult | None, trail: _Trail
                ) -> tuple[int | None, int | None, int | None, float | None]:
    batch = inp.batch_size
    if batch is None and law is not None and inp.seq_len is not None:
        batch = max(1, round(law.batch_tokens / inp.seq_len))
        trail.add(law.evidence[0], f"B_opt {law.batch_tokens:.4g} tokens / {inp.seq_len} "
                  f"tokens per sequence = {batch} sequences", batch_size=batch)
    if law is not None and inp.batch_size is not None and inp.seq_len is not None:
        ratio = inp.batch_size * inp.seq_len / law.batch_tokens
        if not 0.5 <= ratio <= 2.0:
            trail.warnings.append(
                f"your batch of {inp.batch_size} x {inp.seq_len} tokens is {ratio:.2g}x the "
                f"{law.label}'s B_opt = {law.batch_tokens:.3g} tokens; its LR assumes B_opt")
    spe = inp.steps_per_epoch
    if spe is None and inp.dataset_size is not None and batch is not None:
        spe = math.ceil(inp.dataset_size / batch)
    total = inp.total_steps
    if total is None and inp.epochs is not None and spe is not None:
        total = math.ceil(inp.epochs * spe)
    if total is None and inp.tokens is not None and batch is not None and inp.seq_len:
        total = math.ceil(inp.tokens / (batch * inp.seq_len))
    if total is None and inp.epochs is not None:
        trail.warnings.append("--epochs needs --steps-per-epoch or --dataset-size to count "
                              "updates")
    epochs = inp.epochs
    if epochs is None and total is not None and spe is not None:
        epochs = total / spe
    if total is not None and not 1 <= total <= 1_000_000_000:
        raise check.fail("total_steps", total, "the run must have 1 .. 1e9 updates",
                         "check --epochs, --steps-per-epoch and --tokens")
    return batch, spe, total, epochs


def _decay(inp: CalcInput, kind: Any, law: LawResult | None) -> str:
    if inp.schedule != "auto":
        return inp.schedule
    if law is not None:
        return law.schedule
    return kind.schedule if kind is not None else "cosine"


def _end_ratio(inp: CalcInput, decay: str, lr: float, law: LawResult | None,
               kind: Any, trail: _Trail) -> float:
    if inp.end_lr_ratio is not None:
        if decay in ("constant", "inverse_sqrt"):
            trail.warnings.append(f"--end-lr-ratio = {inp.end_lr_ratio:g} is ignored: a "
                                  f"{decay} schedule has no target final LR")
        return inp.end_lr_ratio
    if law is not None and law.end_lr is not None and decay == law.schedule:
        return min(1.0, law.end_lr / lr)
    return default_end_ratio(decay, llm=(inp.model == "llm" or law is not None))


def _warmup(inp: CalcInput, info: OptimizerInfo, params: dict[str, float | None], kind: Any,
            law: LawResult | None, large_batch: bool, unscaled_lr: float,
            spe: int | None, total: int | None, trail: _Trail
            ) -> tuple[int | None, float | None, float]:
    spec = parse_warmup(inp.warmup)
    if spec.kind == "none":
        return 0, None, 0.0
    if spec.kind == "steps":
        steps: int | None = int(spec.amount)
        epochs = steps / spe if steps is not None and spe else None
    elif spec.kind == "epochs":
        epochs = spec.amount
        steps = math.ceil(spec.amount * spe) if spe is not None else None
        if steps is None and total is not None:
            raise check.fail("warmup", inp.warmup, "epochs need the steps per epoch",
                             "pass --steps-per-epoch or --dataset-size, or give steps")
    elif spec.kind == "fraction":
        if total is None:
            raise check.fail("warmup", inp.warmup, "a share of the run needs the run length",
                             "pass --epochs with --steps-per-epoch, or --total-steps")
        steps = max(1, math.ceil(spec.amount * total))
        epochs = steps / spe if spe else None
    else:
        return _auto_warmup(info, params, kind, law, large_batch, unscaled_lr, spe, total,
                            trail)
    if steps is not None and total is not None and steps >= total:
        raise check.fail("warmup", inp.warmup, f"{steps} warmup steps leave no room in a "
                         f"{total}-step run", "shorten the warmup")
    return steps, epochs, 0.0


def _auto_warmup(info: OptimizerInfo, params: dict[str, float | None], kind: Any,
                 law: LawResult | None, large_batch: bool, unscaled_lr: float,
                 spe: int | None, total: int | None, trail: _Trail
                 ) -> tuple[int | None, float | None, float]:
    candidates = auto_warmup(
        adaptive=info.adaptive, beta2=params.get("beta2"),
        attention=bool(kind is not None and kind.needs_warmup), large_batch=large_batch,
        recipe_steps=law.warmup_steps if law is not None else None,
        steps_per_epoch=spe, total_steps=total)
    if not candidates:
        return 0, None, 0.0
    with_steps = [c for c in candidates if c.steps is not None]
    others = "; ".join(c.text for c in candidates)
    if not with_steps:
        chosen = candidates[0]
        trail.add(chosen.evidence, chosen.text, warmup_epochs=chosen.epochs)
        if total is not None:
            trail.warnings.append(f"{chosen.text} cannot be converted to steps without "
                                  "--steps-per-epoch; the schedule has no warmup")
            return 0, chosen.epochs, 0.0
        return None, chosen.epochs, 0.0
    chosen = max(with_steps, key=lambda c: c.steps or 0)
    steps = chosen.steps or 0
    detail = chosen.text if len(candidates) == 1 else f"longest of: {others}"
    if total is not None and steps > WARMUP_CAP * total:
        capped = max(0, math.floor(WARMUP_CAP * total))
        trail.warnings.append(f"warmup {steps} steps capped to {capped} ({WARMUP_CAP:.0%} of "
                              f"the {total}-step run)")
        detail += f"; capped to {capped} ({WARMUP_CAP:.0%} of the run)"
        steps = capped
    init = unscaled_lr if chosen.evidence == "warmup.gradual" else 0.0
    if init:
        detail += f"; ramps from the unscaled LR {init:.4g}, as Goyal et al. do"
    trail.add(chosen.evidence, detail, warmup_steps=steps)
    return steps, (steps / spe if spe else chosen.epochs), init


def _convergence(inp: CalcInput, settle: int | None, spe: int | None, total: int | None,
                 trail: _Trail) -> tuple[float | None, int | None, dict[str, Any]]:
    if inp.loss_history is not None:
        epochs, losses = read_loss_history(inp.loss_history)
        fit = fit_loss_curve(epochs, losses)
        trail.add("convergence.loss-fit", fit.text, model=fit.model, **fit.params)
        step = (round(fit.convergence_epoch * spe)
                if fit.convergence_epoch is not None and spe else None)
        return fit.convergence_epoch, step, {
            "method": "loss-fit", "definition": evidence("convergence.loss-fit").formula,
            "detail": fit.text, "fit": fit.to_dict()}
    definition = evidence("convergence.lr-settled").formula
    if settle is None:
        why = ("the schedule is constant, so it carries no convergence signal; pass "
               "--loss-history for a fit of observed losses" if total is not None
               else "no run length")
        return None, None, {"method": None, "definition": definition, "detail": why}
    epoch = settle / spe if spe else None
    where = f"step {settle}" + (f" = epoch {epoch:.4g}" if epoch is not None else "")
    detail = (f"the LR stays within {SETTLE_FRACTION:.0%} of its final range from {where} on")
    trail.add("convergence.lr-settled", detail, step=settle, epoch=epoch)
    return epoch, settle, {"method": "lr-settled", "definition": definition, "detail": detail}
