"""lrkit's exported schedules inside each framework: the same LRs, and the same LRs again
after a checkpoint mid-run and a resume, exactly as the frameworks' own schedulers."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lrkit.interop import to_torch  # noqa: E402
from lrkit.schedules import parse  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))

SCHEDULE = parse("cosine(peak_lr=0.05, total_steps=20, end_lr=0.001)")
EXPECTED = SCHEDULE.values(20).tolist()


def test_lightning_configure_optimizers_checkpoint_and_resume(tmp_path):
    L = pytest.importorskip("lightning.pytorch")
    from test_lightning_integration import DM, Net

    class Scheduled(Net):
        def configure_optimizers(self):
            opt = torch.optim.SGD(self.parameters(), lr=0.05)
            return {"optimizer": opt,
                    "lr_scheduler": {"scheduler": to_torch(SCHEDULE, opt), "interval": "step"}}

    class Record(L.Callback):
        def __init__(self):
            self.lrs = []

        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            self.lrs.append(trainer.optimizers[0].param_groups[0]["lr"])

    def trainer(max_steps, rec):
        return L.Trainer(max_steps=max_steps, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False,
                         callbacks=[rec])

    whole = Record()
    trainer(20, whole).fit(Scheduled(), datamodule=DM())
    first, second = Record(), Record()
    t1 = trainer(8, first)
    t1.fit(Scheduled(), datamodule=DM())
    t1.save_checkpoint(tmp_path / "mid.ckpt")
    trainer(20, second).fit(Scheduled(), datamodule=DM(), ckpt_path=tmp_path / "mid.ckpt")
    assert whole.lrs == pytest.approx(EXPECTED, rel=1e-12)
    assert first.lrs + second.lrs == whole.lrs


def test_hf_trainer_optimizers_checkpoint_and_resume(tmp_path):
    pytest.importorskip("transformers")
    from test_transformers_integration import make_trainer

    def run(out, resume=None, max_steps=20):
        tr = make_trainer(out, max_steps=max_steps, logging_steps=1, save_strategy="steps",
                          save_steps=8)
        opt = torch.optim.SGD(tr.model.parameters(), lr=0.05)
        tr.optimizer, tr.lr_scheduler = opt, to_torch(SCHEDULE, opt)
        tr.train(resume_from_checkpoint=resume)
        return {h["step"]: h["learning_rate"] for h in tr.state.log_history
                if "learning_rate" in h}

    whole = run(tmp_path / "a")  # also writes checkpoint-8 (and -16)
    ckpt = tmp_path / "a" / "out" / "checkpoint-8"
    assert ckpt.exists()
    after = run(tmp_path / "d", resume=str(ckpt))
    # HF logs the LR of update k (1-based) after it: EXPECTED[k - 1]
    assert [whole[k] for k in sorted(whole)] == pytest.approx(EXPECTED, rel=1e-6)
    assert {k: v for k, v in after.items() if k > 8} == {k: v for k, v in whole.items()
                                                         if k > 8}


def test_keras_fit_save_and_resume(tmp_path):
    keras = pytest.importorskip("keras")
    from test_keras_integration import data

    from lrkit.interop import to_keras

    x, y = data(n=256)  # 8 batches of 32 per epoch

    class Record(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.lrs = []

        def on_train_batch_begin(self, batch, logs=None):
            self.lrs.append(float(self.model.optimizer.learning_rate))

    def model():
        keras.utils.set_random_seed(0)
        m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])
        m.compile(optimizer=keras.optimizers.SGD(to_keras(SCHEDULE)), loss="mse")
        return m

    whole = Record()
    model().fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0, callbacks=[whole])
    first, second = Record(), Record()
    m = model()
    m.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0, callbacks=[first])
    m.save(tmp_path / "mid.keras")
    back = keras.saving.load_model(tmp_path / "mid.keras")
    back.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0, callbacks=[second])
    np.testing.assert_allclose(whole.lrs, EXPECTED[:16], rtol=1e-6)
    assert first.lrs + second.lrs == whole.lrs
