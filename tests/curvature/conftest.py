"""Small models and their explicitly built Hessians, shared by the curvature tests."""

from __future__ import annotations

import pytest
import torch

from ._helpers import make_logreg, make_mlp


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models on a shared 2-core machine run fastest (and steadiest) on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def logreg_problem():
    """Logistic regression on sklearn's bundled breast-cancer data (31 parameters)."""
    return make_logreg()


@pytest.fixture
def mlp_problem():
    """A 64-8-10 tanh MLP (618 parameters) on sklearn's bundled digits."""
    return make_mlp()
