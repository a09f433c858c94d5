"""Optimizer defaults, typical ranges and the choice of optimizer for a kind of model.

Each optimizer row gives the default LR, the batch size that LR refers to (when its
source states one), the typical range at that batch size, the default batch-scaling rule,
whether Adam's warmup rule applies, and the evidence id the numbers come from.

>>> OPTIMIZERS["momentum"].lr, OPTIMIZERS["momentum"].base_batch_size
(0.1, 256)
>>> choose_optimizer("resnet")[0]
'nesterov'
"""

from __future__ import annotations

import dataclasses

__all__ = ["MODEL_KINDS", "OPTIMIZERS", "ModelKind", "OptimizerInfo", "choose_optimizer"]


@dataclasses.dataclass(frozen=True)
class OptimizerInfo:
    """Defaults for one optimizer.

    Attributes:
        name: Calculator name (``--optimizer``).
        label: Display name.
        lr: Default learning rate at ``base_batch_size`` (or without one).
        low, high: Typical range at the same batch size.
        base_batch_size: Batch size the default LR refers to, or None when the source
            gives none (then no batch scaling is applied unless ``--base-batch-size``).
        scaling: Default batch-scaling rule (``linear``, ``sqrt`` or ``none``).
        adaptive: Keeps a second-moment average (Adam's warmup rule and the square-root
            rule's beta/eps mapping apply; curvature bounds on the raw Hessian do not).
        momentum: Default momentum (SGD family) or None.
        beta1, beta2, eps: Default moment parameters (adaptive family) or None.
        evidence: Evidence id of the defaults.
    """

    name: str
    label: str
    lr: float
    low: float
    high: float
    base_batch_size: int | None
    scaling: str
    adaptive: bool
    momentum: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    eps: float | None = None
    evidence: str = ""


OPTIMIZERS: dict[str, OptimizerInfo] = {
    o.name: o for o in (
        OptimizerInfo("sgd", "SGD", 0.01, 1e-3, 1e-1, None, "linear", False,
                      momentum=0.0, evidence="optimizer.sgd"),
        OptimizerInfo("momentum", "SGD + momentum", 0.1, 0.01, 0.5, 256, "linear", False,
                      momentum=0.9, evidence="optimizer.momentum"),
        OptimizerInfo("nesterov", "SGD + Nesterov momentum", 0.1, 0.01, 0.5, 256, "linear",
                      False, momentum=0.9, evidence="optimizer.nesterov"),
        OptimizerInfo("adam", "Adam", 1e-3, 1e-5, 1e-2, None, "sqrt", True,
                      beta1=0.9, beta2=0.999, eps=1e-8, evidence="optimizer.adam"),
        OptimizerInfo("adamw", "AdamW", 1e-3, 1e-5, 3e-3, None, "sqrt", True,
                      beta1=0.9, beta2=0.999, eps=1e-8, evidence="optimizer.adamw"),
        OptimizerInfo("rmsprop", "RMSprop", 1e-3, 1e-4, 1e-2, None, "sqrt", True,
                      beta2=0.99, eps=1e-8, evidence="optimizer.rmsprop"),
        OptimizerInfo("adagrad", "Adagrad", 1e-2, 1e-3, 1e-1, None, "sqrt", False,
                      eps=1e-10, evidence="optimizer.adagrad"),
        OptimizerInfo("lamb", "LAMB", 1e-3, 1e-4, 1e-2, None, "sqrt", True,
                      beta1=0.9, beta2=0.999, eps=1e-6, evidence="optimizer.lamb"),
        OptimizerInfo("lars", "LARS", 0.3, 0.1, 1.0, 256, "linear", False,
                      momentum=0.9, evidence="optimizer.lars"),
        OptimizerInfo("lion", "Lion", 1e-4, 1e-5, 3e-4, None, "sqrt", False,
                      beta1=0.9, beta2=0.99, evidence="optimizer.lion"),
        OptimizerInfo("adafactor", "Adafactor", 1e-3, 1e-4, 1e-2, None, "sqrt", False,
                      evidence="optimizer.adafactor"),
    )
}


@dataclasses.dataclass(frozen=True)
class ModelKind:
    """What a kind of model implies for the optimizer and the warmup.

    Attributes:
        name: ``--model`` value.
        optimizer: Recommended optimizer.
        reason: One sentence saying why.
        evidence: Evidence id behind the recommendation.
        needs_warmup: Attention models need a warmup whatever the optimizer.
        lr: Recipe LR for this kind with ``optimizer`` (overrides the optimizer default).
        base_batch_size: Batch size ``lr`` refers to.
        lr_evidence: Evidence id of the recipe LR.
        beta2: Recipe beta2 (LLMs use 0.95).
        schedule: Default decay when ``--schedule auto``.
        finetune_lr: Fine-tuning recipe LR (used instead of 0.1 x the from-scratch LR).
        finetune_batch_size: Batch size ``finetune_lr`` refers to.
        finetune_evidence: Evidence id of the fine-tuning recipe.
    """

    name: str
    optimizer: str
    reason: str
    evidence: str
    needs_warmup: bool = False
    lr: float | None = None
    base_batch_size: int | None = None
    lr_evidence: str | None = None
    beta2: float | None = None
    schedule: str = "cosine"
    finetune_lr: float | None = None
    finetune_batch_size: int | None = None
    finetune_evidence: str | None = None


_VISION = ("SGD with Nesterov momentum 0.9 is the standard CNN recipe (ResNet: 0.1 at batch "
           "256); adaptive methods often generalise worse on image classification")
_ATTENTION = ("AdamW with a warmup is the standard for attention models; SGD rarely "
              "matches it there")

MODEL_KINDS: dict[str, ModelKind] = {
    k.name: k for k in (
        ModelKind("cnn", "nesterov", _VISION, "choice.vision-sgd", schedule="cosine"),
        ModelKind("resnet", "nesterov", _VISION, "choice.vision-sgd", schedule="step"),
        ModelKind("mlp", "adam", "Adam's defaults work out of the box on small dense "
                  "networks", "choice.adam-default"),
        ModelKind("rnn", "adam", "Adam with gradient clipping (norm about 1) is the usual "
                  "choice for recurrent networks", "choice.adam-default"),
        ModelKind("linear", "sgd", "a linear model has a convex loss: plain SGD (or "
                  "1/L with a known smoothness constant) converges", "choice.convex-sgd",
                  schedule="linear"),
        ModelKind("transformer", "adamw", _ATTENTION, "choice.transformer-adamw",
                  needs_warmup=True, lr=1e-4, base_batch_size=256,
                  lr_evidence="choice.transformer-adamw", schedule="linear",
                  finetune_lr=3e-5, finetune_batch_size=32,
                  finetune_evidence="finetune.transformer-recipe"),
        ModelKind("vit", "adamw", _ATTENTION, "choice.transformer-adamw", needs_warmup=True),
        ModelKind("llm", "adamw", _ATTENTION + "; LLM recipes use beta2 = 0.95",
                  "choice.transformer-adamw", needs_warmup=True, beta2=0.95),
    )
}


def choose_optimizer(model: str | None) -> tuple[str, str, str]:
    """Recommended ``(optimizer, reason, evidence id)`` for a model kind (None: unknown).

    >>> choose_optimizer(None)[0]
    'adamw'
    """
    if model is None:
        return ("adamw", "AdamW is the broadest safe default when the model kind is not "
                "given; pass --model for a specific recommendation", "optimizer.adamw")
    kind = MODEL_KINDS[model]
    return kind.optimizer, kind.reason, kind.evidence
