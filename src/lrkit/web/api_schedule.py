"""``/api/schedule``: evaluate and compare schedules; import and export library configs.

The routes only parse, call ``lrkit.schedules`` / ``lrkit.interop`` and format. Curves go
through ``sampling.sample_curve``, so a 10^9-step run costs the same as a short one.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from lrkit._check import finite_values
from lrkit.errors import ConfigError, LrkitError
from lrkit.schedules import Schedule, from_spec, horizon, parse_spec
from lrkit.web.jsonio import json_response
from lrkit.web.sampling import MAX_POINTS, MAX_STEPS, sample_curve
from lrkit.web.spectext import compact

__all__ = ["ExportRequest", "ImportRequest", "ScheduleRequest", "load_schedule", "router"]

router = APIRouter(prefix="/api/schedule", tags=["schedules"])

Framework = Literal["torch", "keras", "optax", "hf"]
Spec = Annotated[str | dict[str, Any], Field(
    description="A schedule: compact text 'cosine(peak_lr=0.1,total_steps=1000)' or a JSON spec.",
    examples=["cosine(peak_lr=0.1, total_steps=1000, warmup_steps=100)"])]
MAX_CURVES = 8
MAX_DEPTH = 64  # of nested lists/objects in one spec; real ones stay under 10


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ScheduleRequest(_Strict):
    """Schedules to plot on one shared step axis."""

    schedules: list[Spec] = Field(min_length=1, max_length=MAX_CURVES)
    labels: list[str] | None = Field(None, description="One label per schedule.")
    # strict: a JSON true is not the number 1
    steps: int | None = Field(
        None, ge=1, le=MAX_STEPS, strict=True,
        description="Number of updates to show; default: the longest schedule's total_steps.")
    max_points: int = Field(MAX_POINTS, ge=2, le=MAX_POINTS, strict=True,
                            description="Most points per curve (long runs are downsampled).")


class ImportRequest(_Strict):
    """A peer library's schedule configuration, to convert into an lrkit schedule."""

    framework: Framework
    name: str = Field(min_length=1, max_length=100, examples=["OneCycleLR"])
    params: dict[str, Any] = Field(default_factory=dict, examples=[{"max_lr": 0.1,
                                                                    "total_steps": 1000}])
    args: str | None = Field(None, max_length=2000, examples=["max_lr=0.1, total_steps=1000"],
                             description="The same arguments as text 'key=value, ...'; "
                                         "merged over params.")


class ExportRequest(_Strict):
    """A schedule and the library to write a ready-to-paste snippet for."""

    schedule: Spec
    framework: Framework


def load_schedule(spec: str | dict[str, Any], where: str = "schedule") -> Schedule:
    """Build a schedule from compact text or a JSON spec (``where`` names it in errors)."""
    if isinstance(spec, str):
        if len(spec) > 10_000:
            raise ConfigError(f"{where}: {len(spec)} characters is too long; "
                              "a spec is at most 10,000 characters")
        spec = parse_spec(spec)
    depth = _depth(spec)
    if depth > MAX_DEPTH:
        raise ConfigError(f"{where}: schedules nested {depth} deep; at most {MAX_DEPTH} "
                          "levels are allowed, flatten it with join(...)")
    return from_spec(spec)


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (iteratively: no recursion limit).

    >>> _depth({"a": [{"b": 1}]}), _depth(3)
    (3, 0)
    """
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        children = (node.values() if isinstance(node, dict)
                    else node if isinstance(node, list) else None)
        if children is not None:
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in children)
    return deepest


def _spec_text(schedule: Schedule) -> tuple[dict[str, Any] | None, str | None]:
    try:
        spec = schedule.to_spec()
    except ConfigError:  # e.g. a Python callable inside: plottable, not serialisable
        return None, None
    return spec, compact(spec)


@router.post("", summary="Evaluate and compare schedules")
def evaluate(req: ScheduleRequest) -> Response:
    """Evaluate each schedule on ``0 .. steps - 1`` (at most ``max_points`` points each).

    Returns ``{"steps", "curves": [{label, spec, text, step, lr, downsampled, horizon, max_lr,
    min_lr, final_lr}]}``; ``final_lr`` is the rate of the last update, ``steps - 1``, and
    ``horizon`` the schedule's own length (None when it has none).
    """
    if req.labels is not None and len(req.labels) != len(req.schedules):
        raise ConfigError(f"labels: {len(req.labels)} given for {len(req.schedules)} "
                          "schedules; give one label per schedule or none")
    schedules = []
    for i, given in enumerate(req.schedules):
        try:
            schedules.append(load_schedule(given, f"schedules[{i}]"))
        except LrkitError as err:
            err.field = f"schedules.{i}"  # type: ignore[attr-defined]  # the page marks that row
            raise
    steps = req.steps
    if steps is None:
        ends = [h for h in map(horizon, schedules) if h is not None]
        if not ends:
            raise ConfigError("steps: missing, and no schedule has a total_steps to default "
                              "to; pass e.g. steps=1000")
        steps = max(ends)
        if steps > MAX_STEPS:
            raise ConfigError(f"steps = {steps}: above the limit of {MAX_STEPS:,}; "
                              "pass a smaller steps")
    labels = req.labels or [f"schedule {i + 1}" for i in range(len(schedules))]
    curves = []
    for label, schedule in zip(labels, schedules, strict=True):
        curve = sample_curve(schedule, steps, req.max_points)
        finite_values(label[:40], curve.lr)
        spec, text = _spec_text(schedule)
        # horizon: the schedule's own length, for the page's normalised (fraction of run) axis
        curves.append({"label": label, "spec": spec, "text": text, **curve.to_dict(),
                       "horizon": horizon(schedule),
                       "max_lr": max(curve.lr), "min_lr": min(curve.lr),
                       "final_lr": float(schedule(steps - 1))})
    return json_response({"steps": steps, "curves": curves})


@router.post("/import", summary="Convert a torch / keras / optax / HF schedule config")
def import_config(req: ImportRequest) -> dict[str, Any]:
    """The lrkit schedule equal to ``framework``'s ``name`` with ``params``.

    Returns ``{"spec": <JSON spec>, "text": <compact text>}``.
    """
    from lrkit.interop import from_library

    params = dict(req.params)
    if req.args and req.args.strip():
        args = parse_spec(f"args({req.args})")
        args.pop("family")
        params |= args
    schedule = from_library(req.framework, req.name, params)
    spec, text = _spec_text(schedule)
    return {"spec": spec, "text": text}


@router.post("/export", summary="A ready-to-paste snippet for torch, keras, optax or HF")
def export(req: ExportRequest) -> dict[str, str]:
    """Returns ``{"framework", "snippet"}``: the code that builds this schedule there."""
    from lrkit.interop import snippet

    return {"framework": req.framework,
            "snippet": snippet(load_schedule(req.schedule), req.framework)}
