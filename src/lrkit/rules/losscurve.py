"""Read a loss history (epoch, loss) and estimate the epoch where the loss saturates.

Two saturating families are fitted by least squares and the one with the lower residual
is kept (the families of Domhan et al. 2015):

* exponential  L(e) = a + b exp(-c (e - e0))
* power law    L(e) = a + b (e - e0 + 1) ** -c

with e0 the first observed epoch, b > 0 and c > 0. The convergence epoch is where the
fitted excess loss L(e) - a has fallen to ``SETTLE_FRACTION`` (10%) of its value at e0:
e0 + ln(10) / c for the exponential, e0 - 1 + 10 ** (1 / c) for the power law.

Accepted files: CSV with an ``epoch`` and a ``loss`` column (or two unnamed columns, or a
single column of losses at epochs 1, 2, ...), or JSON as ``{"epoch": [...], "loss": [...]}``,
a list of ``{"epoch": e, "loss": l}`` records or a plain list of losses.

>>> import numpy as np
>>> e = np.arange(1, 21, dtype=float)
>>> fit = fit_loss_curve(e, 0.5 + 2.0 * np.exp(-0.3 * (e - 1)))
>>> fit.model, round(fit.convergence_epoch, 2)
('exponential', 8.68)
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lrkit._io import read_input
from lrkit.errors import ConfigError, DataError

__all__ = ["MIN_POINTS", "SETTLE_FRACTION", "LossFit", "fit_loss_curve", "read_loss_history"]

MIN_POINTS = 4
SETTLE_FRACTION = 0.1
_LOSS_NAMES = ("loss", "val_loss", "train_loss", "validation_loss", "eval_loss")


@dataclasses.dataclass(frozen=True)
class _Source:
    """The loss history being read: ``loss_history`` from Python and the web, ``--loss-history``
    on the CLI, with the file's path when it came from one."""

    path: str | None = None

    def error(self, text: str) -> DataError:
        """The DataError for ``text``, written ``<rule>; <fix>``."""
        rule, _, fix = text.partition("; ")
        if self.path is None:
            return DataError(parameter="loss_history", rule=rule, fix=fix or None)
        return DataError(parameter="loss_history", value=self.path, rule=rule, fix=fix or None)


def read_loss_history(source: str | os.PathLike[str] | Sequence[Any]
                      ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(epochs, losses)`` from a CSV/JSON file or a sequence of pairs or losses.

    Raises:
        ConfigError: the file does not exist.
        DataError: the content is not a loss history (message names what is wrong).
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            exists = path.exists()
        except OSError:  # a name too long to look up
            exists = False
        if not exists:
            raise ConfigError(parameter="loss_history", value=str(path)[:120],
                              rule="file not found",
                              fix="pass a CSV or JSON file of epoch,loss rows")
        text = read_input(path, "loss_history", max_bytes=20 * 2**20)
        where = _Source(str(path))
        stripped = text.lstrip()
        if stripped.startswith(("[", "{")):
            try:
                data: Any = json.loads(text)
            except json.JSONDecodeError as err:
                raise where.error(f"invalid JSON ({err.msg} at line {err.lineno}); "
                                "fix the file or save it as CSV") from None
            except (ValueError, RecursionError):
                raise where.error("JSON nested too deeply or holding a number too "
                                "long to read; fix the file or save it as CSV") from None
            pairs = _from_json(data, where)
        else:
            try:
                pairs = _from_csv(text, where)
            except csv.Error as err:
                raise where.error(f"not a readable CSV ({str(err)[:80]}); write "
                                "epoch,loss rows") from None
    else:
        where = _Source()
        pairs = _from_json(list(source), where)
    return _validate(pairs, where)


def _from_json(data: Any, where: _Source) -> list[tuple[Any, Any]]:
    if isinstance(data, dict):
        losses = next((data[k] for k in _LOSS_NAMES if k in data), None)
        if not isinstance(losses, list):
            raise where.error("JSON object has no list under 'loss'; "
                            'write {"epoch": [...], "loss": [...]}')
        epochs = data.get("epoch", list(range(1, len(losses) + 1)))
        if not isinstance(epochs, list) or len(epochs) != len(losses):
            raise where.error("'epoch' and 'loss' lists differ in length; "
                            "give one epoch per loss")
        return list(zip(epochs, losses, strict=True))
    if not isinstance(data, list):
        raise where.error("expected a list or an object; "
                        'write {"epoch": [...], "loss": [...]}')
    if data and all(isinstance(r, dict) for r in data):
        out = []
        for i, row in enumerate(data):
            key = next((k for k in _LOSS_NAMES if k in row), None)
            if key is None or "epoch" not in row:
                raise where.error(f"record {i} lacks 'epoch' or 'loss'; "
                                'write records like {"epoch": 1, "loss": 2.3}')
            out.append((row["epoch"], row[key]))
        return out
    if data and all(isinstance(r, list | tuple) and len(r) == 2 for r in data):
        return [(r[0], r[1]) for r in data]
    return [(i + 1, v) for i, v in enumerate(data)]


def _from_csv(text: str, where: _Source) -> list[tuple[Any, Any]]:
    rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    if not rows:
        raise where.error("the file is empty; write epoch,loss rows")
    header = [c.strip().lower() for c in rows[0]]
    if not _is_number(header[0]):
        rows = rows[1:]
        loss_col = next((header.index(k) for k in _LOSS_NAMES if k in header), None)
        if loss_col is None:
            loss_col = next((i for i, name in enumerate(header) if "loss" in name), None)
        if loss_col is None:
            raise where.error(f"no 'loss' column in header {header}; "
                            "name the columns epoch,loss")
        epoch_col = header.index("epoch") if "epoch" in header else None
    else:
        width = len(rows[0])
        if width > 2:
            raise where.error(f"{width} unnamed columns; add a header epoch,loss")
        epoch_col, loss_col = (0, 1) if width == 2 else (None, 0)
    out = []
    for i, row in enumerate(rows):
        if loss_col >= len(row) or (epoch_col is not None and epoch_col >= len(row)):
            raise where.error(f"row {i + 1} has {len(row)} columns; "
                            "give epoch and loss on every row")
        epoch = row[epoch_col].strip() if epoch_col is not None else i + 1
        out.append((epoch, row[loss_col].strip()))
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _validate(pairs: list[tuple[Any, Any]], where: _Source
              ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    epochs, losses = [], []
    for i, (e, v) in enumerate(pairs):
        try:
            fe, fv = float(e), float(v)
        except (TypeError, ValueError):
            raise where.error(f"row {i + 1} = ({e!r}, {v!r}) is not numeric; "
                            "give numbers for epoch and loss") from None
        if not (math.isfinite(fe) and math.isfinite(fv)):
            raise where.error(f"row {i + 1} has a non-finite value ({e}, {v}); the run "
                            "diverged there: pass only the rows before it")
        epochs.append(fe)
        losses.append(fv)
    if len(losses) < MIN_POINTS:
        raise where.error(f"{len(losses)} points; need at least {MIN_POINTS} "
                        "(epoch, loss) rows to fit a curve")
    e = np.asarray(epochs)
    if np.any(np.diff(e) <= 0) or e[0] < 0:
        raise where.error("epochs must be >= 0 and strictly increasing; "
                        "sort the rows and drop duplicates")
    return e, np.asarray(losses)


@dataclasses.dataclass(frozen=True)
class LossFit:
    """A saturating fit of a loss history.

    Attributes:
        model: ``exponential`` or ``power``, or None when the loss does not decrease.
        params: ``{"a": asymptote, "b": excess at e0, "c": rate}``.
        convergence_epoch: Where the fitted excess loss is 10% of its first value.
        r2: Coefficient of determination of the fit.
        first_epoch, last_epoch: The observed span.
        text: The fit, for the audit trail.
    """

    model: str | None
    params: dict[str, float]
    convergence_epoch: float | None
    r2: float
    first_epoch: float
    last_epoch: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return dataclasses.asdict(self)


def _basis(model: str, x: NDArray[np.float64], c: float) -> NDArray[np.float64]:
    return np.exp(-c * x) if model == "exponential" else (x + 1.0) ** (-c)


def _linear_fit(model: str, x: NDArray[np.float64], y: NDArray[np.float64], c: float
                ) -> tuple[float, float, float]:
    """Best (a, b) for a fixed rate c, by linear least squares; returns (sse, a, b)."""
    g = _basis(model, x, c)
    design = np.column_stack([np.ones_like(g), g])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    return float(resid @ resid), float(coef[0]), float(coef[1])


def _fit_family(model: str, x: NDArray[np.float64], y: NDArray[np.float64]
                ) -> tuple[float, float, float, float]:
    """(sse, a, b, c) with c > 0: a log grid over c, then scipy refines all three."""
    span = max(float(x[-1]), 1e-9)
    lo, hi = (1e-3 / span, 50.0 / span) if model == "exponential" else (1e-3, 10.0)
    grid = np.geomspace(lo, hi, 240)
    sse, a, b, c = min((*_linear_fit(model, x, y, float(c)), float(c)) for c in grid)
    from scipy.optimize import least_squares  # scipy is a core dependency; imported lazily

    def resid(p: NDArray[np.float64]) -> NDArray[np.float64]:
        return p[0] + p[1] * _basis(model, x, p[2]) - y

    try:
        res = least_squares(resid, x0=[a, b, c], bounds=([-np.inf, -np.inf, lo * 1e-3],
                                                         [np.inf, np.inf, hi * 10]))
        if res.success and float(res.fun @ res.fun) < sse:
            a, b, c = (float(v) for v in res.x)
            sse = float(res.fun @ res.fun)
    except (ValueError, FloatingPointError):  # keep the grid solution
        pass
    return sse, a, b, c


def fit_loss_curve(epochs: NDArray[np.float64], losses: NDArray[np.float64]) -> LossFit:
    """Fit both saturating families and estimate the convergence epoch.

    Args:
        epochs: Strictly increasing epochs (>= 0).
        losses: Loss at each epoch.

    Returns:
        The better fit; ``model`` is None (and ``convergence_epoch`` None) when the losses
        do not decrease overall.
    """
    e0 = float(epochs[0])
    x = np.asarray(epochs, dtype=np.float64) - e0
    y = np.asarray(losses, dtype=np.float64)
    tss = float(((y - y.mean()) ** 2).sum())
    fits = {m: _fit_family(m, x, y) for m in ("exponential", "power")}
    model = min(fits, key=lambda m: fits[m][0])
    sse, a, b, c = fits[model]
    r2 = 1.0 - sse / tss if tss > 0 else 0.0
    first, last = e0, float(epochs[-1])
    if b <= 0 or y[-1] >= y[0]:
        return LossFit(None, {"a": a, "b": b, "c": c}, None, r2, first, last,
                       "the losses do not decrease, so no saturation epoch can be estimated")
    if model == "exponential":
        conv = e0 + math.log(1.0 / SETTLE_FRACTION) / c
        formula = f"L(e) = {a:.4g} + {b:.4g} exp(-{c:.4g} (e - {e0:g}))"
    else:
        conv = e0 - 1.0 + (1.0 / SETTLE_FRACTION) ** (1.0 / c)
        formula = f"L(e) = {a:.4g} + {b:.4g} (e - {e0:g} + 1)^-{c:.4g}"
    text = (f"{formula} (R^2 = {r2:.3f}); the excess loss falls to 10% of its first value at "
            f"epoch {conv:.3g}")
    return LossFit(model, {"a": a, "b": b, "c": c}, conv, r2, first, last, text)
