"""Small models and their explicitly built Hessians, shared by the curvature tests."""

from __future__ import annotations

import pytest

from ._helpers import make_logreg, make_mlp


@pytest.fixture
def logreg_problem():
    """Logistic regression on sklearn's bundled breast-cancer data (31 parameters)."""
    return make_logreg()


@pytest.fixture
def mlp_problem():
    """A 64-8-10 tanh MLP (618 parameters) on sklearn's bundled digits."""
    return make_mlp()
