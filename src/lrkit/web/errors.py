"""Turn every user error into ``{"detail": "<one line>"}``: the CLI's message, as JSON.

``LrkitError`` (raised by the calculator, the schedules, the readers...) answers 422 with
its own text, which is exactly what the CLI prints after ``lrkit: error:``. Request bodies
that pydantic rejects (a word where a number belongs, an unknown field) answer 422 with a
message in the same ``<param> = <value>: <rule>; <fix>`` form.

>>> one_line([{"loc": ("body", "batch_size"), "msg": "Input should be a valid integer",
...            "type": "int_parsing", "input": "abc"}])
"batch_size = 'abc': must be a whole number; pass e.g. 128"
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from lrkit.errors import DataError, LrkitError, clip_message

__all__ = ["UploadTooLarge", "install", "one_line"]


class UploadTooLarge(DataError):
    """An uploaded file is over the size limit (answered with 413, not 422)."""

    status_code = 413


# pydantic error type -> (rule, fix) in lrkit's wording
_RULES: dict[str, tuple[str, str]] = {
    "int_parsing": ("must be a whole number", "pass e.g. 128"),
    "int_type": ("must be a whole number", "pass e.g. 128"),
    "int_from_float": ("must be a whole number", "drop the fraction, e.g. 128"),
    "float_parsing": ("must be a number", "pass e.g. 0.001"),
    "float_type": ("must be a number", "pass e.g. 0.001"),
    "finite_number": ("must be finite", "pass a finite number"),
    "bool_parsing": ("must be true or false", "pass true or false"),
    "bool_type": ("must be true or false", "pass true or false"),
    "string_type": ("must be text", "pass a string"),
    "list_type": ("must be a list", "pass a JSON array"),
    "dict_type": ("must be a JSON object", "pass {\"key\": value, ...}"),
    "model_attributes_type": ("must be a JSON object", "pass {\"key\": value, ...}"),
    "model_type": ("must be a JSON object", "pass {\"key\": value, ...}"),
}


def one_line(errors: Sequence[Mapping[str, Any]], known: Sequence[str] = ()) -> str:
    """One lrkit-style line for the first of pydantic's validation ``errors``.

    Args:
        errors: ``RequestValidationError.errors()``.
        known: the valid field names, used to suggest a fix for an unknown one.
    """
    if not errors:
        return "request: invalid; check the request against /openapi.json"
    err = errors[0]
    where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "form"))
    where = where or "request body"
    kind = str(err.get("type", ""))
    value = err.get("input")
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    if kind == "missing" and where == "request body":
        return "request body: missing; send a JSON object, e.g. {}"
    if kind == "missing":
        return f"{where}: missing; add {where.rsplit('.', 1)[-1]}=..."
    if kind == "json_invalid":
        return f"request body: malformed JSON ({msg}); send a JSON object"
    if kind == "extra_forbidden":
        name = where.rsplit(".", 1)[-1]
        hint = difflib.get_close_matches(name, list(known), n=1)
        fix = f"did you mean {hint[0]!r}?" if hint else (
            f"valid names: {', '.join(known)}" if known else "remove it")
        return f"{where}: unknown parameter; {fix}"
    ctx = err.get("ctx") or {}
    bounds = {
        "greater_than_equal": ("must be >= {ge}", "pass a value >= {ge}"),
        "greater_than": ("must be > {gt}", "pass a value > {gt}"),
        "less_than_equal": ("must be <= {le}", "pass a value <= {le}"),
        "less_than": ("must be < {lt}", "pass a value < {lt}"),
        "too_short": ("needs at least {min_length} item(s)", "add one"),
        "too_long": ("allows at most {max_length} items", "remove some"),
        "string_too_short": ("needs at least {min_length} character(s)", "fill it in"),
        "string_too_long": ("allows at most {max_length} characters", "shorten it"),
        "literal_error": ("unknown value", "pick one of {expected}"),
        "enum": ("unknown value", "pick one of {expected}"),
    }
    if kind in bounds:
        try:
            rule, fix = (part.format(**ctx) for part in bounds[kind])
        except (KeyError, IndexError):
            rule, fix = _lower_first(msg), "see /docs for the allowed values"
    else:
        rule, fix = _RULES.get(kind, (_lower_first(msg), "see /docs for the allowed values"))
    return f"{where} = {_short(value)}: {rule}; {fix}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _known_fields(request: Request) -> list[str]:
    route = request.scope.get("route")
    params = getattr(getattr(route, "dependant", None), "body_params", None) or []
    names: list[str] = []
    for param in params:
        fields = getattr(param.field_info.annotation, "model_fields", None)
        names.extend(fields if isinstance(fields, Mapping) else ())
    return names


async def _lrkit_error(request: Request, exc: Exception) -> JSONResponse:
    text = exc.render("web") if isinstance(exc, LrkitError) else str(exc)
    body = {"detail": clip_message(text)}
    if isinstance(getattr(exc, "field", None), str):
        body["field"] = exc.field  # type: ignore[attr-defined]  # which input to mark
    return JSONResponse(body, status_code=getattr(exc, "status_code", 422))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": one_line(errors, _known_fields(request))}, status_code=422)


def install(app: FastAPI) -> None:
    """Register the two handlers on ``app``."""
    app.add_exception_handler(LrkitError, _lrkit_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
