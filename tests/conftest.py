"""Settings shared by every test folder; per-area fixtures live beside their tests."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run, so CI is reproducible; set
# HYPOTHESIS_PROFILE=explore to search new examples locally.
settings.register_profile("repeatable", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

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
