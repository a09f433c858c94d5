"""``/api/diagnose``: upload one training log, get the findings and its (downsampled) curves.

With ``sweep`` set, every run of the log (an MLflow store, a zipped TensorBoard folder of
runs) is judged against the others instead (``lrkit.diagnose.diagnose_runs``); so are
several logs uploaded at once (several ``file`` fields: a run and the run that checks it,
or a sweep), each log one run or more.

The upload is streamed with a byte limit (a larger body is refused with 413 before it is
read whole), saved under its own file name in a private temporary folder (the readers
detect the format from the name), handed to ``lrkit.diagnose.diagnose`` and deleted.
A ``.zip`` is unpacked first (bounded, no path escapes), for logs that are folders:
``mlruns/``, a TensorBoard log dir, a Trainer output folder.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import shutil
import tempfile
import weakref
import zipfile
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from lrkit._json import jsonable
from lrkit.errors import ConfigError, DataError, LrkitError
from lrkit.web.errors import UploadTooLarge
from lrkit.web.jsonio import json_response

__all__ = ["DIAGNOSE_TIMEOUT_S", "DIAGNOSE_WORKERS", "MAX_PLOT_POINTS", "downsample_xy",
           "jsonable", "router", "safe_name"]

router = APIRouter(tags=["diagnosis"])
MAX_PLOT_POINTS = 2000
_SLACK = 64 * 1024  # multipart boundaries and headers around the file itself

_OPENAPI_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "The log file (CSV, JSONL, trainer_state.json, "
                                "TensorBoard event file, ...); its name picks the reader. "
                                "Repeat the field for several logs: they are judged as a "
                                "sweep."},
        "metric": {"type": "string", "description": "Diagnose this metric (default: auto)."},
        "run": {"type": "string", "description": "Which run, when the log holds several."},
        "lr": {"type": "number", "description": "The run's peak LR, if the log lacks it."},
        "sweep": {"type": "boolean", "description": "Judge every run of the log against "
                  "the others (runs of one model at different LRs)."},
    }}}}}}
_MAX_ZIP_FILES = 2000
#: Logs one request may carry (each a run of a sweep, or a zipped folder of runs).
MAX_LOGS = 16
#: A client waits at most this long for one diagnosis (create_app can change it).
DIAGNOSE_TIMEOUT_S = 60.0
#: Diagnoses running at once; more wait their turn (create_app can change it).
DIAGNOSE_WORKERS = 2
_GATES: weakref.WeakKeyDictionary[Any, asyncio.Semaphore] = weakref.WeakKeyDictionary()
_ZIP_EXPANSION = 10  # unpacked size may be at most this many times the upload limit


def safe_name(name: str | None) -> str:
    """A file name safe to create in a private folder, keeping its extension.

    >>> safe_name("../../etc/passwd"), safe_name("run 1/trainer_state.json"), safe_name("")
    ('passwd', 'trainer_state.json', 'upload.log')
    >>> safe_name("events.out.tfevents.1700000000.host")
    'events.out.tfevents.1700000000.host'
    """
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")[:200]
    return base or "upload.log"


def downsample_xy(x: list[float], y: list[float | None],
                  max_points: int = MAX_PLOT_POINTS) -> tuple[list[Any], list[Any]]:
    """At most ``max_points`` of a logged curve: each bucket keeps its lowest and highest value.

    Non-finite values (divergence evidence) are always kept.

    >>> downsample_xy(list(range(8)), [5, 1, 4, 2, 3, 0, 6, 2], max_points=6)
    ([0, 1, 5, 6, 7], [5, 1, 0, 6, 2])
    """
    n = len(x)
    if n <= max_points:
        return list(x), list(y)
    vals = np.array([np.nan if v is None else v for v in y], dtype=np.float64)
    finite = np.isfinite(vals)
    keep = {0, n - 1, *np.flatnonzero(~finite)[: max_points // 4].tolist()}
    buckets = np.array_split(np.arange(n), max(1, (max_points - len(keep)) // 2))
    for idx in buckets:
        good = idx[finite[idx]]
        if len(good):
            keep.add(int(good[np.argmin(vals[good])]))
            keep.add(int(good[np.argmax(vals[good])]))
    order = sorted(keep)
    return [x[i] for i in order], [y[i] for i in order]


async def _limited(stream: AsyncIterator[bytes], limit: int, name: str) -> AsyncGenerator[bytes]:
    seen = 0
    async for chunk in stream:
        seen += len(chunk)
        if seen > limit + _SLACK:
            raise _too_large(name, limit)
        yield chunk


def _too_large(name: str, limit: int) -> UploadTooLarge:
    return UploadTooLarge(f"file = '{name}': larger than the {limit / 2**20:g} MB upload limit; "
                          "upload a smaller log (export fewer metrics or a subset of steps), "
                          "or run `lrkit diagnose` on it locally")


async def _read_form(request: Request, limit: int
                     ) -> tuple[list[UploadFile], dict[str, Any]]:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit + _SLACK:
        raise _too_large("upload", limit)
    if "multipart/form-data" not in request.headers.get("content-type", ""):
        raise ConfigError("request: not multipart/form-data; send the log as a form field "
                          "named 'file' (e.g. curl -F file=@trainer_state.json)")
    parser = MultiPartParser(request.headers, _limited(request.stream(), limit, "upload"),
                             max_files=MAX_LOGS, max_fields=8)
    try:
        form = await parser.parse()
    except MultiPartException as err:
        raise DataError(f"upload: {err.message}; send at most {MAX_LOGS} logs, each in a "
                        "field named 'file'") from None
    uploads = [u for u in form.getlist("file") if isinstance(u, UploadFile)]
    if not uploads:
        raise ConfigError("file: missing; send the log as a form field named 'file'")
    options: dict[str, Any] = {}
    for key in ("metric", "run", "lr"):
        value = form.get(key)
        if isinstance(value, str) and value.strip():
            options[key] = value.strip()
    if "lr" in options:
        options["lr"] = _positive("lr", options["lr"])
    sweep = form.get("sweep")
    if len(uploads) > 1 or (isinstance(sweep, str) and
                            sweep.strip().lower() in ("1", "true", "on", "yes")):
        for key in ("run", "lr"):
            if key in options:
                raise ConfigError(f"{key} = {options[key]!r}: not with sweep (every run of "
                                  "the logs is compared, each by the LR it logged); leave "
                                  f"{key} empty or diagnose one run")
        options["sweep"] = True
    return uploads, options


def _positive(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{name} = {text!r}: must be a positive number; "
                          "pass the run's peak LR, e.g. 0.001")
    return value


def _unzip(archive: Path, into: Path, limit: int) -> None:
    """Unpack ``archive`` into ``into``, refusing bombs and paths that leave the folder."""
    name = archive.name
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if len(members) > _MAX_ZIP_FILES:
                raise DataError(f"file = '{name}': holds {len(members)} files, more than "
                                f"{_MAX_ZIP_FILES}; zip only the run's log folder")
            total = sum(m.file_size for m in members)
            if total > _ZIP_EXPANSION * limit:
                raise _too_large(name, _ZIP_EXPANSION * limit)
            root = into.resolve()
            for m in members:
                shown = m.filename[:100]
                target = (into / m.filename).resolve()
                if not target.is_relative_to(root):
                    raise DataError(f"file = '{name}': member {shown!r} points outside "
                                    "the archive; zip the log folder itself")
                if target == root:
                    continue  # a member named '.' or '' names the folder itself: no file
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(m) as src, target.open("wb") as out:
                        shutil.copyfileobj(src, out)
                except OSError:
                    # 'a' and 'a/log.csv' both as files, a name too long, ...
                    raise DataError(f"file = '{name}': member {shown!r} cannot be unpacked "
                                    "(it clashes with another member's path or is not a "
                                    "valid file name); zip the log folder again") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError,
            RuntimeError, ValueError):
        # damaged, encrypted or in a compression zipfile does not read
        raise DataError(f"file = '{name}': not a readable zip archive; upload the log file "
                        "itself, or zip its folder again") from None


def _plot_curves(curves: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for c in curves:
        x = c.get("steps") if c.get("axis", "step") == "step" else c.get("epochs")
        x = x if x is not None else c.get("steps") or c.get("epochs") or []
        y = c.get("values", [])
        px, py = downsample_xy(x, y)
        out.append({**{k: v for k, v in c.items() if k not in ("steps", "epochs", "values")},
                    "x": px, "y": py, "points": c.get("thinned_from", len(y)),
                    "downsampled": len(px) < c.get("thinned_from", len(y))})
    return out


@router.post("/api/diagnose", summary="Diagnose an uploaded training log",
             openapi_extra=_OPENAPI_BODY)
async def diagnose_upload(request: Request) -> Response:
    """Run ``lrkit.diagnose.diagnose`` on the uploaded file.

    Returns the ``lrkit diagnose --json`` document (``findings``,
    ``estimated_convergence_epoch``, ...) with ``curves`` downsampled to at most
    2000 points each for plotting (``x``, ``y``, ``points`` = logged count), plus ``file``.
    Too large: 413; unreadable or invalid: 422; both ``{"detail": "<one line>"}``.
    """
    from starlette.concurrency import run_in_threadpool

    limit = int(request.app.state.max_upload_bytes)
    uploads, options = await _read_form(request, limit)
    names = [safe_name(u.filename) for u in uploads]
    with tempfile.TemporaryDirectory(prefix="lrkit-upload-") as folder:
        # several logs: each in a folder of its own, under the name that picks its reader
        homes = [Path(folder)] if len(uploads) == 1 else [
            Path(folder) / str(i + 1) for i in range(len(uploads))]
        targets, size = [], 0
        for upload, name, home in zip(uploads, names, homes, strict=True):
            home.mkdir(exist_ok=True)
            path = home / name
            with path.open("wb") as out:
                while chunk := await upload.read(1 << 20):
                    size += len(chunk)
                    if size > limit:
                        raise _too_large(name, limit)
                    out.write(chunk)
            await upload.close()
            target = path
            if name.lower().endswith(".zip"):
                target = home / (name[:-4] or "upload")
                target.mkdir()
                await run_in_threadpool(_unzip, path, target, limit)
            targets.append(target)
        try:
            result = await _bounded(request, run_in_threadpool(_diagnose, targets, options))
        except LrkitError as err:
            # name the file as the user knows it, not by its private temporary path
            raise type(err)(_shown(str(err), folder, names)) from None
    doc = jsonable(result)
    for run in doc.get("runs") or []:
        if isinstance(run, dict):
            run["name"] = _shown(run["name"], folder, names)
    doc["curves"] = _plot_curves(doc.get("curves") or [])
    return json_response({"file": ", ".join(names), **doc})


def _shown(text: str, folder: str, names: list[str]) -> str:
    """``text`` with the private folder's paths written as the uploaded file names (with
    each log's number where two logs share a name)."""
    unique = len(set(names)) == len(names)
    for base in dict.fromkeys([str(Path(folder).resolve()), folder]):
        if len(names) > 1:
            for i in range(len(names)):
                text = text.replace(f"{base}{os.sep}{i + 1}{os.sep}",
                                    "" if unique else f"({i + 1}) ")
        text = text.replace(base + os.sep, "")
    return text


async def _bounded(request: Request, work: Any) -> Any:
    """Await ``work`` (a diagnosis in a worker thread) with a concurrency cap and a timeout.

    The event loop never runs a diagnosis itself; at most ``diagnose_workers`` run at once
    (others wait their turn), and a client waits at most ``diagnose_timeout_s`` for one.
    A thread cannot be killed: one that overruns finishes in the background, its time
    bounded by the readers' size limits, while its slot stays taken.
    """
    state = request.app.state
    timeout = float(getattr(state, "diagnose_timeout_s", DIAGNOSE_TIMEOUT_S))
    workers = int(getattr(state, "diagnose_workers", DIAGNOSE_WORKERS))
    loop = asyncio.get_running_loop()
    # one gate per event loop (a test may serve the same app from several loops)
    gate = _GATES.get(loop)
    if gate is None:
        gate = _GATES[loop] = asyncio.Semaphore(workers)
    task = asyncio.ensure_future(_gated(gate, work))
    # an overrun task's error (its files are gone by then) is nobody's to report
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
    try:
        return await asyncio.wait_for(asyncio.shield(task), timeout)
    except TimeoutError:
        raise DataError(f"file: the diagnosis took longer than {timeout:g} s; upload a "
                        "smaller log (fewer metrics or steps), or run `lrkit diagnose` on it "
                        "locally") from None


async def _gated(gate: asyncio.Semaphore, work: Any) -> Any:
    async with gate:
        return await work


def _diagnose(paths: list[Path], options: dict[str, Any]) -> dict[str, Any]:
    from lrkit.diagnose import diagnose, diagnose_runs

    if options.pop("sweep", False):
        return diagnose_runs(paths, options.get("metric")).to_dict()
    return diagnose(paths[0], **options).to_dict()
