"""The ``lrkit`` command line: one module per verb, each exposing ``register(app)``.

Verb modules only parse arguments, call the Python API and format its result.
"""
