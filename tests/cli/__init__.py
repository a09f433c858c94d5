"""Tests of the ``lrkit`` command line, one module per verb."""
