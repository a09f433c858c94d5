"""``python -m lrkit``: the same command line as the installed ``lrkit`` script.

Useful where the script is not on ``PATH`` (a venv that is not activated, a notebook's
``!python -m lrkit ...``). The program name stays ``lrkit`` in usage lines and errors.

Example::

    python -m lrkit calc --model-size 1e8 --optimizer adamw
"""

from lrkit.cli.app import main

if __name__ == "__main__":
    main()
