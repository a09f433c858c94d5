"""Blame the user's own code, precisely: which of their functions failed, and where.

A task runs the user's functions (``make_task``, the model factory and ``forward``, the
loss, the optimizer factory). When one of them raises, the useful report is one line
naming that function, the last line of *their* code that ran and the exception, not a
traceback through lrkit and torch. :func:`blame` finds those frames in a traceback: a
frame is the user's when its file is neither inside lrkit nor inside Python's own or
installed packages.

>>> def make_task():
...     raise ValueError("no data")
>>> try:
...     make_task()
... except ValueError as err:
...     print(blame(err, user_files=lambda f: f.startswith("<doctest")).render("cli"))
... # doctest: +ELLIPSIS
your <module>() failed at ...: ValueError: no data; fix it and run again (--debug or ...)
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from lrkit.errors import UserCodeError

__all__ = ["blame", "debug_enabled", "first_loss_error", "is_user_file", "scalar_loss"]

_LRKIT = str(Path(__file__).resolve().parent) + os.sep


def _library_roots() -> tuple[str, ...]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            roots.add(sysconfig.get_path(key))
        except KeyError:
            continue
    return tuple(str(Path(r).resolve()) + os.sep for r in roots if r)


_LIBRARIES = _library_roots()


def is_user_file(filename: str) -> bool:
    """True for a source file that belongs to the user (not lrkit, Python or a package).

    >>> is_user_file(__file__), is_user_file("/home/me/task.py")
    (False, True)
    """
    if not filename or filename.startswith("<") or not os.path.isabs(filename):
        # <frozen ...>, <string>, and compiled extensions' relative source names
        # (numpy/random/_mt19937.pyx): not a file of the user's
        return False
    try:
        path = str(Path(filename).resolve())
    except OSError:
        return False
    if path.startswith(_LRKIT) or "site-packages" in path or "dist-packages" in path:
        return False
    return not path.startswith(_LIBRARIES)


def debug_enabled() -> bool:
    """True when ``LRKIT_DEBUG`` asks for full tracebacks (set by ``lrkit --debug``)."""
    return os.environ.get("LRKIT_DEBUG", "").strip().lower() not in ("", "0", "false", "no")


def _frames(tb: TracebackType | None) -> list[tuple[FrameType, int]]:
    out = []
    while tb is not None:
        out.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    return out


def _name(frame: FrameType) -> str:
    code = frame.f_code
    # 'make_task.<locals>.my_loss' reads better as 'my_loss'
    name = getattr(code, "co_qualname", code.co_name).rsplit("<locals>.", 1)[-1]
    owner = frame.f_locals.get("self")
    if code.co_name == "forward" and owner is not None:
        return f"the model's {type(owner).__name__}.forward()"
    if code.co_name == "<lambda>":
        return "your lambda"
    return f"your {name}()"


def _line(filename: str, lineno: int) -> str:
    import linecache

    return linecache.getline(filename, lineno).strip()


def blame(exc: BaseException, *, role: str = "",
          user_files: Callable[[str], bool] = is_user_file) -> UserCodeError | None:
    """A one-line UserCodeError for ``exc`` if it was raised in the user's code, else None.

    Args:
        exc: the exception, with its traceback.
        role: what lrkit was calling, e.g. "the task's loss_fn", when the caller knows.
        user_files: decides which source files are the user's (for tests).

    Returns:
        The error (its ``__cause__`` is ``exc``), or None when no frame of the traceback
        is the user's (then the failure is lrkit's or a library's, and deserves the
        traceback).
    """
    frames = _frames(exc.__traceback__)
    mine = [user_files(f.f_code.co_filename) for f, _ in frames]
    if not any(mine):
        return None
    # The innermost run of the user's frames: its first frame is the function lrkit (or
    # a library lrkit called) invoked, its last the line of theirs that ran last.
    last = max(i for i, m in enumerate(mine) if m)
    first = last
    while first > 0 and mine[first - 1]:
        first -= 1
    outer, _ = frames[first]
    inner, lineno = frames[last]
    function = _name(outer)
    where = f"{_short_path(inner.f_code.co_filename)}:{lineno}"
    code = _line(inner.f_code.co_filename, lineno)
    shown = f" ({code[:80]})" if code else ""
    text = " ".join(str(exc).split())[:300] or "(no message)"
    who = f"{role} ({function})" if role else function
    # From Python the traceback is this error's __cause__; the CLI hides it unless asked.
    err = UserCodeError(f"{who} failed at {where}{shown}: {type(exc).__name__}: {text}; "
                        "fix it and run again", function=function, where=where,
                        cli_note="(--debug or LRKIT_DEBUG=1 shows the traceback)")
    err.__cause__ = exc
    return err


def _short_path(filename: str) -> str:
    try:
        return os.path.relpath(filename)
    except ValueError:
        return filename


def scalar_loss(loss: Any, field: str) -> Any:
    """``loss`` if it is a one-element tensor; a UserCodeError naming the hook otherwise.

    A per-example loss (shape (32,) or (32, 1)) would fail deep inside backward() with a
    message about implicit gradients; this says which of the user's functions to fix.
    """
    numel = getattr(loss, "numel", None)
    if callable(numel) and numel() == 1:
        return loss
    got = (f"a tensor of shape {tuple(loss.shape)}" if callable(numel)
           else f"a {type(loss).__name__}")
    raise UserCodeError(f"task.{field}: returned {got}, not a scalar loss tensor; return the "
                        "mean over the batch, e.g. loss.mean()", function=field)


def first_loss_error(loss: float, lr: float) -> UserCodeError:
    """The error for a loss that is not finite at the very first update.

    That loss comes from the initial weights, before any LR was applied: the model's
    output or the loss function produces it, and no LR can help (a sweep would otherwise
    end at once and suggest ``nan``).
    """
    return UserCodeError(f"the task's loss is {loss} at the first update (lr {lr:.3g}), "
                         "before any training: the model's output or the loss function is "
                         "not finite; check them on one batch", function="loss_fn")
