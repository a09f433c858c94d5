"""The one frozen object that holds every knob of ``lrkit.auto``.

``DEFAULT_DESIGN`` is what ships; ``auto(task, design=...)`` runs any other. A design
round-trips through a plain dict (``to_dict`` / ``from_dict``), so a benchmark can record
exactly what it scored. ``fit_to_budget`` shrinks a design to what a task's budget
affords (a shorter range test, no curvature, fewer candidates, one block) and says what it
dropped, so ``auto`` never refuses a valid task.

>>> d = Design.from_dict(DEFAULT_DESIGN.to_dict())
>>> d == DEFAULT_DESIGN
True
>>> Design.from_dict({"blocks": 3}).blocks
3
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from lrkit.errors import ConfigError

__all__ = ["DEFAULT_DESIGN", "MIN_RUN_STEPS", "Design", "Fitted", "fit_to_budget"]


@dataclasses.dataclass(frozen=True)
class Design:
    """Every knob of the pipeline (the shipped values are the defaults).

    Attributes:
        range_test: run the range test (off: the search centres on the textbook prior).
        range_fraction: the sweep's length as a share of the run's updates ...
        range_min_steps, range_max_steps: ... clipped to this many updates ...
        range_share: ... and to this share of the budget (short runs).
        range_floor_steps: the shortest sweep worth running; below it the test is dropped.
        range_test_trust: below this confidence the centre is pulled towards the prior.
        prior_octaves: the centre stays within this many octaves of the textbook LR.
        curvature: measure the sharpness ceiling for SGD-family optimizers (reported, and
            compared in the disagreement note; it bounds nothing).
        curvature_hvps, curvature_batches: its Hessian-vector products and batches.
        scout: before the ladder, locate the bowl with short runs (``scout_fraction`` of a
            run) on a coarse ladder (factor ``scout_ratio``) around the range test's
            centre, grown past an edge that holds the best; the ladder is then centred on
            the scout's minimum.
        scout_fraction, scout_ratio, scout_candidates: its run length (share of a run),
            spacing and initial size.
        scout_extend: how many LRs the scout may add past an edge (in growing steps) and
            in the gaps beside its best; the plan reserves one.
        ladder_low, ladder_high: the ladder, in octaves (factor ``ladder_ratio``) around the
            centre. As shipped it is sequential: {c, 2c}, then one run past whichever edge
            holds the best (``extend_max`` 1), the third run going where the first two
            point (v8; v6 ran {c/2, c, 2c}).
        ladder_ratio: the ratio between neighbouring candidates.
        min_candidates: fewest candidates a short task's ladder keeps.
        blocks: common-random-number blocks (every candidate in a block shares the seed,
            hence the initial weights, data order and dropout masks).
        max_blocks: the most blocks the adaptive budget may run.
        max_rung: the longest search run, as a share of a real run.
        min_rung_steps: the shortest search run worth training, in updates.
        fill_down: the ladder's runs may also shorten below the plan (to
            ``min_rung_steps``) when the stages before them spent more than planned (on by
            default: a selection then costs its budget).
        extend_max: how many LRs the ladder may add past an edge that holds the best (in
            growing steps) and in the gaps beside the best.
        extend_top: after that, while the best run is the ladder's top one, add up to this
            many LRs above it, one ladder step at a time, paid from what ``max_budget``
            leaves (not planned: the ladder's runs keep their length).
        extend_up: the ladder may also grow upwards (off: only past its low edge; without
            a scout it grows both ways, as it must find the bowl itself).
        horizon_probe: also train block 0's ladder at ``horizon_ratio`` of its length and
            measure how the best LR moves with the horizon on this task.
        horizon_ratio: the probe's length relative to the main runs.
        horizon_alpha: prior slope of the best LR against the horizon, octaves of LR per
            octave of run length (fitted across tasks), used where no probe ran.
        horizon_prior_sd: its spread across tasks (shrinks the measured slope towards it).
        horizon_min_fraction: the shortest run share the slope is extrapolated from.
        builtin_warmup: also move every estimate down by what the optimizer's own warm-up
            implies between a short run and a longer one (RAdam's rectification:
            ``lrkit.auto.prior.builtin_warmup_octaves``; 0 for other optimizers). Off: on
            a fresh holdout it moved two of four RAdam pairs' picks 2-7 octaves too low
            (the direction holds, the size does not; ``benchmarks/auto/RESULTS.md``).
        slope_min, slope_max: the slope (measured and shrunk) is clipped to this range.
        max_shift: the most octaves the horizon correction moves the estimate down.
        scout_real_length: move the scout's minimum to the length the ladder's runs really
            get (known once the scout's cost is), not to the planned length: the budget
            usually runs the ladder shorter than planned, and the horizon and warm-up
            shifts then overshoot (off: the planned length, as v8 measured).
        smooth: take the minimum of a quadratic fitted to the pooled losses (off: the best
            candidate).
        fit_window: octaves each side of the best candidate that the smooth pick fits.
        seed_sd: prior scatter (octaves) of one block's best LR, pooled with the measured
            spread between blocks.
        lean: how far to lean below the estimate, as a multiple of the expected-regret
            minimiser (0 = take the estimate, 1 = the risk-aware choice).
        ceiling_factor: the choice stays below this multiple of the lowest LR that was seen
            to be unstable (range-test divergence, a diverged or blown-up search run).
        horizon_margin: the range test's or a search run's instability caps the choice a
            further this many octaves lower per octave between that run's length and the
            full run's (a longer run destabilises at a lower LR).
        grid: the ladder's centre sits on the grid ``2**(k/grid)`` and the choice is
            rounded to ``2**(k/(2*grid))`` (0: no rounding); runs of the same LR are then
            shared between calls and seeds through a run cache.
        cap_tested: also cap the choice at the highest LR the search trained without
            instability (no extrapolation above what was seen to train).
        blowup: a search run whose loss ends above this multiple of the pooled best counts
            as unstable.
        unstable_progress: when above 0, a search run above the best of its stage counts
            as unstable when it made less than this share of the best run's progress from
            the untrained validation loss (scale-free), instead of the ``blowup`` rule.
        confirm_octaves: when a stability ceiling holds the choice more than this many
            octaves below the fit's pick, train the capped pick, the fit's pick and their
            midpoint again at a longer length (``confirm_rung`` of a run at most, paid
            from what ``max_budget`` leaves) and take their best, moved down for its
            horizon, never below the capped pick (0: off). A short run that ended at the
            untrained loss may be slow to start, not unstable: the longer runs tell.
        confirm_rung: the longest confirmation run, as a share of the full run.
        confirm_edge: also confirm when the ladder's best run is its top one: the pick, that
            run's LR and the next one up, at the longer length.
        adaptive_threshold: add a block while the expected regret from the estimate's
            spread exceeds this (relative loss).
        note_decades: stages that disagree with the choice by more than this are named.
        train_share: the share of the budget planned for training updates (the rest
            covers validation passes and a range test that runs past its planned end).
    """

    range_test: bool = True
    range_fraction: float = 0.1
    range_min_steps: int = 30
    range_max_steps: int = 100
    range_share: float = 0.15
    range_floor_steps: int = 20
    range_test_trust: float = 0.5
    prior_octaves: float = 6.0
    curvature: bool = False
    curvature_hvps: int = 12
    curvature_batches: int = 2
    scout: bool = True
    scout_fraction: float = 0.05
    scout_ratio: float = 4.0
    scout_candidates: int = 3
    scout_extend: int = 4
    ladder_low: int = 0
    ladder_high: int = 1
    ladder_ratio: float = 2.0
    min_candidates: int = 3
    blocks: int = 1
    max_blocks: int = 1
    max_rung: float = 0.25
    fill_down: bool = True
    min_rung_steps: int = 8
    extend_max: int = 1
    extend_top: int = 0
    extend_up: bool = True
    horizon_probe: bool = False
    horizon_ratio: float = 0.25
    horizon_alpha: float = 0.2
    horizon_prior_sd: float = 0.35
    horizon_min_fraction: float = 1 / 64
    builtin_warmup: bool = False
    scout_real_length: bool = False
    slope_min: float = -1.0
    slope_max: float = 2.0
    max_shift: float = 2.5
    smooth: bool = True
    fit_window: int = 2
    seed_sd: float = 0.4
    lean: float = 0.0
    ceiling_factor: float = 1.0
    horizon_margin: float = 1.0
    grid: int = 2
    cap_tested: bool = True
    blowup: float = 3.0
    unstable_progress: float = 0.0
    confirm_octaves: float = 1.0
    confirm_rung: float = 0.5
    confirm_edge: bool = False
    adaptive_threshold: float = 0.05
    note_decades: float = 1.0
    train_share: float = 0.78

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type in ("bool", bool):
                if not isinstance(value, bool):
                    raise ConfigError(f"design.{f.name} = {value!r}: must be true or false")
            elif f.type in ("int", int):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ConfigError(f"design.{f.name} = {value!r}: must be an integer; "
                                      f"the default is {f.default!r}")
            elif isinstance(value, bool) or not isinstance(value, int | float) or not \
                    math.isfinite(value):
                raise ConfigError(f"design.{f.name} = {value!r}: must be a finite number; "
                                  f"the default is {f.default!r}")
        if self.ladder_low > self.ladder_high:
            raise ConfigError(f"design.ladder_low = {self.ladder_low}: must be <= ladder_high "
                              f"= {self.ladder_high}; pass e.g. -3 and 2")
        if self.blocks < 1 or self.max_blocks < 1:
            raise ConfigError(f"design.blocks = {self.blocks}, max_blocks = "
                              f"{self.max_blocks}: both must be >= 1 (max_blocks below "
                              "blocks runs blocks); pass e.g. 2")
        if self.ladder_ratio <= 1:
            raise ConfigError(f"design.ladder_ratio = {self.ladder_ratio}: must be > 1; "
                              "pass e.g. 2")
        if not 0 < self.confirm_rung <= 1:
            raise ConfigError(f"design.confirm_rung = {self.confirm_rung}: must be in (0, 1]; "
                              "pass e.g. 0.5")
        if not 0 < self.max_rung <= 1:
            raise ConfigError(f"design.max_rung = {self.max_rung}: must be in (0, 1]; "
                              "pass e.g. 0.25")

    @property
    def n_candidates(self) -> int:
        """Candidates on the initial ladder."""
        return self.ladder_high - self.ladder_low + 1

    def to_dict(self) -> dict[str, Any]:
        """Every knob by name (JSON-ready)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Design:
        """The design with ``data``'s knobs (the rest at their defaults).

        Raises:
            ConfigError: an unknown knob or a bad value.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"design: unknown knob(s) {', '.join(unknown)}; the knobs are "
                              f"{', '.join(sorted(known))}")
        return cls(**data)


DEFAULT_DESIGN = Design()


def design_from_knobs(knobs: list[str], base: Design = DEFAULT_DESIGN) -> Design:
    """``base`` with knobs set from ``KNOB=VALUE`` strings (VALUE read as JSON: true,
    0.3, 2), as the CLI's ``--design`` passes them.

    Raises:
        ConfigError: an item without ``=``, a value that is not JSON, an unknown knob or a
            bad value.

    >>> design_from_knobs(["confirm_edge=true", "confirm_rung=0.3"]).confirm_rung
    0.3
    """
    values: dict[str, Any] = {}
    for item in knobs:
        name, sep, raw = item.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            values[name.strip()] = json.loads(raw)
        except ValueError:
            raise ConfigError(parameter="knobs", value=item, flag="--design",
                              rule="must be KNOB=VALUE with a JSON value",
                              fix="pass e.g. confirm_edge=true") from None
    return Design.from_dict({**base.to_dict(), **values})


@dataclasses.dataclass(frozen=True)
class Fitted:
    """A design fitted to one task's budget, with the plan it implies.

    Attributes:
        design: the design as it will run (knobs the budget could not afford switched off).
        range_steps: updates of the range test's sweep (0 when it does not run).
        rung_steps: updates of each search run.
        scout_steps: updates of each scout run (0 when the scout does not run).
        n_candidates: candidates on the initial ladder.
        dropped: one line per thing the budget dropped or shortened, for the output.
    """

    design: Design
    range_steps: int
    rung_steps: int
    n_candidates: int
    dropped: tuple[str, ...]
    scout_steps: int = 0


# the shortest run of any stage: fewer updates cannot lay out every schedule (a one-cycle
# has three phases), and a shorter horizon probe measures the first updates, not a horizon
MIN_RUN_STEPS = 4


def _curvature_cost(design: Design, total_steps: int) -> float:
    # a gradient and two per HVP, per batch (lrkit.curvature.hvp.GRAD_EQUIVALENTS_PER_HVP)
    return (1 + 2 * design.curvature_hvps) * design.curvature_batches / total_steps


def fit_to_budget(design: Design, total_steps: int, budget: float,
                  adaptive_optimizer: bool = False) -> Fitted:
    """Shrink ``design`` to what ``budget`` runs of a ``total_steps``-update task afford.

    In order, as the budget gets tighter: the range test shortens (never past
    ``range_floor_steps``), the curvature stage goes, the ladder narrows from the top and
    bottom to ``min_candidates``, the horizon probe goes, the blocks drop to one, the range
    test goes, and last the search runs shorten below ``min_rung_steps`` (to 4 updates).
    Nothing is refused: on a tiny task the plan may cost more than the budget, and says so.

    >>> f = fit_to_budget(DEFAULT_DESIGN, 300, 1.0)  # 2 candidates and 1 planned extension
    >>> f.range_steps, f.scout_steps, f.n_candidates, f.rung_steps, f.dropped
    (30, 15, 2, 48, ())
    >>> f = fit_to_budget(DEFAULT_DESIGN, 92, 1.0)  # no room for a range test or a scout
    >>> f.range_steps, f.scout_steps, f.n_candidates, f.rung_steps
    (0, 0, 2, 23)
    """
    T = int(total_steps)
    d = design
    dropped: list[str] = []
    range_steps = 0
    if d.range_test:
        want = int(min(d.range_max_steps, max(d.range_min_steps, round(d.range_fraction * T))))
        cap = int(d.range_share * budget * T)
        range_steps = min(want, cap)
        if range_steps < want:
            dropped.append(f"range test shortened to {range_steps} updates (from {want})")
    curv = d.curvature and not adaptive_optimizer
    n_cand = d.n_candidates
    low, high = d.ladder_low, d.ladder_high
    blocks, probe = d.blocks, d.horizon_probe
    scout_steps = max(d.min_rung_steps, round(d.scout_fraction * T)) if d.scout else 0

    def search_runs() -> float:
        # the planned extensions train at the ladder's length too
        return blocks * (n_cand + d.extend_max) + (n_cand * d.horizon_ratio if probe else 0.0)

    def rung() -> int:
        left = d.train_share * budget * T - range_steps \
            - (d.scout_candidates + 1) * scout_steps \
            - (_curvature_cost(d, T) * T if curv else 0.0)
        return int(min(round(d.max_rung * T), left / search_runs())) if left > 0 else 0

    steps = rung()
    if curv and steps < d.min_rung_steps:
        curv = False
        dropped.append("curvature skipped (its HVPs would shorten the search runs)")
        steps = rung()
    if scout_steps and (steps < d.min_rung_steps or steps < 2 * scout_steps):
        scout_steps = 0
        dropped.append("scout skipped (too few updates for both scout and ladder runs)")
        steps = rung()
    while steps < d.min_rung_steps and n_cand > d.min_candidates:
        # narrow the ladder from the side farther from the centre (the top first)
        if high >= -low:
            high -= 1
        else:
            low += 1
        n_cand -= 1
        steps = rung()
    if n_cand < d.n_candidates:
        dropped.append(f"ladder narrowed to {n_cand} candidates (from {d.n_candidates})")
    if probe and (steps < d.min_rung_steps or steps * d.horizon_ratio < MIN_RUN_STEPS):
        probe = False
        dropped.append("horizon probe skipped: the prior horizon slope is used")
        steps = rung()
    if blocks > 1 and steps < d.min_rung_steps:
        dropped.append(f"one block of candidates instead of {blocks}")
        blocks = 1
        steps = rung()
    if range_steps and steps < d.min_rung_steps and range_steps > d.range_floor_steps:
        range_steps = max(d.range_floor_steps, 0)
        steps = rung()
    if range_steps and range_steps < d.range_floor_steps:
        dropped.append(f"range test skipped (under {d.range_floor_steps} updates): the "
                       "search centres on the textbook prior")
        range_steps = 0
        steps = rung()
    if steps < d.min_rung_steps:
        short = max(MIN_RUN_STEPS, steps)
        dropped.append(f"search runs of {short} updates (under {d.min_rung_steps}): the "
                       "budget is too small for this task to search well")
        steps = short
    fitted = dataclasses.replace(d, curvature=curv, ladder_low=low, ladder_high=high,
                                 blocks=blocks, horizon_probe=probe,
                                 max_blocks=max(blocks, d.max_blocks),
                                 range_test=range_steps > 0, scout=scout_steps > 0)
    return Fitted(fitted, range_steps, min(steps, T), n_cand, tuple(dropped),
                  min(scout_steps, T))
