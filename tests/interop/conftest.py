"""Fixtures for the interop tests: each reference library is imported once per session.

PyTorch schedulers are evaluated by stepping a real optimizer; Keras runs on its torch
backend (set by tests/conftest.py); optax runs with jax's 64-bit mode switched on inside
each test that asks for it, so its references are float64.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest


@pytest.fixture(scope="session")
def torch() -> Any:
    return pytest.importorskip("torch")


@pytest.fixture(scope="session")
def keras() -> Any:
    return pytest.importorskip("keras")


@pytest.fixture(scope="session")
def optax() -> Any:
    return pytest.importorskip("optax")


@pytest.fixture(scope="session")
def transformers() -> Any:
    pytest.importorskip("transformers")
    import transformers.optimization  # the schedulers only, not the model zoo

    return transformers.optimization


@pytest.fixture()
def x64(optax: Any) -> Iterator[Any]:
    """jax with float64 enabled for the duration of one test."""
    import jax

    with jax.enable_x64(True):
        yield jax


def _assert_rates(got: Any, want: Any, rtol: float) -> None:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale)


@pytest.fixture(scope="session")
def same_rates() -> Callable[[Any, Any, float], None]:
    """Assert equal rates to ``rtol`` relative to each value, with an absolute floor of
    ``rtol`` times the largest rate (a rate that should be 0 comes out of a recursion as
    1e-18)."""
    return _assert_rates


@pytest.fixture(scope="session")
def torch_rates(torch: Any) -> Callable[..., np.ndarray]:
    """The lr PyTorch uses for each of ``n`` updates: read param_groups[0]["lr"], then
    ``optimizer.step()`` and ``scheduler.step()``, on a real SGD optimizer."""

    def run(build: Callable[[Any], Any], n: int, lr: float = 0.1, **opt: Any) -> np.ndarray:
        param = torch.nn.Parameter(torch.zeros(2))
        optimizer = torch.optim.SGD([param], lr=lr, momentum=opt.pop("momentum", 0.9), **opt)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the deprecation notes of step(epoch) etc.
            scheduler = build(optimizer)
            rates = []
            for i in range(n):
                rates.append(optimizer.param_groups[0]["lr"])
                param.grad = torch.ones_like(param)
                optimizer.step()
                if i < n - 1:  # no step past the last rate read (OneCycleLR would refuse)
                    scheduler.step()
        return np.asarray(rates, dtype=np.float64)

    return run
