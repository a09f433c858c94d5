"""lrkit.integrations.transformers against the real Hugging Face Trainer (a tiny BERT)."""

from __future__ import annotations

import logging

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("accelerate")
transformers = pytest.importorskip("transformers")

import lrkit.integrations.transformers as lrh  # noqa: E402
from lrkit.diagnose import diagnose  # noqa: E402
from lrkit.errors import ConfigError  # noqa: E402
from lrkit.rangetest import SweepSettings, checksum  # noqa: E402


class Tokens(torch.utils.data.Dataset):
    """Random token sequences; the label is whether the first token is in the upper half."""

    def __init__(self, n: int = 256, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(5, 50, (n, 12), generator=g)
        self.labels = (self.ids[:, 0] > 27).long()

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


def make_trainer(tmp_path, lr: float = 1e-3, callbacks=None, **kw) -> transformers.Trainer:
    torch.manual_seed(0)
    cfg = transformers.BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                                  num_attention_heads=2, intermediate_size=32,
                                  max_position_embeddings=16)
    args = dict(output_dir=str(tmp_path / "out"), per_device_train_batch_size=16,
                num_train_epochs=1, learning_rate=lr, report_to=[], save_strategy="no",
                logging_steps=5, use_cpu=True, disable_tqdm=True, seed=0)
    args.update(kw)
    return transformers.Trainer(model=transformers.BertForSequenceClassification(cfg),
                                args=transformers.TrainingArguments(**args),
                                train_dataset=Tokens(), callbacks=callbacks)


def test_find_restores_the_trainer_and_train_afterwards_is_bit_identical(tmp_path):
    tr = make_trainer(tmp_path, gradient_accumulation_steps=2, max_grad_norm=1.0)
    before = checksum(tr.model)
    n_callbacks = len(tr.callback_handler.callbacks)
    res = lrh.find(tr, start_lr=1e-6, end_lr=1.0, steps=30)
    assert res.suggestion > 0 and res.stop_reasons == ("diverged",)
    assert res.settings["accumulation_steps"] == 2 and res.micro_batches == 2 * res.updates
    assert checksum(tr.model) == before
    assert tr.optimizer is None and tr.state.global_step == 0 and tr.args.logging_steps == 5
    assert len(tr.callback_handler.callbacks) == n_callbacks
    out = tr.train()
    fresh = make_trainer(tmp_path, gradient_accumulation_steps=2, max_grad_norm=1.0)
    ref = fresh.train()
    assert out.training_loss == ref.training_loss
    assert all(torch.equal(a, b) for a, b in zip(tr.model.parameters(),
                                                  fresh.model.parameters(), strict=True))


def test_find_with_your_own_optimizer_keeps_its_state(tmp_path):
    tr = make_trainer(tmp_path)
    opt = torch.optim.SGD(tr.model.parameters(), lr=0.1, momentum=0.9)
    tr.optimizer = opt
    before = checksum(tr.model, opt)
    res = lrh.find(tr, start_lr=1e-5, end_lr=10.0, steps=20)
    assert checksum(tr.model, opt) == before and tr.optimizer is opt
    assert res.lrs[0] == pytest.approx(1e-5)


def test_bad_input():
    with pytest.raises(ConfigError, match="trainer = "):
        lrh.find(object())


def test_find_takes_the_sweep_settings_object(tmp_path):
    quick = SweepSettings(start_lr=1e-5, end_lr=1.0, steps=10)
    by_object = lrh.find(make_trainer(tmp_path), settings=quick)
    by_keywords = lrh.find(make_trainer(tmp_path), start_lr=1e-5, end_lr=1.0, steps=10)
    assert by_object.lrs == by_keywords.lrs and by_object.losses == by_keywords.losses
    assert lrh.find(make_trainer(tmp_path), settings=quick,
                    start_lr=1e-3).lrs[0] == pytest.approx(1e-3)
    with pytest.raises(ConfigError, match=r"^settings.accumulation_steps = 2: the Transformers "
                                          "find takes the accumulation from TrainingArguments"):
        lrh.find(make_trainer(tmp_path), settings=SweepSettings(accumulation_steps=2))


def test_doctor_callback_agrees_with_diagnose_on_trainer_state(tmp_path, caplog):
    doctor = lrh.LRDoctorCallback(min_points=10, overhead=0.5)
    tr = make_trainer(tmp_path, lr=3.0, callbacks=[doctor], logging_steps=1,
                      num_train_epochs=4)
    with caplog.at_level(logging.WARNING, logger="lrkit.doctor"):
        tr.train()
    live = [f.kind for f in doctor.doctor.findings]
    assert live and doctor.doctor.suggested_lr < 3.0
    tr.state.save_to_json(str(tmp_path / "trainer_state.json"))
    after = diagnose(tmp_path / "trainer_state.json")
    assert after.verdict == "too_high"
    assert any(r.getMessage().startswith("lrkit doctor at update") for r in caplog.records)


def test_doctor_stop_ends_training(tmp_path):
    doctor = lrh.LRDoctorCallback(mode="stop", min_points=10, overhead=0.5)
    tr = make_trainer(tmp_path, lr=3.0, callbacks=[doctor], logging_steps=1,
                      num_train_epochs=4)
    tr.train()
    assert doctor.doctor.should_stop and tr.state.global_step < 64
