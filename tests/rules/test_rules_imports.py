"""``lrkit.rules`` stays light: numpy and the stdlib at import (README, "Layout")."""

from __future__ import annotations

import json
import subprocess
import sys


def test_import_and_calculate_do_not_pull_heavy_libraries():
    code = (
        "import sys, json\n"
        "from lrkit.rules import CalcInput, calculate\n"
        "calculate(CalcInput(optimizer='adamw', epochs=3, steps_per_epoch=10))\n"
        "print(json.dumps(sorted(m for m in ('scipy', 'matplotlib', 'torch', 'typer', 'rich')"
        " if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out) == []
