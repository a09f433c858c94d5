"""The task zoo: 151 small, varied task/schedule pairs, split by family into dev, test and
twelve holdouts.

Each pair is a complete :class:`lrkit.Task` (model, optimizer, loss, data, batch size,
budget and schedule shape) that trains in about a second on one CPU thread, on data that
ships with scikit-learn, is generated, or is Python standard-library source text. Run one
with ``lrkit auto --task zoo:NAME`` or ``load_task("zoo:NAME")``.

**Families and the split.** A family is one model on one data set; its pairs differ only
in optimizer, schedule, batch size, budget or weight decay. The split is by family, so no
model/data combination is on both sides. It was fixed by hand *before any pair was run*, as
a balanced assignment: the families were grouped by kind (linear models, MLP classifiers,
MSE regression nets, conv nets, recurrent nets, language models, autoencoders) and each
kind was dealt out so both halves get some of it (e.g. the BatchNorm CNN is dev, the plain
CNN and the residual net are test; the LSTM and the char-GRU LM are dev, the GRU
classifier and the transformer LM are test). Every knob of a method is fitted on ``dev``;
``test`` is scored once a design is frozen. ``benchmarks/zoo/split.json`` records the same
split, and a test keeps the two in agreement.

**Holdout.** By late 2026 the test half had scored several frozen designs, and its
failures had been read: it was no longer unseen. Five more families (``holdout``) were
added on 2026-12-05, chosen for kinds the other halves cover thinly (a sequence model over
image rows, MSE regression nets, a residual net on a hard synthetic boundary), before any
method had run on them. They are scored, never read for ideas. Once holdout's per-pair
results had been read, four more (``holdout2``: a multi-label MLP with a binary
cross-entropy, a residual net on Friedman #2, a deep narrow tanh net on an S-curve, a
sparse linear regression) were added the same way, and after those four more
(``holdout3``: 3-bit parity under 5 distractors, a linear model on 55 degree-1..3 monomials,
a wide dropout net under 20% label noise, two spirals under a deep tanh net). Once holdout3
had been scored, four more (``holdout4``: a 1-D BatchNorm CNN on noisy wave shapes,
a bidirectional attention block counting tokens, a BatchNorm MLP on Zipf-sized classes, a
matrix factorisation of noisy low-rank ratings), and once holdout4 had been scored, four
more (``holdout5``: a patch transformer on the digits, a Poisson-likelihood net on
overdispersed counts, a deep linear net on a rank-3 map, a dilated causal conv forecaster
stating its own variance under a Gaussian likelihood), and once holdout5 had been scored,
four more (``holdout6``: a 2-D conv autoencoder on the digits, a feature-token transformer
on a table, a quantile-regression net under the pinball loss, a Siamese embedding net under
a contrastive loss; half its pairs use RAdam), and once holdout6 had been scored, four more
(``holdout7``: a message-passing graph net telling graph generators apart, a mixture of
experts under a softmax gate, a normalising flow fitted by likelihood to 2-D points, a
factorisation machine on click logs), and once holdout7 had been scored, four more
(``holdout8``: a variational autoencoder on the digits under the ELBO, a DeepSets net
reading a correlation off a point set, a Cox proportional-hazards net on censored survival
times, a cumulative-logit ordinal regressor; Adadelta and ASGD make their first
appearance), and while holdout8 was still unscored, four more as a spare (``holdout9``: a
mixture density network on a multi-valued inverse problem, a bidirectional GRU tagging a
toy grammar's words, random Fourier features under a Huber loss on targets with gross
errors, a two-headed multi-task net; AMSGrad, centred RMSprop and damped momentum make
their first appearance), and, with holdout9 scored, four more as a spare kept unscored
(``holdout10``: a 1-D U-Net denoising generated signals, a FiLM-conditioned net giving a
damped pendulum's angle from its parameters, a hashed bag of n-grams telling stdlib
modules' docstrings apart, an attention-pooling regressor over a curve's context points;
half its pairs use RAdam), and, with holdout10 scored, four more as a spare kept unscored
(``holdout11``: a listwise ranker under the ListNet loss, a sinusoidal coordinate network
(SIREN) filling in an image's held-out pixels, a soft decision tree on a table labelled by
a hidden tree, a diagonal linear state-space model reading memories at three timescales),
and, with holdout11 scored, four more as a spare kept unscored (``holdout12``: a
physics-informed net solving a parametric boundary value problem from its residual alone,
a conv net reading unsegmented symbols under the CTC loss, a masked autoregressive density
estimator (MADE) of a hidden Bayesian network's binary vectors, a hypernetwork generating
a small classifier's weights from its problem's parameters).

>>> len(ZOO) >= 40, ZOO["iris-logreg-sgd-const"].split
(True, 'dev')
>>> {p.family for p in zoo_pairs("dev")} & {p.family for p in zoo_pairs("test")}
set()
>>> len(zoo_pairs("holdout")), len(zoo_pairs("holdout2")), len(zoo_pairs("holdout3"))
(10, 8, 8)
>>> len(zoo_pairs("holdout4")), len(zoo_pairs("holdout5")), len(zoo_pairs("holdout6"))
(8, 8, 8)
>>> len(zoo_pairs("holdout7")), len(zoo_pairs("holdout8")), len(zoo_pairs("holdout9"))
(8, 8, 8)
>>> len(zoo_pairs("holdout10")), len(zoo_pairs("holdout11")), len(zoo_pairs("holdout12"))
(8, 8, 8)
>>> len(ZOO)
151
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, get_args

from lrkit.errors import ConfigError

if TYPE_CHECKING:
    from lrkit.tasks.task import Task

__all__ = ["FAMILY_SPLIT", "SPLITS", "ZOO", "ZooPair", "zoo_pairs"]

Split = Literal["dev", "test", "holdout", "holdout2", "holdout3", "holdout4", "holdout5",
                "holdout6", "holdout7", "holdout8", "holdout9", "holdout10", "holdout11",
                "holdout12"]
SPLITS: tuple[Split, ...] = get_args(Split)  # in the order they were added


@dataclasses.dataclass(frozen=True)
class ZooPair:
    """One task/schedule pair of the zoo.

    Attributes:
        name: the pair's name (``load_task(f"zoo:{name}")``).
        family: the model/data family; the dev/test split is by family.
        split: ``"dev"`` (fit knobs here), ``"test"`` (score only) or ``"holdout"`` /
            ``"holdout2"`` / ... / ``"holdout12"`` (score only; each added once the split
            before it had been read).
        make: builds a fresh Task (data are built once per process and shared).
        description: one line: model, data, optimizer, schedule, batch size, updates.
    """

    name: str
    family: str
    split: Split
    make: Callable[[], Task]
    description: str


# family -> (split, what it is). Fixed once; see the module docstring for how it was chosen.
FAMILY_SPLIT: dict[str, tuple[Split, str]] = {
    "iris-logreg": ("dev", "softmax regression on iris' two sepal features (112/38)"),
    "diabetes-linreg": ("dev", "linear regression, MSE, on diabetes (331/111)"),
    "digits-mlp": ("dev", "MLP 64-128-128-10 with dropout 0.2 on digits (1347/450)"),
    "moons-mlp": ("dev", "tanh MLP 2-32-32-2 on two moons, 10% label noise (1125/375)"),
    "blobs-widemlp": ("dev", "wide MLP 16-256-8 on 8 overlapping Gaussian blobs (6000/2000)"),
    "classif-resmlp": ("dev", "residual LayerNorm MLP on 4-class make_classification, "
                              "10% label noise (3000/1000)"),
    "friedman-mlp": ("dev", "MLP 10-64-64-1, MSE, on Friedman #1 with noise (1500/500)"),
    "digits-cnn-bn": ("dev", "2-conv CNN with BatchNorm on 8x8 digits (1347/450)"),
    "logmap-lstm": ("dev", "LSTM (24 units) predicting the next noisy value of a chaotic "
                           "logistic map from 20, MSE (2000/400)"),
    "text-gru-lm": ("dev", "char-level GRU LM on the source of argparse, context 32"),
    "digits-ae": ("dev", "tanh MLP autoencoder 64-32-8-32-64, MSE, on digits"),
    "wine-logreg": ("test", "softmax regression on wine, 15% training label noise (133/45)"),
    "illcond-linreg": ("test", "linear regression, MSE, on an ill-conditioned make_regression "
                               "(effective rank 8) (1500/500)"),
    "imbalanced-mlp": ("test", "MLP 20-64-64-2 with dropout 0.1 on a 90/10 imbalanced "
                               "make_classification (2250/750)"),
    "circles-deepmlp": ("test", "deep narrow ReLU MLP (6 x 32) on two circles (1500/500)"),
    "sinc-mlp": ("test", "tanh MLP 1-64-64-1, MSE, on a noisy 1-D sinc+sine curve (1500/500)"),
    "digits-cnn": ("test", "2-conv CNN without BatchNorm, dropout 0.2, on 8x8 digits"),
    "digits-resnet": ("test", "residual conv net (2 BatchNorm blocks, 12 channels) on digits"),
    "sines-gru": ("test", "GRU (24 units) classifying the frequency of noisy sinusoids, "
                          "length 24 (2000/400)"),
    "text-transformer": ("test", "char-level causal transformer LM (2 layers, width 32) on the "
                                 "source of difflib, context 32"),
    "cancer-dae": ("test", "denoising tanh autoencoder 30-16-4-16-30, MSE, on breast-cancer "
                           "features"),
    "quantiles-mlp": ("holdout", "ReLU MLP 6-64-64-3 on 3 nested Gaussian quantile shells "
                                 "(1500/500)"),
    "hastie-resmlp": ("holdout", "residual LayerNorm MLP on Hastie's 10-D chi-square "
                                 "boundary (1500/500)"),
    "friedman3-tanhmlp": ("holdout", "tanh MLP 4-32-32-1, MSE, on Friedman #3 (1500/500)"),
    "swissroll-mlp": ("holdout", "ReLU MLP 3-64-64-1, MSE: a point's place along a noisy "
                                 "swiss roll (1500/500)"),
    "digits-lstm": ("holdout", "LSTM (32 units) reading the 8x8 digits row by row "
                               "(1347/450)"),
    "multilabel-mlp": ("holdout2", "MLP 20-64-5 with dropout 0.1, binary cross-entropy, on "
                                   "5-label make_multilabel_classification (1500/500)"),
    "friedman2-resmlp": ("holdout2", "residual LayerNorm MLP, MSE, on Friedman #2 with "
                                     "noise (1500/500)"),
    "scurve-deepmlp": ("holdout2", "deep narrow tanh MLP (5 x 32), MSE: a point's place "
                                   "along a noisy S-curve (1500/500)"),
    "sparse-linreg": ("holdout2", "linear regression, MSE, on a sparse noisy linear target "
                                  "(4 of 10 features) (1500/500)"),
    "parity-mlp": ("holdout3", "ReLU MLP 8-64-64-2 on the parity of 3 of 8 noisy +-1 "
                               "inputs (1500/500)"),
    "poly-linreg": ("holdout3", "linear regression, MSE, on the 55 degree-1..3 monomials of "
                                "5 inputs (1500/500)"),
    "noisy-widemlp": ("holdout3", "wide MLP 50-512-2 with dropout 0.3 on make_classification, "
                                  "20% training label noise (1500/500)"),
    "spirals-deepmlp": ("holdout3", "deep tanh MLP (4 x 64) on two noisy spirals (1500/500)"),
    "waveforms-cnn1d": ("holdout4", "1-D CNN (2 conv layers with BatchNorm, global average "
                                    "pooling) telling 4 noisy wave shapes apart (2000/400)"),
    "majority-attn": ("holdout4", "one bidirectional transformer encoder layer (width 32, "
                                  "dropout 0.1), mean-pooled: the most frequent of 10 "
                                  "tokens in 16 (2000/400)"),
    "zipf-bnmlp": ("holdout4", "BatchNorm MLP 24-128-128-8 on 8-class make_classification "
                               "with Zipf-like class sizes (3000/1000)"),
    "ratings-mf": ("holdout4", "matrix factorisation (rank-16 user/item embeddings and "
                               "biases), MSE, on noisy rank-3 ratings (6000/2000)"),
    "digits-vit": ("holdout5", "patch transformer (ViT-like: 2x2 patches, class token, 2 "
                               "pre-LN blocks of width 32) on 8x8 digits, cross-entropy with "
                               "label smoothing 0.1 (1347/450)"),
    "counts-poisson": ("holdout5", "GELU MLP 8-64-64-1 predicting a log-rate, Poisson "
                                   "negative log-likelihood, on overdispersed counts "
                                   "(1875/625)"),
    "lowrank-deeplinear": ("holdout5", "deep linear net (5 bias-free linear layers, width "
                                       "32, no activation), MSE, on a noisy rank-3 map "
                                       "96 -> 8 (512/768)"),
    "garch-tcn": ("holdout5", "dilated causal 1-D conv forecaster (WaveNet-style gated "
                              "residual blocks, dilations 1-8) of a nonlinear series with "
                              "GARCH volatility, Gaussian NLL with a predicted variance "
                              "(2000/1000)"),
    "digits-convae": ("holdout6", "2-D conv autoencoder (two stride-2 convs to a 16-value "
                                  "code, two transposed convs back), MSE, on 8x8 digits "
                                  "(1347/450)"),
    "tabular-ftt": ("holdout6", "feature-token transformer (a token per column, class token, "
                                "1 pre-LN block of width 32) on a 3-class table of mixed "
                                "column kinds (1500/500)"),
    "hetero-quantile": ("holdout6", "SiLU MLP 6-64-64-3 predicting the 10/50/90% quantiles, "
                                    "pinball loss, on a wiggly mean under small "
                                    "heteroscedastic skewed noise (3000/1000)"),
    "digits-siamese": ("holdout6", "Siamese ReLU MLP 64-128-32 (shared weights) embedding "
                                   "pairs of digits, contrastive loss on their distance "
                                   "(2400/900 pairs)"),
    "graphs-gnn": ("holdout7", "message-passing graph net (3 residual LayerNorm "
                               "mean-aggregation layers of width 32, mean+max pooling) "
                               "telling 3 generators of 12-node graphs apart (2400/600 "
                               "graphs)"),
    "regimes-moe": ("holdout7", "mixture of 4 ReLU-MLP experts (8-32-1) under a softmax gate, "
                                "MSE, on a target whose rule changes across 4 regions "
                                "(3000/1000)"),
    "pinwheel-flow": ("holdout7", "normalising flow (4 affine coupling layers, tanh MLPs "
                                  "1-32-32-2), negative log-likelihood of 2-D points on a "
                                  "5-armed pinwheel (3000/1000)"),
    "clicks-fm": ("holdout7", "factorisation machine (rank 8) over 6 categorical fields, "
                              "binary cross-entropy, on generated click logs (6000/2000)"),
    "digits-vae": ("holdout8", "variational autoencoder (ReLU MLPs 64-128-16 and 8-128-64, "
                               "Bernoulli decoder), negative ELBO, on 8x8 digit intensities "
                               "(1347/450)"),
    "clouds-deepsets": ("holdout8", "DeepSets net (per-point ReLU MLP 2-64-64, sum pooling, "
                                    "ReLU MLP 64-64-1), MSE: the correlation behind a set "
                                    "of 8-32 noisy 2-D points (3000/1000 sets)"),
    "censored-cox": ("holdout8", "SELU MLP 16-64-64-1 predicting a log-risk, negative Cox "
                                 "partial likelihood, on right-censored survival times, 10 "
                                 "of 16 inputs distractors (1000/1000)"),
    "grades-ordinal": ("holdout8", "cumulative-logit ordinal regressor (ReLU MLP 10-64-64-1 "
                                   "score, 6 learned cut-points) on 7 uneven grades "
                                   "(3000/1000)"),
    "inverse-mdn": ("holdout9", "mixture density network (tanh MLP 1-64-64, 5 Gaussian "
                                "components), negative log-likelihood: y from x = y + "
                                "0.3 sin(2 pi y) + noise, up to 3 values of y per x "
                                "(3000/1000)"),
    "grammar-bigru": ("holdout9", "bidirectional GRU tagger (embedding 16, 32 units each "
                                  "way), per-token cross-entropy: 7 tags of 16-word "
                                  "sentences from a toy stochastic grammar, ambiguous "
                                  "words (2000/500)"),
    "outliers-rff": ("holdout9", "512 fixed random Fourier features under a trainable "
                                 "linear head, Huber loss, on a non-linear target of 4 "
                                 "inputs, 15% gross errors in training (3000/1000)"),
    "twotask-mtl": ("holdout9", "multi-task net (shared ReLU trunk 10-64-64, heads 64-32-4 "
                                "and 64-32-1), cross-entropy + MSE summed, on a label and a "
                                "value from shared latent features (3000/1000)"),
    "signals-unet1d": ("holdout10", "1-D U-Net denoiser (two scales, a skip connection, 8/16 "
                                    "channels), MSE, on noisy generated signals of length 64 "
                                    "(3000/1000)"),
    "pendulum-film": ("holdout10", "FiLM-conditioned tanh MLP (3 x 64 on the time, scales and "
                                   "shifts from the parameters), MSE: a damped non-linear "
                                   "pendulum's angle at a time (3000/1000)"),
    "docstrings-bag": ("holdout10", "hashed bag of words and bigrams (EmbeddingBag 4096 x 32, "
                                    "linear head): which of 8 stdlib modules a 16-word "
                                    "stretch of docstring comes from (1912/472)"),
    "curves-attnpool": ("holdout10", "attention-pooling regressor (a learned kernel smoother "
                                     "over 16 context points, width 32): a random curve's "
                                     "value at a query point (3000/1000)"),
    "queries-listnet": ("holdout11", "listwise ranker (one ReLU MLP 10-64-64-1 scoring each "
                                     "of a query's 12 documents), ListNet top-one loss as a "
                                     "KL divergence, on 5 relevance grades (3000/1000 "
                                     "queries)"),
    "pattern-siren": ("holdout11", "sinusoidal coordinate net (SIREN: 3 x 64 sine layers, "
                                   "w0 30), MSE: a 64 x 64 image's intensity at held-out "
                                   "pixels from its (x, y) (3072/1024 pixels)"),
    "rules-softtree": ("holdout11", "soft decision tree (depth 4: 15 sigmoid gates on the "
                                    "inputs, 16 leaf class distributions), log-likelihood, "
                                    "on 4 classes from a hidden axis-aligned tree, 10% "
                                    "training label noise (3000/1000)"),
    "memory-ssm": ("holdout11", "diagonal linear state-space model (S4D-like: a residual "
                                "block of 32 channels of 8 real modes, each a causal "
                                "convolution, GELU, a channel mix), MSE: a non-linear "
                                "read-out of leaky memories of white noise at 3 timescales, "
                                "every step (2000/1000)"),
    "bvp-pinn": ("holdout12", "physics-informed tanh MLP (4-64-64-64-1, u = (1 - x^2) N(x, "
                              "params)), MSE of the residual of u'' - u^3 = f against a "
                              "noisy forcing, on a parametric boundary value problem, no "
                              "value of u given (3000/1000 points)"),
    "tones-ctc": ("holdout12", "1-D BatchNorm conv net (3 layers of 32, stride 2, dilations "
                               "1-4) reading raw signals, CTC negative log-likelihood: 2-5 of "
                               "4 noisy sine-burst symbols, unsegmented (3000/1000)"),
    "bayesnet-made": ("holdout12", "masked autoregressive density estimator (MADE: ReLU "
                                   "24-128-128-24, masked), negative log-likelihood of 24 "
                                   "binary variables from a hidden Bayesian network "
                                   "(2000/1000)"),
    "boundaries-hypernet": ("holdout12", "hypernetwork (a ReLU MLP 4-64-64 generating all 337 "
                                         "weights of a tanh net 2-16-16-1) classifying 2-D "
                                         "points against a boundary from its 4 parameters, "
                                         "5% training label noise (4500/1500)"),
}

# (family, optimizer, schedule, batch size, epochs, weight decay); the name is
# family-optimizer-schedule. Optimizer and schedule keys: lrkit.tasks.zoo.families.
_ROWS: list[tuple[str, str, str, int, int, float]] = [
    ("iris-logreg", "sgd", "const", 8, 100, 0.0),
    ("iris-logreg", "adagrad", "lin", 16, 60, 0.0),
    ("diabetes-linreg", "nest", "const", 16, 15, 0.0),
    ("diabetes-linreg", "rmsprop", "cos", 32, 30, 0.0),
    ("digits-mlp", "adam", "const", 32, 4, 0.0),
    ("digits-mlp", "mom", "1cyc", 64, 8, 0.0),
    ("digits-mlp", "adamw", "wcos", 128, 15, 0.05),
    ("moons-mlp", "nest", "cos", 32, 8, 0.0),
    ("moons-mlp", "adagrad", "const", 16, 4, 0.0),
    ("moons-mlp", "adamw", "1cyc", 256, 60, 0.01),
    ("blobs-widemlp", "sgd", "lin", 512, 12, 0.0),
    ("blobs-widemlp", "adam", "wcos", 512, 12, 0.0),
    ("blobs-widemlp", "mom", "step", 64, 3, 5e-4),
    ("classif-resmlp", "adamw", "wcos", 128, 10, 0.01),
    ("classif-resmlp", "mom", "lin", 64, 5, 0.0),
    ("friedman-mlp", "adam", "cos", 32, 6, 0.0),
    ("friedman-mlp", "mom", "step", 16, 3, 0.0),
    ("friedman-mlp", "rmsprop", "wcos", 64, 12, 0.0),
    ("digits-cnn-bn", "mom", "cos", 32, 3, 0.0),
    ("digits-cnn-bn", "adam", "const", 64, 5, 0.0),
    ("digits-cnn-bn", "nest", "wsd", 16, 2, 5e-4),
    ("logmap-lstm", "adam", "const", 32, 5, 0.0),
    ("logmap-lstm", "rmsprop", "cos", 64, 8, 0.0),
    ("text-gru-lm", "adam", "wcos", 32, 4, 0.0),
    ("text-gru-lm", "adamw", "lin", 64, 6, 0.1),
    ("digits-ae", "adam", "const", 32, 4, 0.0),
    ("digits-ae", "mom", "cos", 16, 3, 0.0),
    ("digits-ae", "radam", "wsd", 64, 10, 0.0),
    ("wine-logreg", "sgd", "step", 8, 30, 0.0),
    ("wine-logreg", "adam", "cos", 16, 40, 0.0),
    ("wine-logreg", "nadam", "const", 32, 50, 0.0),
    ("illcond-linreg", "mom", "wcos", 64, 10, 0.0),
    ("illcond-linreg", "adamw", "wsd", 128, 20, 0.01),
    ("illcond-linreg", "sgd", "const", 8, 27, 0.0),
    ("imbalanced-mlp", "adam", "cos", 64, 6, 0.0),
    ("imbalanced-mlp", "sgd", "const", 16, 2, 0.0),
    ("imbalanced-mlp", "rmsprop", "step", 128, 15, 0.0),
    ("circles-deepmlp", "mom", "const", 64, 12, 0.0),
    ("circles-deepmlp", "adam", "wsd", 32, 6, 0.0),
    ("sinc-mlp", "mom", "cos", 32, 8, 0.0),
    ("sinc-mlp", "adamax", "const", 64, 12, 0.0),
    ("sinc-mlp", "adagrad", "1cyc", 16, 3, 0.0),
    ("digits-cnn", "mom", "step", 32, 3, 0.0),
    ("digits-cnn", "adamw", "wcos", 64, 6, 0.01),
    ("digits-cnn", "adagrad", "const", 32, 3, 0.0),
    ("digits-resnet", "nest", "wcos", 64, 5, 5e-4),
    ("digits-resnet", "adamw", "1cyc", 128, 10, 0.01),
    ("sines-gru", "adam", "cos", 32, 4, 0.0),
    ("sines-gru", "nest", "1cyc", 16, 2, 0.0),
    ("text-transformer", "adamw", "wcos", 32, 4, 0.01),
    ("text-transformer", "adam", "const", 16, 2, 0.0),
    ("cancer-dae", "adam", "lin", 16, 10, 0.0),
    ("cancer-dae", "rmsprop", "cos", 32, 20, 0.0),
    ("quantiles-mlp", "adam", "wsd", 32, 8, 0.0),
    ("quantiles-mlp", "mom", "cos", 64, 10, 0.0),
    ("hastie-resmlp", "rmsprop", "const", 64, 6, 0.0),
    ("hastie-resmlp", "nest", "wcos", 32, 4, 5e-4),
    ("friedman3-tanhmlp", "adagrad", "cos", 16, 4, 0.0),
    ("friedman3-tanhmlp", "adamw", "1cyc", 32, 10, 0.01),
    ("swissroll-mlp", "nadam", "const", 32, 6, 0.0),
    ("swissroll-mlp", "sgd", "lin", 16, 5, 0.0),
    ("digits-lstm", "adam", "cos", 32, 4, 0.0),
    ("digits-lstm", "mom", "step", 64, 6, 0.0),
    ("multilabel-mlp", "adam", "cos", 32, 8, 0.0),
    ("multilabel-mlp", "sgd", "step", 16, 6, 0.0),
    ("friedman2-resmlp", "rmsprop", "wcos", 64, 12, 0.0),
    ("friedman2-resmlp", "nest", "const", 32, 5, 0.0),
    ("scurve-deepmlp", "adamw", "cos", 32, 8, 0.01),
    ("scurve-deepmlp", "mom", "lin", 64, 15, 0.0),
    ("sparse-linreg", "adagrad", "wsd", 16, 4, 0.0),
    ("sparse-linreg", "radam", "const", 128, 30, 0.0),
    ("parity-mlp", "adam", "const", 32, 10, 0.0),
    ("parity-mlp", "nest", "cos", 64, 20, 0.0),
    ("poly-linreg", "sgd", "cos", 32, 8, 0.0),
    ("poly-linreg", "adam", "lin", 64, 15, 0.0),
    ("noisy-widemlp", "rmsprop", "1cyc", 64, 10, 0.0),
    ("noisy-widemlp", "adamw", "wsd", 32, 6, 0.05),
    ("spirals-deepmlp", "adam", "wcos", 32, 10, 0.0),
    ("spirals-deepmlp", "mom", "step", 64, 20, 0.0),
    ("waveforms-cnn1d", "nest", "1cyc", 32, 6, 5e-4),
    ("waveforms-cnn1d", "adamax", "wsd", 64, 8, 0.0),
    ("majority-attn", "adamw", "wcos", 64, 10, 0.05),
    ("majority-attn", "radam", "lin", 32, 6, 0.0),
    ("zipf-bnmlp", "rmsprop", "step", 16, 3, 0.0),
    ("zipf-bnmlp", "sgd", "cos", 8, 2, 0.0),
    ("ratings-mf", "adagrad", "const", 256, 10, 0.0),
    ("ratings-mf", "nadam", "cos", 512, 20, 0.0),
    ("digits-vit", "nadam", "wcos", 64, 12, 0.0),
    ("digits-vit", "adamax", "lin", 32, 10, 0.0),
    ("counts-poisson", "adagrad", "step", 128, 40, 0.0),
    ("counts-poisson", "sgd", "1cyc", 8, 3, 0.0),
    ("lowrank-deeplinear", "nest", "step", 256, 100, 0.0),
    ("lowrank-deeplinear", "radam", "cos", 512, 150, 0.0),
    ("garch-tcn", "rmsprop", "lin", 32, 6, 0.0),
    ("garch-tcn", "adamw", "step", 128, 16, 0.01),
    ("digits-convae", "radam", "cos", 64, 8, 0.0),
    ("digits-convae", "adamax", "1cyc", 16, 5, 0.0),
    ("tabular-ftt", "radam98", "wcos", 128, 25, 0.0),
    ("tabular-ftt", "nadam", "wsd", 32, 10, 0.0),
    ("hetero-quantile", "radam", "step", 32, 24, 0.0),
    ("hetero-quantile", "rmsmom", "const", 64, 15, 0.0),
    ("digits-siamese", "radamw", "lin", 16, 5, 0.05),
    ("digits-siamese", "adagrad", "cos", 128, 30, 0.0),
    ("graphs-gnn", "adamw", "wcos", 128, 9, 0.05),
    ("graphs-gnn", "nest", "const", 32, 5, 5e-4),
    ("regimes-moe", "adam", "1cyc", 32, 8, 0.0),
    ("regimes-moe", "rmsprop", "wsd", 64, 15, 0.0),
    ("pinwheel-flow", "adamax", "cos", 256, 30, 0.0),
    ("pinwheel-flow", "mom", "step", 32, 5, 0.0),
    ("clicks-fm", "adagrad", "lin", 512, 40, 0.0),
    ("clicks-fm", "sgd", "cos", 16, 6, 0.0),
    ("digits-vae", "nadam", "1cyc", 32, 10, 0.0),
    ("digits-vae", "adamax", "step", 128, 16, 0.0),
    ("clouds-deepsets", "adadelta", "cos", 64, 10, 0.0),
    ("clouds-deepsets", "adagrad", "wcos", 128, 20, 0.0),
    ("censored-cox", "adamw", "lin", 128, 40, 0.01),
    ("censored-cox", "mom", "wsd", 32, 10, 0.0),
    ("grades-ordinal", "asgd", "cos", 16, 10, 0.0),
    ("grades-ordinal", "nest", "lin", 512, 60, 0.0),
    ("inverse-mdn", "amsgrad", "wsd", 64, 20, 0.0),
    ("inverse-mdn", "nadam", "lin", 16, 6, 0.0),
    ("grammar-bigru", "rmscent", "cos", 32, 8, 0.0),
    ("grammar-bigru", "damp", "step", 32, 10, 0.0),
    ("outliers-rff", "sgd", "wcos", 8, 5, 0.0),
    ("outliers-rff", "radam", "1cyc", 256, 40, 0.0),
    ("twotask-mtl", "adamax", "wcos", 256, 16, 0.0),
    ("twotask-mtl", "adamw", "const", 64, 8, 0.05),
    ("signals-unet1d", "radam98", "wcos", 32, 6, 0.0),
    ("signals-unet1d", "nest", "step", 64, 8, 0.0),
    ("pendulum-film", "radam", "lin", 16, 9, 0.0),
    ("pendulum-film", "adamw", "1cyc", 128, 30, 0.01),
    ("docstrings-bag", "radam", "const", 64, 8, 0.0),
    ("docstrings-bag", "adagrad", "wsd", 16, 8, 0.0),
    ("curves-attnpool", "radamw", "cos", 64, 8, 0.05),
    ("curves-attnpool", "nadam", "step", 128, 16, 0.0),
    ("queries-listnet", "rmsmom", "cos", 64, 10, 0.0),
    ("queries-listnet", "adamw", "wsd", 32, 8, 0.01),
    ("pattern-siren", "amsgrad", "step", 64, 12, 0.0),
    ("pattern-siren", "nadam", "1cyc", 128, 8, 0.0),
    ("rules-softtree", "sgd", "wcos", 8, 5, 0.0),
    ("rules-softtree", "rmscent", "const", 64, 10, 0.0),
    ("memory-ssm", "adamax", "lin", 32, 8, 0.0),
    ("memory-ssm", "radam", "wsd", 64, 12, 0.0),
    ("bvp-pinn", "adam", "lin", 64, 12, 0.0),
    ("bvp-pinn", "rmsmom", "wsd", 128, 20, 0.0),
    ("tones-ctc", "adamw", "1cyc", 32, 8, 0.01),
    ("tones-ctc", "adamax", "step", 64, 12, 0.0),
    ("bayesnet-made", "asgd", "wcos", 16, 13, 0.0),
    ("bayesnet-made", "radamw", "const", 64, 10, 0.05),
    ("boundaries-hypernet", "adadelta", "cos", 64, 10, 0.0),
    ("boundaries-hypernet", "damp", "1cyc", 256, 11, 0.0),
]

_OPT_TEXT = {"sgd": "SGD", "mom": "SGD momentum 0.9", "nest": "SGD Nesterov 0.9",
             "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad",
             "nadam": "NAdam", "radam": "RAdam", "adamax": "Adamax",
             "rmsmom": "RMSprop momentum 0.9", "radam98": "RAdam beta2 0.98",
             "radamw": "RAdam (decoupled weight decay)", "adadelta": "Adadelta",
             "asgd": "ASGD", "amsgrad": "Adam (AMSGrad)", "rmscent": "RMSprop centred",
             "damp": "SGD momentum 0.9, dampening 0.9"}
_SCHED_TEXT = {"const": "constant", "step": "step decay x0.1 at 50% and 75%",
               "cos": "cosine", "wcos": "5% warmup + cosine", "1cyc": "one-cycle",
               "wsd": "warmup-stable-decay (5% warmup, last 20% decay)",
               "lin": "linear decay"}


def _make(name: str, family: str, opt: str, schedule: str, batch_size: int, epochs: int,
          weight_decay: float) -> Task:
    from lrkit.tasks.zoo.families import build  # imports torch: only when a pair is built

    return build(name, family, opt, schedule, batch_size, epochs, weight_decay)


def _pair(family: str, opt: str, schedule: str, batch_size: int, epochs: int,
          weight_decay: float) -> ZooPair:
    name = f"{family}-{opt}-{schedule}"
    split, what = FAMILY_SPLIT[family]
    decay = f", weight decay {weight_decay:g}" if weight_decay else ""
    text = (f"{what}; {_OPT_TEXT[opt]}{decay}; {_SCHED_TEXT[schedule]}; "
            f"batch {batch_size}, {epochs} epochs")
    make = functools.partial(_make, name, family, opt, schedule, batch_size, epochs,
                             weight_decay)
    return ZooPair(name=name, family=family, split=split, make=make, description=text)


ZOO: dict[str, ZooPair] = {p.name: p for p in (_pair(*row) for row in _ROWS)}


def zoo_pairs(split: str | None = None) -> list[ZooPair]:
    """The zoo's pairs in table order: all of them, or those of ``split`` (one of
    ``SPLITS``).

    Raises:
        ConfigError: ``split`` is not None or one of ``SPLITS``.

    >>> sum(len(zoo_pairs(split)) for split in SPLITS) == len(zoo_pairs())
    True
    """
    if split is None:
        return list(ZOO.values())
    if split not in SPLITS:
        names = ", ".join(repr(s) for s in SPLITS)
        raise ConfigError(f"split = {split!r}: must be one of {names} or None; "
                          "pass 'test' to score a frozen design")
    return [p for p in ZOO.values() if p.split == split]
