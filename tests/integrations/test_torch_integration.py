"""The plain-loop integration, and the one-line error when a framework's extra is missing."""

from __future__ import annotations

import importlib
import sys

import pytest

torch = pytest.importorskip("torch")

from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from lrkit.errors import MissingDependencyError  # noqa: E402
from lrkit.integrations.torch import find  # noqa: E402
from lrkit.rangetest import checksum, range_test  # noqa: E402


def test_find_is_the_range_test_on_your_objects():
    torch.manual_seed(0)
    x = torch.randn(256, 4)
    y = x @ torch.ones(4, 1)
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = checksum(model, opt)
    loader = DataLoader(TensorDataset(x, y), batch_size=32)
    res = find(model, opt, torch.nn.functional.mse_loss, loader, steps=30, end_lr=10.0)
    ref = range_test(model, opt, torch.nn.functional.mse_loss, loader, steps=30, end_lr=10.0)
    assert checksum(model, opt) == before
    assert res.losses == ref.losses and res.suggestion == ref.suggestion


@pytest.mark.parametrize(("module", "missing", "extra"), [
    ("lrkit.integrations.lightning", "lightning", "lightning"),
    ("lrkit.integrations.transformers", "transformers", "transformers"),
    ("lrkit.integrations.keras", "keras", "keras"),
])
def test_a_missing_framework_names_the_pip_line(monkeypatch, module, missing, extra):
    for name in [n for n in sys.modules if n == missing or n.startswith(missing + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, missing, None)  # "not installed"
    mod = importlib.import_module(module)
    with pytest.raises(MissingDependencyError, match=rf"pip install 'lrkit\[{extra}\]'"):
        mod.find(*([None] * mod.find.__code__.co_argcount))
