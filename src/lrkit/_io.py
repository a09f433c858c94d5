"""Atomic file output: a file is either written whole or left as it was.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
>>> write_atomic(path, b"hello")
>>> path.read_bytes()
b'hello'
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from lrkit.errors import ConfigError

__all__ = ["MAX_INPUT_BYTES", "atomic_path", "output_folder", "output_target", "read_input",
           "write_atomic"]


def output_target(path: str | os.PathLike[str], name: str = "output") -> Path:
    """Where a write to ``path`` must land, refused with a one-line error if it cannot.

    A symlink is followed to the file it points at (the link stays a link); a folder, a
    device, a FIFO or a socket is refused (``--save /dev/null`` run as root would
    otherwise replace the system's /dev/null with a regular file); and the folder is
    probed by creating and removing a temporary file in it, so a read-only or missing
    folder, ``/proc`` or an over-long name fails *before* a long run rather than after.

    Args:
        path: the output path as the user gave it.
        name: the option to name in errors (``--save``, ``--plot``, ...).

    Raises:
        ConfigError: the path is empty or cannot be written as a regular file.

    >>> output_target("/dev/null", "--save")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lrkit.errors.ConfigError: --save = '/dev/null': is a device or special file, ...
    """
    text = os.fspath(path)
    if not str(text).strip():
        raise ConfigError(f"{name} = '': empty path; pass a file name, e.g. result.json")
    given = Path(text)
    shown = _short(str(given))
    if any(len(part.encode()) > 255 for part in given.parts):
        raise ConfigError(f"{name} = '{shown}': a file or folder name is longer than 255 "
                          "bytes; choose a shorter name")
    target = Path(os.path.realpath(given))  # follow symlinks to the file they name
    try:
        st = target.stat()
    except FileNotFoundError:
        st = None
    except OSError as err:
        raise ConfigError(f"{name} = '{shown}': cannot be used ({err.strerror}); "
                          "choose another path") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"{name} = '{shown}': is a folder; pass a file path inside it")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{name} = '{shown}': is a device or special file, not a regular "
                          "file; pass a file path (lrkit never writes to devices)")
    folder = target.parent
    if not folder.is_dir():
        raise ConfigError(f"{name} = '{shown}': folder '{_short(str(given.parent))}' does not "
                          "exist; create it or choose another path")
    _check_writable(folder, name, shown)
    return target


def output_folder(path: str | os.PathLike[str], name: str = "--report") -> Path:
    """A folder lrkit will create (or fill) for a report, checked before any work.

    Raises:
        ConfigError: the path is empty, names a file or device, or its parent folder is
            missing or cannot be written.
    """
    text = os.fspath(path)
    if not str(text).strip():
        raise ConfigError(f"{name} = '': empty path; pass a folder name, e.g. lrkit-report")
    target = Path(os.path.realpath(text))
    shown = _short(str(text))
    if target.exists():
        if not target.is_dir():
            raise ConfigError(f"{name} = '{shown}': exists and is not a folder; "
                              "pass a folder path")
        probe_in = target
    else:
        probe_in = target.parent
        if not probe_in.is_dir():
            raise ConfigError(f"{name} = '{shown}': folder '{_short(str(probe_in))}' does "
                              "not exist; create it or choose another path")
    _check_writable(probe_in, name, shown)
    return target


def _check_writable(folder: Path, name: str, shown: str) -> None:
    """Create and remove a probe file in ``folder``: the one honest test of writability
    (permission bits lie for root, read-only mounts and ACLs)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".lrkit-probe.", dir=folder)
    except OSError as err:
        raise ConfigError(f"{name} = '{shown}': cannot write in '{_short(str(folder))}' "
                          f"({err.strerror}); choose a folder you can write to") from None
    os.close(fd)
    os.unlink(probe)


#: Largest small input document (a saved range test, calc JSON, a loss history).
MAX_INPUT_BYTES = 50 * 2**20


def read_input(path: str | os.PathLike[str], name: str, *,
               max_bytes: int = MAX_INPUT_BYTES, flag: str | None = None) -> str:
    """The text of a small input file, refusing what would block or never end.

    A FIFO would block the read forever and ``/dev/zero`` never ends: only regular files
    are read, at most ``max_bytes`` of them, as UTF-8.

    Args:
        path: the file.
        name: the parameter that named it, as Python spells it; the CLI says ``--name``,
            or ``flag`` where the command spells it otherwise.
        max_bytes: the most this input may hold.
        flag: see ``name``.

    Raises:
        DataError: missing, not a regular file, too large, unreadable or not UTF-8 text.

    >>> read_input("/dev/zero", "calc")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lrkit.errors.DataError: calc = '/dev/zero': is a device or FIFO, not a file; ...
    """
    from lrkit.errors import DataError

    shown = _short(os.fspath(path))

    def bad(rule: str, fix: str) -> DataError:
        return DataError(parameter=name, value=shown, rule=rule, fix=fix, flag=flag)

    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise bad("no such file", "check the path") from None
    except OSError as err:
        raise bad(f"cannot be read ({err.strerror})", "check the path") from None
    if stat.S_ISDIR(st.st_mode):
        raise bad("is a folder", "pass the file itself")
    if not stat.S_ISREG(st.st_mode):
        raise bad("is a device or FIFO, not a file", "pass a saved file")
    if st.st_size > max_bytes:
        raise bad(f"{st.st_size / 2**20:.0f} MiB is over the {max_bytes // 2**20} MiB limit "
                  "for this input", "pass the file lrkit wrote")
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as err:
        raise bad(f"cannot be read ({err.strerror})", "check its permissions") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise bad("not UTF-8 text (a binary file?)",
                  "pass the JSON or CSV file lrkit wrote") from None


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], name: str = "output") -> Iterator[Path]:
    """Yield a temporary path beside ``path``'s target; move it into place only if the
    block succeeds.

    The target is :func:`output_target`'s: through a symlink to the file it names, never
    a folder or a device. An existing file keeps its permission bits.
    """
    target = output_target(path, name)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:100]}.",
                                   suffix=target.suffix[:20] or ".tmp", dir=target.parent)
    except OSError as err:
        raise ConfigError(f"{name} = '{_short(str(path))}': cannot write there "
                          f"({err.strerror}); choose another path") from None
    os.close(fd)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mode = 0o666 & ~_umask()  # mkstemp makes 0600; give the usual permissions
    os.chmod(tmp, mode)
    try:
        yield Path(tmp)
        try:
            os.replace(tmp, target)
        except OSError as err:
            raise ConfigError(f"{name} = '{_short(str(path))}': cannot replace it "
                              f"({err.strerror}); choose another path") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike[str], data: bytes | str | Callable[[Path], None]) -> None:
    """Write ``data`` (bytes, text, or a function that writes to a given path) atomically."""
    with atomic_path(path) as tmp:
        if callable(data):
            data(tmp)
        elif isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
