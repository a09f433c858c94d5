"""TensorBoard event files (``events.out.tfevents.*``), every scalar, no down-sampling.

Scalars come in two encodings and both are read:

* ``simple_value`` — written by torch's ``SummaryWriter``, tensorboardX and Lightning's
  ``TensorBoardLogger``;
* a scalar ``tensor`` whose tag's first event carries ``plugin_name == "scalars"`` —
  written by TF2's ``tf.summary.scalar`` and the Keras TensorBoard callback.

Every event is read (the TFRecord framing directly, each record parsed with
tensorboard's ``Event`` proto), not through ``EventAccumulator``, whose default keeps a
reservoir sample of 10,000 points per tag. A folder is searched
recursively; each folder of event files is a run, except that a last folder named
``train`` / ``validation`` / ``eval`` (Keras writes both) is part of the metric name.
Keras' ``epoch_*`` tags are logged at step = epoch index and become epoch curves.

>>> # see tests/diagnose/test_diagnose_readers.py for real files from torch and TF2
"""

from __future__ import annotations

import math
import struct
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from lrkit._deps import require
from lrkit.diagnose.curves import Curve, classify
from lrkit.diagnose.readers._common import (
    MAX_BYTES,
    MAX_POINTS,
    check_file,
    epoch_progress,
    fail,
    find_files,
    purge_restarts,
)

__all__ = ["event_files", "masked_crc32c", "read", "records", "sniff"]

_MARK = "tfevents"
_SPLIT_DIRS = frozenset({"train", "training", "validation", "valid", "val", "eval", "test"})


def event_files(folder: Path) -> list[Path]:
    """Every event file under ``folder``, sorted (file names start with a timestamp)."""
    return find_files(folder, f"*{_MARK}*")


def sniff(path: Path, head: str) -> int:
    """Score how likely ``path`` is an event file (0 = not at all)."""
    return 80 if _MARK in path.name else 0


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1  # CRC-32C (Castagnoli)
        table.append(crc)
    return table


_TABLE = _crc_table()
_FULL_CHECK = 20 * 1024 * 1024


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC-32C of ``data``.

    >>> hex(masked_crc32c(b"123456789"))  # the CRC-32C check value 0xe3069283, masked
    '0xc78ab0e5'
    """
    crc = 0xFFFFFFFF
    table = _TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def records(path: Path) -> Iterator[bytes]:
    """The payloads of a TFRecord file, both checksums verified.

    A record cut short at the end of the file (a writer still running, or a copy taken
    mid-write) ends the iteration; a damaged record elsewhere is a DataError. This reads
    the framing directly: tensorboard's pure-Python fallback reader verifies the same
    checksums ~15x more slowly.
    """
    data = path.read_bytes()
    pos, n = 0, len(data)
    # Payload checksums cost more than parsing; past _FULL_CHECK bytes only the headers
    # (which carry the lengths) are verified, and a damaged payload fails to decode.
    check_payload = n <= _FULL_CHECK
    while pos + 12 <= n:
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if masked_crc32c(header) != header_crc:
            rule = ("not an event file (bad record header)" if pos == 0 else
                    f"the record at byte {pos} is damaged (header checksum)")
            raise fail(path, rule, "pass an events.out.tfevents.* file written by TensorBoard")
        end = pos + 12 + length
        if end + 4 > n:
            return  # the last record was cut short
        payload = data[pos + 12:end]
        (data_crc,) = struct.unpack("<I", data[end:end + 4])
        if check_payload and masked_crc32c(payload) != data_crc:
            raise fail(path, f"the record at byte {pos} is damaged (data checksum)",
                       "copy the event file again; it was corrupted")
        yield payload
        pos = end + 4


def _scalars(path: Path) -> dict[str, list[tuple[float, float, float]]]:
    """``{tag: [(step, wall_time, value), ...]}`` of every scalar in one event file."""
    event_pb2 = require("tensorboard.compat.proto.event_pb2", extra="logs")
    tensor_util = require("tensorboard.util.tensor_util", extra="logs")
    out: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    scalar_tags: set[str] = set()
    for i, payload in enumerate(records(path)):
        try:
            event = event_pb2.Event.FromString(payload)
        except Exception:  # protobuf's DecodeError has no stable import path
            if i == 0:
                raise fail(path, "not an event file (undecodable first record)",
                           "pass an events.out.tfevents.* file") from None
            raise fail(path, f"record {i} does not decode as an event",
                       "copy the event file again; it was corrupted") from None
        if not event.HasField("summary"):
            continue
        for v in event.summary.value:
            value = _value(v, scalar_tags, tensor_util)
            if value is not None:
                out[v.tag].append((float(event.step), float(event.wall_time), value))
    return out


def _value(v: Any, scalar_tags: set[str], tensor_util: Any) -> float | None:
    kind = v.WhichOneof("value")
    if kind == "simple_value":
        return float(v.simple_value)
    if kind != "tensor":
        return None
    # TF2 writes the plugin metadata only with a tag's first event: remember the tag.
    if v.HasField("metadata") and v.metadata.plugin_data.plugin_name:
        if v.metadata.plugin_data.plugin_name == "scalars":
            scalar_tags.add(v.tag)
        else:
            scalar_tags.discard(v.tag)
    if v.tag not in scalar_tags:
        return None
    # Check the declared shape before anything is built from it: make_ndarray fills the
    # whole declared shape (a 245-byte record can declare 2^40 elements).
    if not all(d.size == 1 for d in v.tensor.tensor_shape.dim):
        return None
    arr = tensor_util.make_ndarray(v.tensor)
    if arr.size != 1 or arr.dtype.kind not in "fiub":
        return None
    return float(arr.reshape(-1)[0])


def _run_and_prefix(file: Path, root: Path) -> tuple[str, str]:
    rel = file.parent.relative_to(root) if file.parent != root else Path()
    parts = list(rel.parts)
    prefix = ""
    if parts and parts[-1].lower() in _SPLIT_DIRS:
        prefix = parts.pop() + "/"
    return "/".join(parts), prefix


def read(path: Path) -> list[Curve]:
    """Read one event file, or every event file under a folder, into curves."""
    if path.is_dir():
        files = event_files(path)
        root = path
        if not files:
            raise fail(path, "no events.out.tfevents.* files in the folder",
                       "pass the log_dir that SummaryWriter / TensorBoardLogger wrote")
    else:
        files = [check_file(path)]
        root = path.parent
    total = sum(f.stat().st_size for f in files)
    if total > MAX_BYTES:
        raise fail(path, f"{total / 2**20:.0f} MiB of event files is over the "
                   f"{MAX_BYTES // 2**20} MiB limit", "pass one run's folder at a time")
    merged: dict[tuple[str, str], list[tuple[float, float, float]]] = defaultdict(list)
    points = 0
    for file in files:
        if file.stat().st_size == 0:
            continue  # a writer opened but never flushed: nothing to read
        scalars = _scalars(file)
        run, prefix = _run_and_prefix(file, root)
        for tag, pts in scalars.items():
            merged[(run, prefix + tag)].extend(pts)
            points += len(pts)
        if points > MAX_POINTS:
            raise fail(path, f"more than {MAX_POINTS:,} scalar points",
                       "pass one run's folder at a time")
    if not merged:
        raise fail(path, "no scalar summaries in the event file(s)",
                   "log scalars with SummaryWriter.add_scalar or tf.summary.scalar")
    return _declared_lrs(_to_curves(merged), files, root)


def _declared_lrs(curves: list[Curve], files: list[Path], root: Path) -> list[Curve]:
    """Add the configured LR from the ``hparams.yaml`` Lightning's TensorBoardLogger writes
    beside its event files, for each run that logged no LR itself (as the CSV reader does).
    """
    from lrkit.diagnose.readers.lightning import hparams_lr

    logged = {c.run for c in curves if c.kind == "lr"}
    for file in files:
        run, _ = _run_and_prefix(file, root)
        if run in logged:
            continue
        lr = hparams_lr(file.parent / "hparams.yaml")
        if lr is not None:
            logged.add(run)
            # only the configured value: the detectors treat it as a declared constant
            curves.append(Curve.of("hparams/lr", [lr], steps=[0.0], kind="lr", run=run,
                                   source="tensorboard", meta={"declared": True}))
    return curves


def _to_curves(merged: dict[tuple[str, str], list[tuple[float, float, float]]]) -> list[Curve]:
    # Epoch tags (Lightning's 'epoch', HF's 'train/epoch') give each step its epoch.
    epoch_maps: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for (run, tag), pts in merged.items():
        if classify(tag) == "epoch" and not tag.split("/")[-1].startswith("epoch_"):
            arr = np.array(sorted(pts), dtype=np.float64)
            epoch_maps[run] = (arr[:, 0], arr[:, 2])
    curves = []
    for (run, tag), pts in sorted(merged.items()):
        if classify(tag) == "epoch":
            continue
        # In written order (wall time), a resumed run's later points replace earlier ones.
        pts.sort(key=lambda p: p[1])
        keep, resumed_at = purge_restarts(np.array([p[0] for p in pts]))
        arr = np.array(pts, dtype=np.float64)[keep]
        steps, wall, values = arr[:, 0], arr[:, 1], arr[:, 2]
        leaf = tag.split("/")[-1]
        meta: dict[str, Any] = {"wall_time": wall}
        if resumed_at:
            meta["resumed_at"] = resumed_at
        if leaf.startswith("epoch_"):
            # Keras' TensorBoard callback: 'epoch_loss' at step = epoch index.
            curves.append(Curve.of(tag, values, epochs=steps + 1.0, run=run,
                                   source="tensorboard", meta=meta))
            continue
        epochs = None
        if run in epoch_maps:
            e_steps, e_vals = epoch_maps[run]
            idx = np.clip(np.searchsorted(e_steps, steps, side="right") - 1, 0, None)
            epochs = epoch_progress(e_vals[idx], steps)
            if not all(math.isfinite(e) for e in epochs):
                epochs = None
        curves.append(Curve.of(tag, values, steps=steps, epochs=epochs, run=run,
                               source="tensorboard", meta=meta))
    return curves
