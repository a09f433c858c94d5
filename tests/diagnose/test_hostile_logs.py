"""Hostile and damaged logs: every reader stays bounded in time and memory and fails with
a one-line DataError, never another exception.

The files are generated here (small; nothing large is committed). Time limits are
generous multiples of what the fixed code needs on one shared core, and far below what
the quadratic or over-allocating code this guards against took.
"""

from __future__ import annotations

import json
import sqlite3
import struct
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from lrkit.diagnose import diagnose
from lrkit.diagnose.readers import READERS, read_logs
from lrkit.diagnose.readers._common import MAX_COLUMNS
from lrkit.diagnose.readers.tensorboard import masked_crc32c
from lrkit.diagnose.signals import rolling_mean, smooth
from lrkit.errors import DataError, LrkitError


def _old_smooth(y: np.ndarray, window: int) -> np.ndarray:
    """The sliding-window median smooth() replaced (n x window memory): the reference."""
    n = len(y)
    if window <= 1 or n < 3:
        return y.astype(np.float64).copy()
    half = window // 2
    padded = np.pad(y.astype(np.float64), half, mode="edge")
    view = np.lib.stride_tricks.sliding_window_view(padded, window)
    return np.median(view, axis=1)[:n]


def _old_rolling_mean(y: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(y) < 3:
        return y.astype(np.float64).copy()
    half = window // 2
    padded = np.pad(y.astype(np.float64), half, mode="edge")
    return np.convolve(padded, np.ones(window) / window, mode="valid")[:len(y)]


def test_smooth_equals_the_sliding_window_median_exactly():
    rng = np.random.default_rng(0)
    for _ in range(400):
        n, w = int(rng.integers(0, 80)), int(rng.integers(0, 90))
        y = rng.standard_normal(n)
        if rng.random() < 0.3:
            y = np.round(y)  # ties
        if n and rng.random() < 0.3:
            y[rng.integers(0, n, size=2)] = rng.choice([np.nan, np.inf, -np.inf])
        np.testing.assert_array_equal(smooth(y, w), _old_smooth(y, w), err_msg=f"{n=} {w=}")


def test_smooth_of_a_million_points_is_linear_in_memory():
    y = np.random.default_rng(1).standard_normal(1_000_000)
    tracemalloc.start()
    t0 = time.perf_counter()
    out = smooth(y, 49_999)  # a 5% window: the old code asked for 373 GiB here
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out.shape == y.shape and np.isfinite(out).all()
    assert peak < 100 * 2**20, peak
    assert seconds < 20, seconds


def test_rolling_mean_large_windows_match_the_direct_sum():
    rng = np.random.default_rng(2)
    for _ in range(50):
        n, w = int(rng.integers(2_000, 5_000)), int(rng.integers(5_000, 12_000))
        y = rng.standard_normal(n) * 10.0 ** rng.uniform(-3, 3)
        if rng.random() < 0.5:
            y[rng.integers(0, n, size=2)] = rng.choice([np.nan, np.inf, -np.inf])
        fast, ref = rolling_mean(y, w), _old_rolling_mean(y, w)
        np.testing.assert_array_equal(np.isfinite(fast), np.isfinite(ref))
        np.testing.assert_array_equal(fast[~np.isfinite(fast)], ref[~np.isfinite(ref)])
        ok = np.isfinite(ref)
        np.testing.assert_allclose(fast[ok], ref[ok], rtol=0,
                                   atol=1e-12 * np.abs(y[np.isfinite(y)]).max())


# ----------------------------------------------------------------- tables (CSV)

def test_a_wide_csv_is_refused_at_once(tmp_path):
    p = tmp_path / "wide.csv"
    width = 100_000
    header = ",".join(f"c{i}" for i in range(width))
    p.write_text(header + "\n" + ",".join("1" for _ in range(width)) + "\n")
    t0 = time.perf_counter()
    with pytest.raises(DataError, match="column limit"):
        read_logs(p)
    assert time.perf_counter() - t0 < 5


def test_a_wide_csv_under_the_cap_reads_in_linear_time(tmp_path):
    # 5,000 columns x 200 rows: header.index per cell was 5,000^2 x 200 = 5e9 steps.
    width = 5_000
    p = tmp_path / "wide.csv"
    rows = [",".join(["step", *(f"loss{i}" for i in range(width - 1))])]
    rows += [",".join([str(r), *("1.5" for _ in range(width - 1))]) for r in range(200)]
    p.write_text("\n".join(rows) + "\n")
    t0 = time.perf_counter()
    curves = read_logs(p)
    assert len(curves) == width - 1
    assert time.perf_counter() - t0 < 20
    assert width <= MAX_COLUMNS


def test_a_long_csv_reads_in_bounded_memory(tmp_path):
    n = 50_000
    p = tmp_path / "long.csv"
    s = np.arange(n)
    with p.open("w") as fh:
        fh.write("step,loss,lr\n")
        fh.writelines(f"{i},{2.0 - i * 1e-6:.9f},1e-3\n" for i in s)
    size = p.stat().st_size
    tracemalloc.start()
    curves = read_logs(p)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [len(c) for c in curves] == [n, n]
    # the old reader held the text, its lines and every row's cells: ~20x the file
    assert peak < 4 * size, (peak, size)


def test_csv_text_columns_and_missing_cells_still_behave(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("step,when,loss,val\n0,mon,2.0,NA\n1,tue,1.5,\n2,wed,1.0,0.9\n3,thu,0.8")
    curves = {c.name: c for c in read_logs(p)}
    assert sorted(curves) == ["loss", "val"]  # 'when' is text; the last row is cut short
    assert curves["val"].values.tolist() == [0.9]
    assert curves["loss"].steps.tolist() == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize("body", [
    b"step,loss\n0,1\n\x00\x00,2\n",
    b"step,loss\n0,\xff\xfe1\n",
    b'step,loss\n0,"' + b"x" * 200_000 + b'"\n',
    b"step,loss\n0,1\n1,2,3\n4,5\n",
    b"\n\n\n",
    b"1,2\n3,4\n",
    b"a,a\n1,2\n",
])
def test_damaged_csv_is_a_one_line_data_error(tmp_path, body):
    p = tmp_path / "log.csv"
    p.write_bytes(body)
    with pytest.raises(DataError) as err:
        read_logs(p)
    assert "\n" not in str(err.value) and len(str(err.value)) < 500


# ----------------------------------------------------------------- JSON

def test_deeply_nested_json_lines_are_a_data_error(tmp_path):
    p = tmp_path / "log.jsonl"
    p.write_text('{"step": 0, "loss": 1}\n' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "\n"
                 + '{"step": 1, "loss": 0.5}\n')
    with pytest.raises(DataError, match="nested too deeply"):
        read_logs(p)


def test_nesting_json_allows_is_flattened_without_recursion(tmp_path):
    p = tmp_path / "log.jsonl"
    deep = '{"a":' * 900 + '{"loss": 1.0}' + "}" * 900
    p.write_text(deep + "\n" + deep + "\n")
    (curve,) = read_logs(p)
    assert curve.name.endswith("/loss") and curve.name.count("/") == 900


def test_huge_integers_in_json_are_a_data_error(tmp_path):
    p = tmp_path / "log.jsonl"
    p.write_text('{"step": 0, "loss": 1}\n{"step": ' + "9" * 5000 + ', "loss": 2}\n'
                 '{"step": 2, "loss": 3}\n')
    with pytest.raises(DataError, match="cannot read"):
        read_logs(p)


def test_huge_but_readable_integers_become_infinite_not_a_crash(tmp_path):
    p = tmp_path / "log.jsonl"
    big = "9" * 400  # float(int) overflows; Python parses it
    p.write_text(f'{{"step": 0, "loss": {big}}}\n{{"step": 1, "loss": 1}}\n')
    (curve,) = read_logs(p)
    assert curve.values[0] == np.inf


def test_deeply_nested_trainer_state_is_a_data_error(tmp_path):
    p = tmp_path / "trainer_state.json"
    p.write_text('{"log_history": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(DataError, match="nested too deeply"):
        read_logs(p)


def test_many_distinct_json_keys_are_refused_in_linear_time(tmp_path):
    p = tmp_path / "log.jsonl"
    p.write_text("".join(json.dumps({"step": i, f"k{i}": 1.0}) + "\n" for i in range(30_000)))
    t0 = time.perf_counter()
    with pytest.raises(DataError, match="different keys"):
        read_logs(p)
    assert time.perf_counter() - t0 < 10


# ----------------------------------------------------------------- TensorBoard

def _record(payload: bytes) -> bytes:
    header = struct.pack("<Q", len(payload))
    return (header + struct.pack("<I", masked_crc32c(header)) + payload
            + struct.pack("<I", masked_crc32c(payload)))


def _huge_scalar_event(elements: int) -> bytes:
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
    from tensorboard.compat.proto.types_pb2 import DT_FLOAT

    tensor = TensorProto(dtype=DT_FLOAT, float_val=[1.0],
                         tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=elements)]))
    value = Summary.Value(tag="loss", tensor=tensor)
    value.metadata.plugin_data.plugin_name = "scalars"
    return Event(step=1, wall_time=1.0, summary=Summary(value=[value])).SerializeToString()


@pytest.mark.parametrize("elements", [250_000_000, 2**40])
def test_tensorboard_huge_declared_shape_is_not_materialised(tmp_path, elements):
    p = tmp_path / "events.out.tfevents.1.host"
    p.write_bytes(_record(_huge_scalar_event(elements)))
    assert p.stat().st_size < 300
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(DataError, match="no scalar"):
        read_logs(p)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert time.perf_counter() - t0 < 5 and peak < 20 * 2**20


# ----------------------------------------------------------------- MLflow

def _mlflow_db(path: Path, rows: list[tuple], runs=(("r1", "run", "active", 0),)) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE runs (run_uuid, name, lifecycle_stage, start_time)")
    con.execute("CREATE TABLE metrics (key, value, timestamp, run_uuid, step, is_nan)")
    con.executemany("INSERT INTO runs VALUES (?, ?, ?, ?)", runs)
    con.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()


def test_mlflow_huge_metric_names_give_a_short_error(tmp_path):
    p = tmp_path / "mlflow.db"
    _mlflow_db(p, [(f"m{i}_" + "x" * 100_000, 1.0, i, "r1", 0, 0) for i in range(30)])
    with pytest.raises(LrkitError) as err:
        diagnose(p)
    assert len(str(err.value)) < 1_500 and "and 18 more" in str(err.value)


def test_mlflow_text_in_a_number_column_is_a_data_error(tmp_path):
    p = tmp_path / "mlflow.db"
    _mlflow_db(p, [("loss", "abc", 0, "r1", 0, 0), ("loss", None, None, "r1", 1, 0)])
    with pytest.raises(DataError, match="not a number"):
        read_logs(p)


def test_mlflow_malformed_meta_yaml_still_reads(tmp_path):
    run = tmp_path / "mlruns" / "1" / "abc"
    (run / "metrics").mkdir(parents=True)
    (run / "meta.yaml").write_text("run_id: abc\nstart_time: not-a-time\nrun_name: [x\n")
    (run / "metrics" / "loss").write_text("1 2.0 0\n2 1.0 1\n")
    (curve,) = read_logs(tmp_path / "mlruns")
    assert curve.values.tolist() == [2.0, 1.0]


# ----------------------------------------------------------------- whole diagnosis

def test_infinite_step_is_diagnosed_or_refused_in_one_line(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("step,loss\n" + "".join(f"{i},{2 - i / 100}\n" for i in range(50))
                 + "inf,1.0\n")
    try:
        diagnose(p)
    except LrkitError as err:
        assert "\n" not in str(err)


# ----------------------------------------------------------------- a damaged corpus

def _samples(tmp: Path) -> dict[str, Path]:
    """One small valid file per single-file reader, written here."""
    out = {}
    rows = "".join(f"{i},{2.0 - i / 50:.4f},0.01\n" for i in range(40))
    out["csv"] = tmp / "log.csv"
    out["csv"].write_text("step,loss,lr\n" + rows)
    out["lightning"] = tmp / "metrics.csv"
    out["lightning"].write_text("epoch,lr-SGD,step,train_loss_step\n" + "".join(
        f"0,0.01,{i},{2.0 - i / 50:.4f}\n" for i in range(40)))
    out["keras"] = tmp / "training.log"
    out["keras"].write_text("epoch,loss,lr\n" + "".join(
        f"{i},{2.0 - i / 50:.4f},0.01\n" for i in range(40)))
    out["wandb"] = tmp / "wandb_export.csv"
    out["wandb"].write_text('"Step","a - loss","a - loss__MIN"\n' + "".join(
        f"{i},{2.0 - i / 50:.4f},1\n" for i in range(40)))
    out["jsonl"] = tmp / "log.jsonl"
    out["jsonl"].write_text("".join(json.dumps({"step": i, "loss": 2.0 - i / 50}) + "\n"
                                    for i in range(40)))
    out["huggingface"] = tmp / "trainer_state.json"
    out["huggingface"].write_text(json.dumps({"log_history": [
        {"step": i, "loss": 2.0 - i / 50, "learning_rate": 0.01, "epoch": i / 40}
        for i in range(40)], "max_steps": 40}))
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary

    tb = b"".join(_record(Event(step=i, wall_time=float(i), summary=Summary(value=[
        Summary.Value(tag="loss", simple_value=2.0 - i / 50)])).SerializeToString())
        for i in range(40))
    out["tensorboard"] = tmp / "events.out.tfevents.1.host"
    out["tensorboard"].write_bytes(tb)
    out["mlflow"] = tmp / "mlflow.db"
    _mlflow_db(out["mlflow"], [("loss", 2.0 - i / 50, i, "r1", i, 0) for i in range(40)])
    return out


def _damaged(data: bytes, rng: np.random.Generator) -> list[bytes]:
    n = len(data)
    flips = bytearray(data)
    for i in rng.integers(0, n, size=max(1, n // 50)):
        flips[i] ^= 1 << int(rng.integers(0, 8))
    return [
        data[: n // 2], data[: n // 3 + 1], data[:-1], data[:12],
        bytes(flips),
        bytes(rng.integers(0, 256, size=n, dtype=np.uint8)),
        data[: n // 2] + bytes(rng.integers(0, 256, size=200, dtype=np.uint8)),
        data + b"\x00" * 100,
        b"\xff" * n,
    ]


def test_every_reader_meets_a_damaged_file_with_a_data_error(tmp_path):
    samples = _samples(tmp_path)
    assert set(samples) == set(READERS)
    rng = np.random.default_rng(3)
    for fmt, good in samples.items():
        assert read_logs(good, format=fmt)  # the intact sample reads
        for k, bad in enumerate(_damaged(good.read_bytes(), rng)):
            p = tmp_path / f"bad{k}" / good.name
            p.parent.mkdir(exist_ok=True)
            p.write_bytes(bad)
            t0 = time.perf_counter()
            for forced in (fmt, None):
                try:
                    read_logs(p, format=forced)
                except LrkitError as err:
                    assert "\n" not in str(err), (fmt, k, err)
                    assert len(str(err)) < 1_000, (fmt, k)
            assert time.perf_counter() - t0 < 10, (fmt, k)
