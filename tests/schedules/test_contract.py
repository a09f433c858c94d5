"""The contract every registered schedule family keeps, run over the example table."""

from __future__ import annotations

import dataclasses
import inspect
import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from lrkit.errors import ConfigError
from lrkit.schedules import Schedule, families, from_spec, horizon, parse
from lrkit.schedules.base import has_array_form

from ._examples import EXAMPLES, all_examples

SPECS = all_examples()
# steps before, at and well after every horizon in the table, plus non-integer steps
PROBE = np.array([0, 1, 2, 7, 49.5, 50, 99, 100, 101, 250, 299, 300, 301, 599, 600, 899,
                  900, 999, 1000, 1001, 1500, 3999, 4000, 4001, 12_345, 10**6], dtype=np.float64)


def test_every_registered_family_has_an_example():
    missing = sorted(set(families()) - set(EXAMPLES))
    assert not missing, (f"{missing}: declare examples = ('spec', ...) on the class; the "
                         "contract and property tests run over them")


def test_every_family_module_is_imported_by_the_package():
    # registration happens when lrkit.schedules imports a module: a family in a module it
    # does not import would be missing from parse, the adapters and every test table. Read
    # the sources rather than importing, so a stray module cannot register mid-session.
    import lrkit.schedules as package

    folder = Path(package.__file__).parent
    init = (folder / "__init__.py").read_text(encoding="utf-8")
    unimported = sorted(path.name for path in folder.glob("*.py")
                        if "@register(" in path.read_text(encoding="utf-8")
                        and f"from lrkit.schedules.{path.stem} import" not in init)
    assert not unimported, f"{unimported}: import its classes in lrkit/schedules/__init__.py"
    unexported = sorted(cls.__name__ for cls in families().values()
                        if getattr(package, cls.__name__, None) is not cls
                        or cls.__name__ not in package.__all__)
    assert not unexported, (f"{unexported}: import the class in lrkit/schedules/__init__.py "
                            "and add it to __all__")


def test_every_registered_family_has_adapter_samples_with_unique_names():
    # interop_examples name the adapter tests' cases, so a name used twice would hide one
    names = [name for cls in families().values() for name in cls.interop_examples]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    missing = sorted(f for f, cls in families().items() if not cls.interop_examples)
    assert not missing, (f"{missing}: declare interop_examples = {{'name': 'spec'}} on the "
                         "class; the adapter tests in tests/interop run over them")


@pytest.mark.parametrize("family", sorted(EXAMPLES))
def test_first_example_builds_the_family_itself(family):
    schedule = parse(EXAMPLES[family][0])
    assert type(schedule) is families()[family]
    assert schedule.family == family


@pytest.mark.parametrize("family", sorted(families()))
def test_family_is_a_frozen_dataclass_with_a_documented_formula(family):
    cls = families()[family]
    assert issubclass(cls, Schedule)
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
    doc = inspect.getdoc(cls) or ""
    assert ">>>" in doc, f"{family}: the docstring needs a runnable example"
    assert "f(t)" in doc or "=" in doc, f"{family}: the docstring needs the formula"


@pytest.mark.parametrize("family", sorted(families()))
def test_family_writes_its_formula_once_and_declares_its_height(family):
    # what a new family needs besides its examples: one formula (expr, which numpy, jax and
    # Keras all run; no numpy-only _lr beside it) and its lr_parameter, declared in the class
    cls = families()[family]
    assert has_array_form(cls), f"{family}: write the formula as expr(ops, t)"
    assert "_lr" not in vars(cls), f"{family}: _lr is derived from expr; remove the copy"
    assert "lr_parameter" in vars(cls), (
        f"{family}: declare lr_parameter (the field lrkit sets to a chosen LR, or None)")
    names = {f.name for f in dataclasses.fields(cls)}
    assert cls.lr_parameter is None or cls.lr_parameter in names


@pytest.mark.parametrize("family", sorted(families()))
def test_the_spec_quoted_in_the_docstring_builds_this_family(family):
    doc = " ".join((inspect.getdoc(families()[family]) or "").split())
    quoted = re.search(r"Spec: ``(.+?)``", doc)
    assert quoted, f"{family}: the docstring should quote its spec string ('Spec: ``...``')"
    assert type(parse(quoted.group(1))) is families()[family]


@pytest.mark.parametrize("spec", SPECS)
def test_json_round_trip_gives_an_equal_schedule(spec):
    schedule = parse(spec)
    document = json.dumps(schedule.to_spec(), allow_nan=False)  # strict JSON: no NaN/inf
    again = from_spec(json.loads(document))
    assert again == schedule
    assert type(again) is type(schedule)
    # and the JSON text itself is accepted wherever a spec string is
    assert parse(document) == schedule
    np.testing.assert_array_equal(again(PROBE), schedule(PROBE))


@pytest.mark.parametrize("spec", SPECS)
def test_scalar_and_array_evaluation_agree(spec):
    schedule = parse(spec)
    array = schedule(PROBE)
    assert isinstance(array, np.ndarray) and array.dtype == np.float64
    assert array.shape == PROBE.shape
    for t, value in zip(PROBE, array, strict=True):
        scalar = schedule(float(t))
        assert isinstance(scalar, float)
        assert scalar == value, f"{spec} at t={t}: scalar {scalar} != array {value}"
    assert schedule(int(PROBE[3])) == array[3]
    assert schedule(np.int64(PROBE[3])) == array[3]
    # any shape is kept, and a list works like an array
    np.testing.assert_array_equal(schedule(PROBE[:24].reshape(4, 6)), array[:24].reshape(4, 6))
    np.testing.assert_array_equal(schedule(PROBE.tolist()), array)
    assert schedule(np.array([])).shape == (0,)


@pytest.mark.parametrize("spec", SPECS)
def test_a_million_steps_evaluate_at_once(spec):
    schedule = parse(spec)
    values = schedule.values(10**6)
    assert values.shape == (10**6,) and values.dtype == np.float64
    assert np.isfinite(values).all() and (values >= 0).all()
    rng = np.random.default_rng(0)
    for t in rng.integers(0, 10**6, size=5):
        assert values[t] == schedule(int(t))


@pytest.mark.parametrize("spec", SPECS)
def test_values_are_the_schedule_on_0_to_n(spec):
    schedule = parse(spec)
    np.testing.assert_array_equal(schedule.values(37), schedule(np.arange(37)))


@pytest.mark.parametrize("spec", SPECS)
def test_schedules_are_immutable_hashable_and_picklable(spec):
    schedule = parse(spec)
    field = dataclasses.fields(schedule)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(schedule, field, 1.0)
    assert hash(schedule) == hash(parse(spec))
    assert pickle.loads(pickle.dumps(schedule)) == schedule
    assert repr(schedule).startswith(type(schedule).__name__ + "(")


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("bad", [-1, -0.5, float("nan"), float("inf"), [0, -3]])
def test_bad_steps_are_refused(spec, bad):
    with pytest.raises(ConfigError, match=r"^step = .*pass step >= 0$"):
        parse(spec)(bad)


@pytest.mark.parametrize("spec", SPECS)
def test_horizon_is_where_the_schedule_settles(spec):
    schedule = parse(spec)
    end = horizon(schedule)
    if end is None:
        return
    # from its horizon on, a schedule with total_steps holds its last value, unless it is
    # documented to go on (periodic cosine, Keras-style polynomial cycles, onecycle's hold)
    values = schedule(np.arange(end, end + 50, dtype=np.float64))
    if "periodic" in spec or "cycle=true" in spec:
        return
    assert np.all(values == values[0]), f"{spec} moves after its horizon {end}"


def test_step_arguments_that_are_not_numbers_are_refused():
    with pytest.raises(ConfigError, match=r"^step = 'abc': must be a number"):
        parse("constant(base_lr=1)")("abc")


def test_a_python_callable_has_no_json_spec_and_says_so():
    from lrkit.errors import SpecError
    from lrkit.schedules import Cyclic

    s = Cyclic(0.0, 1.0, step_size_up=2, scale_fn=lambda c: 1 / c)
    assert s.values(6).tolist() == [0.0, 0.5, 1.0, 0.5, 0.0, 0.25]  # cycle 2 at half height
    with pytest.raises(SpecError, match=r"^cyclic\.scale_fn = <function .*>: a Python callable "
                                        r"has no JSON spec; use a built-in option"):
        s.to_spec()
