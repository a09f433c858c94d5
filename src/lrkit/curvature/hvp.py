"""Hessian-vector products of a model's loss over a fixed set of batches.

The loss is the example-weighted mean of ``loss_fn(model(x), y)`` over the batches, so the
Hessian is that of the mean loss over all their examples. Products use double backward
(``torch.autograd.grad`` of the gradient with ``grad_outputs=v``), which works for every
module autograd can differentiate twice, hooks and in-place ops included.

Cost in gradient-equivalents (one forward + backward over the batch set = 1), following
the lrkit benchmark protocol's "HVP = 2": with ``cache_graphs=True`` (default) building
the gradient graphs once costs 1 and each product, a backward pass through that graph,
costs 2; without caching each product also rebuilds the graph, 3 in all. Measured on the
benchmark problems a cached product took 1.7-2.1 gradients of wall-clock time and a fresh
one about 3 (``benchmarks/curvature/RESULTS.md``).

>>> import torch
>>> torch.manual_seed(0) and None
>>> model = torch.nn.Linear(3, 1, bias=False)
>>> x, y = torch.randn(8, 3), torch.randn(8, 1)
>>> op = HessianOperator(model, torch.nn.functional.mse_loss, [(x, y)])
>>> H = 2 * x.T @ x / 8   # mean squared error: H = 2 X^T X / n
>>> v = torch.randn(3)
>>> torch.allclose(op.matvec(v), H @ v, atol=1e-5), op.hvps, op.grad_equivalents
(True, 1, 3.0)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from lrkit._deps import require
from lrkit.device import to_device
from lrkit.errors import ConfigError

torch = require("torch", extra="torch")

__all__ = ["GRAD_EQUIVALENTS_PER_HVP", "HessianOperator", "as_batches"]

GRAD_EQUIVALENTS_PER_HVP = 2.0  # the backward pass through the gradient graph


def _batch_size(inputs: Any) -> int:
    if isinstance(inputs, list | tuple):
        return _batch_size(inputs[0])
    if isinstance(inputs, dict):
        return _batch_size(next(iter(inputs.values())))
    return int(inputs.shape[0])


def as_batches(batches: Iterable[Any]) -> list[tuple[Any, Any]]:
    """Materialise ``batches`` (a list, a DataLoader, ...) into a fixed list of pairs.

    Raises:
        ConfigError: there are no batches, or an item is not an ``(inputs, targets)`` pair.
    """
    out = []
    for i, item in enumerate(batches):
        if not (isinstance(item, list | tuple) and len(item) == 2):
            raise ConfigError(f"batches[{i}] = {type(item).__name__}: must be an "
                              "(inputs, targets) pair; yield (x, y) from your loader")
        out.append((item[0], item[1]))
    if not out:
        raise ConfigError("batches: is empty; pass at least one (inputs, targets) batch")
    return out


def _no_second_derivative(err: RuntimeError) -> Exception:
    """A one-line ConfigError for an op autograd cannot differentiate twice, else ``err``."""
    text = str(err)
    if "derivative for" not in text or "not implemented" not in text:
        return err
    op = text.split("derivative for", 1)[1].split("is not implemented", 1)[0].strip()
    return ConfigError(f"model: uses {op}, which has no second derivative, so its curvature "
                       "cannot be measured; use an implementation without it (a Hugging "
                       "Face model: attn_implementation='eager'), or skip the curvature "
                       "stage (it is off in lrkit auto unless --curvature is given)")


class HessianOperator:
    """``v -> H v`` for the mean loss of ``model`` over ``batches``, on flat vectors.

    The caller is responsible for the model's mode (see
    :func:`lrkit.curvature._state.measurement_mode`): the operator only reads parameters.

    Args:
        model: a ``torch.nn.Module``; parameters with ``requires_grad=False`` are constants.
        loss_fn: ``(output, target) -> scalar`` mean loss.
        batches: ``(inputs, targets)`` pairs, weighted by their number of examples; their
            tensors are moved to the parameters' device once.
        cache_graphs: keep each batch's gradient graph between products (faster, holds
            the activations of every batch in memory).

    Raises:
        ConfigError: no trainable parameters, no batches, or a loss that is not a scalar.
    """

    def __init__(self, model: Any, loss_fn: Callable[[Any, Any], Any],
                 batches: Iterable[Any], *, cache_graphs: bool = True) -> None:
        self.model = model
        self.loss_fn = loss_fn
        self.params = [p for p in model.parameters() if p.requires_grad]
        if not self.params:
            raise ConfigError("model: has no parameter with requires_grad=True; "
                              "unfreeze the parameters whose curvature you want")
        # batches drawn on the CPU (fixed_batches, a DataLoader) meet a model on a GPU:
        # moved once here, not at every product
        device = self.params[0].device
        self.batches = [(to_device(x, device), to_device(y, device))
                        for x, y in as_batches(batches)]
        sizes = [_batch_size(x) for x, _ in self.batches]
        self.examples = sum(sizes)
        self.weights = [n / self.examples for n in sizes]
        self.dim = sum(p.numel() for p in self.params)
        self.cache_graphs = cache_graphs
        self._graphs: list[tuple[Any, ...]] | None = None
        self.hvps = 0
        self.gradients = 0

    # -- flat <-> per-parameter ------------------------------------------------------------
    def flatten(self, tensors: Iterable[Any]) -> Any:
        """Concatenate per-parameter tensors into one flat vector."""
        return torch.cat([t.reshape(-1) for t in tensors])

    def unflatten(self, flat: Any) -> list[Any]:
        """Split a flat vector into views shaped like the parameters."""
        out, start = [], 0
        for p in self.params:
            out.append(flat[start:start + p.numel()].view_as(p))
            start += p.numel()
        return out

    def new_vector(self, generator: Any | None = None) -> Any:
        """A standard-normal flat vector with the parameters' dtype and device."""
        p = self.params[0]
        return torch.randn(self.dim, generator=generator, dtype=p.dtype, device=p.device)

    # -- gradients and products ------------------------------------------------------------
    def _grad_graph(self, x: Any, y: Any) -> tuple[Any, ...]:
        loss = self.loss_fn(self.model(x), y)
        if loss.ndim != 0:
            raise ConfigError(f"loss_fn output shape = {tuple(loss.shape)}: must be a scalar; "
                              "reduce it with .mean()")
        return torch.autograd.grad(loss, self.params, create_graph=True, allow_unused=True)

    def _graphs_for_products(self) -> list[tuple[Any, ...]] | None:
        if self.cache_graphs and self._graphs is None:
            self._graphs = [self._grad_graph(x, y) for x, y in self.batches]
            self.gradients += 1
        return self._graphs

    def gradient(self) -> Any:
        """The flat gradient of the mean loss (first-order only; counts 1 gradient)."""
        total = torch.zeros(self.dim, dtype=self.params[0].dtype, device=self.params[0].device)
        for (x, y), w in zip(self.batches, self.weights, strict=True):
            loss = self.loss_fn(self.model(x), y)
            grads = torch.autograd.grad(loss, self.params, allow_unused=True)
            total += w * self.flatten(self._fill(grads))
        self.gradients += 1
        return total

    def batch_gradients(self) -> list[Any]:
        """The flat gradient of each batch's loss, in order (counts 1 gradient in all)."""
        out = []
        for x, y in self.batches:
            loss = self.loss_fn(self.model(x), y)
            out.append(self.flatten(self._fill(torch.autograd.grad(loss, self.params,
                                                                    allow_unused=True))))
        self.gradients += 1
        return out

    def _fill(self, grads: Iterable[Any]) -> list[Any]:
        # A parameter the loss does not touch has zero gradient and zero curvature.
        return [torch.zeros_like(p) if g is None else g
                for p, g in zip(self.params, grads, strict=True)]

    def matvec(self, v: Any) -> Any:
        """``H v`` for a flat vector ``v`` (one Hessian-vector product)."""
        pieces = self.unflatten(v)
        graphs = self._graphs_for_products()
        total = torch.zeros_like(v)
        for i, ((x, y), w) in enumerate(zip(self.batches, self.weights, strict=True)):
            grads = graphs[i] if graphs is not None else self._grad_graph(x, y)
            if graphs is None and i == 0:
                self.gradients += 1  # a fresh product rebuilds the gradient graph
            used = [(g, p, vi) for g, p, vi in zip(grads, self.params, pieces, strict=True)
                    if g is not None and g.requires_grad]
            if not used:
                continue  # the loss is linear in every parameter: zero curvature
            try:
                hv = torch.autograd.grad([g for g, _, _ in used], [p for _, p, _ in used],
                                         grad_outputs=[vi for _, _, vi in used],
                                         retain_graph=graphs is not None, allow_unused=True)
            except RuntimeError as err:
                raise _no_second_derivative(err) from err
            by_param = {id(p): h for (_, p, _), h in zip(used, hv, strict=True)}
            total += w * self.flatten(self._fill(by_param.get(id(p)) for p in self.params))
        self.hvps += 1
        return total.detach()

    @property
    def grad_equivalents(self) -> float:
        """Cost so far in gradients over the batch set (gradient or graph = 1, product = 2)."""
        return self.gradients + GRAD_EQUIVALENTS_PER_HVP * self.hvps

    def release(self) -> None:
        """Drop the cached gradient graphs (frees the activations they hold)."""
        self._graphs = None
