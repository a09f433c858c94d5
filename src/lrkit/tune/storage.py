"""Open the Optuna storage behind a URL: SQLite (embedded default), PostgreSQL, or memory.

Relational storages get a heartbeat: every running trial refreshes a timestamp, and a
trial whose worker died (SIGKILL, lost machine) goes stale after ``grace_period`` seconds,
is marked failed and re-queued once with the same parameters
(``RetryHeartbeatStaleTrialCallback``). The tables are Optuna's own, so
``optuna-dashboard sqlite:///lrkit.db`` shows a study as it is.

>>> redact("postgresql://lr:secret@db:5432/optuna")
'postgresql://lr:***@db:5432/optuna'
>>> open_storage("memory").__class__.__name__
'InMemoryStorage'
"""

from __future__ import annotations

import importlib.util
import random
import re
import time
import warnings
from pathlib import Path
from typing import Any

from lrkit._deps import require
from lrkit.errors import ConfigError

__all__ = ["DEFAULT_GRACE", "DEFAULT_HEARTBEAT", "DEFAULT_STORAGE", "driver_url", "open_storage",
           "redact"]

DEFAULT_STORAGE = "sqlite:///lrkit.db"
DEFAULT_HEARTBEAT = 10
DEFAULT_GRACE = 30
_MEMORY = {None, "", "memory", ":memory:"}
_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql")


def redact(url: str | None) -> str:
    """``url`` with any password replaced by ``***`` (for messages and JSON output)."""
    if not url:
        return "memory"
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def driver_url(url: str) -> str:
    """``url`` with an explicit PostgreSQL driver when the bare scheme would miss it.

    SQLAlchemy 2.1 maps a bare ``postgresql://`` to psycopg 3; lrkit's ``tune`` extra
    installs psycopg2, so a bare URL is pointed at it when psycopg 3 is absent.

    >>> driver_url("sqlite:///lrkit.db")
    'sqlite:///lrkit.db'
    """
    scheme, sep, rest = url.partition("://")
    if scheme not in ("postgresql", "postgres"):
        return url
    if importlib.util.find_spec("psycopg") is None and \
            importlib.util.find_spec("psycopg2") is not None:
        return f"postgresql+psycopg2{sep}{rest}"
    return f"postgresql{sep}{rest}"


def _check_url(url: str) -> None:
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if "://" not in url or scheme not in _SCHEMES:
        raise ConfigError(f"storage = {redact(url)!r}: not a database URL lrkit supports; use "
                          "sqlite:///lrkit.db (one machine) or postgresql://USER:PW@HOST/DB "
                          "(many workers), or 'memory'")
    if scheme == "sqlite":
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if not path or path == ":memory:":
            # each connection (the heartbeat thread has its own) would see its own empty
            # database: the study crashes or loses its trials
            raise ConfigError(f"storage = {url!r}: an in-memory SQLite database cannot be "
                              "shared by the search's threads; pass 'memory' for a throwaway "
                              "study or sqlite:///lrkit.db for a file")
        if not Path(path).parent.exists():
            raise ConfigError(f"storage = {url!r}: folder '{Path(path).parent}' does not "
                              "exist; create it or choose another path")


def open_storage(url: str | None = DEFAULT_STORAGE, *, heartbeat_interval: int = DEFAULT_HEARTBEAT,
                 grace_period: int = DEFAULT_GRACE, max_retry: int = 3) -> Any:
    """An Optuna storage for ``url``, with heartbeats and stale-trial retry on databases.

    Args:
        url: ``sqlite:///file.db``, ``postgresql://user:pw@host:port/db`` (any SQLAlchemy
            URL Optuna accepts), or ``"memory"``/None for a throwaway in-process study.
        heartbeat_interval: seconds between a running trial's heartbeats; 0 disables.
        grace_period: seconds without a heartbeat after which a trial counts as dead.
        max_retry: how many times one configuration is re-queued after its worker died.

    Returns:
        An ``optuna.storages.BaseStorage``.

    Raises:
        ConfigError: the URL is not supported, its folder is missing, or the database
            cannot be opened (unreachable, or not a database).
    """
    optuna = require("optuna", extra="tune")
    if url in _MEMORY:
        return optuna.storages.InMemoryStorage()
    assert url is not None  # _MEMORY holds None
    _check_url(url)
    if heartbeat_interval < 0:
        raise ConfigError(f"heartbeat_interval = {heartbeat_interval}: must be >= 0 (0 turns "
                          "heartbeats off); pass e.g. 10")
    if heartbeat_interval and grace_period <= heartbeat_interval:
        raise ConfigError(f"grace_period = {grace_period}: must exceed heartbeat_interval = "
                          f"{heartbeat_interval}; pass e.g. a grace of 3x the heartbeat")
    sqlalchemy = require("sqlalchemy", extra="tune")
    kwargs: dict[str, Any] = {}
    if heartbeat_interval:
        with warnings.catch_warnings():  # the retry callback is marked experimental
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry)
        kwargs = {"heartbeat_interval": int(heartbeat_interval),
                  "grace_period": int(grace_period), "heartbeat_stale_trial_callback": retry}
    url = driver_url(url)
    engine_kwargs = {} if url.startswith("sqlite") else {"pool_pre_ping": True}
    try:
        return _rdb_storage(optuna, sqlalchemy, url, engine_kwargs, kwargs)
    # DatabaseError covers OperationalError (server down, unopenable file) and a file
    # that is not a database at all
    except (sqlalchemy.exc.DatabaseError, sqlalchemy.exc.ArgumentError) as err:
        first = str(err.orig if getattr(err, "orig", None) else err).strip().splitlines()[0]
        raise ConfigError(f"storage = {redact(url)!r}: cannot open ({first}); check the URL "
                          "and that the database server is running") from None
    except ImportError:
        raise ConfigError(f"storage = {redact(url)!r}: its database driver is not installed; "
                          "run: pip install 'lrkit[tune]' (psycopg2-binary for PostgreSQL)"
                          ) from None


def _rdb_storage(optuna: Any, sqlalchemy: Any, url: str, engine_kwargs: dict[str, Any],
                 kwargs: dict[str, Any]) -> Any:
    # N workers started together on a fresh database all create Optuna's tables at once;
    # the losers of that race see a unique-constraint error and only need to retry.
    for attempt in range(5):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, **kwargs)
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            if attempt == 4:
                raise
            time.sleep(0.2 + random.random() * 0.5)
    raise AssertionError("unreachable")
