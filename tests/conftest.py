"""Settings shared by every test folder; per-area fixtures live beside their tests."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

# Keras picks its backend once, at first import: the project's tests use the CPU torch
# build that is already installed, never TensorFlow or JAX's backend.
os.environ.setdefault("KERAS_BACKEND", "torch")
# headless plotting, whichever module imports matplotlib first
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Run torch on one intra-op thread in tests that use it.

    The built-in tasks' models are tiny: one thread is faster than two, and steadier on a
    shared 2-core machine. Tests that never import torch are left alone.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
