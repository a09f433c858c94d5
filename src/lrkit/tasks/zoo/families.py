"""Build a zoo pair's Task: each family's data, model and loss; optimizers; schedule shapes.

This module imports torch; ``lrkit.tasks.zoo`` imports it only when a pair is built.

>>> SCHEDULES["step"]
'multistep(milestones=[0.5, 0.75], gamma=0.1)'
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn import functional

from lrkit.tasks.task import Task
from lrkit.tasks.zoo import models
from lrkit.tasks.zoo.data import CLICK_FIELDS, DOC_BUCKETS, arrays, tensors, text_windows

__all__ = ["FAMILIES", "OPTIMIZERS", "SCHEDULES", "build"]

# optimizer key -> (torch.optim class, fixed keyword arguments); weight decay is per pair
OPTIMIZERS: dict[str, tuple[str, dict[str, Any]]] = {
    "sgd": ("SGD", {}),
    "mom": ("SGD", {"momentum": 0.9}),
    "nest": ("SGD", {"momentum": 0.9, "nesterov": True}),
    "adam": ("Adam", {}),
    "adamw": ("AdamW", {}),
    "rmsprop": ("RMSprop", {}),
    "adagrad": ("Adagrad", {}),
    "nadam": ("NAdam", {}),
    "radam": ("RAdam", {}),
    "adamax": ("Adamax", {}),
    "rmsmom": ("RMSprop", {"momentum": 0.9}),
    "radam98": ("RAdam", {"betas": (0.9, 0.98)}),
    "radamw": ("RAdam", {"decoupled_weight_decay": True}),
    "adadelta": ("Adadelta", {}),
    "asgd": ("ASGD", {}),
    "amsgrad": ("Adam", {"amsgrad": True}),
    "rmscent": ("RMSprop", {"centered": True}),
    "damp": ("SGD", {"momentum": 0.9, "dampening": 0.9}),
}


# Schedule shape key -> lrkit spec without its LR. Lengths are fractions of the run, so a
# shorter trial run (auto, find, tune) gets the same shape.
SCHEDULES: dict[str, str] = {
    "const": "constant",
    "step": "multistep(milestones=[0.5, 0.75], gamma=0.1)",
    "cos": "cosine",
    "wcos": "cosine(warmup_steps=0.05)",
    "1cyc": "onecycle",
    "wsd": "wsd(decay_steps=0.2, warmup_steps=0.05)",
    "lin": "polynomial(power=1.0)",
}


def _optimizer(key: str, weight_decay: float, params: Any, lr: float) -> Any:
    cls, kwargs = OPTIMIZERS[key]
    if weight_decay:
        kwargs = {**kwargs, "weight_decay": weight_decay}
    return getattr(torch.optim, cls)(params, lr=lr, **kwargs)


def _n_classes(name: str) -> int:
    return int(arrays(name)[1].max()) + 1


Parts = tuple[Any, Any, Callable[[], nn.Module], Callable[[Any, Any], Any]]


def _classifier(data: str, make: Callable[[int, int], nn.Module]) -> Parts:
    train, val = tensors(data)
    n_in, n_out = arrays(data)[0].shape[1], _n_classes(data)
    return train, val, functools.partial(make, n_in, n_out), functional.cross_entropy


def _regressor(data: str, make: Callable[[int, int], nn.Module]) -> Parts:
    train, val = tensors(data, target="real")
    x, y = arrays(data)[0], arrays(data)[1]
    n_out = 1 if y.ndim == 1 else y.shape[1]
    return train, val, functools.partial(make, x.shape[1], n_out), functional.mse_loss


def _multilabel(data: str, make: Callable[[int, int], nn.Module]) -> Parts:
    train, val = tensors(data, target="binary")
    x, y = arrays(data)[0], arrays(data)[1]
    return (train, val, functools.partial(make, x.shape[1], y.shape[1]),
            functional.binary_cross_entropy_with_logits)


def _linear(n_in: int, n_out: int) -> nn.Module:
    return nn.Linear(n_in, n_out)


def _digits_images(make: Callable[[], nn.Module],
                   loss: Callable[[Any, Any], Any] = functional.cross_entropy) -> Parts:
    train, val = tensors("digits", image=True)
    return train, val, make, loss


def _text(module: str, context: int, make: Callable[[], nn.Module]) -> Parts:
    train, val = text_windows(module, context=context)
    return train, val, make, models.lm_loss


def _seq(data: str, cell: str, hidden: int, target: str) -> Parts:
    train, val = tensors(data, target=target)
    n_in = arrays(data)[0].shape[2]
    if target == "class":
        return (train, val, functools.partial(models.SeqNet, cell, n_in, hidden,
                                              _n_classes(data)), functional.cross_entropy)
    return train, val, functools.partial(models.SeqNet, cell, n_in, hidden, 1), \
        functional.mse_loss


def _counts_poisson() -> Parts:
    train, val = tensors("counts", target="real")
    n_in = arrays("counts")[0].shape[1]
    make = functools.partial(models.mlp, [n_in, 64, 64, 1], act="gelu")
    return train, val, make, models.poisson_nll


def _forecaster(data: str) -> Parts:
    train, val = tensors(data, target="real")
    return train, val, models.CausalTCN, models.gaussian_nll


def _conv_autoencoder() -> Parts:
    train, val = tensors("digits_ae", target="real", image=True)
    return train, val, models.ConvAutoencoder, functional.mse_loss


def _quantile(data: str, make: Callable[[int, int], nn.Module]) -> Parts:
    train, val = tensors(data, target="real")
    return train, val, functools.partial(make, arrays(data)[0].shape[1], 3), models.pinball_loss


def _siamese(data: str) -> Parts:
    train, val = tensors(data, target="real")
    n_in = arrays(data)[0].shape[1] // 2
    return train, val, functools.partial(models.Siamese, n_in), models.contrastive_loss


def _graphs(data: str) -> Parts:
    train, val = tensors(data)
    _, nodes, columns = arrays(data)[0].shape
    make = functools.partial(models.GraphNet, nodes, columns - nodes, _n_classes(data))
    return train, val, make, functional.cross_entropy


def _flow(data: str) -> Parts:
    train, val = tensors(data, target="real")
    return train, val, models.CouplingFlow, models.flow_nll


def _clicks_fm() -> Parts:
    train, val = tensors("clicks", target="binary")
    make = functools.partial(models.FactorizationMachine, sum(CLICK_FIELDS))
    return train, val, make, functional.binary_cross_entropy_with_logits


def _vae() -> Parts:
    train, val = tensors("digits_unit", target="real")
    return train, val, functools.partial(models.VAE, 64), models.elbo_loss


def _deepsets(data: str) -> Parts:
    train, val = tensors(data, target="real")
    make = functools.partial(models.DeepSets, arrays(data)[0].shape[2], 1)
    return train, val, make, functional.mse_loss


def _cox(data: str) -> Parts:
    train, val = tensors(data, target="real")
    make = functools.partial(models.mlp, [arrays(data)[0].shape[1], 64, 64, 1], act="selu")
    return train, val, make, models.cox_nll


def _ordinal(data: str) -> Parts:
    train, val = tensors(data)
    make = functools.partial(models.OrdinalNet, arrays(data)[0].shape[1], _n_classes(data))
    return train, val, make, models.ordinal_nll


def _mdn(data: str) -> Parts:
    train, val = tensors(data, target="real")
    return train, val, functools.partial(models.MixtureDensityNet, 1), models.mdn_nll


def _tagger(data: str) -> Parts:
    train, val = tensors(data)  # long tags, one per token
    words = int(max(arrays(data)[0].max(), arrays(data)[2].max())) + 1
    make = functools.partial(models.GRUTagger, words, _n_classes(data))
    return train, val, make, models.lm_loss  # per-token cross-entropy, as an LM's


def _random_features(data: str) -> Parts:
    train, val = tensors(data, target="real")
    make = functools.partial(models.RandomFeatures, arrays(data)[0].shape[1], 1)
    return train, val, make, functional.huber_loss  # delta 1: robust to the gross errors


def _multitask(data: str) -> Parts:
    train, val = tensors(data, target="real")  # (label as a float, value)
    n_classes = int(arrays(data)[1][:, 0].max()) + 1
    make = functools.partial(models.MultiTaskNet, arrays(data)[0].shape[1], n_classes)
    return train, val, make, models.multitask_loss


def _denoiser(data: str) -> Parts:
    train, val = tensors(data, target="real")  # (noisy, clean) signals
    return train, val, models.UNet1d, functional.mse_loss


def _film(data: str) -> Parts:
    train, val = tensors(data, target="real")
    make = functools.partial(models.FiLMNet, arrays(data)[0].shape[1], 1)
    return train, val, make, functional.mse_loss


def _hashed_text(data: str) -> Parts:
    train, val = tensors(data)
    make = functools.partial(models.HashedBag, DOC_BUCKETS, _n_classes(data))
    return train, val, make, functional.cross_entropy


def _attention_pool(data: str) -> Parts:
    train, val = tensors(data, target="real")
    make = functools.partial(models.AttentionPool, (arrays(data)[0].shape[1] - 1) // 2)
    return train, val, make, functional.mse_loss


def _ranker(data: str) -> Parts:
    train, val = tensors(data, target="real")  # a query's documents -> their grades
    make = functools.partial(models.ListScorer, arrays(data)[0].shape[2])
    return train, val, make, models.listnet_loss


def _coordinates(data: str) -> Parts:
    train, val = tensors(data, target="real")  # a pixel's (x, y) -> its intensity
    return train, val, models.Siren, functional.mse_loss


def _soft_tree(data: str) -> Parts:
    train, val = tensors(data)
    make = functools.partial(models.SoftTree, arrays(data)[0].shape[1], _n_classes(data))
    return train, val, make, functional.nll_loss  # the tree gives log-probabilities


def _state_space(data: str) -> Parts:
    train, val = tensors(data, target="real")  # (input sequence, target sequence)
    return train, val, models.DiagonalSSM, functional.mse_loss


def _physics_informed(data: str) -> Parts:
    train, val = tensors(data, target="real")  # (point, parameters) -> the forcing there
    make = functools.partial(models.PhysicsInformedNet, arrays(data)[0].shape[1])
    return train, val, make, functional.mse_loss  # the equation's residual


def _ctc(data: str) -> Parts:
    train, val = tensors(data)  # (signal, its symbols padded with 0)
    make = functools.partial(models.ConvCTC, int(arrays(data)[1].max()))
    return train, val, make, models.ctc_nll


def _made(data: str) -> Parts:
    train, val = tensors(data, target="real")  # a binary vector, twice
    return train, val, functools.partial(models.MADE, arrays(data)[0].shape[1]), models.made_nll


def _hypernet(data: str) -> Parts:
    train, val = tensors(data, target="binary")  # (point, boundary parameters) -> side
    make = functools.partial(models.HyperNet, arrays(data)[0].shape[1])
    return train, val, make, functional.binary_cross_entropy_with_logits


# family -> () -> (train set, val set, model factory, loss)
FAMILIES: dict[str, Callable[[], Parts]] = {
    "iris-logreg": lambda: _classifier("iris2", _linear),
    "wine-logreg": lambda: _classifier("wine_noisy", _linear),
    "diabetes-linreg": lambda: _regressor("diabetes", _linear),
    "illcond-linreg": lambda: _regressor("illcond", _linear),
    "digits-mlp": lambda: _classifier(
        "digits", lambda i, o: models.mlp([i, 128, 128, o], dropout=0.2)),
    "moons-mlp": lambda: _classifier("moons", lambda i, o: models.mlp([i, 32, 32, o], act="tanh")),
    "imbalanced-mlp": lambda: _classifier(
        "imbalanced", lambda i, o: models.mlp([i, 64, 64, o], dropout=0.1)),
    "circles-deepmlp": lambda: _classifier("circles",
                                           lambda i, o: models.mlp([i, *[32] * 6, o])),
    "blobs-widemlp": lambda: _classifier("blobs", lambda i, o: models.mlp([i, 256, o])),
    "classif-resmlp": lambda: _classifier("classif4", lambda i, o: models.ResMLP(i, o)),
    "friedman-mlp": lambda: _regressor("friedman", lambda i, o: models.mlp([i, 64, 64, o])),
    "sinc-mlp": lambda: _regressor("sinc", lambda i, o: models.mlp([i, 64, 64, o], act="tanh")),
    "digits-cnn-bn": lambda: _digits_images(functools.partial(models.cnn, batchnorm=True)),
    "digits-cnn": lambda: _digits_images(functools.partial(models.cnn, batchnorm=False,
                                                           dropout=0.2)),
    "digits-resnet": lambda: _digits_images(models.ResNet),
    "logmap-lstm": lambda: _seq("logmap", "lstm", 24, "real"),
    "sines-gru": lambda: _seq("sines", "gru", 24, "class"),
    "text-gru-lm": lambda: _text("argparse", 32, models.CharGRU),
    "text-transformer": lambda: _text("difflib", 32,
                                      functools.partial(models.CharTransformer, 32)),
    "digits-ae": lambda: _regressor("digits_ae", lambda i, o: models.autoencoder([i, 32, 8])),
    "quantiles-mlp": lambda: _classifier("quantiles", lambda i, o: models.mlp([i, 64, 64, o])),
    "hastie-resmlp": lambda: _classifier("hastie", lambda i, o: models.ResMLP(i, o)),
    "friedman3-tanhmlp": lambda: _regressor(
        "friedman3", lambda i, o: models.mlp([i, 32, 32, o], act="tanh")),
    "swissroll-mlp": lambda: _regressor("swissroll", lambda i, o: models.mlp([i, 64, 64, o])),
    "digits-lstm": lambda: _seq("digits_rows", "lstm", 32, "class"),
    "multilabel-mlp": lambda: _multilabel("multilabel",
                                          lambda i, o: models.mlp([i, 64, o], dropout=0.1)),
    "friedman2-resmlp": lambda: _regressor("friedman2", lambda i, o: models.ResMLP(i, o)),
    "scurve-deepmlp": lambda: _regressor(
        "scurve", lambda i, o: models.mlp([i, *[32] * 5, o], act="tanh")),
    "sparse-linreg": lambda: _regressor("sparse_linear", _linear),
    "parity-mlp": lambda: _classifier("parity", lambda i, o: models.mlp([i, 64, 64, o])),
    "poly-linreg": lambda: _regressor("poly", _linear),
    "noisy-widemlp": lambda: _classifier("noisy_wide",
                                         lambda i, o: models.mlp([i, 512, o], dropout=0.3)),
    "spirals-deepmlp": lambda: _classifier(
        "spirals", lambda i, o: models.mlp([i, *[64] * 4, o], act="tanh")),
    "cancer-dae": lambda: _regressor("cancer_ae",
                                     lambda i, o: models.autoencoder([i, 16, 4], noise=0.3)),
    "waveforms-cnn1d": lambda: _classifier("waveforms", lambda i, o: models.cnn1d(o)),
    "majority-attn": lambda: _classifier(
        "majority", lambda i, o: models.TokenAttention(vocab=10, length=i, n_out=o)),
    "zipf-bnmlp": lambda: _classifier("zipf8", lambda i, o: models.bn_mlp([i, 128, 128, o])),
    "ratings-mf": lambda: _regressor("ratings",
                                     lambda i, o: models.MatrixFactorization(300, 200)),
    "digits-vit": lambda: _digits_images(models.PatchTransformer,
                                         loss=models.smoothed_cross_entropy),
    "counts-poisson": lambda: _counts_poisson(),
    "lowrank-deeplinear": lambda: _regressor(
        "lowrank", lambda i, o: models.deep_linear([i, 32, 32, 32, 32, o])),
    "garch-tcn": lambda: _forecaster("garch"),
    "digits-convae": _conv_autoencoder,
    "tabular-ftt": lambda: _classifier("tabular", models.FeatureTransformer),
    "hetero-quantile": lambda: _quantile(
        "hetero", lambda i, o: models.mlp([i, 64, 64, o], act="silu")),
    "digits-siamese": lambda: _siamese("digit_pairs"),
    "graphs-gnn": lambda: _graphs("graphs"),
    "regimes-moe": lambda: _regressor("regimes", models.MixtureOfExperts),
    "pinwheel-flow": lambda: _flow("pinwheel"),
    "clicks-fm": _clicks_fm,
    "digits-vae": _vae,
    "clouds-deepsets": lambda: _deepsets("clouds"),
    "censored-cox": lambda: _cox("censored"),
    "grades-ordinal": lambda: _ordinal("grades"),
    "inverse-mdn": lambda: _mdn("inverse"),
    "grammar-bigru": lambda: _tagger("grammar"),
    "outliers-rff": lambda: _random_features("outliers"),
    "twotask-mtl": lambda: _multitask("twotask"),
    "signals-unet1d": lambda: _denoiser("signals"),
    "pendulum-film": lambda: _film("pendulum"),
    "docstrings-bag": lambda: _hashed_text("docstrings"),
    "curves-attnpool": lambda: _attention_pool("curves"),
    "queries-listnet": lambda: _ranker("queries"),
    "pattern-siren": lambda: _coordinates("pattern"),
    "rules-softtree": lambda: _soft_tree("rules"),
    "memory-ssm": lambda: _state_space("memory"),
    "bvp-pinn": lambda: _physics_informed("bvp"),
    "tones-ctc": lambda: _ctc("tones"),
    "bayesnet-made": lambda: _made("bayesnet"),
    "boundaries-hypernet": lambda: _hypernet("boundaries"),
}


def build(name: str, family: str, opt: str, schedule: str, batch_size: int, epochs: int,
          weight_decay: float) -> Task:
    """The Task of one zoo pair (see ``lrkit.tasks.zoo.pairs.PAIRS`` for the table)."""
    train, val, model, loss = FAMILIES[family]()
    return Task(name=name, model=model,
                optimizer=functools.partial(_optimizer, opt, weight_decay), loss_fn=loss,
                train_data=train, val_data=val, batch_size=batch_size, epochs=epochs,
                schedule=SCHEDULES[schedule])
