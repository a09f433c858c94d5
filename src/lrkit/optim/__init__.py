"""Optimizers that adapt the learning rate, and layer-wise parameter groups.

``SGDHD`` and ``AdamHD`` are hypergradient-descent optimizers (Baydin et al. 2018) with
one global LR updated once per step; ``param_groups`` builds discriminative per-layer LRs.
Importing this package imports torch.

>>> import torch
>>> from lrkit.optim import SGDHD, param_groups
>>> model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Linear(3, 1))
>>> opt = SGDHD(param_groups(model, base_lr=0.1, decay=0.5), hypergrad_lr=1e-3)
>>> [g["lr"] for g in opt.param_groups]
[0.05, 0.05, 0.1, 0.1]
"""

from lrkit.optim.adam_hd import AdamHD
from lrkit.optim.layerwise import NORM_TYPES, param_groups
from lrkit.optim.sgd_hd import SGDHD

__all__ = ["NORM_TYPES", "SGDHD", "AdamHD", "param_groups"]
