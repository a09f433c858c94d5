"""Task.from_lightning / from_trainer / from_keras: lrkit.auto trains the framework's own step."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("lightning.pytorch")
pytest.importorskip("transformers")
keras = pytest.importorskip("keras")

import lrkit  # noqa: E402
from lrkit.rangetest import checksum  # noqa: E402
from lrkit.tasks import train  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from test_keras_integration import data as keras_data  # noqa: E402
from test_keras_integration import model as keras_model  # noqa: E402
from test_lightning_integration import DM, Net  # noqa: E402
from test_transformers_integration import make_trainer  # noqa: E402


class Penalised(Net):
    """A training_step that is not loss_fn(model(x), y): auto must train this one."""

    def training_step(self, batch, batch_idx):
        return super().training_step(batch, batch_idx) + 10.0


def test_from_lightning_uses_training_step_configure_optimizers_and_the_scheduler():
    module = Penalised()
    before = checksum(module)
    task = lrkit.Task.from_lightning(module, DM(), epochs=2)
    assert task.batch_size == 16 and task.total_steps == 32
    assert task.schedule == {"family": "step", "step_size": 5, "gamma": 0.5}
    result = train(task, lr=1e-3, epochs=1)
    assert result.train_losses[0] > 10.0  # the +10 of training_step is in the loss
    opt = task.optimizer(task.model().parameters(), 0.02)
    assert isinstance(opt, torch.optim.AdamW) and opt.param_groups[0]["lr"] == 0.02
    rec = lrkit.auto(task, budget=1.0)
    assert math.isfinite(rec.lr) and rec.lr > 0
    assert checksum(module) == before  # the user's module is never trained


def test_from_trainer_uses_compute_loss_optimizer_and_schedule(tmp_path):
    tr = make_trainer(tmp_path, weight_decay=0.01, lr_scheduler_type="cosine",
                      warmup_steps=4)
    task = lrkit.Task.from_trainer(tr)
    assert task.batch_size == 16 and task.epochs == 1
    assert task.schedule["family"] == "cosine" and task.schedule["warmup_steps"] == 0.25
    opt = task.optimizer(task.model().parameters(), 0.01)
    assert type(opt).__name__ == "AdamW"
    assert sorted(g["weight_decay"] for g in opt.param_groups) == [0.0, 0.01]
    result = train(task, lr=1e-3)
    assert 0.3 < result.final_val_loss < 2.0
    assert lrkit.auto(task, budget=1.0).lr > 0


def test_from_keras_trains_the_compiled_loss_with_the_optimizer_twin():
    x, y = keras_data()
    m = keras_model(lr=1e-3)
    task = lrkit.Task.from_keras(m, x, y, epochs=2, batch_size=32)
    opt = task.optimizer(task.model().parameters(), 0.01)
    assert isinstance(opt, torch.optim.Adam) and opt.defaults["eps"] == pytest.approx(1e-7)
    result = train(task, lr=1e-2)
    assert result.final_val_loss < result.val_losses[0] * 1.5 and not result.diverged
    assert lrkit.auto(task, budget=1.0).lr > 0


@pytest.mark.parametrize("name", ["linear", "cosine", "constant_with_warmup"])
def test_hf_schedule_shape_refills_to_the_same_rates(name):
    import numpy as np

    from lrkit.integrations.tasks import schedule_shape
    from lrkit.interop import from_hf
    from lrkit.tasks import fill_schedule

    hf = from_hf(name, 0.3, num_warmup_steps=10, num_training_steps=80)
    shape = schedule_shape(hf.to_spec())
    assert shape is not None
    np.testing.assert_allclose(fill_schedule(shape, 0.3, 80).values(80), hf.values(80),
                               rtol=1e-12, atol=1e-15)
