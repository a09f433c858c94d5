"""Calibration tasks: *not* the built-in tasks the benchmark scores.

lrkit's suggestion rule has one constant (how far below the smoothed loss minimum to go)
and the schedule map has one ratio per schedule shape. Both are fitted on these tasks only,
so the benchmark on the four built-in tasks is out-of-sample. They use the same bundled
scikit-learn data where that is all there is, but different models, optimizers, batch
sizes or datasets (wine, iris) than the built-in tasks.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from sklearn import datasets
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import TensorDataset

from lrkit.tasks import Task


def _data(name: str, *, regression: bool = False, image: bool = False
          ) -> tuple[TensorDataset, TensorDataset, int, int]:
    loader = {"wine": datasets.load_wine, "iris": datasets.load_iris,
              "digits": datasets.load_digits, "breast_cancer": datasets.load_breast_cancer,
              "diabetes": datasets.load_diabetes}[name]
    x, y = loader(return_X_y=True)
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.3, random_state=1,
                                              stratify=None if regression else y)
    mean, std = x_tr.mean(0), x_tr.std(0)
    std[std == 0] = 1
    x_tr, x_va = (x_tr - mean) / std, (x_va - mean) / std
    if regression:
        m, s = y_tr.mean(), y_tr.std()
        y_tr, y_va = (y_tr - m) / s, (y_va - m) / s

    def wrap(a: np.ndarray, b: np.ndarray) -> TensorDataset:
        xt = torch.tensor(a, dtype=torch.float32)
        if image:
            xt = xt.reshape(-1, 1, 8, 8)
        yt = (torch.tensor(b, dtype=torch.float32).reshape(-1, 1) if regression
              else torch.tensor(b, dtype=torch.long))
        return TensorDataset(xt, yt)

    classes = 1 if regression else int(y.max()) + 1
    return wrap(x_tr, y_tr), wrap(x_va, y_va), x.shape[1], classes


def _mlp(d_in: int, hidden: int, d_out: int, depth: int = 1) -> Callable[[], nn.Module]:
    def make() -> nn.Module:
        layers: list[nn.Module] = []
        d = d_in
        for _ in range(depth):
            layers += [nn.Linear(d, hidden), nn.ReLU()]
            d = hidden
        return nn.Sequential(*layers, nn.Linear(d, d_out))
    return make


def wine_mlp_sgdm() -> Task:
    tr, va, d, k = _data("wine")
    return Task("cal-wine-mlp-sgdm", _mlp(d, 32, k),
                lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9),
                nn.functional.cross_entropy, tr, va, batch_size=8, epochs=15)


def iris_mlp_adam() -> Task:
    tr, va, d, k = _data("iris")
    return Task("cal-iris-mlp-adam", _mlp(d, 16, k),
                lambda p, lr: torch.optim.Adam(p, lr=lr),
                nn.functional.cross_entropy, tr, va, batch_size=8, epochs=20)


def digits_softmax_sgd() -> Task:
    tr, va, d, k = _data("digits")
    return Task("cal-digits-softmax-sgd", lambda: nn.Linear(d, k),
                lambda p, lr: torch.optim.SGD(p, lr=lr),
                nn.functional.cross_entropy, tr, va, batch_size=64, epochs=10)


def digits_mlp2_sgdm() -> Task:
    tr, va, d, k = _data("digits")
    return Task("cal-digits-mlp2-sgdm", _mlp(d, 64, k, depth=2),
                lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9),
                nn.functional.cross_entropy, tr, va, batch_size=64, epochs=8)


def digits_cnn_adam() -> Task:
    tr, va, _, k = _data("digits", image=True)

    def make() -> nn.Module:
        return nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 16, k))
    return Task("cal-digits-cnn-adam", make, lambda p, lr: torch.optim.Adam(p, lr=lr),
                nn.functional.cross_entropy, tr, va, batch_size=64, epochs=6)


def breast_cancer_mlp_adamw() -> Task:
    tr, va, d, _ = _data("breast_cancer")
    return Task("cal-breast-cancer-mlp-adamw", _mlp(d, 32, 1),
                lambda p, lr: torch.optim.AdamW(p, lr=lr),
                lambda out, y: nn.functional.binary_cross_entropy_with_logits(
                    out, y.float().reshape(-1, 1)), tr, va, batch_size=32, epochs=10)


def diabetes_linear_sgd() -> Task:
    tr, va, d, _ = _data("diabetes", regression=True)
    return Task("cal-diabetes-linear-sgd", lambda: nn.Linear(d, 1),
                lambda p, lr: torch.optim.SGD(p, lr=lr), nn.functional.mse_loss, tr, va,
                batch_size=32, epochs=20)


def diabetes_mlp_rmsprop() -> Task:
    tr, va, d, _ = _data("diabetes", regression=True)
    return Task("cal-diabetes-mlp-rmsprop", _mlp(d, 64, 1),
                lambda p, lr: torch.optim.RMSprop(p, lr=lr), nn.functional.mse_loss, tr, va,
                batch_size=32, epochs=15)


CALIBRATION_TASKS: dict[str, Callable[[], Task]] = {
    "cal-wine-mlp-sgdm": wine_mlp_sgdm,
    "cal-iris-mlp-adam": iris_mlp_adam,
    "cal-digits-softmax-sgd": digits_softmax_sgd,
    "cal-digits-mlp2-sgdm": digits_mlp2_sgdm,
    "cal-digits-cnn-adam": digits_cnn_adam,
    "cal-breast-cancer-mlp-adamw": breast_cancer_mlp_adamw,
    "cal-diabetes-linear-sgd": diabetes_linear_sgd,
    "cal-diabetes-mlp-rmsprop": diabetes_mlp_rmsprop,
}
