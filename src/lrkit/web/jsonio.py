"""Fast, strict JSON answers: pydantic's serializer, NaN/Inf as null, numpy understood.

The calculator's answer holds a 2000-point schedule; serialising it with pydantic's
compiled encoder instead of walking it in Python (``jsonable_encoder``) is what lets the
server answer many clients at once (see ``benchmarks/web/RESULTS.md``).

>>> import numpy as np
>>> json_bytes({"a": float("nan"), "b": np.float64(0.5), "c": np.arange(2)})
b'{"a":null,"b":0.5,"c":[0,1]}'
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.responses import Response
from pydantic import TypeAdapter

__all__ = ["json_bytes", "json_response"]

_ANY: TypeAdapter[Any] = TypeAdapter(Any)


def _fallback(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot put {type(value).__name__} into JSON")


def json_bytes(document: Any) -> bytes:
    """``document`` as compact JSON; NaN and Inf become null (JSON has neither)."""
    return _ANY.dump_json(document, fallback=_fallback)


def json_response(document: Any, status_code: int = 200) -> Response:
    """A ``application/json`` response of ``document``."""
    return Response(json_bytes(document), status_code=status_code, media_type="application/json")
