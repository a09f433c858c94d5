"""The zoo's data: scikit-learn's bundled sets and generators, generated sequences, stdlib text.

Nothing downloads. Every set is built once per process (``functools.cache``) from fixed
seeds, split into train/val, standardised with training statistics and returned as
``(x_train, y_train, x_val, y_val)`` numpy arrays; ``tensors`` wraps them for a Task.
Label noise flips a fixed fraction of the *training* labels only (validation stays
clean), so it makes the optimisation noisier without moving the val loss toward 0.

>>> x_tr, y_tr, x_va, y_va = arrays("moons")
>>> x_tr.shape, x_va.shape, sorted(set(y_tr.tolist()))
((1125, 2), (375, 2), [0, 1])
"""

from __future__ import annotations

import functools
import inspect
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from lrkit._deps import require

__all__ = ["CLICK_FIELDS", "CLOUD_POINTS", "DOC_BUCKETS", "DOC_MODULES", "VOCAB", "arrays",
           "tensors", "text_windows"]

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
_SEED = 0


def _split(x: np.ndarray, y: np.ndarray, *, classify: bool, val: float = 0.25,
           scale_target: bool = True) -> Arrays:
    model_selection = require("sklearn.model_selection", extra="torch")
    x_tr, x_va, y_tr, y_va = model_selection.train_test_split(
        x, y, test_size=val, random_state=_SEED, stratify=y if classify else None)
    mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
    std[std == 0] = 1.0  # digits' constant border pixels
    x_tr, x_va = (x_tr - mean) / std, (x_va - mean) / std
    if not classify and scale_target:  # unit scale: an untrained net's MSE is ~1
        y_mean, y_std = y_tr.mean(axis=0), y_tr.std(axis=0)
        y_tr, y_va = (y_tr - y_mean) / y_std, (y_va - y_mean) / y_std
    return x_tr, y_tr, x_va, y_va


def _flip(y: np.ndarray, fraction: float, classes: int) -> np.ndarray:
    """``y`` with ``fraction`` of its labels moved to a different class (fixed seed)."""
    rng = np.random.RandomState(_SEED + 1)
    y = y.copy()
    idx = rng.choice(len(y), size=round(fraction * len(y)), replace=False)
    y[idx] = (y[idx] + rng.randint(1, classes, size=len(idx))) % classes
    return y


def _sk(name: str) -> Callable[..., Any]:
    return getattr(require("sklearn.datasets", extra="torch"), name)


def _bundled(name: str) -> Arrays:
    x, y = _sk(f"load_{name}")(return_X_y=True)
    return _split(x, y, classify=name != "diabetes")


def _iris2() -> Arrays:
    # sepal length and width only: versicolor and virginica overlap, so the val loss has a
    # floor well above 0 (on all 4 features iris is separable and the loss runs to 0)
    x, y = _sk("load_iris")(return_X_y=True)
    return _split(x[:, :2], y, classify=True)


def _wine_noisy() -> Arrays:
    # wine is separable; 15% flipped training labels keep the fitted logits finite
    x_tr, y_tr, x_va, y_va = _bundled("wine")
    return x_tr, _flip(y_tr, 0.15, 3), x_va, y_va


def _moons() -> Arrays:
    x, y = _sk("make_moons")(n_samples=1500, noise=0.3, random_state=_SEED)
    x_tr, y_tr, x_va, y_va = _split(x, y, classify=True)
    return x_tr, _flip(y_tr, 0.1, 2), x_va, y_va


def _circles() -> Arrays:
    x, y = _sk("make_circles")(n_samples=2000, noise=0.15, factor=0.5, random_state=_SEED)
    return _split(x, y, classify=True)


def _blobs() -> Arrays:
    x, y = _sk("make_blobs")(n_samples=8000, n_features=16, centers=8, cluster_std=4.0,
                             random_state=_SEED)
    return _split(x, y, classify=True)


def _imbalanced() -> Arrays:
    x, y = _sk("make_classification")(n_samples=3000, n_features=20, n_informative=6,
                                      weights=[0.9, 0.1], flip_y=0.03, class_sep=0.8,
                                      random_state=_SEED)
    return _split(x, y, classify=True)


def _classif4() -> Arrays:
    x, y = _sk("make_classification")(n_samples=4000, n_features=32, n_informative=8,
                                      n_redundant=8, n_classes=4, n_clusters_per_class=2,
                                      flip_y=0.05, random_state=_SEED)
    x_tr, y_tr, x_va, y_va = _split(x, y, classify=True)
    return x_tr, _flip(y_tr, 0.1, 4), x_va, y_va


def _regression(maker: str, **kwargs: Any) -> Arrays:
    """2,000 examples of a scikit-learn generator's real target (a column), split."""
    x, y = _sk(maker)(n_samples=2000, random_state=_SEED, **kwargs)
    return _split(x, y.reshape(-1, 1), classify=False)


def _friedman() -> Arrays:
    return _regression("make_friedman1", n_features=10, noise=1.0)


def _illcond() -> Arrays:
    # low effective rank: the Hessian's eigenvalues spread over decades (a hard convex case)
    x, y = _sk("make_regression")(n_samples=2000, n_features=50, n_informative=30,
                                  effective_rank=8, tail_strength=0.3, noise=5.0,
                                  random_state=_SEED)
    x_tr, y_tr, x_va, y_va = _split(x, y.reshape(-1, 1), classify=False)
    return x_tr, y_tr, x_va, y_va


def _sinc() -> Arrays:
    rng = np.random.RandomState(_SEED)
    x = rng.uniform(-4, 4, size=(2000, 1))
    y = np.sinc(x) + 0.5 * np.sin(2.5 * x) + rng.normal(0, 0.15, size=x.shape)
    return _split(x, y, classify=False)


def _logmap() -> Arrays:
    """Predict the next noisy observation of a chaotic logistic map, r drawn per sequence.

    x_{t+1} = r x_t (1 - x_t) with r in [3.6, 3.95], seen through N(0, 0.05^2) noise: the
    net must infer r from 20 noisy values. (The adding problem was tried first: whether an
    LSTM solves it in a few hundred updates is a coin flip per seed, a noise floor of 90%.)
    """
    rng = np.random.RandomState(_SEED)
    n, length = 2400, 20
    r = rng.uniform(3.6, 3.95, size=n)
    x = rng.uniform(0.2, 0.8, size=n)
    series = []
    for t in range(10 + length + 1):
        x = r * x * (1 - x)
        if t >= 10:  # after a burn-in, on the attractor
            series.append(x)
    obs = np.stack(series, axis=1) + rng.normal(0, 0.05, size=(n, length + 1))
    obs = (obs - obs.mean()) / obs.std()
    cut = 2000
    return (obs[:cut, :length, None], obs[:cut, length:], obs[cut:, :length, None],
            obs[cut:, length:])


def _sines() -> Arrays:
    """Noisy sinusoids of one of 4 close frequencies, random phase: classify the frequency."""
    rng = np.random.RandomState(_SEED)
    n, length = 2400, 24
    y = rng.randint(0, 4, size=n)
    freq = 0.15 + 0.04 * y
    t = np.arange(length)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    x = np.sin(freq[:, None] * t[None, :] * 2 * np.pi / 2.0 + phase)
    x = (x + rng.normal(0, 0.6, size=x.shape))[..., None]
    cut = 2000
    return x[:cut], y[:cut], x[cut:], y[cut:]


def _quantiles() -> Arrays:
    x, y = _sk("make_gaussian_quantiles")(n_samples=2000, n_features=6, n_classes=3,
                                          random_state=_SEED)
    return _split(x, y, classify=True)


def _hastie() -> Arrays:
    x, y = _sk("make_hastie_10_2")(n_samples=2000, random_state=_SEED)
    return _split(x, (y > 0).astype(np.int64), classify=True)


def _friedman3() -> Arrays:
    return _regression("make_friedman3", noise=0.1)


def _swissroll() -> Arrays:
    """Where a point sits along the roll (its t) from its noisy 3-D position."""
    return _regression("make_swiss_roll", noise=0.5)


def _digits_rows() -> Arrays:
    """The 8x8 digits as sequences of 8 rows of 8 pixels (standardised per pixel)."""
    x_tr, y_tr, x_va, y_va = _bundled("digits")
    return x_tr.reshape(-1, 8, 8), y_tr, x_va.reshape(-1, 8, 8), y_va


def _multilabel() -> Arrays:
    """20 count features, 5 labels per example, each present or not (multi-label)."""
    x, y = _sk("make_multilabel_classification")(n_samples=2000, n_features=20, n_classes=5,
                                                 n_labels=2, random_state=_SEED)
    return _split(x, y.astype(np.float64), classify=False, scale_target=False)  # 0/1 stay


def _friedman2() -> Arrays:
    return _regression("make_friedman2", noise=50.0)


def _scurve() -> Arrays:
    """Where a point sits along a noisy S-shaped sheet (its t) from its 3-D position."""
    return _regression("make_s_curve", noise=0.2)


def _sparse_linear() -> Arrays:
    """A linear target of 4 of 10 features, with noise: most inputs are distractors."""
    return _regression("make_sparse_uncorrelated", n_features=10)


def _parity() -> Arrays:
    """The sign-parity of 3 of 8 noisy +-1 inputs (the other 5 distract): no input alone
    tells anything."""
    rng = np.random.RandomState(_SEED)
    bits = rng.choice([-1.0, 1.0], size=(2000, 8))
    y = (bits[:, :3].prod(axis=1) > 0).astype(np.int64)
    return _split(bits + rng.normal(0, 0.3, size=bits.shape), y, classify=True)


def _poly() -> Arrays:
    """A sparse linear target of the degree 1-3 monomials of 5 inputs (55 correlated
    features: a badly conditioned least-squares problem)."""
    rng = np.random.RandomState(_SEED)
    x = rng.normal(size=(2000, 5))
    feats = require("sklearn.preprocessing", extra="torch").PolynomialFeatures(3).fit_transform(x)
    w = np.where(rng.uniform(size=feats.shape[1]) < 0.3, rng.normal(size=feats.shape[1]), 0.0)
    y = feats @ w + rng.normal(0, 1.0, size=len(x))
    return _split(feats[:, 1:], y.reshape(-1, 1), classify=False)


def _noisy_wide() -> Arrays:
    x, y = _sk("make_classification")(n_samples=2000, n_features=50, n_informative=10,
                                      n_redundant=10, flip_y=0.0, random_state=_SEED)
    x_tr, y_tr, x_va, y_va = _split(x, y, classify=True)
    return x_tr, _flip(y_tr, 0.2, 2), x_va, y_va


def _spirals() -> Arrays:
    """Two interleaved noisy spirals, 1.5 turns each."""
    rng = np.random.RandomState(_SEED)
    t = np.sqrt(rng.uniform(0, 1, size=1000)) * 3 * np.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3 * np.pi)
    x = np.concatenate([arm, -arm]) + rng.normal(0, 0.05, size=(2000, 2))
    y = np.repeat([0, 1], 1000)
    return _split(x, y, classify=True)


def _waveforms() -> Arrays:
    """Which of 4 wave shapes (sine, square, triangle, sawtooth) a noisy 64-sample window
    shows; frequency, phase and amplitude are random, so no single sample tells. Shaped
    ``(n, 1, 64)`` for a 1-D conv net."""
    rng = np.random.RandomState(_SEED)
    n, length = 2400, 64
    y = rng.randint(0, 4, size=n)
    cycles = rng.uniform(1.5, 5.0, size=(n, 1))
    phase = rng.uniform(0, 1, size=(n, 1))
    u = (cycles * np.arange(length)[None, :] / length + phase) % 1.0  # position in a cycle
    shapes = np.stack([np.sin(2 * np.pi * u), np.where(u < 0.5, 1.0, -1.0),
                       4 * np.abs(u - 0.5) - 1, 2 * u - 1])
    x = shapes[y, np.arange(n)] * rng.uniform(0.5, 1.5, size=(n, 1))
    x = (x + rng.normal(0, 0.45, size=x.shape))[:, None, :]
    cut = 2000
    return x[:cut], y[:cut], x[cut:], y[cut:]


def _majority() -> Arrays:
    """The most frequent of 10 tokens in a sequence of 16 (ties: the smallest id). One
    token is favoured per sequence, but only weakly, so the count must be read off the
    whole sequence. Token ids travel as float32 (exact) like every other zoo input."""
    rng = np.random.RandomState(_SEED)
    n, length, vocab = 2400, 16, 10
    favoured = rng.randint(0, vocab, size=(n, 1))
    tokens = np.where(rng.uniform(size=(n, length)) < 0.15, favoured,
                      rng.randint(0, vocab, size=(n, length)))
    counts = (tokens[:, :, None] == np.arange(vocab)).sum(axis=1)
    y = counts.argmax(axis=1)
    x = tokens.astype(np.float64)
    cut = 2000
    return x[:cut], y[:cut], x[cut:], y[cut:]


def _zipf8() -> Arrays:
    """8 classes of make_classification with Zipf-like frequencies (class k ~ 1/(k+1): the
    rarest is 8x rarer than the commonest) and 5% of labels at random."""
    weights = 1.0 / np.arange(1, 9)
    x, y = _sk("make_classification")(n_samples=4000, n_features=24, n_informative=12,
                                      n_redundant=4, n_classes=8, n_clusters_per_class=1,
                                      weights=list(weights / weights.sum()), flip_y=0.05,
                                      class_sep=1.0, random_state=_SEED)
    return _split(x, y, classify=True)


def _ratings() -> Arrays:
    """Noisy ratings of a rank-3 user x item matrix (300 users, 200 items, 8,000 of the 60,000
    entries observed), as ``(user id, item id)`` -> standardised rating: matrix
    factorisation, with 6,000 ratings for 500 embeddings to fit (it can overfit)."""
    rng = np.random.RandomState(_SEED)
    users, items, n = 300, 200, 16000
    u, v = rng.normal(size=(users, 3)), rng.normal(size=(items, 3))
    bias_u, bias_i = rng.normal(0, 0.5, size=users), rng.normal(0, 0.5, size=items)
    cells = rng.choice(users * items, size=n, replace=False)
    ui, ii = cells // items, cells % items
    r = (u[ui] * v[ii]).sum(axis=1) + bias_u[ui] + bias_i[ii] + rng.normal(0, 1.0, size=n)
    x = np.stack([ui, ii], axis=1).astype(np.float64)
    cut = 12000
    mean, std = r[:cut].mean(), r[:cut].std()
    r = ((r - mean) / std).reshape(-1, 1)
    return x[:cut], r[:cut], x[cut:], r[cut:]


def _counts() -> Arrays:
    """Event counts (mean 2.7, median 2, up to about 20) from 8 features: the log-rate is a
    smooth nonlinear function of 5 of them, and a gamma factor per row (mean 1, shape 4)
    makes the counts overdispersed, as real ones are. A Poisson regression target; the
    counts stay raw (not standardised)."""
    rng = np.random.RandomState(_SEED)
    n = 2500
    x = rng.normal(size=(n, 8))
    log_rate = (1.0 + 0.6 * np.sin(1.5 * x[:, 0]) + 0.3 * x[:, 1] * x[:, 2]
                - 0.25 * x[:, 3] ** 2 + 0.4 * np.tanh(2 * x[:, 4]))
    rate = np.exp(log_rate) * rng.gamma(4.0, 0.25, size=n)
    y = rng.poisson(rate).astype(np.float64).reshape(-1, 1)
    return _split(x, y, classify=False, scale_target=False)


def _lowrank() -> Arrays:
    """A rank-3 linear map (singular values 3, 1.5, 0.75) from 96 correlated inputs to 8
    outputs, under unit noise, with only 512 training rows (768 to validate): a deep
    *linear* net learns the map mode by mode from a small init, so how far its one run gets
    (the LR) decides whether it stops short of the weak modes or goes on to fit the noise."""
    rng = np.random.RandomState(_SEED)
    n, d_in, d_out = 1280, 96, 8
    x = rng.normal(size=(n, d_in)) @ (rng.normal(size=(d_in, d_in)) / np.sqrt(d_in))
    x /= x.std(axis=0)
    u, _ = np.linalg.qr(rng.normal(size=(d_in, 3)))
    v, _ = np.linalg.qr(rng.normal(size=(d_out, 3)))
    y = x @ (u @ np.diag([3.0, 1.5, 0.75]) @ v.T) + rng.normal(0, 1.0, size=(n, d_out))
    return _split(x, y, classify=False, val=0.6)


def _garch() -> Arrays:
    """One-step forecasts of one long series: a sine of period 24 plus a nonlinear
    autoregression ``a_t = 0.5 a_{t-1} - 0.9 tanh(2 a_{t-12}) + e_t`` whose shocks have
    GARCH(1,1) volatility (calm and turbulent stretches), standardised. On the validation
    windows a linear autoregression with one variance scores about 0.49 nats, the true model
    about 0.40. Windows of 48 values -> the next one, shaped ``(n, 1, 48)``; train on the
    first 2000 windows, validate on 1000 later ones (a 48-step gap between)."""
    rng = np.random.RandomState(_SEED)
    length, n_train, n_val, burn = 48, 2000, 1000, 100
    total = burn + length + n_train + length + n_val + 1
    omega, alpha, beta = 0.03, 0.15, 0.8  # shock variance >= omega / (1 - beta) = 0.15
    shock, a = np.zeros(total), np.zeros(total)
    var = omega / (1 - alpha - beta)
    for i in range(12, total):
        var = omega + alpha * shock[i - 1] ** 2 + beta * var
        shock[i] = np.sqrt(var) * rng.normal()
        a[i] = 0.5 * a[i - 1] - 0.9 * np.tanh(2 * a[i - 12]) + shock[i]
    series = (0.7 * np.sin(2 * np.pi * np.arange(total) / 24) + a)[burn:]
    train_end = length + n_train
    series = (series - series[:train_end].mean()) / series[:train_end].std()
    windows = np.lib.stride_tricks.sliding_window_view(series, length + 1)
    x, y = windows[:, None, :length], windows[:, length:]
    val_start = n_train + length
    return (x[:n_train].copy(), y[:n_train].copy(), x[val_start:val_start + n_val].copy(),
            y[val_start:val_start + n_val].copy())


def _tabular() -> Arrays:
    """A 3-class table whose 10 columns are of mixed kinds, as real tables' are:
    make_classification's features (5 informative, 2 redundant, 2 clusters per class, 5%
    flipped labels) with one column made log-normal (exp), one cubed, one rounded to 5
    integer levels and one thresholded to 0/1, then standardised (the skew stays)."""
    x, y = _sk("make_classification")(n_samples=2000, n_features=10, n_informative=5,
                                      n_redundant=2, n_classes=3, n_clusters_per_class=2,
                                      flip_y=0.05, class_sep=1.0, random_state=_SEED)
    x[:, 0] = np.exp(x[:, 0])
    x[:, 1] = x[:, 1] ** 3
    x[:, 2] = np.clip(np.round(x[:, 2]), -2, 2)
    x[:, 3] = (x[:, 3] > 0).astype(np.float64)
    return _split(x, y, classify=True)


def _hetero() -> Arrays:
    """Heteroscedastic, skewed regression: 6 inputs uniform on [-2, 2] (2 distractors), a
    wiggly mean ``sin(2.5 x0) + 0.5 x0 x1 + 0.5 cos(2 x1) tanh(2 x2)`` under small noise of
    scale ``(0.05 + 0.3 sigmoid(2 x2)) (1 + 0.5 |x3|)`` times a right-skewed shock (a
    centred, unit-variance gamma of shape 2): the 10% and 90% quantiles sit asymmetrically
    about the median and widen with x2 and x3, and most of the loss left is the fit, not
    the noise. A quantile regression target, standardised."""
    rng = np.random.RandomState(_SEED)
    n = 4000
    x = rng.uniform(-2.0, 2.0, size=(n, 6))
    mean = (np.sin(2.5 * x[:, 0]) + 0.5 * x[:, 0] * x[:, 1]
            + 0.5 * np.cos(2.0 * x[:, 1]) * np.tanh(2.0 * x[:, 2]))
    scale = (0.05 + 0.3 / (1.0 + np.exp(-2.0 * x[:, 2]))) * (1.0 + 0.5 * np.abs(x[:, 3]))
    shock = (rng.gamma(2.0, 1.0, size=n) - 2.0) / np.sqrt(2.0)
    return _split(x, (mean + scale * shock).reshape(-1, 1), classify=False)


def _digit_pairs() -> Arrays:
    """Pairs of 8x8 digits side by side (128 features: two standardised images), labelled 1
    when both show the same digit, half of them so: 2400 pairs drawn from the digits'
    training images, 900 from their validation images (no image on both sides)."""
    x_tr, y_tr, x_va, y_va = _bundled("digits")
    rng = np.random.RandomState(_SEED)

    def pairs(x: np.ndarray, y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        by_class = [np.flatnonzero(y == c) for c in range(10)]
        first = rng.randint(len(y), size=n)
        same = np.arange(n) % 2 == 0
        second = np.empty(n, dtype=np.int64)
        for i, a in enumerate(first):
            if same[i]:
                second[i] = rng.choice(by_class[y[a]])
            else:
                other = (y[a] + rng.randint(1, 10)) % 10
                second[i] = rng.choice(by_class[other])
        return np.hstack([x[first], x[second]]), same.astype(np.float64).reshape(-1, 1)

    a_tr, s_tr = pairs(x_tr, y_tr, 2400)
    a_va, s_va = pairs(x_va, y_va, 900)
    return a_tr, s_tr, a_va, s_va


def _graphs() -> Arrays:
    """Small graphs to tell apart by their wiring: 12 nodes, drawn from one of three
    generators of about the same density (mean degree 3.5-4.5), each with a random
    parameter so the classes overlap: Erdos-Renyi; a two-block stochastic block model
    (within-block edge probability 0.6-0.9, the between-block one set for the degree); a
    Watts-Strogatz ring (4 neighbours each, 5-30% of the edges rewired). Each example is
    the 12 x 12 adjacency (symmetric, no self-loops) beside 2 node features: a constant and
    the degree, centred and scaled (``(degree - 4) / 2``); nodes in random order. 2400/600
    graphs, the classes balanced."""
    rng = np.random.RandomState(_SEED)
    n, nodes = 3000, 12
    labels = rng.permutation(np.arange(n) % 3)
    x = np.zeros((n, nodes, nodes + 2))
    upper = np.triu(np.ones((nodes, nodes), dtype=bool), k=1)
    block = np.arange(nodes) < nodes // 2
    same_block = block[:, None] == block[None, :]
    for g, kind in enumerate(labels):
        degree = rng.uniform(3.5, 4.5)
        if kind == 0:  # Erdos-Renyi
            prob = np.full((nodes, nodes), degree / (nodes - 1))
        elif kind == 1:  # two blocks of 6
            p_in = rng.uniform(0.6, 0.9)
            p_out = max((degree - 5 * p_in) / 6, 0.02)
            prob = np.where(same_block, p_in, p_out)
        if kind < 2:
            adj = (rng.uniform(size=(nodes, nodes)) < prob) & upper
        else:  # Watts-Strogatz: ring lattice, each node to 2 on either side, some rewired
            adj = np.zeros((nodes, nodes), dtype=bool)
            beta = rng.uniform(0.05, 0.3)
            for i in range(nodes):
                for hop in (1, 2):
                    j = (i + hop) % nodes
                    if rng.uniform() < beta:
                        free = [k for k in range(nodes)
                                if k != i and not adj[i, k] and not adj[k, i]]
                        j = free[rng.randint(len(free))]
                    adj[min(i, j), max(i, j)] = True
        adj = adj | adj.T
        order = rng.permutation(nodes)
        adj = adj[order][:, order].astype(np.float64)
        x[g, :, :nodes] = adj
        x[g, :, nodes] = 1.0
        x[g, :, nodes + 1] = (adj.sum(axis=1) - 4.0) / 2.0
    cut = 2400
    return x[:cut], labels[:cut], x[cut:], labels[cut:]


def _regimes() -> Arrays:
    """Regression whose rule changes by region: 8 inputs N(0, 1) (2 distractors); two
    oblique cuts through (x0, x1) make 4 regimes, each with its own smooth function of
    x2..x5 (``sin(2 x2) + 0.5 x3``, ``x2 x3 - 0.5 x4``, ``|x4| - cos(1.5 x5)``,
    ``1.5 tanh(2 x5) - 0.5 x2**2 + 0.5``), under noise of sd 0.2: a target a gated mixture
    of experts can split up. Standardised."""
    rng = np.random.RandomState(_SEED)
    n = 4000
    x = rng.normal(size=(n, 8))
    x2, x3, x4, x5 = x[:, 2], x[:, 3], x[:, 4], x[:, 5]
    regime = (2 * (x[:, 0] + 0.5 * x[:, 1] > 0) + (x[:, 1] - 0.5 * x[:, 0] > 0.3)).astype(int)
    rules = np.stack([np.sin(2 * x2) + 0.5 * x3, x2 * x3 - 0.5 * x4,
                      np.abs(x4) - np.cos(1.5 * x5),
                      1.5 * np.tanh(2 * x5) - 0.5 * x2 ** 2 + 0.5], axis=1)
    y = rules[np.arange(n), regime] + 0.2 * rng.normal(size=n)
    return _split(x, y.reshape(-1, 1), classify=False)


def _pinwheel() -> Arrays:
    """Points of a 5-armed pinwheel in the plane (the toy density of Johnson et al. 2016):
    Gaussian blobs (radial sd 0.3, tangential sd 0.1) around radius 1, each point turned by
    its arm's angle plus ``0.25 exp(radius)``, so the arms curl; 3000/1000 points,
    standardised. A density-estimation target: the "label" is a column of zeros, which the
    flow's likelihood does not read."""
    rng = np.random.RandomState(_SEED)
    n, arms, rate = 4000, 5, 0.25
    feats = rng.normal(size=(n, 2)) * np.array([0.3, 0.1])
    feats[:, 0] += 1.0
    arm = rng.randint(arms, size=n)
    angle = 2 * np.pi * arm / arms + rate * np.exp(feats[:, 0])
    cos, sin = np.cos(angle), np.sin(angle)
    x = np.stack([feats[:, 0] * cos - feats[:, 1] * sin,
                  feats[:, 0] * sin + feats[:, 1] * cos], axis=1)
    return _split(x, np.zeros((n, 1)), classify=False, scale_target=False)


#: The click logs' categorical fields: how many values each has.
CLICK_FIELDS = (50, 20, 100, 7, 60, 30)


def _clicks() -> Arrays:
    """Click logs: 6 categorical fields (``CLICK_FIELDS`` values each, Zipf-like: a few
    values common, most rare) -> clicked or not. The true log-odds are a factorisation
    machine's: a base of -1.3, a main effect per value (sd 0.5) and, for every pair of
    fields, the dot product of their values' rank-3 vectors (sd 0.45 a coordinate);
    clicks are drawn from it. Inputs are the values' ids (offset by field, as floats), not
    one-hot; 6000/2000 rows."""
    rng = np.random.RandomState(_SEED)
    n = 8000
    offsets = np.cumsum([0, *CLICK_FIELDS[:-1]])
    cols = []
    for size in CLICK_FIELDS:
        popularity = 1.0 / np.arange(1, size + 1) ** 1.1
        cols.append(rng.permutation(size)[rng.choice(size, size=n,
                                                     p=popularity / popularity.sum())])
    ids = np.stack(cols, axis=1) + offsets
    total = sum(CLICK_FIELDS)
    weight, vectors = rng.normal(0, 0.5, size=total), rng.normal(0, 0.45, size=(total, 3))
    v = vectors[ids]
    pairs = 0.5 * (v.sum(axis=1) ** 2 - (v ** 2).sum(axis=1)).sum(axis=1)
    logit = -1.3 + weight[ids].sum(axis=1) + pairs
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.float64)
    x, y = ids.astype(np.float64), y.reshape(-1, 1)
    cut = 6000
    return x[:cut], y[:cut], x[cut:], y[cut:]


def _digits_unit() -> Arrays:
    """The 8x8 digits as intensities in [0, 1] (``pixels / 16``, not standardised), inputs
    and targets alike, on the same train/val split as ``digits``: a Bernoulli decoder's
    targets (a VAE's reconstruction term)."""
    x, y = _sk("load_digits")(return_X_y=True)
    model_selection = require("sklearn.model_selection", extra="torch")
    x_tr, x_va = model_selection.train_test_split(x / 16.0, test_size=0.25,
                                                  random_state=_SEED, stratify=y)
    return x_tr, x_tr, x_va, x_va


#: The point clouds' largest set (smaller sets are padded to it).
CLOUD_POINTS = 32


def _clouds() -> Arrays:
    """Point sets -> their generating correlation: each set is 8-32 points of a 2-D
    Gaussian with a random centre (N(0, 1)), scales (log-uniform 0.5-2) and correlation
    rho ~ U(-0.9, 0.9), 10% of them replaced by outliers (an isotropic Gaussian 3 times as
    wide); the target is ``atanh(rho)``, standardised. Small sets cannot pin rho down, so
    the loss has a floor. Each example is ``CLOUD_POINTS`` rows of (x, y, present): absent
    rows are zeros, points in random order. 3000/1000 sets."""
    rng = np.random.RandomState(_SEED)
    n = 4000
    x = np.zeros((n, CLOUD_POINTS, 3))
    rho = rng.uniform(-0.9, 0.9, size=n)
    for i in range(n):
        size = rng.randint(8, CLOUD_POINTS + 1)
        scale = np.exp(rng.uniform(np.log(0.5), np.log(2.0), size=2))
        cov = np.outer(scale, scale) * np.array([[1.0, rho[i]], [rho[i], 1.0]])
        pts = rng.multivariate_normal(rng.normal(size=2), cov, size=size)
        outlier = rng.uniform(size=size) < 0.1
        pts[outlier] = pts.mean(axis=0) + 3 * scale.mean() * rng.normal(size=(outlier.sum(), 2))
        x[i, :size, :2] = pts
        x[i, :size, 2] = 1.0
    y = np.arctanh(rho).reshape(-1, 1)
    cut = 3000
    y = (y - y[:cut].mean()) / y[:cut].std()
    return x[:cut], y[:cut], x[cut:], y[cut:]


def _censored() -> Arrays:
    """Right-censored survival times: 16 inputs N(0, 1) (10 distractors); the log-hazard is
    ``1.5 x0 - 1.2 x1 + 1.2 sin(2 x2) + 1.05 x3 x4 + 0.75 (x5**2 - 1)`` (sd about 2.5: a
    strong signal, so a fitted net's partial likelihood is well below a null one's); event
    times are Weibull (shape 1.5) under it, censoring times exponential and independent
    (about 40% of the rows censored). Few training rows for the inputs (1000/1000), so a
    net can overfit them: on 3000 rows and 8 inputs, an adaptive optimizer's loss was flat
    over 4 octaves of LR. The target is (observed time, event): the time divided by the
    training median (only its order matters to a partial likelihood), the event 1 or 0."""
    rng = np.random.RandomState(_SEED)
    n = 2000
    x = rng.normal(size=(n, 16))
    log_hazard = (1.5 * x[:, 0] - 1.2 * x[:, 1] + 1.2 * np.sin(2 * x[:, 2])
                  + 1.05 * x[:, 3] * x[:, 4] + 0.75 * (x[:, 5] ** 2 - 1))
    event_time = (-np.log(rng.uniform(size=n)) / np.exp(log_hazard)) ** (1 / 1.5)
    censor_time = rng.exponential(2.0, size=n)
    time, event = np.minimum(event_time, censor_time), event_time <= censor_time
    y = np.stack([time, event.astype(np.float64)], axis=1)
    cut = 1000
    mean, std = x[:cut].mean(axis=0), x[:cut].std(axis=0)
    x = (x - mean) / std
    y[:, 0] /= np.median(y[:cut, 0])
    return x[:cut], y[:cut], x[cut:], y[cut:]


def _grades() -> Arrays:
    """Ordered grades: 10 inputs N(0, 1) (4 distractors); a latent score
    ``1.2 tanh(x0 + x1) + 0.8 x2 x3 + 0.6 sin(2 x4) + 0.5 x5`` plus logistic noise (scale
    0.35) is cut into 7 grades at its 5/15/35/60/80/93% quantiles (uneven grade sizes).
    Labels 0..6; 3000/1000, stratified."""
    rng = np.random.RandomState(_SEED)
    n = 4000
    x = rng.normal(size=(n, 10))
    latent = (1.2 * np.tanh(x[:, 0] + x[:, 1]) + 0.8 * x[:, 2] * x[:, 3]
              + 0.6 * np.sin(2 * x[:, 4]) + 0.5 * x[:, 5] + rng.logistic(scale=0.35, size=n))
    cuts = np.quantile(latent, [0.05, 0.15, 0.35, 0.6, 0.8, 0.93])
    return _split(x, np.searchsorted(cuts, latent), classify=True)


def _inverse() -> Arrays:
    """A multi-valued inverse problem (Bishop 1994): ``y ~ U(0, 1)``, ``x = y + 0.3
    sin(2 pi y) + N(0, 0.08**2)``, and the task is y from x. In the middle of x's range
    (0.41 < x < 0.59 before the noise) the forward map folds back, so three values of y fit
    one x and a mean-square fit settles between them; a mixture's density can follow each
    branch. Both standardised; the Bayes-optimal negative log-likelihood on this scale is
    about 0.35 nats (0.39 on the validation rows), so a mixture net's loss stays positive.
    3000/1000."""
    rng = np.random.RandomState(_SEED)
    n = 4000
    y = rng.uniform(0.0, 1.0, size=n)
    x = y + 0.3 * np.sin(2 * np.pi * y) + rng.normal(0, 0.08, size=n)
    return _split(x.reshape(-1, 1), y.reshape(-1, 1), classify=False)


def _grammar() -> Arrays:
    """Part-of-speech tags of sentences from a toy stochastic grammar (a hidden Markov
    model): 7 tags with sparse, grammar-like transitions (DET -> ADJ | NOUN, NOUN -> VERB |
    PREP | END, ...); each of the 6 word classes emits 4 words of its own (half its mass)
    and, with the other half, some of 7 ambiguous words each shared by two classes (3
    noun/verb, adjective/noun, ...); END emits '.', and 8% of the words are replaced by a
    uniformly random one.
    An ambiguous word's tag shows only from the words on both sides of it: on the
    validation sentences the exact posterior (forward-backward) scores about 0.18 nats a
    token, a left-to-right one about 0.31. Sequences of 16 word ids (floats) -> 16 tags;
    2000/500."""
    rng = np.random.RandomState(_SEED)
    n, length, tags, words = 2500, 16, 7, 32  # tags DET ADJ NOUN VERB ADV PREP END
    trans = np.array([[0, .3, .7, 0, 0, 0, 0], [0, .2, .8, 0, 0, 0, 0],
                      [0, 0, 0, .5, 0, .25, .25], [.45, 0, 0, 0, .2, .2, .15],
                      [.3, 0, 0, .4, 0, 0, .3], [.7, 0, .3, 0, 0, 0, 0],
                      [.6, 0, .2, 0, .2, 0, 0]])
    emit = np.zeros((tags, words))
    for t in range(6):
        emit[t, 4 * t:4 * t + 4] = 0.5 * rng.dirichlet(np.ones(4))
    emit[6, 24] = 1.0
    for j, (a, b) in enumerate([(2, 3), (2, 3), (2, 3), (1, 2), (1, 4), (4, 5), (0, 5)]):
        emit[[a, b], 25 + j] = 1.0
    for t in range(6):  # the ambiguous words take the other half of each class's mass
        emit[t, 25:] *= 0.5 / emit[t, 25:].sum()
    emit = 0.92 * emit + 0.08 / words
    vals, vecs = np.linalg.eig(trans.T)
    start = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    z = np.zeros((n, length), dtype=np.int64)
    z[:, 0] = (rng.uniform(size=(n, 1)) > np.cumsum(start / start.sum())).sum(axis=1)
    for t in range(1, length):
        z[:, t] = (rng.uniform(size=(n, 1)) > np.cumsum(trans[z[:, t - 1]], axis=1)).sum(axis=1)
    x = (rng.uniform(size=(n, length, 1)) > np.cumsum(emit[z], axis=2)).sum(axis=2)
    cut = 2000
    return x[:cut].astype(np.float64), z[:cut], x[cut:].astype(np.float64), z[cut:]


def _outliers() -> Arrays:
    """A smooth non-linear target of 4 inputs U(-2, 2) (x3 a distractor), ``sin(2 x0)
    cos(x1) + 0.5 tanh(3 x2) + 0.3 x0 x2``, under Gaussian noise of a third of its sd,
    standardised; then 15% of the *training* targets are gross errors (shifted by
    N(0, 4**2)): a mean-square fit chases them, a Huber loss largely ignores them. The
    validation targets keep their noise but have no gross errors. 3000/1000."""
    rng = np.random.RandomState(_SEED)
    n = 4000
    x = rng.uniform(-2.0, 2.0, size=(n, 4))
    f = np.sin(2 * x[:, 0]) * np.cos(x[:, 1]) + 0.5 * np.tanh(3 * x[:, 2]) + 0.3 * x[:, 0] * x[:, 2]
    y = f + rng.normal(0, f.std() / 3, size=n)
    x_tr, y_tr, x_va, y_va = _split(x, y.reshape(-1, 1), classify=False)
    gross = rng.uniform(size=len(y_tr)) < 0.15
    y_tr = y_tr + np.where(gross, rng.normal(0, 4.0, size=len(y_tr)), 0.0)[:, None]
    return x_tr, y_tr, x_va, y_va


def _twotask() -> Arrays:
    """Two targets from one set of inputs, for a multi-task net: 10 inputs N(0, 1) (3
    distractors) give 4 shared latent features (``tanh(x0 + x1)``, ``x2 x3``, ``sin(2 x4)``,
    ``x5 - 0.5 x6**2``); a 4-class label is the argmax of a fixed linear map of them plus
    Gumbel noise (a softmax choice), a real target another linear map of them plus noise
    (sd 0.4), standardised. The target is (label as a float, real value); 3000/1000."""
    rng = np.random.RandomState(_SEED)
    n = 4000
    x = rng.normal(size=(n, 10))
    h = np.stack([np.tanh(x[:, 0] + x[:, 1]), x[:, 2] * x[:, 3], np.sin(2 * x[:, 4]),
                  x[:, 5] - 0.5 * x[:, 6] ** 2], axis=1)
    h = (h - h.mean(axis=0)) / h.std(axis=0)
    logits = 1.5 * h @ rng.normal(size=(4, 4)) + rng.gumbel(size=(n, 4))
    value = h @ rng.normal(size=4) + rng.normal(0, 0.4, size=n)
    y = np.stack([logits.argmax(axis=1), (value - value[:3000].mean()) / value[:3000].std()],
                 axis=1)
    x = (x - x[:3000].mean(axis=0)) / x[:3000].std(axis=0)
    cut = 3000
    return x[:cut], y[:cut], x[cut:], y[cut:]


def _signals() -> Arrays:
    """Noisy 1-D signals to denoise: each of 64 samples on [0, 1) sums a sine (frequency 1-6
    cycles, random phase and amplitude), a step of random height at a random place and a
    Gaussian bump (width 0.02-0.08), scaled to unit sd over the set; the input adds white
    noise of sd 0.5, the target is the clean signal. Sharp steps and smooth waves call for
    both local and wider context (a U-Net's two scales). 3000/1000."""
    rng = np.random.RandomState(_SEED)
    n, length = 4000, 64
    t = np.arange(length) / length
    sine = (rng.uniform(0.5, 1.5, size=(n, 1))
            * np.sin(2 * np.pi * (rng.uniform(1, 6, size=(n, 1)) * t
                                  + rng.uniform(size=(n, 1)))))
    step = rng.normal(0, 1.0, size=(n, 1)) * (t > rng.uniform(0.1, 0.9, size=(n, 1)))
    bump = (rng.normal(0, 1.5, size=(n, 1))
            * np.exp(-0.5 * ((t - rng.uniform(size=(n, 1))) / rng.uniform(0.02, 0.08,
                                                                         size=(n, 1))) ** 2))
    clean = sine + step + bump
    clean = (clean - clean[:3000].mean()) / clean[:3000].std()
    noisy = clean + rng.normal(0, 0.5, size=clean.shape)
    cut = 3000
    return noisy[:cut], clean[:cut], noisy[cut:], clean[cut:]


def _pendulum() -> Arrays:
    """A damped non-linear pendulum, ``theta'' = -g sin(theta) - c theta'``: from its
    parameters (initial angle U(-2.5, 2.5), initial rate U(-1, 1), damping c U(0, 0.5),
    g U(0.5, 2)) and a time t U(0, 6), the angle at t (RK4, step 0.01) plus N(0, 0.05**2).
    Large swings are far from the small-angle sine, so the curve's period and shape depend
    on the parameters non-linearly. Inputs are (t, the 4 parameters), standardised; the
    angle is standardised. 3000/1000."""
    rng = np.random.RandomState(_SEED)
    n = 4000
    params = np.stack([rng.uniform(-2.5, 2.5, n), rng.uniform(-1, 1, n),
                       rng.uniform(0, 0.5, n), rng.uniform(0.5, 2, n)], axis=1)
    t = rng.uniform(0, 6, size=n)
    theta, rate, damping, g = params.T.copy()
    out = np.empty(n)
    dt = 0.01

    def accel(a: np.ndarray, r: np.ndarray) -> np.ndarray:
        return -g * np.sin(a) - damping * r

    steps = np.rint(t / dt).astype(int)
    for i in range(steps.max() + 1):
        out[steps == i] = theta[steps == i]
        k1a, k1r = rate, accel(theta, rate)
        k2a, k2r = rate + 0.5 * dt * k1r, accel(theta + 0.5 * dt * k1a, rate + 0.5 * dt * k1r)
        k3a, k3r = rate + 0.5 * dt * k2r, accel(theta + 0.5 * dt * k2a, rate + 0.5 * dt * k2r)
        k4a, k4r = rate + dt * k3r, accel(theta + dt * k3a, rate + dt * k3r)
        theta = theta + dt / 6 * (k1a + 2 * k2a + 2 * k3a + k4a)
        rate = rate + dt / 6 * (k1r + 2 * k2r + 2 * k3r + k4r)
    y = out + rng.normal(0, 0.05, size=n)
    x = np.concatenate([(steps * dt)[:, None], params], axis=1)
    return _split(x, y.reshape(-1, 1), classify=False)


# the stdlib modules whose docstrings docstrings() reads; the label is the index
DOC_MODULES = ("argparse", "typing", "difflib", "logging", "inspect", "threading",
               "email.message", "unittest.case")
DOC_BUCKETS = 4096  # hashed word unigrams and bigrams


def _docstrings() -> Arrays:
    """Which of 8 standard-library modules (``DOC_MODULES``) a 16-word stretch of docstring
    comes from: each module's classes', functions' and methods' docstrings (its own, in name
    order; the installed Python's), lower-cased words, the first 2400 words. Windows of 16
    words every 8; a module's first 80% of words give the training windows, the rest the
    validation ones (no window straddles the cut). Each window is 31 hashed ids (16 words,
    15 bigrams; crc32 mod ``DOC_BUCKETS``, stable across processes), as floats."""
    import importlib
    import re
    import zlib

    def words(name: str) -> list[str]:
        module, texts, seen = importlib.import_module(name), [], set()

        def walk(obj: Any, depth: int) -> None:
            for key, member in inspect.getmembers(obj):
                if key.startswith("__") or not (inspect.isclass(member)
                                                or inspect.isfunction(member)):
                    continue
                if getattr(member, "__module__", None) != name or id(member) in seen:
                    continue
                seen.add(id(member))
                doc = inspect.getdoc(member)
                if doc:
                    texts.append(doc)
                if inspect.isclass(member) and depth == 0:
                    walk(member, 1)

        walk(module, 0)
        return re.findall(r"[a-z_]+|[0-9]+|[^\sa-z_0-9]", " ".join(texts).lower())[:2400]

    def ids(window: list[str]) -> list[int]:
        grams = window + [f"{a} {b}" for a, b in itertools.pairwise(window)]
        return [zlib.crc32(g.encode()) % DOC_BUCKETS for g in grams]

    parts: list[list[tuple[list[int], int]]] = [[], []]
    for label, name in enumerate(DOC_MODULES):
        text = words(name)
        cut = int(0.8 * len(text))
        for half, (lo, hi) in enumerate([(0, cut), (cut, len(text))]):
            for start in range(lo, hi - 15, 8):
                parts[half].append((ids(text[start:start + 16]), label))
    (x_tr, y_tr), (x_va, y_va) = ((np.array([w for w, _ in p], dtype=np.float64),
                                   np.array([c for _, c in p])) for p in parts)
    return x_tr, y_tr, x_va, y_va


def _curves() -> Arrays:
    """Regression from a context set: each example is a random smooth curve (3 sines,
    frequencies U(0.5, 2.5), amplitudes N(0, 0.6**2)) seen at 16 context points x U(-3, 3)
    with noise sd 0.1, and a query point; the target is the curve at the query (noise sd
    0.1). The input is (16 context x, 16 context y, query x), not standardised (a shared
    scale, so the x values compare); y over the set has unit sd. 3000/1000."""
    rng = np.random.RandomState(_SEED)
    n, points = 4000, 16
    amp = rng.normal(0, 0.6, size=(n, 1, 3))
    freq = rng.uniform(0.5, 2.5, size=(n, 1, 3))
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 3))
    xs = rng.uniform(-3, 3, size=(n, points + 1))
    ys = (amp * np.sin(freq * xs[:, :, None] + phase)).sum(axis=2)
    ys = (ys + rng.normal(0, 0.1, size=ys.shape)) / ys[:3000].std()
    x = np.concatenate([xs[:, :points] / 3, ys[:, :points], xs[:, points:] / 3], axis=1)
    y = ys[:, points:]
    cut = 3000
    return x[:cut], y[:cut], x[cut:], y[cut:]


def _queries() -> Arrays:
    """Ranked lists, for a listwise ranker: each query has 12 candidate documents of 10
    features N(0, 1) (3 distractors); a document's relevance is a hidden score ``x0 + 0.8
    x1 x2 + sin(2 x3) + 0.5 x4**2 - 0.6 |x5| + 0.4 x6`` plus noise N(0, 0.5**2), cut into 5
    grades (0-4) at the score's 50/75/90/97% quantiles over all documents, so a list's best
    document may be graded 1 to 4 and a third of the lists have two or more graded 3-4.
    Input: a query's 12 x 10 features; target: its 12 grades (floats). 3000/1000
    queries."""
    rng = np.random.RandomState(_SEED)
    n, docs = 4000, 12
    x = rng.normal(size=(n, docs, 10))
    score = (x[..., 0] + 0.8 * x[..., 1] * x[..., 2] + np.sin(2 * x[..., 3])
             + 0.5 * x[..., 4] ** 2 - 0.6 * np.abs(x[..., 5]) + 0.4 * x[..., 6]
             + rng.normal(0, 0.5, size=(n, docs)))
    grades = np.digitize(score, np.quantile(score, [0.5, 0.75, 0.9, 0.97])).astype(np.float64)
    cut = 3000
    return x[:cut], grades[:cut], x[cut:], grades[cut:]


def _pattern() -> Arrays:
    """One 64 x 64 grayscale image, for a coordinate network to represent: decaying rings
    ``sin(14 r) exp(-2 r**2)``, a disc with a hard edge, an oblique wave on the left half
    only and a soft curved ridge, plus N(0, 0.05**2) pixel noise. The input is a pixel's
    (x, y) in [-1, 1] (not standardised), the target its intensity (standardised); a
    random 75% of the pixels train, the other 25% validate (filling in unseen pixels
    between seen ones). 3072/1024."""
    rng = np.random.RandomState(_SEED)
    side = 64
    g = np.linspace(-1.0, 1.0, side)
    gx, gy = np.meshgrid(g, g)
    r = np.hypot(gx, gy)
    image = (0.8 * np.sin(14 * r) * np.exp(-2 * r ** 2)
             + 1.0 * (np.hypot(gx - 0.35, gy + 0.3) < 0.3)
             + 0.6 * np.cos(9 * gx + 5 * gy) * (gx < 0)
             + 0.5 * np.tanh(8 * (gy - 0.5 * gx ** 2 - 0.4))
             + rng.normal(0, 0.05, size=(side, side)))
    x = np.stack([gx.ravel(), gy.ravel()], axis=1)
    y = image.reshape(-1, 1)
    order = rng.permutation(side * side)
    train, val = order[:3072], order[3072:]
    mean, std = y[train].mean(), y[train].std()
    return x[train], (y[train] - mean) / std, x[val], (y[val] - mean) / std


def _rules() -> Arrays:
    """A table labelled by a hidden axis-aligned decision tree: 10 inputs N(0, 1) (3
    distractors); a depth-3 tree splits on x0, then x1 or x2, then one of x3-x6 (uneven
    thresholds), and its 8 leaves carry 4 classes (each class at two leaves far apart);
    10% of the *training* labels are flipped. 3000/1000."""
    rng = np.random.RandomState(_SEED)
    n = 4000
    x = rng.normal(size=(n, 10))
    b1 = x[:, 0] > 0.2
    b2 = np.where(b1, x[:, 1] > -0.3, x[:, 2] > 0.5)
    third = np.select([~b1 & ~b2, ~b1 & b2, b1 & ~b2],
                      [x[:, 3] > -0.4, x[:, 4] > 0.3, x[:, 5] > 0.0], x[:, 6] > -0.6)
    leaf = 4 * b1 + 2 * b2 + third
    y = np.array([0, 1, 2, 3, 1, 3, 0, 2])[leaf]
    x_tr, y_tr, x_va, y_va = _split(x, y, classify=True)
    return x_tr, _flip(y_tr, 0.1, 4), x_va, y_va


def _memory() -> Arrays:
    """A sequence-to-sequence target with memories on three time scales: white noise
    u_t N(0, 1) of length 64 feeds three leaky integrators ``m_t = d m_{t-1} + sqrt(1 -
    d**2) u_t`` (d = 0.5, 0.9, 0.98: timescales of 1.4, 10 and 50 steps, from rest), and
    the target at every step is ``tanh(m_fast - 0.8 m_mid + 0.7 m_slow + 0.5 m_mid
    m_slow)`` plus N(0, 0.1**2), standardised; the input is u. A linear recurrence with
    slow decays and a non-linear read-out fits it; a short window cannot. 2000/1000."""
    rng = np.random.RandomState(_SEED)
    n, length = 3000, 64
    u = rng.normal(size=(n, length))
    memories = []
    for d in (0.5, 0.9, 0.98):
        m, state = np.empty_like(u), np.zeros(n)
        for t in range(length):
            state = d * state + np.sqrt(1 - d ** 2) * u[:, t]
            m[:, t] = state
        memories.append(m)
    fast, mid, slow = memories
    y = np.tanh(fast - 0.8 * mid + 0.7 * slow + 0.5 * mid * slow)
    y = y + rng.normal(0, 0.1, size=y.shape)
    y = (y - y[:2000].mean()) / y[:2000].std()
    cut = 2000
    return u[:cut], y[:cut], u[cut:], y[cut:]


def _bvp() -> Arrays:
    """Collocation points of a parametric non-linear boundary value problem, for a
    physics-informed net: ``u''(x) - u(x)**3 = f(x)`` on [-1, 1] with ``u(-1) = u(1) = 0``,
    its forcing ``f(x) = a sin(w x) + 3 exp(-(x - c)**2 / (2 * 0.15**2))`` (a wave and a
    narrow bump) of parameters a U(-2, 2), w U(1, 6), c U(-0.6, 0.6). Each row is a point
    x U(-1, 1) (not standardised: the equation is in x) beside the parameters (scaled to
    [-1, 1]); the target is the forcing there, measured with noise N(0, 0.3**2). No value of
    u is ever given: a net learns the solutions from the equation's residual alone.
    3000/1000."""
    rng = np.random.RandomState(_SEED)
    n = 4000
    x = rng.uniform(-1, 1, n)
    a, w, c = rng.uniform(-2, 2, n), rng.uniform(1, 6, n), rng.uniform(-0.6, 0.6, n)
    f = a * np.sin(w * x) + 3 * np.exp(-(x - c) ** 2 / (2 * 0.15 ** 2))
    f = f + rng.normal(0, 0.3, n)
    inputs = np.stack([x, a / 2, (w - 3.5) / 2.5, c / 0.6], axis=1)
    cut = 3000
    return inputs[:cut], f[:cut, None], inputs[cut:], f[cut:, None]


def _tones() -> Arrays:
    """Unsegmented sequences, for an alignment-free (CTC) reader: each example is a signal
    of 96 samples carrying 2-5 symbols from an alphabet of 4, each a sine burst of its own
    period (2.5, 4, 6 or 9 samples; random phase, amplitude U(0.6, 1.4)) lasting 8-13
    samples, with 3-6 samples of silence between bursts and the whole at a random offset,
    plus white noise N(0, 0.3**2). The target is the symbols in order (1-4, padded with 0
    to 5), never where they are. 3000/1000."""
    rng = np.random.RandomState(_SEED)
    n, frames, most, periods = 4000, 96, 5, (2.5, 4.0, 6.0, 9.0)
    x = rng.normal(0, 0.3, size=(n, frames))
    y = np.zeros((n, most), dtype=np.int64)
    for i in range(n):
        count = rng.randint(2, most + 1)
        symbols = rng.randint(1, len(periods) + 1, size=count)
        lengths = rng.randint(8, 14, size=count)
        gaps = rng.randint(3, 7, size=count - 1)
        start = rng.randint(0, frames - lengths.sum() - gaps.sum() + 1)
        for j, (symbol, length) in enumerate(zip(symbols, lengths, strict=True)):
            t = np.arange(length)
            phase = rng.uniform(0, 2 * np.pi)
            amplitude = rng.uniform(0.6, 1.4)
            x[i, start:start + length] += amplitude * np.sin(
                2 * np.pi * t / periods[symbol - 1] + phase)
            start += length + (gaps[j] if j < count - 1 else 0)
        y[i, :count] = symbols
    cut = 3000
    return x[:cut], y[:cut], x[cut:], y[cut:]


def _bayesnet() -> Arrays:
    """Binary vectors from a hidden Bayesian network, for a density estimator: 24 binary
    variables drawn in a hidden order, each a Bernoulli whose logit is a bias N(0, 1) plus
    weights N(0, 5**2) on 1-4 earlier variables (as +-1), on the product of its first two
    parents (where it has two) and on that of its first three (where it has three: a
    parity); the columns are then shuffled, so the order a model reads them in is not the
    order they were made in. The vectors' entropy is about 4.9 nats (against 16.6 for
    uniform bits). Input and target are the same 0/1 vector. 2000/1000."""
    rng = np.random.RandomState(_SEED)
    n, d = 3000, 24
    spins = np.zeros((n, d))
    for i in range(d):
        logit = np.full(n, rng.normal(0, 1))
        if i:
            parents = rng.choice(i, size=min(i, rng.randint(1, 5)), replace=False)
            logit = logit + spins[:, parents] @ rng.normal(0, 5, size=len(parents))
            for order in (2, 3):
                if len(parents) >= order:
                    logit = logit + rng.normal(0, 5) * spins[:, parents[:order]].prod(axis=1)
        spins[:, i] = np.where(rng.uniform(size=n) < 1 / (1 + np.exp(-logit)), 1.0, -1.0)
    bits = (spins[:, rng.permutation(d)] + 1) / 2
    cut = 2000
    return bits[:cut], bits[:cut], bits[cut:], bits[cut:]


def _boundaries() -> Arrays:
    """A family of 2-D classification problems, for a hypernetwork: each row is a point
    (x, y) U(-1.5, 1.5)**2 and the four parameters of its problem's boundary, a rotation
    theta U(0, pi), a wiggle frequency w U(1, 4), amplitude a U(0, 1) and offset b
    U(-0.5, 0.5); its label is whether the point, rotated by theta to (u, v), has ``u > a
    sin(w v) + b``. Parameters scaled to [-1, 1]; 5% of the *training* labels flipped.
    4500/1500."""
    rng = np.random.RandomState(_SEED)
    n = 6000
    point = rng.uniform(-1.5, 1.5, size=(n, 2))
    theta, w = rng.uniform(0, np.pi, n), rng.uniform(1, 4, n)
    a, b = rng.uniform(0, 1, n), rng.uniform(-0.5, 0.5, n)
    u = point[:, 0] * np.cos(theta) + point[:, 1] * np.sin(theta)
    v = -point[:, 0] * np.sin(theta) + point[:, 1] * np.cos(theta)
    y = (u > a * np.sin(w * v) + b).astype(np.float64)
    x = np.concatenate([point / 1.5, np.stack([theta / (np.pi / 2) - 1, (w - 2.5) / 1.5,
                                               2 * a - 1, 2 * b], axis=1)], axis=1)
    cut = 4500
    y_tr = y[:cut].copy()
    flip = np.random.RandomState(_SEED + 1).choice(cut, size=round(0.05 * cut), replace=False)
    y_tr[flip] = 1 - y_tr[flip]
    return x[:cut], y_tr, x[cut:], y[cut:]


def _digits_ae() -> Arrays:
    x_tr, _, x_va, _ = _bundled("digits")
    return x_tr, x_tr, x_va, x_va


def _cancer_ae() -> Arrays:
    x_tr, _, x_va, _ = _bundled("breast_cancer")
    return x_tr, x_tr, x_va, x_va


_BUILDERS: dict[str, Callable[[], Arrays]] = {
    "blobs": _blobs, "breast_cancer": lambda: _bundled("breast_cancer"),
    "cancer_ae": _cancer_ae, "circles": _circles, "classif4": _classif4,
    "diabetes": lambda: _bundled("diabetes"), "digits": lambda: _bundled("digits"),
    "digits_ae": _digits_ae, "digits_rows": _digits_rows, "friedman": _friedman,
    "friedman3": _friedman3, "hastie": _hastie, "illcond": _illcond, "quantiles": _quantiles,
    "swissroll": _swissroll, "multilabel": _multilabel, "friedman2": _friedman2,
    "scurve": _scurve, "sparse_linear": _sparse_linear, "parity": _parity, "poly": _poly,
    "noisy_wide": _noisy_wide, "spirals": _spirals,
    "imbalanced": _imbalanced, "iris2": _iris2, "logmap": _logmap, "moons": _moons,
    "sinc": _sinc, "sines": _sines, "wine_noisy": _wine_noisy,
    "waveforms": _waveforms, "majority": _majority, "zipf8": _zipf8,
    "ratings": _ratings, "counts": _counts, "lowrank": _lowrank, "garch": _garch,
    "tabular": _tabular, "hetero": _hetero, "digit_pairs": _digit_pairs,
    "graphs": _graphs, "regimes": _regimes, "pinwheel": _pinwheel, "clicks": _clicks,
    "digits_unit": _digits_unit, "clouds": _clouds, "censored": _censored, "grades": _grades,
    "inverse": _inverse, "grammar": _grammar, "outliers": _outliers, "twotask": _twotask,
    "signals": _signals, "pendulum": _pendulum, "docstrings": _docstrings, "curves": _curves,
    "queries": _queries, "pattern": _pattern, "rules": _rules, "memory": _memory,
    "bvp": _bvp, "tones": _tones, "bayesnet": _bayesnet, "boundaries": _boundaries,
}


@functools.cache
def arrays(name: str) -> Arrays:
    """``(x_train, y_train, x_val, y_val)`` of the zoo data set ``name`` (built once)."""
    return _BUILDERS[name]()


def tensors(name: str, *, target: str = "class", image: bool = False) -> tuple[Any, Any]:
    """Train and val ``TensorDataset`` s of ``name``: float32 inputs; long or float targets.

    Args:
        name: a key of the data builders (``arrays``).
        target: ``"class"`` (long labels), ``"binary"`` or ``"real"`` (float, column).
        image: reshape 64 features to 1x8x8 (digits).
    """
    torch = require("torch", extra="torch")

    def wrap(x: np.ndarray, y: np.ndarray) -> Any:
        xt = torch.tensor(x, dtype=torch.float32)
        if image:
            xt = xt.reshape(-1, 1, 8, 8)
        if target == "class":
            yt = torch.tensor(y, dtype=torch.long)
        else:
            yt = torch.tensor(y, dtype=torch.float32)
            yt = yt.reshape(len(yt), -1) if yt.dim() == 1 else yt
        return torch.utils.data.TensorDataset(xt, yt)

    x_tr, y_tr, x_va, y_va = arrays(name)
    return wrap(x_tr, y_tr), wrap(x_va, y_va)


# Printable ASCII and newline; anything else maps to one extra token.
VOCAB = "\n" + "".join(chr(c) for c in range(32, 127))


@functools.cache
def _text(module: str, chars: int) -> str:
    import importlib

    return inspect.getsource(importlib.import_module(module))[:chars]


def text_windows(module: str, *, context: int, chars: int = 60_000) -> tuple[Any, Any]:
    """Next-character windows over the source of stdlib ``module``: train (first 90%), val.

    Each item is ``(x, y)`` with ``x`` the token ids of ``context`` characters and ``y`` the
    same window shifted by one. Windows do not overlap; the val text follows the train text.
    """
    torch = require("torch", extra="torch")
    index = {c: i for i, c in enumerate(VOCAB)}
    ids = torch.tensor([index.get(c, len(VOCAB)) for c in _text(module, chars)])
    cut = int(0.9 * len(ids))

    def windows(seq: Any) -> Any:
        n = (len(seq) - 1) // context
        x = seq[:n * context].reshape(n, context)
        y = seq[1:n * context + 1].reshape(n, context)
        return torch.utils.data.TensorDataset(x, y)

    return windows(ids[:cut]), windows(ids[cut:])
