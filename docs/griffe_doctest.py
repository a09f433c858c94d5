"""A griffe extension: render the doctest examples in lrkit's docstrings as code.

lrkit's docstrings carry runnable ``>>>`` examples (pytest runs them). Markdown would read
their output, e.g. ``[0.0, 0.5]``, as link syntax; this fences each example as ``pycon``
so the reference shows it as a console session, exactly as the tests run it.
"""

from __future__ import annotations

from typing import Any

import griffe


def fence_doctests(text: str) -> str:
    """Wrap each run of ``>>>`` lines and their output, up to a blank line, in a fence.

    >>> print(fence_doctests("Example:\\n\\n>>> 1 + 1\\n2\\n\\nAfter."))
    Example:
    <BLANKLINE>
    ```pycon
    >>> 1 + 1
    2
    ```
    <BLANKLINE>
    After.
    """
    out: list[str] = []
    inside = False
    indent = ""
    for line in text.splitlines():
        stripped = line.lstrip()
        if not inside and stripped.startswith(">>>"):
            indent = line[: len(line) - len(stripped)]
            out.append(f"{indent}```pycon")
            inside = True
        elif inside and not stripped:
            out.append(f"{indent}```")
            inside = False
        out.append(line)
    if inside:
        out.append(f"{indent}```")
    return "\n".join(out)


class FenceDoctests(griffe.Extension):
    """Fence the doctests of every object that griffe loads."""

    def on_object(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
