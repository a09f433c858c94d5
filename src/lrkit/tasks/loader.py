"""``load_task``: a built-in task by name, a zoo pair, or a user's ``path/to/file.py:factory``.

>>> load_task("digits-mlp").name
'digits-mlp'
>>> load_task("zoo:wine-logreg-adam-cos").batch_size
16
>>> load_task("no-such-task")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
lrkit.errors.ConfigError: task = 'no-such-task': not a built-in task or a file; ...
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import sys
from pathlib import Path

from lrkit.errors import ConfigError, UserCodeError
from lrkit.tasks.builtin import builtin_tasks
from lrkit.tasks.task import Task
from lrkit.usercode import blame

__all__ = ["load_task"]


def load_task(ref: str) -> Task:
    """Resolve ``ref`` to a Task.

    Args:
        ref: a built-in name (``digits-mlp``), a zoo pair (``zoo:moons-mlp-nest-cos``, see
            ``lrkit.tasks.zoo``) or ``path/to/file.py:factory`` where ``factory()`` returns
            an ``lrkit.Task``. A path without ``:factory`` uses ``make_task``.

    Raises:
        ConfigError: unknown name, missing file, missing factory, or a factory that
            returns something other than a Task.
        UserCodeError: the file fails to import, or the factory raises or calls sys.exit.
    """
    if not isinstance(ref, str) or not ref.strip():
        raise _bad(ref, "empty",
                   "pass a built-in name such as digits-mlp or path/to/file.py:make_task")
    builtins = builtin_tasks()
    if ref in builtins:
        return builtins[ref]()
    if ref.startswith("zoo:"):
        return _zoo_task(ref)
    path_text, _, factory_name = ref.rpartition(":") if ref.count(":") else (ref, "", "")
    # "C:\\x.py" style drive letters: only split on a colon that follows ".py"
    if not path_text.endswith(".py"):
        path_text, factory_name = ref, ""
    if not path_text.endswith(".py"):
        hint = difflib.get_close_matches(ref, list(builtins), n=1)
        fix = (f"did you mean {hint[0]!r}?" if hint
               else f"use one of {', '.join(sorted(builtins))} or path/to/file.py:make_task")
        raise _bad(ref, "not a built-in task or a file", fix)
    factory_name = factory_name or "make_task"
    path = Path(path_text)
    if not path.is_file():
        raise _bad(ref, f"file '{path}' does not exist", "check the path")
    module = _import_file(path, ref)
    factory = getattr(module, factory_name, None)
    if factory is None:
        names = [n for n in vars(module) if callable(vars(module)[n]) and not n.startswith("_")]
        hint = difflib.get_close_matches(factory_name, names, n=1)
        fix = f"did you mean {hint[0]!r}?" if hint else "define it or name another function"
        raise _bad(ref, f"'{path}' has no function {factory_name!r}", fix)
    if not callable(factory):
        raise _bad(ref, f"{factory_name!r} is a {type(factory).__name__}, not a function",
                   "point at a function that returns lrkit.Task")
    try:
        task = factory()
    except ConfigError as err:
        raise _bad(ref, str(err)) from None
    except SystemExit as err:
        # sys.exit() in a factory would end lrkit silently, with its status (often 0)
        raise UserCodeError(parameter="task", value=ref,
                            rule=f"{factory_name}() called sys.exit({err.code!r})",
                            fix="return an lrkit.Task instead", function=factory_name) from None
    except Exception as err:
        blamed = blame(err)
        where = f" (at {blamed.where})" if blamed is not None else ""
        raise UserCodeError(parameter="task", value=ref,
                            rule=f"{factory_name}() raised {type(err).__name__}: "
                                 f"{_one_line(err)}{where}",
                            fix="fix the factory", function=factory_name) from err
    if not isinstance(task, Task):
        raise _bad(ref, f"{factory_name}() returned a {type(task).__name__}, not an lrkit.Task",
                   "return lrkit.Task(name=..., model=..., ...)")
    return task


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())[:300]


def _bad(ref: object, rule: str, fix: str | None = None) -> ConfigError:
    """The error for a task reference: ``task`` from Python, ``--task`` from the CLI."""
    return ConfigError(parameter="task", value=ref, rule=rule, fix=fix)


def _zoo_task(ref: str) -> Task:
    from lrkit.tasks.zoo import ZOO

    name = ref[len("zoo:"):]
    if name not in ZOO:
        hints = difflib.get_close_matches(name, list(ZOO), n=3, cutoff=0.5)
        fix = (f"did you mean {', '.join('zoo:' + h for h in hints)}?" if hints
               else "list them with: python -m lrkit.tasks.zoo")
        raise _bad(ref, f"not a zoo pair ({len(ZOO)} exist)", fix)
    return ZOO[name].make()


def _import_file(path: Path, ref: str) -> object:
    resolved = path.resolve()
    # A stable, unique module name per file lets pickling and tracebacks name the module.
    name = "lrkit_user_task_" + hashlib.sha1(str(resolved).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise _bad(ref, f"'{path}' cannot be imported as Python", "pass a .py file")
    module = importlib.util.module_from_spec(spec)
    # `python my_task.py` puts the file's folder first on the import path, so the file's
    # `from common import ...` finds its siblings; loading it here must do the same. The
    # folder stays on the path: the factory and the task's callables may import lazily.
    folder = str(resolved.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as err:
        sys.modules.pop(name, None)
        blamed = blame(err)
        where = f" (at {blamed.where})" if blamed is not None else ""
        raise UserCodeError(parameter="task", value=ref,
                            rule=f"importing '{path}' raised {type(err).__name__}: "
                                 f"{_one_line(err)}{where}",
                            fix="fix the file", function=f"import {path.name}") from err
    return module
