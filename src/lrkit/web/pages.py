"""The HTML pages: calculator, schedule explorer, log diagnosis and the API reference.

Pages are Jinja2 templates with no inline script (the Content-Security-Policy forbids it);
data the scripts need travels in ``<script type="application/json">`` blocks.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from lrkit.web.assets import plotly_js_url

__all__ = ["EXAMPLES", "IMPORT_EXAMPLES", "endpoints", "prose", "router", "templates"]

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

EXAMPLES: dict[str, str] = {
    "cosine with warmup": "cosine(peak_lr=0.1, total_steps=10000, warmup_steps=500)",
    "step decay": "step(base_lr=0.1, step_size=3000, gamma=0.1)",
    "one-cycle": "onecycle(peak_lr=0.1, total_steps=10000)",
    "warmup-stable-decay": "wsd(peak_lr=0.1, total_steps=10000, warmup_steps=500, "
                           "decay_steps=2000)",
    "inverse square root": "inverse_sqrt(peak_lr=0.001, warmup_steps=1000)",
    "cyclic (triangular2)": "cyclic(base_lr=0.001, max_lr=0.1, step_size_up=1000, "
                            "mode=triangular2)",
    "exponential": "exponential(init_lr=0.1, decay_rate=0.9996)",
    "constant": "constant(base_lr=0.01)",
}
"""Starting points offered by the schedule explorer (each one parses; the tests check)."""

IMPORT_EXAMPLES: dict[str, tuple[str, str]] = {
    "torch": ("OneCycleLR", "max_lr=0.1, total_steps=10000"),
    "keras": ("CosineDecay", "initial_learning_rate=0.1, decay_steps=10000"),
    "optax": ("warmup_cosine_decay_schedule",
              "init_value=0.0, peak_value=0.1, warmup_steps=500, decay_steps=10000"),
    "hf": ("cosine", "lr=0.1, num_warmup_steps=500, num_training_steps=10000"),
}
"""Per library, a configuration the import form starts from (each one converts)."""


def _page(request: Request, name: str, page: str, title: str, **context: Any) -> HTMLResponse:
    from lrkit import __version__

    return templates.TemplateResponse(request, name, {
        "page": page, "title": title, "version": __version__,
        "plotly_js": plotly_js_url(), **context})


@router.get("/", response_class=HTMLResponse)
def calculator_page(request: Request) -> HTMLResponse:
    """The calculator: a form, the recommendation and its schedule chart."""
    from lrkit.web.calc_form import form_groups

    groups = form_groups()
    return _page(request, "calculator.html", "calculator", "Learning-rate calculator",
                 groups=groups, fields=[f for g in groups for f in g["fields"]])


@router.get("/schedules", response_class=HTMLResponse)
def schedules_page(request: Request) -> HTMLResponse:
    """The schedule explorer: build, compare, import and export schedules."""
    return _page(request, "schedules.html", "schedules", "Schedule explorer",
                 examples=EXAMPLES, import_examples=IMPORT_EXAMPLES)


@router.get("/diagnose", response_class=HTMLResponse)
def diagnose_page(request: Request) -> HTMLResponse:
    """Upload a training log and see the findings over its curves."""
    limit = request.app.state.max_upload_bytes
    return _page(request, "diagnose.html", "diagnose", "Diagnose a training run",
                 max_upload_bytes=limit, max_upload_mb=f"{limit / 2**20:g}")


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """A readable API reference built from the OpenAPI schema (no CDN assets needed)."""
    return _page(request, "api.html", "docs", "API reference",
                 endpoints=endpoints(request.app.openapi()))


def prose(text: str) -> list[Markup]:
    r"""A docstring as HTML paragraphs: lines joined, double-backtick code marked up, escaped.

    >>> prose("Run ``calc``\nnow.\n\nThen <stop>.")
    [Markup('Run <code>calc</code> now.'), Markup('Then &lt;stop&gt;.')]
    """
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]
    return [Markup(re.sub(r"``(.+?)``", r"<code>\1</code>", str(escape(p)))) for p in paragraphs]


def endpoints(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The operations of an OpenAPI ``schema``, flattened for the reference page.

    >>> endpoints({"paths": {"/x": {"post": {"summary": "X", "requestBody": {"content": {
    ...     "application/json": {"schema": {"properties": {"a": {"type": "integer"}},
    ...                                     "required": ["a"]}}}}}}}})[0]["fields"]
    [{'name': 'a', 'type': 'integer', 'required': True, 'default': None, 'description': ''}]
    """
    components = schema.get("components", {}).get("schemas", {})

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        ref = node.get("$ref", "")
        return components.get(ref.rsplit("/", 1)[-1], {}) if ref else node

    def type_of(node: dict[str, Any]) -> str:
        node = resolve(node) if "$ref" not in node else {"type": node["$ref"].rsplit("/", 1)[-1]}
        if "enum" in node:
            return " | ".join(repr(v) for v in node["enum"])
        if "anyOf" in node:
            return " | ".join(type_of(n) for n in node["anyOf"])
        if node.get("type") == "array":
            return f"list of {type_of(node.get('items', {}))}"
        return str(node.get("type", node.get("title", "any")))

    out = []
    for path, ops in schema.get("paths", {}).items():
        for method, op in ops.items():
            body = op.get("requestBody", {}).get("content", {})
            media = next(iter(body), None)
            model = resolve(body[media]["schema"]) if media else {}
            required = set(model.get("required", []))
            fields = [{"name": name, "type": type_of(prop), "required": name in required,
                       "default": prop.get("default"), "description": prop.get("description", "")}
                      for name, prop in model.get("properties", {}).items()]
            out.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                        "description": prose(op.get("description", "")), "media": media,
                        "fields": fields})
    return out
