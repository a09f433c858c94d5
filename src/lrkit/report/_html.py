"""The head and style that every lrkit HTML report shares (auto's and compare's).

>>> html_head("lrkit auto: t").startswith("<!doctype html>")
True
"""

from __future__ import annotations

__all__ = ["html_head"]

_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: {width}px; margin: 2em auto;
       padding: 0 1em; color: #222; }}
.big {{ font-size: 1.5em; }} table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .4em; text-align: left;
          vertical-align: top; }}
img {{ max-width: 100%; }} small {{ color: #666; }}
code {{ background: #f4f4f4; padding: .1em .3em; }}
pre {{ background: #f4f4f4; padding: .6em; overflow-x: auto; }}
</style></head><body>
<h1>{title}</h1>
"""


def html_head(title: str, width: int = 900) -> str:
    """The document head, the shared style and the page's ``<h1>``; ``title`` is HTML-escaped
    by the caller."""
    return _HEAD.format(title=title, width=width)
