"""The zoo's models and losses (this module imports torch).

Every model is small enough that one full run takes about a second on one CPU thread.

>>> import torch
>>> CharTransformer(context=8)(torch.zeros(2, 8, dtype=torch.long)).shape
torch.Size([2, 8, 97])
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional

from lrkit.tasks.zoo.data import VOCAB

__all__ = ["MADE", "VAE", "AttentionPool", "CausalTCN", "CharGRU", "CharTransformer",
           "ConvAutoencoder", "ConvCTC", "CouplingFlow", "DeepSets", "DiagonalSSM",
           "FactorizationMachine", "FeatureTransformer", "FiLMNet", "GRUTagger", "GraphNet",
           "HashedBag", "HyperNet", "ListScorer", "MatrixFactorization", "MixtureDensityNet",
           "MixtureOfExperts", "MultiTaskNet", "OrdinalNet", "PatchTransformer",
           "PhysicsInformedNet", "RandomFeatures", "ResMLP", "ResNet", "SeqNet", "Siamese", "Siren",
           "SoftTree", "TokenAttention", "UNet1d", "autoencoder", "bn_mlp", "cnn", "cnn1d",
           "contrastive_loss", "cox_nll", "ctc_nll", "deep_linear", "elbo_loss", "flow_nll",
           "gaussian_nll", "listnet_loss", "lm_loss", "made_nll", "mdn_nll", "mlp",
           "multitask_loss", "ordinal_nll", "pinball_loss", "poisson_nll", "smoothed_cross_entropy"]

N_TOKENS = len(VOCAB) + 1


def mlp(sizes: list[int], *, act: str = "relu", dropout: float = 0.0) -> nn.Module:
    """A plain MLP ``sizes[0] -> ... -> sizes[-1]``; dropout after each hidden activation."""
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "silu": nn.SiLU,
            "selu": nn.SELU}
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(acts[act]())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def autoencoder(sizes: list[int], *, noise: float = 0.0) -> nn.Module:
    """A tanh MLP autoencoder ``sizes + reversed(sizes[:-1])``; ``noise`` corrupts inputs."""
    net = mlp([*sizes, *reversed(sizes[:-1])], act="tanh")
    return _Denoise(net, noise) if noise else net


class _Denoise(nn.Module):
    def __init__(self, net: nn.Module, noise: float) -> None:
        super().__init__()
        self.net, self.noise = net, noise

    def forward(self, x: Any) -> Any:
        if self.training:  # corrupt during training only: val measures clean reconstruction
            x = x + self.noise * torch.randn_like(x)
        return self.net(x)


def cnn(*, batchnorm: bool, dropout: float = 0.0) -> nn.Module:
    """Two 3x3 conv layers on 1x8x8 digits, with or without BatchNorm, then a linear head."""
    def block(cin: int, cout: int) -> list[nn.Module]:
        conv = nn.Conv2d(cin, cout, 3, padding=1, bias=not batchnorm)
        return [conv, nn.BatchNorm2d(cout), nn.ReLU()] if batchnorm else [conv, nn.ReLU()]

    return nn.Sequential(*block(1, 8), *block(8, 16), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Dropout(dropout), nn.Linear(16 * 4 * 4, 10))


class _ResBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels),
            nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels))

    def forward(self, x: Any) -> Any:
        return functional.relu(x + self.body(x))


class ResNet(nn.Module):
    """A conv stem, two residual blocks with BatchNorm, global average pooling, a linear head."""

    def __init__(self, channels: int = 12) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, channels, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(channels), nn.ReLU())
        self.blocks = nn.Sequential(_ResBlock(channels), _ResBlock(channels))
        self.head = nn.Linear(channels, 10)

    def forward(self, x: Any) -> Any:
        return self.head(self.blocks(self.stem(x)).mean(dim=(2, 3)))


class ResMLP(nn.Module):
    """Pre-LayerNorm residual MLP blocks (the transformer's feed-forward pattern)."""

    def __init__(self, n_in: int, n_out: int, width: int = 64, depth: int = 3) -> None:
        super().__init__()
        self.inp = nn.Linear(n_in, width)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(width), nn.Linear(width, width), nn.GELU(),
                          nn.Linear(width, width)) for _ in range(depth))
        self.out = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, n_out))

    def forward(self, x: Any) -> Any:
        h = self.inp(x)
        for block in self.blocks:
            h = h + block(h)
        return self.out(h)


class SeqNet(nn.Module):
    """An LSTM or GRU over ``(batch, time, features)``; a linear head on the last state."""

    def __init__(self, cell: str, n_in: int, hidden: int, n_out: int) -> None:
        super().__init__()
        self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell](n_in, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x: Any) -> Any:
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


class CharGRU(nn.Module):
    """A character-level GRU language model: embedding, one GRU layer, a linear readout."""

    def __init__(self, embed: int = 24, hidden: int = 48) -> None:
        super().__init__()
        self.embed = nn.Embedding(N_TOKENS, embed)
        self.rnn = nn.GRU(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, N_TOKENS)

    def forward(self, x: Any) -> Any:
        out, _ = self.rnn(self.embed(x))
        return self.head(out)


class CharTransformer(nn.Module):
    """A small causal (GPT-style, pre-LayerNorm) transformer language model over characters."""

    def __init__(self, context: int, width: int = 32, heads: int = 2, layers: int = 2) -> None:
        super().__init__()
        self.embed = nn.Embedding(N_TOKENS, width)
        self.pos = nn.Parameter(torch.randn(context, width) * 0.02)
        layer = nn.TransformerEncoderLayer(width, heads, dim_feedforward=2 * width,
                                           dropout=0.0, batch_first=True, norm_first=True)
        self.body = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, N_TOKENS)
        self.mask: torch.Tensor
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(context),
                             persistent=False)

    def forward(self, x: Any) -> Any:
        t = x.shape[1]
        h = self.embed(x) + self.pos[:t]
        h = self.body(h, mask=self.mask[:t, :t], is_causal=True)
        return self.head(self.norm(h))


def cnn1d(n_out: int, *, channels: int = 16) -> nn.Module:
    """Two 1-D conv layers with BatchNorm over a 1-channel signal, global average pooling (so
    the net sees shape, not position), a linear head."""
    def block(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv1d(cin, cout, 5, padding=2, bias=False), nn.BatchNorm1d(cout),
                nn.ReLU()]

    return nn.Sequential(*block(1, channels), nn.MaxPool1d(2), *block(channels, 2 * channels),
                         nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(2 * channels, n_out))


def bn_mlp(sizes: list[int]) -> nn.Module:
    """A ReLU MLP with BatchNorm1d after each hidden linear layer (the zoo's other MLPs have
    none)."""
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(sizes[:-1]):
        layers += [nn.Linear(a, b, bias=False), nn.BatchNorm1d(b), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(sizes[-2], sizes[-1]))


class TokenAttention(nn.Module):
    """One bidirectional (unmasked) post-LayerNorm attention block over token ids, mean-pooled
    into a classifier: attention as a sequence classifier, not an LM. Written out rather
    than ``nn.TransformerEncoderLayer``, whose per-call overhead triples a CPU run.

    Token ids arrive as float32 (the zoo's inputs are all float) and are cast back here.
    """

    def __init__(self, vocab: int, length: int, n_out: int, width: int = 32,
                 heads: int = 4, dropout: float = 0.1) -> None:
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.embed = nn.Embedding(vocab, width)
        self.pos = nn.Parameter(torch.randn(length, width) * 0.02)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.ff = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(),
                                nn.Linear(2 * width, width))
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_out)

    def forward(self, x: Any) -> Any:
        h = self.embed(x.long()) + self.pos[:x.shape[1]]
        b, t, w = h.shape
        q, k, v = self.qkv(h).view(b, t, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        a = functional.scaled_dot_product_attention(
            q, k, v, dropout_p=self.dropout if self.training else 0.0)
        h = self.norm1(h + self.drop(self.proj(a.transpose(1, 2).reshape(b, t, w))))
        h = self.norm2(h + self.drop(self.ff(h)))
        return self.head(h.mean(dim=1))


class MatrixFactorization(nn.Module):
    """rating(user, item) = <p_user, q_item> + b_user + b_item: embeddings, no hidden layer.

    Inputs are ``(user id, item id)`` float pairs; each update touches only the rows of
    the batch's users and items (sparse gradients in a dense tensor).
    """

    def __init__(self, users: int, items: int, rank: int = 16) -> None:
        super().__init__()
        self.user, self.item = nn.Embedding(users, rank), nn.Embedding(items, rank)
        self.user_bias, self.item_bias = nn.Embedding(users, 1), nn.Embedding(items, 1)
        for table in (self.user, self.item):  # small: <p, q> starts near 0, not ~ rank
            nn.init.normal_(table.weight, std=0.1)
        for table in (self.user_bias, self.item_bias):
            nn.init.zeros_(table.weight)

    def forward(self, x: Any) -> Any:
        u, i = x[:, 0].long(), x[:, 1].long()
        dot = (self.user(u) * self.item(i)).sum(dim=1, keepdim=True)
        return dot + self.user_bias(u) + self.item_bias(i)


class _PreLNBlock(nn.Module):
    """A pre-LayerNorm transformer block (multi-head self-attention, GELU MLP), no dropout."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.ff = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(),
                                nn.Linear(2 * width, width))

    def forward(self, h: Any) -> Any:
        b, t, w = h.shape
        q, k, v = self.qkv(self.norm1(h)).view(b, t, 3, self.heads, w // self.heads).permute(
            2, 0, 3, 1, 4)
        a = functional.scaled_dot_product_attention(q, k, v)
        h = h + self.proj(a.transpose(1, 2).reshape(b, t, w))
        return h + self.ff(self.norm2(h))


class PatchTransformer(nn.Module):
    """A ViT in miniature: 2x2 patches of a 1x8x8 digit as 16 tokens (a linear patch
    embedding), a learned class token and positions, pre-LayerNorm blocks, and a head on the
    class token. No convolution and no dropout.

    >>> PatchTransformer()(torch.zeros(3, 1, 8, 8)).shape
    torch.Size([3, 10])
    """

    def __init__(self, patch: int = 2, width: int = 32, heads: int = 4, layers: int = 2,
                 n_out: int = 10) -> None:
        super().__init__()
        self.patch = patch
        tokens = (8 // patch) ** 2
        self.embed = nn.Linear(patch * patch, width)
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.pos = nn.Parameter(torch.randn(tokens + 1, width) * 0.02)
        self.blocks = nn.Sequential(*(_PreLNBlock(width, heads) for _ in range(layers)))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, n_out)

    def forward(self, x: Any) -> Any:
        b, p = x.shape[0], self.patch
        patches = x.unfold(2, p, p).unfold(3, p, p).reshape(b, -1, p * p)
        h = torch.cat([self.cls.expand(b, -1, -1), self.embed(patches)], dim=1) + self.pos
        return self.head(self.norm(self.blocks(h))[:, 0])


def deep_linear(sizes: list[int]) -> nn.Module:
    """Linear layers ``sizes[0] -> ... -> sizes[-1]`` with no activation and no bias: a deep
    *linear* net (the map it computes is one matrix; its training dynamics are not)."""
    return nn.Sequential(*(nn.Linear(a, b, bias=False) for a, b in itertools.pairwise(sizes)))


class CausalTCN(nn.Module):
    """A dilated causal 1-D conv forecaster (WaveNet style): a 1x1 input conv, residual blocks
    of kernel-3 convs with dilations 1, 2, 4, 8 (receptive field 31) and gated activations
    ``tanh(a) * sigmoid(b)``, left padding only, and a linear head on the last time step.
    Two outputs: the forecast's mean and log-variance (``gaussian_nll``).

    >>> CausalTCN()(torch.zeros(3, 1, 48)).shape
    torch.Size([3, 2])
    """

    def __init__(self, channels: int = 16, dilations: tuple[int, ...] = (1, 2, 4, 8),
                 n_out: int = 2) -> None:
        super().__init__()
        self.dilations = dilations
        self.inp = nn.Conv1d(1, channels, 1)
        self.convs = nn.ModuleList(nn.Conv1d(channels, 2 * channels, 3, dilation=d)
                                   for d in dilations)
        self.head = nn.Linear(channels, n_out)

    def forward(self, x: Any) -> Any:
        h = self.inp(x)
        for conv, d in zip(self.convs, self.dilations, strict=True):
            a, b = conv(functional.pad(h, (2 * d, 0))).chunk(2, dim=1)
            h = h + torch.tanh(a) * torch.sigmoid(b)
        return self.head(h[:, :, -1])


class ConvAutoencoder(nn.Module):
    """A 2-D conv autoencoder on 1x8x8 digits: two stride-2 3x3 convs (8x8 -> 4x4 -> 2x2;
    8 then 16 channels, ReLU) and a linear map to a 16-value code; back through a linear
    layer and two stride-2 transposed convs to 1x8x8. The reconstruction comes out flat
    (64 values, as the target is).

    >>> ConvAutoencoder()(torch.zeros(3, 1, 8, 8)).shape
    torch.Size([3, 64])
    """

    def __init__(self, code: int = 16) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
            nn.Linear(16 * 2 * 2, code))
        self.expand = nn.Sequential(nn.Linear(code, 16 * 2 * 2), nn.ReLU())
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(8, 1, 4, stride=2, padding=1))

    def forward(self, x: Any) -> Any:
        h = self.expand(self.encoder(x)).view(-1, 16, 2, 2)
        return self.decoder(h).flatten(1)


class FeatureTransformer(nn.Module):
    """A transformer over a table's columns (FT-Transformer style): each feature becomes a
    token ``x_j * w_j + b_j`` (a learned vector pair per column), a learned class token is
    prepended, then pre-LayerNorm blocks (one by default; no positions: the per-column
    vectors tell the columns apart) and a head on the class token.

    >>> FeatureTransformer(10, 3)(torch.zeros(4, 10)).shape
    torch.Size([4, 3])
    """

    def __init__(self, n_in: int, n_out: int, width: int = 32, heads: int = 4,
                 layers: int = 1) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, width) * width ** -0.5)
        self.bias = nn.Parameter(torch.randn(n_in, width) * width ** -0.5)
        self.cls = nn.Parameter(torch.randn(1, 1, width) * 0.02)
        self.blocks = nn.Sequential(*(_PreLNBlock(width, heads) for _ in range(layers)))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, n_out)

    def forward(self, x: Any) -> Any:
        tokens = x[:, :, None] * self.weight + self.bias
        h = torch.cat([self.cls.expand(x.shape[0], -1, -1), tokens], dim=1)
        return self.head(self.norm(self.blocks(h))[:, 0])


class Siamese(nn.Module):
    """A Siamese embedding net: one ReLU MLP ``n_in -> hidden -> dim`` (shared weights)
    embeds both halves of a pair; the output is the Euclidean distance between the two
    embeddings (``contrastive_loss``).

    >>> Siamese(64)(torch.zeros(3, 128)).shape
    torch.Size([3, 1])
    """

    def __init__(self, n_in: int, hidden: int = 128, dim: int = 32) -> None:
        super().__init__()
        self.embed = mlp([n_in, hidden, dim])

    def forward(self, x: Any) -> Any:
        a, b = x.chunk(2, dim=1)
        diff = self.embed(a) - self.embed(b)
        return (diff.pow(2).sum(dim=1, keepdim=True) + 1e-6).sqrt()


def contrastive_loss(distance: Any, same: Any, margin: float = 1.0) -> Any:
    """The contrastive loss of a pair's embedding distance (Hadsell et al. 2006): ``d**2``
    for a pair of one class, ``max(0, margin - d)**2`` for a pair of two."""
    apart = functional.relu(margin - distance)
    return (same * distance.pow(2) + (1 - same) * apart.pow(2)).mean()


_QUANTILES = (0.1, 0.5, 0.9)


def pinball_loss(pred: Any, target: Any) -> Any:
    """The pinball (quantile) loss of three predicted quantiles ``pred[:, k]`` of ``target``
    at levels 0.1, 0.5 and 0.9, averaged over the levels: an under-prediction costs ``q``
    per unit, an over-prediction ``1 - q``."""
    q = torch.tensor(_QUANTILES, dtype=pred.dtype, device=pred.device)
    diff = target - pred
    return torch.maximum(q * diff, (q - 1) * diff).mean()


class GraphNet(nn.Module):
    """A message-passing graph classifier on dense graphs (GraphSAGE-style, mean
    aggregation). Each example is an ``nodes x nodes`` adjacency beside ``nodes`` rows of
    node features; after a linear embedding, each layer updates every node from itself and
    the mean of its neighbours, residually and LayerNorm-ed,
    ``h <- LN(h + ReLU(W h + U mean_nbr(h)))``; mean- and max-pooling over the nodes feed a
    linear head.

    >>> GraphNet(12, 2, 3)(torch.zeros(5, 12, 14)).shape
    torch.Size([5, 3])
    """

    def __init__(self, nodes: int, features: int, n_out: int, width: int = 32,
                 layers: int = 3) -> None:
        super().__init__()
        self.nodes = nodes
        self.embed = nn.Linear(features, width)
        self.own = nn.ModuleList(nn.Linear(width, width) for _ in range(layers))
        self.neighbours = nn.ModuleList(nn.Linear(width, width, bias=False)
                                        for _ in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in range(layers))
        self.head = nn.Linear(2 * width, n_out)

    def forward(self, x: Any) -> Any:
        adj, h = x[:, :, :self.nodes], x[:, :, self.nodes:]
        mean_nbr = adj / adj.sum(dim=2, keepdim=True).clamp(min=1.0)
        h = torch.relu(self.embed(h))
        for own, neighbours, norm in zip(self.own, self.neighbours, self.norms, strict=True):
            h = norm(h + torch.relu(own(h) + neighbours(mean_nbr @ h)))
        return self.head(torch.cat([h.mean(dim=1), h.amax(dim=1)], dim=1))


class MixtureOfExperts(nn.Module):
    """A dense mixture of experts: ``experts`` small ReLU MLPs ``n_in -> hidden -> n_out``
    whose outputs are mixed by a softmax gate (a linear layer of the input), a soft
    partition of the input space with one expert for each part; every expert sees every
    row.

    >>> MixtureOfExperts(8, 1)(torch.zeros(3, 8)).shape
    torch.Size([3, 1])
    """

    def __init__(self, n_in: int, n_out: int, experts: int = 4, hidden: int = 32) -> None:
        super().__init__()
        self.gate = nn.Linear(n_in, experts)
        self.experts = nn.ModuleList(mlp([n_in, hidden, n_out]) for _ in range(experts))

    def forward(self, x: Any) -> Any:
        weights = torch.softmax(self.gate(x), dim=1)
        outs = torch.stack([expert(x) for expert in self.experts], dim=1)
        return (weights.unsqueeze(2) * outs).sum(dim=1)


class _Coupling(nn.Module):
    """An affine coupling layer on 2-D points: one coordinate passes through, the other is
    scaled and shifted by a tanh MLP of it (log-scale bounded to +-2, zero-initialised)."""

    def __init__(self, flip: bool, hidden: int) -> None:
        super().__init__()
        self.flip = flip
        self.net = mlp([1, hidden, hidden, 2], act="tanh")
        last = [m for m in self.net.modules() if isinstance(m, nn.Linear)][-1]
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def forward(self, x: Any) -> tuple[Any, Any]:
        keep, move = (x[:, 1:], x[:, :1]) if self.flip else (x[:, :1], x[:, 1:])
        log_scale, shift = self.net(keep).chunk(2, dim=1)
        log_scale = 2.0 * torch.tanh(log_scale / 2.0)
        move = move * log_scale.exp() + shift
        out = torch.cat([move, keep] if self.flip else [keep, move], dim=1)
        return out, log_scale.squeeze(1)


class CouplingFlow(nn.Module):
    """A RealNVP-style normalising flow on 2-D points: affine coupling layers that in turn
    scale and shift one coordinate by a function of the other; zero-initialised, it starts
    as the identity. The output is the point mapped to the base space beside the log
    absolute determinant of the map's Jacobian (``flow_nll``).

    >>> CouplingFlow()(torch.zeros(3, 2)).shape
    torch.Size([3, 3])
    """

    def __init__(self, layers: int = 4, hidden: int = 32) -> None:
        super().__init__()
        self.layers = nn.ModuleList(_Coupling(i % 2 == 1, hidden) for i in range(layers))

    def forward(self, x: Any) -> Any:
        log_det = x.new_zeros(x.shape[0])
        for layer in self.layers:
            x, part = layer(x)
            log_det = log_det + part
        return torch.cat([x, log_det[:, None]], dim=1)


def flow_nll(out: Any, target: Any) -> Any:
    """The negative log-likelihood (nats per point) of the points a flow mapped to
    ``out[:, :-1]`` with log-determinant ``out[:, -1]``, under a standard-normal base
    density: ``|z|**2 / 2 + d log(2 pi) / 2 - log|det J|``. ``target`` (zeros) is unused."""
    z, log_det = out[:, :-1], out[:, -1]
    return (0.5 * z.pow(2).sum(dim=1) + 0.5 * z.shape[1] * math.log(2 * math.pi)
            - log_det).mean()


class FactorizationMachine(nn.Module):
    """A factorisation machine (Rendle 2010) over categorical fields: the logit of a row is
    a bias, plus each of its values' weights, plus for every pair of its values the dot
    product of their rank-``rank`` vectors (computed as ``(|sum v|**2 - sum |v|**2) / 2``).
    Inputs are value ids (floats), one per field.

    >>> FactorizationMachine(267)(torch.zeros(3, 6)).shape
    torch.Size([3, 1])
    """

    def __init__(self, n_values: int, rank: int = 8) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1))
        self.weight = nn.Embedding(n_values, 1)
        self.vectors = nn.Embedding(n_values, rank)
        nn.init.zeros_(self.weight.weight)
        nn.init.normal_(self.vectors.weight, std=0.1)  # small: the pair terms start near 0

    def forward(self, x: Any) -> Any:
        ids = x.long()
        v = self.vectors(ids)
        pairs = 0.5 * (v.sum(dim=1).pow(2) - v.pow(2).sum(dim=1)).sum(dim=1, keepdim=True)
        return self.bias + self.weight(ids).sum(dim=1) + pairs


class VAE(nn.Module):
    """A variational autoencoder (Kingma & Welling 2014) on 64 intensities in [0, 1]: a ReLU
    MLP encoder ``n_in -> hidden -> 2 * latent`` gives a diagonal Gaussian posterior (mean,
    log-variance), one reparameterised sample ``z = mu + sigma * eps`` goes through a ReLU
    MLP decoder ``latent -> hidden -> n_in`` to Bernoulli logits. The output is the logits
    beside mu and the log-variance (``elbo_loss``). In eval mode eps is drawn from a fixed
    generator, so a model's validation ELBO is the same every time it is measured.

    >>> VAE(64)(torch.zeros(3, 64)).shape
    torch.Size([3, 80])
    """

    def __init__(self, n_in: int, hidden: int = 128, latent: int = 8) -> None:
        super().__init__()
        self.encoder = mlp([n_in, hidden, 2 * latent])
        self.decoder = mlp([latent, hidden, n_in])

    def forward(self, x: Any) -> Any:
        mu, log_var = self.encoder(x).chunk(2, dim=1)
        if self.training:
            eps = torch.randn_like(mu)
        else:
            fixed = torch.Generator(device=mu.device).manual_seed(0)
            eps = torch.randn(mu.shape, generator=fixed, device=mu.device, dtype=mu.dtype)
        logits = self.decoder(mu + (0.5 * log_var).exp() * eps)
        return torch.cat([logits, mu, log_var], dim=1)


def elbo_loss(out: Any, target: Any) -> Any:
    """The negative ELBO (nats per example) of a ``VAE``'s output: the Bernoulli
    reconstruction cross-entropy of ``target`` (intensities in [0, 1]) under the logits
    ``out[:, :d]``, summed over the d pixels, plus the KL divergence of the posterior
    (mean and log-variance, the rest of ``out``) from a standard-normal prior."""
    d = target.shape[1]
    logits, (mu, log_var) = out[:, :d], out[:, d:].chunk(2, dim=1)
    recon = functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
    kl = 0.5 * (mu.pow(2) + log_var.exp() - 1.0 - log_var)
    return (recon.sum(dim=1) + kl.sum(dim=1)).mean()


class DeepSets(nn.Module):
    """A DeepSets regressor (Zaheer et al. 2017) on padded point sets: each example is rows
    of (point coordinates..., present); a ReLU MLP ``phi`` embeds every present point alone,
    the embeddings are summed over the set (divided by the largest set size: of order 1,
    yet a small set still looks unlike a large one, and a small set's estimate should be
    shrunk more) and a ReLU MLP ``rho`` maps the sum to the output: invariant to the
    points' order.

    >>> DeepSets(3, 1)(torch.zeros(4, 32, 3)).shape
    torch.Size([4, 1])
    """

    def __init__(self, n_in: int, n_out: int, hidden: int = 64) -> None:
        super().__init__()
        self.phi = nn.Sequential(mlp([n_in - 1, hidden, hidden]), nn.ReLU())
        self.rho = mlp([hidden, hidden, n_out])

    def forward(self, x: Any) -> Any:
        points, present = x[:, :, :-1], x[:, :, -1:]
        return self.rho((self.phi(points) * present).sum(dim=1) / x.shape[1])


def cox_nll(risk: Any, target: Any) -> Any:
    """The negative Cox partial log-likelihood (per event) of predicted log-risks ``risk``
    against ``target`` = (observed time, event), over the batch: each event's log-risk
    against the log-sum-exp of the log-risks of every row still at risk at its time (a
    later observed time, or itself; no tie correction: the zoo's times are continuous). A
    batch without an event counts 0."""
    order = torch.argsort(target[:, 0], descending=True)
    log_risk, event = risk[order, 0], target[order, 1]
    at_risk = torch.logcumsumexp(log_risk, dim=0)
    return -((log_risk - at_risk) * event).sum() / event.sum().clamp(min=1.0)


class OrdinalNet(nn.Module):
    """A cumulative-logit (proportional-odds) ordinal regressor: a ReLU MLP
    ``n_in -> hidden -> hidden -> 1`` gives a score s, and ``n_classes - 1`` ascending
    cut-points c_k (the first free, the gaps softplus-ed) give ``P(y <= k) =
    sigmoid(c_k - s)``. The output is the ``c_k - s`` (``ordinal_nll``); the cut-points
    start where an untrained score of 0 gives every grade the same probability.

    >>> OrdinalNet(10, 7)(torch.zeros(3, 10)).shape
    torch.Size([3, 6])
    """

    def __init__(self, n_in: int, n_classes: int, hidden: int = 64) -> None:
        super().__init__()
        self.score = mlp([n_in, hidden, hidden, 1])
        cuts = torch.logit(torch.arange(1, n_classes) / n_classes)
        self.first = nn.Parameter(cuts[:1].clone())
        gaps = cuts[1:] - cuts[:-1]
        self.gaps = nn.Parameter(gaps + torch.log(-torch.expm1(-gaps)))  # softplus^-1

    def forward(self, x: Any) -> Any:
        cuts = torch.cat([self.first, self.first + functional.softplus(self.gaps).cumsum(0)])
        return cuts - self.score(x)


def ordinal_nll(out: Any, labels: Any) -> Any:
    """The negative log-likelihood of grades ``labels`` (0..K-1) under cumulative logits
    ``out`` (``OrdinalNet``): ``P(y = k) = sigmoid(out_k) - sigmoid(out_{k-1})``, with
    ``sigmoid(out_{-1}) = 0`` and ``sigmoid(out_{K-1}) = 1``."""
    cdf = torch.sigmoid(out)
    cdf = torch.cat([torch.zeros_like(cdf[:, :1]), cdf, torch.ones_like(cdf[:, :1])], dim=1)
    prob = (cdf[:, 1:] - cdf[:, :-1]).gather(1, labels[:, None])
    return -prob.clamp(min=1e-12).log().mean()


class MixtureDensityNet(nn.Module):
    """A mixture density network (Bishop 1994): a tanh MLP ``n_in -> hidden -> hidden`` gives,
    for each of ``components`` Gaussians over a 1-D target, a mixing logit, a mean and a
    log standard deviation: a conditional density that can have several modes where the
    target is multi-valued. The output is the three blocks side by side (``mdn_nll``).

    >>> MixtureDensityNet(1)(torch.zeros(3, 1)).shape
    torch.Size([3, 15])
    """

    def __init__(self, n_in: int, components: int = 5, hidden: int = 64) -> None:
        super().__init__()
        self.net = mlp([n_in, hidden, hidden, 3 * components], act="tanh")

    def forward(self, x: Any) -> Any:
        return self.net(x)


def mdn_nll(out: Any, target: Any) -> Any:
    """The negative log-likelihood (nats per example) of a 1-D ``target`` under a
    ``MixtureDensityNet``'s output: softmax-ed mixing logits, means and log standard
    deviations (``out``'s three equal blocks), summed over components in log space."""
    logits, mean, log_sd = out.chunk(3, dim=1)
    log_density = (-0.5 * ((target - mean) / log_sd.exp()).pow(2) - log_sd
                   - 0.5 * math.log(2 * math.pi))
    return -torch.logsumexp(functional.log_softmax(logits, dim=1) + log_density, dim=1).mean()


class GRUTagger(nn.Module):
    """A bidirectional GRU sequence tagger: word embeddings, one GRU layer read both ways,
    a linear layer from each position's two states to its tag logits, ``(batch, time,
    tags)`` (the per-token cross-entropy of ``lm_loss``). Word ids arrive as float32 and are
    cast back here.

    >>> GRUTagger(32, 7)(torch.zeros(2, 16)).shape
    torch.Size([2, 16, 7])
    """

    def __init__(self, vocab: int, n_tags: int, embed: int = 16, hidden: int = 32) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.rnn = nn.GRU(embed, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, n_tags)

    def forward(self, x: Any) -> Any:
        out, _ = self.rnn(self.embed(x.long()))
        return self.head(out)


class RandomFeatures(nn.Module):
    """Random Fourier features (Rahimi & Recht 2007) under a trainable linear head:
    ``sqrt(2 / features) cos(x W + b)`` with ``W ~ N(0, bandwidth**2)`` and ``b ~ U(0, 2 pi)``
    drawn once from a fixed generator (buffers: the same features for every seed, never
    trained), then ``features -> n_out``. A kernel machine's approximation: the loss is
    convex in the head's weights, but the features' Gram matrix is badly conditioned.

    >>> RandomFeatures(4, 1)(torch.zeros(3, 4)).shape
    torch.Size([3, 1])
    """

    def __init__(self, n_in: int, n_out: int, features: int = 512,
                 bandwidth: float = 2.0) -> None:
        super().__init__()
        fixed = torch.Generator().manual_seed(0)
        self.register_buffer("weight", bandwidth * torch.randn(n_in, features, generator=fixed))
        self.register_buffer("phase", 2 * math.pi * torch.rand(features, generator=fixed))
        self.scale = math.sqrt(2.0 / features)
        self.head = nn.Linear(features, n_out)

    def forward(self, x: Any) -> Any:
        return self.head(self.scale * torch.cos(x @ self.weight + self.phase))


class MultiTaskNet(nn.Module):
    """A multi-task net: a shared ReLU trunk ``n_in -> hidden -> hidden``, then two ReLU
    heads ``hidden -> head -> ...``, one to ``n_classes`` logits, one to a real value. The
    output is the logits beside the value (``multitask_loss``).

    >>> MultiTaskNet(10, 4)(torch.zeros(3, 10)).shape
    torch.Size([3, 5])
    """

    def __init__(self, n_in: int, n_classes: int, hidden: int = 64, head: int = 32) -> None:
        super().__init__()
        self.trunk = nn.Sequential(mlp([n_in, hidden, hidden]), nn.ReLU())
        self.classify = mlp([hidden, head, n_classes])
        self.regress = mlp([hidden, head, 1])

    def forward(self, x: Any) -> Any:
        h = self.trunk(x)
        return torch.cat([self.classify(h), self.regress(h)], dim=1)


def multitask_loss(out: Any, target: Any) -> Any:
    """The two tasks' losses summed, unweighted: the cross-entropy of the label
    ``target[:, 0]`` (a float) under the logits ``out[:, :-1]`` plus the MSE of the value
    ``out[:, -1]`` against ``target[:, 1]``."""
    return (functional.cross_entropy(out[:, :-1], target[:, 0].long())
            + functional.mse_loss(out[:, -1:], target[:, 1:]))


class UNet1d(nn.Module):
    """A small 1-D U-Net denoiser: two ReLU convs (kernel 5) at full length, a stride-2 conv
    down to half length and two convs there, a transposed conv back up, the full-length
    features concatenated in (the skip), two convs to one channel. Signals arrive as
    ``(batch, length)``; the output has the same shape (MSE against the clean signal).

    >>> UNet1d()(torch.zeros(2, 64)).shape
    torch.Size([2, 64])
    """

    def __init__(self, width: int = 8) -> None:
        super().__init__()

        def conv(a: int, b: int) -> nn.Module:
            return nn.Sequential(nn.Conv1d(a, b, 5, padding=2), nn.ReLU())

        self.encode = nn.Sequential(conv(1, width), conv(width, width))
        self.down = nn.Sequential(nn.Conv1d(width, 2 * width, 4, stride=2, padding=1),
                                  nn.ReLU(), conv(2 * width, 2 * width),
                                  conv(2 * width, 2 * width))
        self.up = nn.ConvTranspose1d(2 * width, width, 4, stride=2, padding=1)
        self.decode = nn.Sequential(conv(2 * width, width), nn.Conv1d(width, 1, 5, padding=2))

    def forward(self, x: Any) -> Any:
        h = self.encode(x.unsqueeze(1))
        return self.decode(torch.cat([h, self.up(self.down(h))], dim=1)).squeeze(1)


class FiLMNet(nn.Module):
    """A FiLM-conditioned MLP (Perez et al. 2018): a tanh MLP reads the first ``n_query``
    inputs (here a time) through ``layers`` hidden layers of ``hidden`` units, and a
    conditioning MLP maps the rest (here a pendulum's parameters) to a per-unit scale and
    shift of each hidden layer, ``h <- (1 + gamma) * h + beta``, before its tanh.

    >>> FiLMNet(5, 1)(torch.zeros(3, 5)).shape
    torch.Size([3, 1])
    """

    def __init__(self, n_in: int, n_out: int, n_query: int = 1, hidden: int = 64,
                 layers: int = 3) -> None:
        super().__init__()
        self.n_query = n_query
        self.layers = nn.ModuleList(nn.Linear(n_query if i == 0 else hidden, hidden)
                                    for i in range(layers))
        self.film = mlp([n_in - n_query, hidden, 2 * hidden * layers])
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x: Any) -> Any:
        h, cond = x[:, :self.n_query], x[:, self.n_query:]
        film = self.film(cond).chunk(2 * len(self.layers), dim=1)
        for i, layer in enumerate(self.layers):
            h = torch.tanh((1 + film[2 * i]) * layer(h) + film[2 * i + 1])
        return self.head(h)


class HashedBag(nn.Module):
    """A fastText-like text classifier: the mean of the embeddings of a text's hashed word
    and bigram ids (one ``EmbeddingBag`` over ``buckets`` rows, dimension ``dim``), then a
    linear layer to the class logits: a linear model of the hashed bag of n-grams, through
    a rank-``dim`` factorisation. Ids arrive as float32 and are cast back here.

    >>> HashedBag(4096, 8)(torch.zeros(2, 31)).shape
    torch.Size([2, 8])
    """

    def __init__(self, buckets: int, n_classes: int, dim: int = 32) -> None:
        super().__init__()
        self.bag = nn.EmbeddingBag(buckets, dim, mode="mean")
        self.head = nn.Linear(dim, n_classes)

    def forward(self, x: Any) -> Any:
        return self.head(self.bag(x.long()))


class AttentionPool(nn.Module):
    """A learned kernel smoother (an attentive regressor over a context set): the query's
    and each context point's position go through one shared ReLU MLP to keys of width
    ``dim``, each context point's (position, value) through another to values; the query
    attends over its ``points`` context points (scaled dot-product softmax, one head), and
    an MLP reads the pooled value beside the query's key to the prediction. The input is
    ``(context positions, context values, query position)`` side by side.

    >>> AttentionPool(16)(torch.zeros(3, 33)).shape
    torch.Size([3, 1])
    """

    def __init__(self, points: int, dim: int = 32) -> None:
        super().__init__()
        self.points, self.dim = points, dim
        self.key = mlp([1, dim, dim])
        self.value = mlp([2, dim, dim])
        self.out = mlp([2 * dim, dim, 1])

    def forward(self, x: Any) -> Any:
        pos, val, query = (x[:, :self.points], x[:, self.points:2 * self.points],
                           x[:, 2 * self.points:])
        keys = self.key(pos.unsqueeze(2))  # (batch, points, dim)
        q = self.key(query.unsqueeze(2))  # (batch, 1, dim)
        values = self.value(torch.stack([pos, val], dim=2))
        weights = torch.softmax(q @ keys.transpose(1, 2) / math.sqrt(self.dim), dim=2)
        return self.out(torch.cat([(weights @ values).squeeze(1), q.squeeze(1)], dim=1))


class ListScorer(nn.Module):
    """A listwise ranker's scorer: one ReLU MLP ``n_in -> hidden -> hidden -> 1`` scores
    each document of a query's list on its own; the output is the list's scores, ``(batch,
    documents)``, which ``listnet_loss`` compares with the grades as a whole list.

    >>> ListScorer(10)(torch.zeros(3, 12, 10)).shape
    torch.Size([3, 12])
    """

    def __init__(self, n_in: int, hidden: int = 64) -> None:
        super().__init__()
        self.score = mlp([n_in, hidden, hidden, 1])

    def forward(self, x: Any) -> Any:
        return self.score(x).squeeze(2)


def listnet_loss(scores: Any, grades: Any) -> Any:
    """ListNet's top-one loss (Cao et al. 2007) as a KL divergence: the softmax of a list's
    ``grades`` (the probability each document ranks first) against the softmax of its
    ``scores``, summed over the list, averaged over lists. Written as KL rather than
    cross-entropy (the target's own entropy taken off), so a perfect scorer gets 0."""
    target = functional.log_softmax(grades, dim=1)
    return (target.exp() * (target - functional.log_softmax(scores, dim=1))).sum(dim=1).mean()


class Siren(nn.Module):
    """A sinusoidal coordinate network (SIREN, Sitzmann et al. 2020): ``layers`` hidden
    layers of ``hidden`` units, each ``sin(w0 (W h + b))``, then a linear head; the first
    layer's weights U(-1/n, 1/n), the others' U(-sqrt(6/n)/w0, sqrt(6/n)/w0), so every
    layer's pre-activations start spread over a few periods. It maps a pixel's (x, y) to
    its intensity.

    >>> Siren()(torch.zeros(3, 2)).shape
    torch.Size([3, 1])
    """

    def __init__(self, n_in: int = 2, n_out: int = 1, hidden: int = 64, layers: int = 3,
                 w0: float = 30.0) -> None:
        super().__init__()
        self.w0 = w0
        self.layers = nn.ModuleList(nn.Linear(n_in if i == 0 else hidden, hidden)
                                    for i in range(layers))
        self.head = nn.Linear(hidden, n_out)
        with torch.no_grad():
            for i, layer in enumerate([*self.layers, self.head]):
                fan_in = layer.weight.shape[1]
                bound = 1 / fan_in if i == 0 else math.sqrt(6 / fan_in) / w0
                layer.weight.uniform_(-bound, bound)

    def extra_repr(self) -> str:
        return f"w0={self.w0:g}"

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = torch.sin(self.w0 * layer(x))
        return self.head(x)


class SoftTree(nn.Module):
    """A soft decision tree (Irsoy et al. 2012; Frosst and Hinton 2017): ``2**depth - 1``
    inner nodes, each a sigmoid of a linear function of the input giving the probability of
    going left; a sample reaches each of the ``2**depth`` leaves with the product of the
    probabilities on its path, and each leaf holds a learned class distribution. The output
    is the log of the path-weighted mixture of the leaves' distributions (log-probabilities,
    for ``nll_loss``), computed in log space.

    >>> SoftTree(10, 4)(torch.zeros(3, 10)).exp().sum(dim=1)
    tensor([1.0000, 1.0000, 1.0000], grad_fn=<SumBackward1>)
    """

    def __init__(self, n_in: int, n_classes: int, depth: int = 4) -> None:
        super().__init__()
        self.depth = depth
        self.gates = nn.Linear(n_in, 2 ** depth - 1)
        self.leaves = nn.Parameter(0.1 * torch.randn(2 ** depth, n_classes))

    def forward(self, x: Any) -> Any:
        gates = self.gates(x)
        left, right = functional.logsigmoid(gates), functional.logsigmoid(-gates)
        path = torch.zeros_like(gates[:, :1])  # log-probability of reaching each node
        for level in range(self.depth):
            lo, hi = 2 ** level - 1, 2 ** (level + 1) - 1
            path = torch.stack([path + left[:, lo:hi], path + right[:, lo:hi]],
                               dim=2).flatten(1)
        leaves = functional.log_softmax(self.leaves, dim=1)
        return torch.logsumexp(path.unsqueeze(2) + leaves, dim=1)


class _SSMBlock(nn.Module):
    """One pre-LayerNorm residual block of ``DiagonalSSM``: per channel, a diagonal linear
    state space of ``state`` real modes (decays ``exp(-exp(log_rate))``, inputs scaled by
    ``sqrt(1 - decay**2)``, read out by ``c``) run as a causal convolution with its
    impulse response (a lower-triangular Toeplitz matrix per channel), plus a skip ``d``;
    then GELU and a linear map across channels."""

    def __init__(self, width: int, state: int) -> None:
        super().__init__()
        rates = torch.logspace(-2, 0, state)  # timescales 1 to 100 steps
        self.log_rate = nn.Parameter(rates.log().repeat(width, 1))
        self.c = nn.Parameter(torch.randn(width, state) / math.sqrt(state))
        self.d = nn.Parameter(torch.ones(width))
        self.norm = nn.LayerNorm(width)
        self.mix = nn.Linear(width, width)

    def extra_repr(self) -> str:
        return f"width={self.c.shape[0]}, state={self.c.shape[1]}"

    def forward(self, h: Any) -> Any:
        length = h.shape[1]
        u = self.norm(h).transpose(1, 2)  # (batch, width, length)
        decay = torch.exp(-self.log_rate.exp()).unsqueeze(2)  # (width, state, 1)
        steps = torch.arange(length)
        kernel = (self.c.unsqueeze(2) * (1 - decay ** 2).sqrt() * decay ** steps).sum(1)
        lag = steps[:, None] - steps[None, :]  # output step minus input step
        toeplitz = kernel[:, lag.clamp(min=0)] * (lag >= 0)  # (width, length, length)
        y = torch.einsum("hts,bhs->bht", toeplitz, u) + self.d.unsqueeze(1) * u
        return self.mix(functional.gelu(y).transpose(1, 2))


class DiagonalSSM(nn.Module):
    """A diagonal linear state-space sequence model (S4D-like, real modes): a linear lift
    of each step's input to ``width`` channels, ``blocks`` residual blocks each running a
    diagonal linear recurrence per channel as one long causal convolution (its impulse
    response, decays learned over timescales starting at 1 to 100 steps) followed by GELU
    and a channel mix, and a linear read-out at every step. Sequences arrive as ``(batch,
    length)``; the output has the same shape.

    >>> DiagonalSSM()(torch.zeros(2, 64)).shape
    torch.Size([2, 64])
    """

    def __init__(self, width: int = 32, state: int = 8, blocks: int = 1) -> None:
        super().__init__()
        self.lift = nn.Linear(1, width)
        self.blocks = nn.ModuleList(_SSMBlock(width, state) for _ in range(blocks))
        self.head = nn.Linear(width, 1)

    def forward(self, x: Any) -> Any:
        h = self.lift(x.unsqueeze(2))
        for block in self.blocks:
            h = h + block(h)
        return self.head(h).squeeze(2)


class PhysicsInformedNet(nn.Module):
    """A physics-informed net (Raissi et al. 2019) for ``u'' - u**3 = f`` on [-1, 1] with
    ``u(+-1) = 0``: a tanh MLP ``n_in -> hidden x layers -> 1`` of a point x (the first
    input) and the problem's parameters (the rest) gives the solution as ``u = (1 - x**2)
    N(x, params)``, so the boundary conditions hold exactly, and the output is the
    equation's left-hand side ``u'' - u**3`` at x, its derivatives taken by autograd (with
    their graph while training, so the loss's gradient goes through them). The loss compares
    it with the forcing (MSE): the residual. Gradients are enabled inside, so it works under
    ``torch.no_grad`` too.

    >>> PhysicsInformedNet(4)(torch.zeros(3, 4)).shape
    torch.Size([3, 1])
    """

    def __init__(self, n_in: int, hidden: int = 64, layers: int = 3) -> None:
        super().__init__()
        self.net = mlp([n_in, *[hidden] * layers, 1], act="tanh")

    def solution(self, x: Any) -> Any:
        """u at the rows of ``x`` (point, parameters)."""
        return (1 - x[:, :1] ** 2) * self.net(x)

    def forward(self, x: Any) -> Any:
        with torch.enable_grad():
            point = x[:, :1].detach().requires_grad_(True)
            u = self.solution(torch.cat([point, x[:, 1:]], dim=1))
            du = torch.autograd.grad(u.sum(), point, create_graph=True)[0]
            d2u = torch.autograd.grad(du.sum(), point, create_graph=self.training)[0]
        return d2u - u ** 3


class ConvCTC(nn.Module):
    """An alignment-free sequence reader: a 1-D conv net over a raw signal (a conv of width
    8 and stride 2, then two of width 5 dilated 2 and 4, ``channels`` each, each followed by
    BatchNorm and ReLU: one frame per 2 samples, a receptive field of 56 samples) gives, at
    every frame, log-probabilities over ``n_symbols`` symbols and a blank (index 0), for
    ``ctc_nll``. The blank's bias starts at 2 (most frames fall between symbols; CTC
    readers are usually started so). Signals arrive as ``(batch, samples)``; the output is
    ``(batch, samples // 2, n_symbols + 1)``.

    >>> ConvCTC(4)(torch.zeros(2, 96)).shape
    torch.Size([2, 48, 5])
    """

    def __init__(self, n_symbols: int, channels: int = 32) -> None:
        super().__init__()
        convs = [nn.Conv1d(1, channels, 8, stride=2, padding=3),
                 nn.Conv1d(channels, channels, 5, padding=4, dilation=2),
                 nn.Conv1d(channels, channels, 5, padding=8, dilation=4)]
        head = nn.Conv1d(channels, n_symbols + 1, 1)
        with torch.no_grad():
            head.get_parameter("bias")[0] = 2.0
        self.body = nn.Sequential(
            *[m for conv in convs for m in (conv, nn.BatchNorm1d(channels), nn.ReLU())], head)

    def forward(self, x: Any) -> Any:
        return functional.log_softmax(self.body(x.unsqueeze(1)).transpose(1, 2), dim=2)


def ctc_nll(log_probs: Any, targets: Any) -> Any:
    """The CTC negative log-likelihood (Graves et al. 2006) of each row's symbol sequence
    (``targets``: symbols 1.., padded with 0) under ``log_probs`` ``(batch, length,
    symbols + 1)`` (blank 0), summed over every alignment, per target symbol, averaged
    over the batch (``ctc_loss``'s ``mean``)."""
    lengths = (targets > 0).sum(dim=1)
    frames = torch.full((len(targets),), log_probs.shape[1], dtype=torch.long)
    return functional.ctc_loss(log_probs.transpose(0, 1), targets, frames, lengths, blank=0)


class _MaskedLinear(nn.Linear):
    """A linear layer whose weight is multiplied by a fixed 0/1 mask (a buffer)."""

    def __init__(self, n_in: int, n_out: int, mask: Any) -> None:
        super().__init__(n_in, n_out)
        self.mask: torch.Tensor
        self.register_buffer("mask", mask)

    def forward(self, x: Any) -> Any:
        return functional.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    """A masked autoencoder for distribution estimation (MADE, Germain et al. 2015): a ReLU
    MLP ``n -> hidden x layers -> n`` whose weights are masked so output d sees only inputs
    before d (in the columns' order), making its logits the autoregressive conditionals
    ``p(x_d = 1 | x_<d)`` of a Bernoulli model of the whole vector; ``made_nll`` sums
    their cross-entropies (the exact negative log-likelihood). Hidden units' degrees cycle
    through 1..n-1 (fixed, not drawn).

    >>> MADE(5)(torch.zeros(3, 5)).shape
    torch.Size([3, 5])
    """

    def __init__(self, n: int, hidden: int = 128, layers: int = 2) -> None:
        super().__init__()
        degrees = [torch.arange(1, n + 1)] + [torch.arange(hidden) % (n - 1) + 1] * layers
        blocks: list[nn.Module] = []
        for before, after in itertools.pairwise(degrees):
            mask = (after[:, None] >= before[None, :]).float()
            blocks += [_MaskedLinear(len(before), len(after), mask), nn.ReLU()]
        output = (degrees[0][:, None] > degrees[-1][None, :]).float()
        self.net = nn.Sequential(*blocks, _MaskedLinear(hidden, n, output))

    def forward(self, x: Any) -> Any:
        return self.net(x)


def made_nll(logits: Any, target: Any) -> Any:
    """The negative log-likelihood (nats per vector) of binary ``target`` under a ``MADE``'s
    autoregressive logits: their Bernoulli cross-entropies summed over the vector."""
    bits = functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return bits.sum(dim=1).mean()


class HyperNet(nn.Module):
    """A hypernetwork (Ha et al. 2017): a ReLU MLP reads a problem's parameters (every input
    after the first ``n_point``) and generates *all* the weights and biases of a small tanh
    net ``n_point -> target x 2 -> 1``, which then maps the point (the first ``n_point``
    inputs) to a logit; each row gets its own generated net (batched matmuls). The
    generator's last layer starts with small weights (x0.1) and a bias holding a usual
    initialisation of the target net, so training starts near one shared net.

    >>> HyperNet(6)(torch.zeros(3, 6)).shape
    torch.Size([3, 1])
    """

    def __init__(self, n_in: int, n_point: int = 2, hidden: int = 64, target: int = 16) -> None:
        super().__init__()
        self.n_point = n_point
        self.shapes = [(target, n_point), (target, target), (1, target)]
        sizes = [o * i + o for o, i in self.shapes]
        self.generator = nn.Sequential(mlp([n_in - n_point, hidden, hidden]), nn.ReLU())
        self.weights = nn.Linear(hidden, sum(sizes))
        with torch.no_grad():
            self.weights.weight.mul_(0.1)
            start = 0
            for out, inp in self.shapes:
                bound = 1 / math.sqrt(inp)
                self.weights.bias[start:start + out * inp + out].uniform_(-bound, bound)
                start += out * inp + out

    def forward(self, x: Any) -> Any:
        params = self.weights(self.generator(x[:, self.n_point:]))
        h, start = x[:, :self.n_point].unsqueeze(2), 0
        for i, (out, inp) in enumerate(self.shapes):
            w = params[:, start:start + out * inp].reshape(-1, out, inp)
            b = params[:, start + out * inp:start + out * inp + out].unsqueeze(2)
            start += out * inp + out
            h = w @ h + b
            if i < len(self.shapes) - 1:
                h = torch.tanh(h)
        return h.squeeze(2)


def smoothed_cross_entropy(logits: Any, labels: Any) -> Any:
    """Cross-entropy against targets with 10% label smoothing (training and validation
    alike): a confident mistake costs boundedly more than a hesitant one."""
    return functional.cross_entropy(logits, labels, label_smoothing=0.1)


def poisson_nll(log_rate: Any, counts: Any) -> Any:
    """The Poisson negative log-likelihood of ``counts`` under ``exp(log_rate)``, exactly
    (``poisson_nll_loss`` plus its dropped ``log(counts!)`` term), so it is never negative."""
    return (functional.poisson_nll_loss(log_rate, counts, log_input=True)
            + torch.lgamma(counts + 1).mean())


def gaussian_nll(out: Any, target: Any) -> Any:
    """The Gaussian negative log-likelihood (constant included) of ``target`` under mean
    ``out[:, :1]`` and variance ``exp(out[:, 1:])``: a forecast that states its own
    uncertainty (``gaussian_nll_loss``)."""
    return functional.gaussian_nll_loss(out[:, :1], target, out[:, 1:].exp(), full=True)


def lm_loss(logits: Any, targets: Any) -> Any:
    """Mean next-token cross-entropy over every position of every window (nats/char)."""
    return functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
