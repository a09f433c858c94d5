"""Built-in tasks on data bundled with scikit-learn: offline, CPU, a few seconds each.

Each factory returns a fresh Task. The data are split once with a fixed seed and
standardised with training-set statistics; everything is float32.

=====================  ======================  ========================  ==========  ========
name                    data (train/val)        model                     optimizer   schedule
=====================  ======================  ========================  ==========  ========
digits-mlp             digits 1347/450         MLP 64-128-10             Adam        constant
digits-cnn             digits 8x8 1347/450     2 conv + BatchNorm        SGD m=0.9   cosine
breast-cancer-logreg   breast cancer 426/143   logistic regression       plain SGD   constant
diabetes-mlp           diabetes 331/111 (MSE)  MLP 10-32-32-1            AdamW       onecycle
=====================  ======================  ========================  ==========  ========

>>> sorted(builtin_tasks())
['breast-cancer-logreg', 'diabetes-mlp', 'digits-cnn', 'digits-mlp']
>>> builtin_tasks()["digits-cnn"]().schedule
'cosine'
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from lrkit._deps import require
from lrkit.tasks.task import Task

__all__ = ["DEFAULT_TASK", "builtin_tasks"]

DEFAULT_TASK = "digits-mlp"
_SPLIT_SEED = 0


@functools.cache
def _split(dataset: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_val, y_val) of a bundled scikit-learn dataset, standardised."""
    datasets = require("sklearn.datasets", extra="torch")
    model_selection = require("sklearn.model_selection", extra="torch")
    loader = {"digits": datasets.load_digits, "breast_cancer": datasets.load_breast_cancer,
              "diabetes": datasets.load_diabetes}[dataset]
    x, y = loader(return_X_y=True)
    stratify = None if dataset == "diabetes" else y
    x_tr, x_va, y_tr, y_va = model_selection.train_test_split(
        x, y, test_size=0.25, random_state=_SPLIT_SEED, stratify=stratify)
    mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
    std[std == 0] = 1.0  # digits has constant-zero border pixels
    x_tr, x_va = (x_tr - mean) / std, (x_va - mean) / std
    if dataset == "diabetes":  # regression target on unit scale, so MSE ~ 1 at the start
        y_mean, y_std = y_tr.mean(), y_tr.std()
        y_tr, y_va = (y_tr - y_mean) / y_std, (y_va - y_mean) / y_std
    return x_tr, y_tr, x_va, y_va


def _tensors(dataset: str, *, image: bool = False, target: str = "class") -> tuple[Any, Any]:
    torch = require("torch", extra="torch")
    x_tr, y_tr, x_va, y_va = _split(dataset)

    def wrap(x: np.ndarray, y: np.ndarray) -> Any:
        xt = torch.tensor(x, dtype=torch.float32)
        if image:
            xt = xt.reshape(-1, 1, 8, 8)
        yt = (torch.tensor(y, dtype=torch.long) if target == "class"
              else torch.tensor(y, dtype=torch.float32).reshape(-1, 1))
        return torch.utils.data.TensorDataset(xt, yt)

    return wrap(x_tr, y_tr), wrap(x_va, y_va)


def digits_mlp() -> Task:
    """Digits classification with a one-hidden-layer MLP and Adam at a constant LR."""
    torch = require("torch", extra="torch")
    nn = torch.nn
    train, val = _tensors("digits")
    return Task(
        name="digits-mlp",
        model=lambda: nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)),
        optimizer=lambda params, lr: torch.optim.Adam(params, lr=lr),
        loss_fn=nn.functional.cross_entropy,
        train_data=train, val_data=val, batch_size=32, epochs=10, schedule="constant")


def _cnn() -> Any:
    nn = require("torch", extra="torch").nn
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 4 * 4, 10))


def digits_cnn() -> Task:
    """Digits as 8x8 images; a small CNN with BatchNorm, SGD with momentum, cosine decay."""
    torch = require("torch", extra="torch")
    train, val = _tensors("digits", image=True)
    return Task(
        name="digits-cnn", model=_cnn,
        optimizer=lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9),
        loss_fn=torch.nn.functional.cross_entropy,
        train_data=train, val_data=val, batch_size=32, epochs=6, schedule="cosine")


def breast_cancer_logreg() -> Task:
    """Breast-cancer diagnosis by logistic regression with plain SGD (a convex problem)."""
    torch = require("torch", extra="torch")
    train, val = _tensors("breast_cancer", target="binary")
    return Task(
        name="breast-cancer-logreg", model=lambda: torch.nn.Linear(30, 1),
        optimizer=lambda params, lr: torch.optim.SGD(params, lr=lr),
        loss_fn=torch.nn.functional.binary_cross_entropy_with_logits,
        train_data=train, val_data=val, batch_size=16, epochs=10, schedule="constant")


def diabetes_mlp() -> Task:
    """Diabetes progression (regression, MSE) with an MLP, AdamW and a one-cycle schedule."""
    torch = require("torch", extra="torch")
    nn = torch.nn
    train, val = _tensors("diabetes", target="real")
    return Task(
        name="diabetes-mlp",
        model=lambda: nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                                    nn.Linear(32, 1)),
        optimizer=lambda params, lr: torch.optim.AdamW(params, lr=lr, weight_decay=1e-2),
        loss_fn=nn.functional.mse_loss,
        train_data=train, val_data=val, batch_size=16, epochs=20, schedule="onecycle")


def builtin_tasks() -> dict[str, Callable[[], Task]]:
    """The built-in tasks by name; each value builds a fresh Task."""
    return {"breast-cancer-logreg": breast_cancer_logreg, "diabetes-mlp": diabetes_mlp,
            "digits-cnn": digits_cnn, "digits-mlp": digits_mlp}
