"""Settings shared by every test folder, and the real Chromium that web and docs tests drive;
per-area fixtures live beside their tests."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

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


CHROMIUM = "/usr/bin/chromium"
# We run as root inside a closed network: no sandbox, and no background calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (skips where it is not installed)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
