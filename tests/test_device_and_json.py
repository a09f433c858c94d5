"""The neutral helpers: lrkit.device (model placement, batches, mean loss) and lrkit._json."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np
import torch

from lrkit._json import jsonable
from lrkit.device import evaluate, model_device, to_device


def test_device_helpers_move_nested_batches_and_restore_the_mode():
    model = torch.nn.Linear(2, 1)
    model.train()
    batch = {"x": [torch.ones(3, 2)], "y": (torch.zeros(3, 1),)}
    moved = to_device(batch, model_device(model))
    assert moved["x"][0].device == model_device(model) and isinstance(moved["y"], tuple)
    assert to_device(batch, None) is batch
    loss = evaluate(model, torch.nn.functional.mse_loss, [(torch.ones(3, 2), torch.zeros(3, 1))])
    assert math.isfinite(loss) and model.training  # eval mode only while measuring


def test_the_task_module_still_offers_them():
    from lrkit.tasks import data

    assert (data.evaluate, data.model_device, data.to_device) == (evaluate, model_device,
                                                                   to_device)


def test_the_range_test_adapter_and_the_curvature_do_not_import_the_task_machinery():
    # they run on a user's own model and optimizer: their helpers come from lrkit.device
    src = Path(__file__).resolve().parents[1] / "src" / "lrkit"
    for module in ("rangetest/torch_adapter.py", "curvature/hvp.py"):
        tree = ast.parse((src / module).read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert "lrkit.device" in imported, module
        assert not any(m and m.startswith("lrkit.tasks") for m in imported), module


def test_one_json_converter_for_cli_web_and_saved_results():
    doc = {"a": np.float32(0.5), "b": np.arange(3), "c": [float("inf"), (np.int64(2),)],
           1: np.bool_(True)}
    assert jsonable(doc) == {"a": 0.5, "b": [0, 1, 2], "c": [None, [2]], "1": True}
    json.dumps(jsonable(doc), allow_nan=False)  # strict JSON
