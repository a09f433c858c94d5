"""Serve plotly.js from the installed ``plotly`` package, so the pages work offline.

The URL carries plotly's version, so browsers may cache the 4.6 MB file for a year.

>>> plotly_js_path().name
'plotly.min.js'
"""

from __future__ import annotations

import functools
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response

from lrkit._deps import require
from lrkit.errors import MissingDependencyError

__all__ = ["plotly_js_path", "plotly_js_url", "router"]

router = APIRouter(include_in_schema=False)


@functools.cache
def plotly_js_path() -> Path:
    """The ``plotly.min.js`` bundled in the installed plotly package."""
    plotly = require("plotly", extra="web")
    path = Path(str(plotly.__file__)).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise MissingDependencyError(f"plotly.js: {path} is missing from the installed plotly; "
                                     "run: pip install --force-reinstall 'lrkit[web]'")
    return path


def plotly_js_url() -> str:
    """The versioned URL the pages load plotly.js from."""
    import plotly

    return f"/assets/plotly-{plotly.__version__}.min.js"


@router.get("/assets/plotly-{version}.min.js")
def plotly_js(version: str, request: Request) -> Response:
    """plotly.min.js with a one-year immutable cache (the version is in the URL)."""
    import plotly

    if version != plotly.__version__:
        raise HTTPException(404, f"plotly {version} is not installed; this page needs "
                                 f"/assets/plotly-{plotly.__version__}.min.js")
    path = plotly_js_path()
    etag = f'"plotly-{plotly.__version__}-{path.stat().st_size}"'
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return FileResponse(path, media_type="text/javascript", headers=headers)
