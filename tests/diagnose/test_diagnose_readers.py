"""Readers: real files written by the real libraries (tests/fixtures/make_logs.py).

The same torch training run (24 SGD updates, cosine LR, 3 epochs) was logged through
SummaryWriter, tf.summary, the csv/json modules and MLflow, so those readers must agree
value for value (float32 where the format stores float32).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from lrkit.diagnose import READERS, Curve, detect_format, read_logs
from lrkit.diagnose.readers import _common
from lrkit.errors import ConfigError, DataError

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"

# path -> (expected format, {kind: expected point count}) for one run per fixture
CASES = {
    "tb_torch": ("tensorboard", {"train_loss": 24, "lr": 24, "val_loss": 3}),
    "tb_tf2/summary": ("tensorboard", {"train_loss": 24, "lr": 24, "val_loss": 3}),
    "lightning": ("lightning", {"train_loss": 24, "lr": 24, "val_loss": 3}),
    "huggingface": ("huggingface", {"train_loss": 8, "lr": 8, "val_loss": 4, "grad_norm": 8}),
    "keras3/training.log": ("keras", {"train_loss": 4, "lr": 4, "val_loss": 4}),
    "keras3/no_val.csv": ("keras", {"train_loss": 4, "lr": 4}),
    "keras2/training.log": ("keras", {"train_loss": 4, "lr": 4, "val_loss": 4}),
    "wandb/wandb_export.csv": ("wandb", {"train_loss": 24}),
    "mlflow/mlruns": ("mlflow", {"train_loss": 24, "lr": 24, "val_loss": 3}),
    "mlflow/mlflow.db": ("mlflow", {"train_loss": 24, "lr": 24, "val_loss": 3}),
    "plain/log.csv": ("csv", {"train_loss": 24, "lr": 24, "val_loss": 3}),
    "plain/log.tsv": ("csv", {"train_loss": 24, "lr": 24}),
    "plain/log.jsonl": ("jsonl", {"train_loss": 24, "lr": 24, "val_loss": 3}),
}


def longest(curves: list[Curve], kind: str, run: str | None = None) -> Curve:
    found = [c for c in curves if c.kind == kind and (run is None or c.run == run)]
    return max(found, key=len)


@pytest.mark.parametrize("rel", sorted(CASES))
def test_every_fixture_is_detected_and_read(rel):
    fmt, counts = CASES[rel]
    assert detect_format(LOGS / rel)[0] == fmt
    curves = read_logs(LOGS / rel)
    first_run = curves[0].run
    for kind, n in counts.items():
        assert len(longest(curves, kind, first_run)) == n, kind
    for c in curves:
        assert c.source == fmt
        assert c.steps is not None or c.epochs is not None
        assert np.all(np.diff(c.x) >= 0), c.name


def test_same_run_through_five_loggers_gives_the_same_values():
    ref = longest(read_logs(LOGS / "plain" / "log.csv"), "train_loss")
    ref_lr = longest(read_logs(LOGS / "plain" / "log.csv"), "lr")
    for rel, tol in [("plain/log.jsonl", 0), ("plain/log.tsv", 0), ("mlflow/mlflow.db", 0),
                     ("mlflow/mlruns", 0), ("tb_torch", 1e-6), ("tb_tf2/summary", 1e-6)]:
        curves = read_logs(LOGS / rel)
        run = curves[0].run
        loss, lr = longest(curves, "train_loss", run), longest(curves, "lr", run)
        np.testing.assert_allclose(loss.values, ref.values, rtol=tol, err_msg=rel)
        np.testing.assert_allclose(lr.values, ref_lr.values, rtol=tol, err_msg=rel)
        np.testing.assert_array_equal(loss.steps, np.arange(24.0))


def test_tensorboard_reads_both_scalar_encodings():
    # torch writes simple_value; TF2 writes a tensor whose first event names the plugin
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader

    def encodings(folder: Path) -> set[str]:
        seen = set()
        for f in folder.rglob("*tfevents*"):
            for ev in LegacyEventFileLoader(str(f)).Load():
                for v in ev.summary.value:
                    seen.add(v.WhichOneof("value"))
        return seen

    assert encodings(LOGS / "tb_torch") == {"simple_value"}
    assert encodings(LOGS / "tb_tf2" / "summary") == {"tensor"}
    a = longest(read_logs(LOGS / "tb_torch"), "train_loss")
    b = longest(read_logs(LOGS / "tb_tf2" / "summary"), "train_loss")
    np.testing.assert_array_equal(a.values, b.values)


def test_keras_tensorboard_callback_folders_become_train_and_validation():
    curves = read_logs(LOGS / "tb_tf2" / "keras")
    names = {c.name: c for c in curves}
    assert names["train/epoch_loss"].kind == "train_loss"
    assert names["validation/epoch_loss"].kind == "val_loss"
    np.testing.assert_array_equal(names["train/epoch_loss"].epochs, [1.0, 2.0, 3.0, 4.0])
    assert {c.run for c in read_logs(LOGS / "tb_tf2")} == {"keras", "summary"}


def test_tensorboard_keeps_every_point_beyond_the_reservoir(tmp_path):
    # EventAccumulator's default keeps a 10,000-point reservoir sample per tag. Written
    # with tensorboard's own EventFileWriter (SummaryWriter's per-call overhead would make
    # 10,000 points take ~15 s here).
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    n = 10_050
    w = EventFileWriter(str(tmp_path))
    for step in range(n):
        value = Summary.Value(tag="loss", simple_value=1.0 / (step + 1))
        w.add_event(Event(step=step, wall_time=1e9 + step, summary=Summary(value=[value])))
    w.close()
    (loss,) = read_logs(tmp_path)
    assert len(loss) == n
    np.testing.assert_array_equal(loss.steps, np.arange(float(n)))
    np.testing.assert_allclose(loss.values, 1.0 / (np.arange(n) + 1.0), rtol=1e-6)


def _event_file(folder: Path, points: list[tuple[int, float]], t0: float, suffix: str) -> None:
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    w = EventFileWriter(str(folder), filename_suffix=suffix)
    for k, (step, value) in enumerate(points):
        summary = Summary(value=[Summary.Value(tag="loss", simple_value=value)])
        w.add_event(Event(step=step, wall_time=t0 + k, summary=summary))
    w.close()


def test_tensorboard_resumed_run_keeps_the_later_points(tmp_path):
    _event_file(tmp_path, [(s, 10.0 - s) for s in range(10)], 1e9, ".a")
    # a second writer, later: the run resumed from its step-6 checkpoint
    _event_file(tmp_path, [(s, 100.0 + s) for s in range(6, 12)], 2e9, ".b")
    (loss,) = read_logs(tmp_path)
    np.testing.assert_array_equal(loss.steps, np.arange(12.0))
    assert loss.values[5] == 5.0 and loss.values[6] == 106.0
    assert loss.meta["resumed_at"] == [6.0]


def test_lightning_sparse_rows_suffixes_and_lr_monitor():
    path = LOGS / "lightning" / "lightning_logs" / "version_0" / "metrics.csv"
    curves = {c.name: c for c in read_logs(path)}
    assert set(curves) == {"lr-SGD", "train_loss_step", "train_loss_epoch", "val_loss"}
    assert curves["lr-SGD"].kind == "lr"
    # StepLR(step_size=10, gamma=0.5) stepped every update, as the fixture configured it
    lr = curves["lr-SGD"]
    assert lr.values[lr.steps == 9][0] == 0.05 and lr.values[lr.steps == 10][0] == 0.025
    # epoch-end rows sit at progress 1, 2, 3; the LR rows, which have no epoch, get one
    np.testing.assert_allclose(curves["val_loss"].epochs, [1.0, 2.0, 3.0])
    assert lr.epochs is not None and np.all(np.isfinite(lr.epochs))


def test_lightning_without_lr_monitor_uses_hparams(tmp_path):
    src = LOGS / "lightning" / "lightning_logs" / "version_0"
    dst = tmp_path / "version_0"
    shutil.copytree(src, dst)
    lines = (dst / "metrics.csv").read_text().splitlines()
    header = lines[0].split(",")
    keep = [i for i, h in enumerate(header) if h != "lr-SGD"]
    rows = [",".join(r.split(",")[i] for i in keep) for r in lines]
    (dst / "metrics.csv").write_text("\n".join(r for r in rows if r.strip(",")) + "\n")
    lr = longest(read_logs(dst), "lr")
    assert lr.name == "hparams/lr" and lr.values.tolist() == [0.05] and lr.meta["declared"]


def test_huggingface_picks_latest_checkpoint_and_skips_the_summary():
    curves = read_logs(LOGS / "huggingface")
    state = json.loads((LOGS / "huggingface" / "checkpoint-16" / "trainer_state.json")
                       .read_text())
    train_entries = [e for e in state["log_history"] if "loss" in e]
    loss = longest(curves, "train_loss")
    assert loss.values.tolist() == [e["loss"] for e in train_entries]
    assert loss.epochs.tolist() == [e["epoch"] for e in train_entries]
    assert not any("runtime" in c.name or c.name == "train_loss" for c in curves)
    assert all(c.meta["model_family"] == "transformer" for c in curves)
    # warmup_steps=2 then cosine: the logged LR rises, then falls
    lr = longest(curves, "lr")
    assert lr.values[0] < lr.values.max() and lr.values[-1] < lr.values.max()


def test_keras_na_columns_and_keras2_lr_name():
    curves = read_logs(LOGS / "keras3" / "no_val.csv")
    assert {c.name for c in curves} == {"loss", "learning_rate"}  # val_* are all NA
    k2 = {c.name: c for c in read_logs(LOGS / "keras2" / "training.log")}
    assert k2["lr"].kind == "lr" and k2["lr"].values.tolist() == [0.05, 0.025, 0.0125, 0.00625]


def test_wandb_drops_min_max_and_splits_runs():
    curves = read_logs(LOGS / "wandb" / "wandb_export.csv")
    assert [(c.run, c.name) for c in curves] == [("run-lr0.05", "train/loss"),
                                                 ("run-lr0.005", "train/loss")]


def test_mlflow_file_store_and_sqlite_agree_and_skip_deleted(tmp_path):
    a = read_logs(LOGS / "mlflow" / "mlruns")
    b = read_logs(LOGS / "mlflow" / "mlflow.db")
    key = sorted((c.run, c.name, tuple(np.nan_to_num(c.values, nan=-1.0))) for c in a)
    assert key == sorted((c.run, c.name, tuple(np.nan_to_num(c.values, nan=-1.0))) for c in b)
    diverged = longest(b, "train_loss", "diverged")
    assert np.isnan(diverged.values[-1])  # stored as is_nan = 1
    assert longest(b, "lr", "diverged").values.tolist() == [5.0]  # from params
    db = tmp_path / "mlflow.db"
    shutil.copy(LOGS / "mlflow" / "mlflow.db", db)
    con = sqlite3.connect(db)
    con.execute("UPDATE runs SET lifecycle_stage = 'deleted' WHERE name = 'diverged'")
    con.commit()
    con.close()
    assert {c.run for c in read_logs(db)} == {"cosine-sgd"}


def test_format_can_be_forced_and_unknown_format_is_a_config_error():
    assert read_logs(LOGS / "keras2" / "training.log", format="csv")[0].source == "csv"
    with pytest.raises(ConfigError, match="format = 'parquet'"):
        read_logs(LOGS / "plain" / "log.csv", format="parquet")
    assert sorted(READERS) == ["csv", "huggingface", "jsonl", "keras", "lightning", "mlflow",
                               "tensorboard", "wandb"]


# ------------------------------------------------------------------ bad input
def _one_line(err: Exception) -> str:
    text = str(err)
    assert "\n" not in text and text.startswith("path = ")
    return text


@pytest.mark.parametrize("name,content,match", [
    ("empty.csv", b"", "empty"),
    ("junk.csv", bytes(range(256)) * 4, "not UTF-8|NUL"),
    ("ragged.csv", b"step,loss\n0,1\n1,2,3\n2,1\n", "line 3 has 3 cells"),
    ("header_only.csv", b"step,loss\n", "no data rows"),
    ("words.csv", b"name,comment\nfoo,bar\n", "no numeric metric"),
    ("bad.jsonl", b'{"step": 0, "loss": 1}\n{"step": 1, "loss"\n{"step": 2, "loss": 1}\n',
     "line 2 is not valid JSON"),
    ("trainer_state.json", b'{"log_history": [{"loss": 1.0, "step": 1}, {"lo', "invalid JSON"),
    ("notes.md", b"# just text\n", "not a log format"),
])
def test_malformed_files_give_one_line_errors(tmp_path, name, content, match):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(DataError, match=match) as info:
        read_logs(p)
    _one_line(info.value)


def test_truncated_last_lines_are_tolerated(tmp_path):
    csv_text = (LOGS / "plain" / "log.csv").read_text()
    p = tmp_path / "cut.csv"
    p.write_text(csv_text[: csv_text.rindex(",")])  # a row cut mid-line
    assert len(longest(read_logs(p), "train_loss")) == 24
    lines = (LOGS / "plain" / "log.jsonl").read_text().splitlines()
    q = tmp_path / "cut.jsonl"
    q.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:10])
    assert len(longest(read_logs(q), "train_loss")) == 23


def test_truncated_event_file_reads_the_complete_records(tmp_path):
    src = next((LOGS / "tb_torch").glob("*tfevents*"))
    data = src.read_bytes()
    cut = tmp_path / src.name
    cut.write_bytes(data[: len(data) * 2 // 3])
    loss = longest(read_logs(cut), "train_loss")
    assert 5 < len(loss) < 24
    ref = longest(read_logs(src), "train_loss")
    np.testing.assert_array_equal(loss.values, ref.values[: len(loss)])
    garbage = tmp_path / "events.out.tfevents.123.host"
    garbage.write_bytes(b"\x00" * 7 + b"not an event file at all" * 10)
    with pytest.raises(DataError, match="not an event file") as info:
        read_logs(garbage)
    _one_line(info.value)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF  # one damaged byte inside a record
    bad = tmp_path / "bad" / src.name
    bad.parent.mkdir()
    bad.write_bytes(bytes(flipped))
    with pytest.raises(DataError, match="damaged") as info:
        read_logs(bad)
    _one_line(info.value)


def test_missing_paths_and_folders_without_logs(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_logs(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="no training log found"):
        read_logs(tmp_path)
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(DataError, match="without MLflow's"):
        read_logs(other)


def test_huge_files_are_refused_before_reading(tmp_path, monkeypatch):
    p = tmp_path / "big.csv"
    p.write_text("step,loss\n" + "".join(f"{i},{1.0 / (i + 1)}\n" for i in range(2000)))
    monkeypatch.setattr(_common, "MAX_BYTES", 1000)
    import lrkit.diagnose.readers as readers

    monkeypatch.setattr(readers, "MAX_BYTES", 1000)
    with pytest.raises(DataError, match=r"MiB is over"):
        read_logs(p)
    monkeypatch.setattr(_common, "MAX_BYTES", 10**9)
    monkeypatch.setattr(readers, "MAX_BYTES", 10**9)
    monkeypatch.setattr(_common, "MAX_POINTS", 500)
    with pytest.raises(DataError, match="more than 500"):
        read_logs(p)
