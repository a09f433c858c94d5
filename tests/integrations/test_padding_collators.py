"""Task.from_trainer with padding collators on variable-length tokenised text.

The tokenizer is real and built here, offline, with the ``tokenizers`` library (a
word-level vocabulary over the test's sentences), wrapped as a transformers
``PreTrainedTokenizerFast``: nothing is downloaded.
"""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

import lrkit  # noqa: E402
from lrkit.rangetest import checksum  # noqa: E402
from lrkit.tasks import seeded_rng, train  # noqa: E402
from lrkit.tasks.data import epoch_batches  # noqa: E402

WORDS = ["the", "a", "cat", "dog", "sat", "ran", "on", "under", "mat", "log", "quickly",
         "slowly", "big", "small", "red", "blue", "house", "tree", "and", "then"]


def sentences(n: int = 96, seed: int = 0) -> list[tuple[str, int]]:
    """``n`` sentences of 3 to 11 words; the label: does it mention a cat."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        length = int(torch.randint(3, 12, (1,), generator=g))
        idx = torch.randint(0, len(WORDS), (length,), generator=g).tolist()
        words = [WORDS[i] for i in idx]
        out.append((" ".join(words), int("cat" in words)))
    return out


def tokenizer() -> transformers.PreTrainedTokenizerFast:
    model = tokenizers.models.WordLevel(unk_token="[UNK]")
    tok = tokenizers.Tokenizer(model)
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    trainer = tokenizers.trainers.WordLevelTrainer(
        special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tok.train_from_iterator([s for s, _ in sentences(200, seed=1)], trainer=trainer)
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]")


class Items(torch.utils.data.Dataset):
    """Tokenised sentences of different lengths (lists of ids), plus a text column the
    model does not take (the Trainer drops it before collating)."""

    def __init__(self, tok, rows, labels: bool) -> None:
        self.rows = []
        for text, label in rows:
            item = dict(tok(text))
            item["text"] = text
            if labels:
                item["labels"] = label
            self.rows.append(item)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        return self.rows[i]


def bert_config(tok, dropout: float = 0.1) -> transformers.BertConfig:
    return transformers.BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=1,
                                   num_attention_heads=2, intermediate_size=32,
                                   max_position_embeddings=32,
                                   pad_token_id=tok.pad_token_id,
                                   hidden_dropout_prob=dropout,
                                   attention_probs_dropout_prob=dropout)


def args(tmp_path, **kw) -> transformers.TrainingArguments:
    return transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"), per_device_train_batch_size=8, num_train_epochs=1,
        learning_rate=1e-3, report_to=[], save_strategy="no", use_cpu=True,
        disable_tqdm=True, seed=0, **kw)


def test_with_padding_batches_as_the_trainer_pads_and_auto_runs(tmp_path) -> None:
    tok = tokenizer()
    torch.manual_seed(0)
    # no dropout: update 0's loss is then a function of the weights and the batch only
    model = transformers.BertForSequenceClassification(bert_config(tok, dropout=0.0))
    collator = transformers.DataCollatorWithPadding(tok)
    tr = transformers.Trainer(model=model, args=args(tmp_path),
                              train_dataset=Items(tok, sentences(96), True),
                              eval_dataset=Items(tok, sentences(32, seed=2), True),
                              data_collator=collator)
    # the Trainer's own dataloader (building it touches the model's state: before the sum)
    ref = next(iter(tr.get_train_dataloader()))
    before = checksum(tr.model)
    task = lrkit.Task.from_trainer(tr)
    lengths = {len(item["input_ids"]) for item in tr.train_dataset}
    assert len(lengths) > 3  # really variable-length
    g = torch.Generator().manual_seed(0)
    batches = list(epoch_batches(task.train_data, task.batch_size, g))
    assert len(batches) == 12
    widths = set()
    for batch in batches:
        assert "text" not in batch  # the unused column is dropped, as the Trainer does
        ids, mask = batch["input_ids"], batch["attention_mask"]
        # padded to the longest sentence of this batch, with [PAD] and a zero mask
        assert ids.shape[1] == int(mask.sum(dim=1).max())
        assert bool(((ids == tok.pad_token_id) == (mask == 0)).all())
        widths.add(ids.shape[1])
    assert len(widths) > 1  # each batch padded to its own longest item
    # the batch is the Trainer's own dataloader's for the same items
    items = [tr.train_dataset[i] for i in range(8)]
    mine = task.train_data.collate(items)
    theirs = tr._get_collator_with_removed_columns(collator, description="training")(items)
    assert sorted(mine) == sorted(ref.keys())
    assert all(torch.equal(mine[k], theirs[k]) for k in mine)

    result = train(task, lr=1e-3, seed=0)
    assert not result.diverged and math.isfinite(result.final_val_loss)
    # the training loss of update 0 is compute_loss on the first padded batch
    with seeded_rng(0):
        net = task.model()
    net.train()
    with torch.no_grad():
        first = float(tr.compute_loss(net, batches[0]))
    again = train(task, lr=1e-12, seed=0, total_steps=1)
    assert again.train_losses[0] == pytest.approx(first, rel=1e-6)
    rec = lrkit.auto(task, budget=0.5, curvature=False)
    assert math.isfinite(rec.lr) and rec.lr > 0
    assert checksum(tr.model) == before  # the user's model is never trained


def test_language_modelling_collator_masks_and_the_range_test_runs(tmp_path) -> None:
    tok = tokenizer()
    torch.manual_seed(0)
    model = transformers.BertForMaskedLM(bert_config(tok))
    collator = transformers.DataCollatorForLanguageModeling(tok, mlm_probability=0.3)
    tr = transformers.Trainer(model=model, args=args(tmp_path),
                              train_dataset=Items(tok, sentences(64), False),
                              data_collator=collator)
    task = lrkit.Task.from_trainer(tr)
    batch = task.train_data.collate([tr.train_dataset[i] for i in range(8)])
    labels, ids = batch["labels"], batch["input_ids"]
    assert labels.shape == ids.shape
    chosen = labels != -100
    assert 0 < int(chosen.sum()) < int((ids != tok.pad_token_id).sum())
    # masked positions are mostly [MASK]; labels keep the original tokens there
    assert int((ids[chosen] == tok.mask_token_id).sum()) > 0
    assert not bool((ids[~chosen] == tok.mask_token_id).any())
    from lrkit.rangetest import find

    res = find(task, steps=30, start_lr=1e-5, end_lr=10.0)
    assert res.suggestion > 0 and len(res.lrs) >= 10
