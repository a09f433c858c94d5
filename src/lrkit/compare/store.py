"""Where finished units go: a JSON-lines file on disk, or an Optuna study (PostgreSQL).

A unit's record is written the moment it finishes, keyed by everything that decides its
result (task, row, LR, seed, run length), so killing ``lrkit compare`` loses at most the
runs in flight and running it again trains only what is missing. A key never names the
phase (search or final run): the same run is never trained twice.

``JsonlStore`` appends one line per unit and flushes it to disk; a line cut off by a
kill is ignored when read back. ``OptunaStore`` keeps each unit as a trial of an Optuna
study in any storage ``lrkit tune`` opens (``sqlite:///``, ``postgresql://``), so several
``lrkit compare --storage URL`` processes on several machines share the work: each
claims a unit by starting a trial for it, and a unit claimed twice goes to the lower
trial number.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "runs.jsonl")
>>> store = JsonlStore(path)
>>> store.put("k1", {"final_val_loss": 0.5})
>>> JsonlStore(path).load()["k1"]["final_val_loss"]
0.5
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from pathlib import Path
from typing import Any

from lrkit.errors import ConfigError

__all__ = ["JsonlStore", "MemoryStore", "OptunaStore", "Store", "unit_key"]


def unit_key(*parts: Any) -> str:
    """A store key from the parts that decide a unit's result (floats exactly, in hex).

    >>> unit_key("digits-mlp", 0.1, 3)
    '["digits-mlp", "0x1.999999999999ap-4", 3]'
    """
    return json.dumps([float.hex(p) if isinstance(p, float) else p for p in parts])


def _clean(value: Any) -> Any:
    # JSON has no inf: a diverged run's loss is written as a string and read back as inf
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _restore(value: Any) -> Any:
    if value in ("inf", "-inf", "nan"):
        return float(value)
    if isinstance(value, dict):
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    return value


class Store:
    """The interface: ``load()`` every finished record, ``claim(key)``, ``put(key, record)``.

    ``claim`` returns False when another process already runs or ran ``key``; a store with
    a single driver (the JSON-lines file) always grants it.
    """

    def load(self) -> dict[str, dict[str, Any]]:
        raise NotImplementedError

    def claim(self, key: str) -> bool:
        return True

    def release(self, key: str) -> None:
        """Give back a claimed unit that did not finish (an error, Ctrl-C)."""

    def put(self, key: str, record: dict[str, Any]) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        return type(self).__name__


class MemoryStore(Store):
    """Finished units in a dict: forgotten when the process ends (compare's ``store=None``,
    auto's in-process batches).

    >>> m = MemoryStore(); m.put("a", {"loss": 1.0}); m.load()
    {'a': {'loss': 1.0}}
    """

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, Any]] = {}

    def load(self) -> dict[str, dict[str, Any]]:
        return dict(self._rows)

    def put(self, key: str, record: dict[str, Any]) -> None:
        self._rows[key] = record

    def describe(self) -> str:
        return "memory (not resumable)"


class JsonlStore(Store):
    """Finished units as JSON lines in ``path`` (created with its folder if missing).

    Raises:
        ConfigError: the path is a folder or cannot be created.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise ConfigError(parameter="store", value=str(self.path), rule="is a folder",
                              fix="pass a file path such as compare-runs.jsonl")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ConfigError(parameter="store", value=str(self.path),
                              rule=f"cannot create its folder ({err.strerror})",
                              fix="pass a path you can write to") from None
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, Any]] = {}
        self._offset = 0

    def load(self) -> dict[str, dict[str, Any]]:
        # read only what was appended since the last call: a long comparison's store
        # grows to thousands of lines and is read before every batch of units
        if not self.path.exists():
            self._records, self._offset = {}, 0
            return {}
        with self.path.open("rb") as fh:
            if fh.seek(0, os.SEEK_END) < self._offset:  # replaced or truncated: start over
                self._records, self._offset = {}, 0
            fh.seek(self._offset)
            data = fh.read()
        end = data.rfind(b"\n") + 1  # a line cut off by a kill is read once it is whole
        for line in data[:end].splitlines():
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue  # the fragment a killed run left before the next line
            if isinstance(row, dict) and isinstance(row.get("key"), str):
                self._records[row["key"]] = _restore(row.get("record", {}))
        self._offset += end
        return dict(self._records)

    def put(self, key: str, record: dict[str, Any]) -> None:
        line = json.dumps({"key": key, "record": _clean(record)}, allow_nan=False)
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            # a kill mid-line leaves a fragment: start on a fresh line whatever came before
            if fh.tell() > 0:
                with self.path.open("rb") as check:
                    check.seek(-1, os.SEEK_END)
                    if check.read(1) != b"\n":
                        fh.write("\n")
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def describe(self) -> str:
        return str(self.path)


class OptunaStore(Store):
    """Units as trials of one Optuna study, shared by every process given the same URL.

    Args:
        url: a storage URL ``lrkit.tune.open_storage`` accepts (PostgreSQL for many
            machines).
        study: the study name (``compare`` derives it from the comparison's settings).
        stale_after: seconds after which a unit claimed by a process on another machine
            that never finished is claimed again (a process on this machine that died is
            noticed at once).
    """

    _KEY = "lrkit_unit"

    def __init__(self, url: str, study: str, *, stale_after: float = 3600.0) -> None:
        from lrkit._deps import require
        from lrkit.tune.storage import open_storage

        self._optuna = require("optuna", extra="tune")
        self._optuna.logging.set_verbosity(self._optuna.logging.WARNING)
        self.url = url
        # heartbeats belong to study.optimize; claims here carry their owner instead
        self.storage = open_storage(url, heartbeat_interval=0)
        self.study = self._optuna.create_study(storage=self.storage, study_name=study,
                                               load_if_exists=True)
        self.stale_after = stale_after
        self._mine: dict[str, Any] = {}

    def _trials(self) -> list[Any]:
        return list(self.study.get_trials(deepcopy=False))

    def load(self) -> dict[str, dict[str, Any]]:
        done = self._optuna.trial.TrialState.COMPLETE
        out: dict[str, dict[str, Any]] = {}
        for t in self._trials():
            if t.state == done and self._KEY in t.user_attrs:
                out[t.user_attrs[self._KEY]] = _restore(json.loads(t.user_attrs["record"]))
        return out

    def _alive(self, trial: Any) -> bool:
        from lrkit.tune.workers import WORKER_ATTR, is_dead

        owner = trial.user_attrs.get(WORKER_ATTR) or {}
        if is_dead(owner):
            return False
        return time.time() - float(trial.user_attrs.get("claimed_at", 0.0)) < self.stale_after

    def claim(self, key: str) -> bool:
        from lrkit.tune.workers import WORKER_ATTR, worker_identity

        state = self._optuna.trial.TrialState
        if any(t.user_attrs.get(self._KEY) == key and (
                t.state == state.COMPLETE or (t.state == state.RUNNING and self._alive(t)))
               for t in self._trials()):
            return False
        trial = self.study.ask()
        trial.set_user_attr(self._KEY, key)
        trial.set_user_attr("claimed_at", time.time())
        trial.set_user_attr(WORKER_ATTR, worker_identity(trial.number))
        # two processes may claim the same unit at once: both see both, the lower wins
        rivals = [t for t in self._trials() if t.user_attrs.get(self._KEY) == key
                  and t.number != trial.number
                  and (t.state == state.COMPLETE
                       or (t.state == state.RUNNING and self._alive(t)
                           and t.number < trial.number))]
        if rivals:
            self.study.tell(trial, state=state.FAIL)
            return False
        self._mine[key] = trial
        return True

    def release(self, key: str) -> None:
        trial = self._mine.pop(key, None)
        if trial is not None:
            self.study.tell(trial, state=self._optuna.trial.TrialState.FAIL)

    def put(self, key: str, record: dict[str, Any]) -> None:
        trial = self._mine.pop(key, None)
        if trial is None:  # a unit run without a claim (should not happen): claim it now
            trial = self.study.ask()
            trial.set_user_attr(self._KEY, key)
        trial.set_user_attr("record", json.dumps(_clean(record), allow_nan=False))
        loss = record.get("final_val_loss", record.get("cost_runs", 0.0))
        value = float(loss) if isinstance(loss, int | float) and math.isfinite(loss) else 1e30
        self.study.tell(trial, value)

    def running(self) -> int:
        """Units claimed by live processes and not finished yet."""
        state = self._optuna.trial.TrialState
        return sum(1 for t in self._trials() if t.state == state.RUNNING and self._alive(t))

    def describe(self) -> str:
        from lrkit.tune.storage import redact

        return f"{redact(self.url)} (study {self.study.study_name})"
