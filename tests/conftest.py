"""Settings shared by every test folder; per-area fixtures live beside their tests."""

from __future__ import annotations

import os

# Keras picks its backend once, at first import: the project's tests use the CPU torch
# build that is already installed, never TensorFlow or JAX's backend.
os.environ.setdefault("KERAS_BACKEND", "torch")
# headless plotting, whichever module imports matplotlib first
os.environ.setdefault("MPLBACKEND", "Agg")
