"""``/api/calc``: the rule-based calculator, the same code path as ``lrkit calc --json``.

The body holds ``CalcInput``'s fields (the CLI flags, snake_case); the answer is
``Calculation.to_dict()``, the CLI's JSON document, number for number.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import Response

from lrkit.errors import ConfigError
from lrkit.web.calc_form import MAX_POINTS, request_model
from lrkit.web.jsonio import json_response

__all__ = ["calculate_doc", "make_router"]


def calculate_doc(values: dict[str, Any]) -> dict[str, Any]:
    """Run the calculator on ``values`` (CalcInput fields) and return its JSON document.

    Two limits apply on the web only: ``loss_history`` must be the data itself (a list),
    never a path on the server, and ``max_points`` is at most 2000.

    >>> doc = calculate_doc({"optimizer": "adam", "batch_size": 64, "total_steps": 100})
    >>> doc["initial_lr"], doc["decay_type"], len(doc["schedule"]["step"]) <= 101
    (0.001, 'cosine', True)
    """
    from lrkit.rules import CalcInput, calculate

    history = values.get("loss_history")
    if isinstance(history, str) and history.strip():
        raise ConfigError(f"loss_history = {history[:40]!r}: the web app does not read files "
                          "on the server; send the losses themselves, e.g. [[1, 2.3], [2, 1.9]]")
    points = values.get("max_points")
    if isinstance(points, int | float) and not isinstance(points, bool) and points > MAX_POINTS:
        raise ConfigError(parameter="max_points", value=points,
                          rule=f"the web app plots at most {MAX_POINTS} points",
                          fix=f"pass max_points <= {MAX_POINTS}")
    return calculate(CalcInput.from_dict(values)).to_dict("web")


def make_router() -> APIRouter:
    """The ``/api/calc`` router; its body model is derived from CalcInput when it is built."""
    router = APIRouter(tags=["calculator"])
    model = request_model()

    def calc(req: Any) -> Response:
        """The calculator's recommendation for these inputs (see ``lrkit calc --help``).

        Returns the ``lrkit calc --json`` document: ``initial_lr``, ``final_lr``,
        ``decay_type``, ``optimizer``, ``warmup_steps``, ``estimated_convergence_epoch``,
        ``rules`` (each with its source), ``warnings``, and ``schedule`` (``step``, ``lr``:
        at most ``max_points`` points, 2000 by default and at most here).
        """
        # only what the caller gave: CalcInput's own defaults fill the rest, as in the CLI
        return json_response(calculate_doc(req.model_dump(exclude_unset=True)))

    # the body model exists only now, so it is set here rather than written in the signature
    calc.__annotations__["req"] = Annotated[model, Body()]
    router.post("/api/calc", summary="Recommend a learning rate and schedule")(calc)
    return router
