"""Hugging Face ``Trainer`` state: ``trainer_state.json`` and its ``log_history``.

Each ``Trainer`` save writes ``output_dir/checkpoint-<step>/trainer_state.json``; the
top-level ``output_dir/trainer_state.json`` exists only after ``trainer.save_state()``.
Given a folder, the top-level file is read if present, else the latest checkpoint's
(its history holds every earlier entry). ``log_history`` holds three kinds of entries:
training logs (``loss``, ``learning_rate``, ``grad_norm``), evaluations (``eval_*``) and
one end-of-training summary (``train_runtime``, ...), which is not a curve and is skipped.
``epoch`` there is fractional progress already.

>>> import json, pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "trainer_state.json"
>>> hist = [{"epoch": 0.5, "loss": 2.0, "learning_rate": 1e-3, "step": 5},
...         {"epoch": 1.0, "eval_loss": 1.8, "eval_runtime": 0.1, "step": 10},
...         {"epoch": 1.0, "step": 10, "train_loss": 1.9, "train_runtime": 1.2}]
>>> _ = p.write_text(json.dumps({"log_history": hist, "max_steps": 10}))
>>> [(c.name, c.kind, c.epochs.tolist()) for c in read(p)]
[('loss', 'train_loss', [0.5]), ('learning_rate', 'lr', [0.5]), ('eval_loss', 'val_loss', [1.0])]
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from lrkit.diagnose.curves import Curve
from lrkit.diagnose.readers._common import fail, read_text, table_to_curves
from lrkit.diagnose.readers.jsonl import json_problem, records_to_columns

__all__ = ["find_state", "read", "sniff"]

_STATE = "trainer_state.json"
# Per-entry bookkeeping that is not a training signal.
_SKIP_SUFFIXES = ("_runtime", "_samples_per_second", "_steps_per_second", "total_flos",
                  "num_input_tokens_seen")
_META_KEYS = ("max_steps", "num_train_epochs", "logging_steps", "eval_steps",
              "train_batch_size", "global_step")


def find_state(folder: Path) -> Path | None:
    """``trainer_state.json`` in ``folder``, else in its latest ``checkpoint-<step>/``."""
    top = folder / _STATE
    if top.is_file():
        return top
    checkpoints = []
    for sub in folder.glob(f"checkpoint-*/{_STATE}"):
        m = re.fullmatch(r"checkpoint-(\d+)", sub.parent.name)
        if m:
            checkpoints.append((int(m.group(1)), sub))
    return max(checkpoints)[1] if checkpoints else None


def sniff(path: Path, head: str) -> int:
    """Score how likely ``path`` is a trainer_state.json (0 = not at all)."""
    if path.name == _STATE:
        return 60
    if path.suffix.lower() == ".json" and '"log_history"' in head:
        return 50
    return 0


def _entry_kind(entry: dict[str, Any]) -> str:
    if "train_runtime" in entry or ("train_loss" in entry and "loss" not in entry):
        return "summary"
    if any(k.startswith("eval_") for k in entry):
        return "eval"
    return "train"


def read(path: Path) -> list[Curve]:
    """Read a ``trainer_state.json`` (or an output folder holding one) into curves."""
    if path.is_dir():
        state = find_state(path)
        if state is None:
            raise fail(path, f"no {_STATE} in the folder or its checkpoint-*/ folders",
                       "pass the Trainer's output_dir or call trainer.save_state()")
        path = state
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise fail(path, f"invalid JSON at line {err.lineno} ({err.msg})",
                   "the file may be truncated; use the copy in another checkpoint-*/") from None
    except (ValueError, RecursionError) as err:
        raise fail(path, json_problem(err), "repair the file or export it again") from None
    history = data.get("log_history") if isinstance(data, dict) else None
    if not isinstance(history, list):
        raise fail(path, "no 'log_history' list", "pass the trainer_state.json that "
                   "transformers' Trainer wrote")
    records = []
    for entry in history:
        if not isinstance(entry, dict) or _entry_kind(entry) == "summary":
            continue
        records.append({k: v for k, v in entry.items() if not k.endswith(_SKIP_SUFFIXES)})
    if not records:
        raise fail(path, "log_history has no training or evaluation entries",
                   "set logging_steps so the Trainer logs the loss during training")
    meta = {k: data[k] for k in _META_KEYS if isinstance(data.get(k), int | float)}
    meta["model_family"] = "transformer"  # the Trainer is transformers' own loop
    columns = records_to_columns(records)
    return table_to_curves(columns, source="huggingface", path=path,
                           step_column="step" if "step" in columns else None,
                           epoch_column="epoch" if "epoch" in columns else None,
                           epoch_is_progress=True, meta=meta)
