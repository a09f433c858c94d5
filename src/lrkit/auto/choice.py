"""From the search's runs to one LR: the smooth pick, its horizon shift, the stability
ceilings and the capped choice (stage 6 of ``lrkit.auto.pipeline``). Nothing here trains.

>>> runs = [Trial(lr, rung=0, steps=20, val_losses=(loss,), loss=loss, cost_runs=0.05)
...         for lr, loss in [(0.05, 0.9), (0.1, 0.5), (0.2, 0.6), (0.4, 3.0)]]
>>> est = estimate(runs, [], Design(), 400, 20, 0, 0.0)
>>> caps = stability_ceilings(math.inf, runs, Design(), 400)
>>> {k: round(v, 3) for k, v in caps.items()}  # 0.4 blew up at 1/20 of the run: / 20
{'unstable search run': 0.02, 'highest stable search run': 0.2}
>>> round(choose(est, caps, 0.1, Design())["lr"], 4)
0.0186
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from lrkit.auto.design import Design
from lrkit.auto.pick import expected_regret, risk_offset, smooth_minimum, steepness
from lrkit.auto.search import Trial, pooled

__all__ = ["choose", "estimate", "instability_margin", "on_grid", "stability_ceilings",
           "unstable_lrs"]


def on_grid(lr: float, per_octave: int, down: bool = False) -> float:
    """``lr`` rounded to the grid ``2**(k/per_octave)`` (``down``: the point at or below).

    >>> on_grid(0.3, 2), on_grid(0.3, 0), on_grid(1.2, 4, down=True)
    (0.3535533905932738, 0.3, 1.189207115002721)
    """
    if per_octave <= 0 or not (math.isfinite(lr) and lr > 0):
        return lr
    k = math.log2(lr) * per_octave
    k = math.floor(k + 1e-9) if down else round(k)
    return 2.0 ** (k / per_octave)


def _block_vertex(trials: list[Trial], d: Design, block: int, rung: int) -> float | None:
    """The smooth minimum (log2 LR) of one block's runs at one rung; None: all diverged."""
    pts = [(math.log2(t.lr), t.loss) for t in trials if t.block == block and t.rung == rung]
    if not any(math.isfinite(p[1]) for p in pts):
        return None
    m = smooth_minimum([p[0] for p in pts], [p[1] for p in pts], d.fit_window)
    return m.x if d.smooth else m.best_x


def estimate(trials: list[Trial], probe: list[Trial], d: Design, total_steps: int,
             steps: int, probe_steps: int, warmup: float) -> dict[str, Any] | None:
    """The smooth pick, its spread, the steepness and the horizon shift (the slope's, plus
    ``warmup`` octaves for the optimizer's own warm-up); None: all diverged."""
    curve = pooled(trials)
    if not any(math.isfinite(loss) for _, loss in curve):
        return None
    xs = [math.log2(lr) for lr, _ in curve]
    ys = [loss for _, loss in curve]
    m = smooth_minimum(xs, ys, d.fit_window)
    if not d.smooth:
        m = dataclasses.replace(m, x=m.best_x, fitted=False,
                                loss=min(y for y in ys if math.isfinite(y)))
    k_low, k_high = steepness(xs, ys, m, blowup=d.blowup)
    blocks = sorted({t.block for t in trials if t.rung == 0})
    vertices = [v for b in blocks if (v := _block_vertex(trials, d, b, 0)) is not None]
    n = len(vertices)
    # the spread of one block's pick: the measured spread between blocks pooled with a
    # prior scatter (one pseudo-observation), so two blocks that agree by chance do not
    # claim certainty; the estimate's spread is that over sqrt(blocks)
    ss = sum((v - sum(vertices) / n) ** 2 for v in vertices) if n > 1 else 0.0
    one_sd = math.sqrt((ss + d.seed_sd ** 2) / n) if n > 1 else d.seed_sd
    fit_sd = one_sd / math.sqrt(max(n, 1))
    # the horizon: octaves from the search runs' length to the full run's
    f = max(steps / total_steps, d.horizon_min_fraction)
    length_octaves = max(0.0, math.log2(1.0 / f))
    slope, slope_sd, measured_slope = d.horizon_alpha, d.horizon_prior_sd, None
    if probe:
        v_probe = _block_vertex(probe, d, 0, 1)
        v_main = _block_vertex(trials, d, 0, 0)
        ratio_octaves = math.log2(steps / probe_steps) if probe_steps < steps else 0.0
        if v_probe is not None and v_main is not None and ratio_octaves > 0:
            measured_slope = (v_probe - v_main) / ratio_octaves
            # one block's pick scatters by seed_sd; the pair shares a seed, so its
            # difference scatters less: seed_sd per pair is the conservative guess
            m_sd = d.seed_sd / ratio_octaves
            w_m, w_p = 1 / m_sd ** 2, 1 / d.horizon_prior_sd ** 2
            slope = (w_m * measured_slope + w_p * d.horizon_alpha) / (w_m + w_p)
            slope_sd = 1 / math.sqrt(w_m + w_p)
    slope = min(max(slope, d.slope_min), d.slope_max)
    # the optimizer's warm-up is computed, not a prior: it is not capped with the slope's
    shift = min(slope * length_octaves, d.max_shift) + warmup
    horizon_sd = slope_sd * length_octaves
    # the high side is at least as steep as the low side is assumed to be flat: a
    # compressed run's low side looks flatter than a full run's (it has less time to
    # suffer from a small LR), so cap the lean at a ratio of 5
    k_high_eff = max(k_high, 1e-4)
    k_low_eff = max(k_low, k_high_eff / 5.0)
    fit_regret = expected_regret(0.0, fit_sd, k_low=k_low_eff, k_high=k_high_eff)
    return {"x": m.x, "loss": m.loss, "fitted": m.fitted, "edge": m.edge,
            "best_x": m.best_x, "k_low": k_low, "k_high": k_high, "k_low_eff": k_low_eff,
            "k_high_eff": k_high_eff, "vertices": vertices, "fit_sd": fit_sd,
            "fraction": steps / total_steps, "slope": slope, "slope_sd": slope_sd,
            "measured_slope": measured_slope, "shift": shift, "warmup_shift": warmup,
            "horizon_sd": horizon_sd,
            "fit_regret": fit_regret}


def instability_margin(d: Design, total_steps: int, steps: int) -> float:
    """The factor an instability seen in a ``steps``-update run is moved down by for the
    full run: ``horizon_margin`` octaves per octave of extrapolation (sharpness grows as a
    run trains, and it spends more updates at the peak LR: a full run destabilises at a
    lower LR than a short one).

    >>> instability_margin(Design(horizon_margin=1.0), 400, 100)
    4.0
    >>> instability_margin(Design(), 400, 800)  # a run longer than the task's: none
    1.0
    """
    return 2.0 ** (d.horizon_margin * max(0.0, math.log2(total_steps / max(steps, 1))))


def unstable_lrs(trials: list[Trial], d: Design, untrained: float = math.inf) -> list[float]:
    """The LRs of runs that diverged, or that sit above the best run of their stage (block
    and rung) and ended above ``blowup`` times that best or above the untrained model's
    validation loss (worse than not training: the zoo's own definition of a divergence)."""
    best: dict[tuple[int, int], float] = {}
    for t in trials:
        if math.isfinite(t.loss):
            key = (t.block, t.rung)
            best[key] = min(best.get(key, math.inf), t.loss)

    def worse(t: Trial) -> bool:
        ref = best.get((t.block, t.rung), 0.0)
        if d.unstable_progress > 0 and t.metric == "val" and math.isfinite(untrained) \
                and untrained > ref:
            # scale-free: the share of the best run's progress from the untrained loss
            return untrained - t.loss < d.unstable_progress * (untrained - ref)
        return (ref > 0 and t.loss > d.blowup * ref) or (
            t.metric == "val" and t.loss > untrained > ref)

    return [t.lr for t in trials if not math.isfinite(t.loss) or (
        worse(t) and t.lr > min(x.lr for x in trials if x.block == t.block
                                and x.rung == t.rung and x.loss == best[(t.block, t.rung)]))]


def stability_ceilings(rt_ceiling: float, trials: list[Trial], d: Design,
                       total_steps: int, untrained: float = math.inf,
                       rt_steps: int = 0) -> dict[str, float]:
    """The lowest LR seen unstable: the range test's divergence and the lowest of
    ``unstable_lrs``, each moved down by ``instability_margin`` for the length of the sweep
    or run that showed it; and the highest LR a search run trained stably."""
    out: dict[str, float] = {}
    if math.isfinite(rt_ceiling):
        # the sweep's divergence is the shortest-horizon instability of all: the same
        # margin as a search run's, counted from the sweep's length
        out["range test divergence"] = rt_ceiling / instability_margin(
            d, total_steps, rt_steps or total_steps)
    unstable = unstable_lrs(trials, d, untrained)
    if unstable:
        lowest = min(unstable)
        length = min(t.steps for t in trials if t.lr == lowest and (
            not math.isfinite(t.loss) or t.lr in unstable))
        out["unstable search run"] = lowest / instability_margin(d, total_steps, length)
    stable = [t.lr for t in trials if math.isfinite(t.loss) and t.lr not in unstable]
    if d.cap_tested and stable:
        # a ceiling is a factor above the cap: leave room for ceiling_factor
        out["highest stable search run"] = max(stable) / d.ceiling_factor
    return out


def choose(est: dict[str, Any] | None, ceilings: dict[str, float], centre: float,
           d: Design) -> dict[str, Any]:
    """The LR: ``est``'s minimum moved down by its horizon shift (and the lean, when the
    design has one), rounded to ``2**(1/(2 grid))`` and held under the lowest ceiling times
    ``ceiling_factor``; with no estimate (every run diverged), below the lowest ceiling."""
    if est is None:
        lr = centre
        cap = min(ceilings.values(), default=math.inf) * d.ceiling_factor
        lr = min(lr, cap / d.ladder_ratio) if math.isfinite(cap) else lr / 4
        return {"lr": lr, "fallback": True, "summary": f"every candidate diverged: LR "
                f"{lr:.3g}, well below the lowest unstable LR", "data": {"reason":
                                                                        "all diverged"}}
    spread = math.hypot(est["fit_sd"], est["horizon_sd"])
    # only ever down: where the low side looks steeper, the estimate stands
    lean = min(0.0, d.lean * risk_offset(spread, k_low=est["k_low_eff"],
                                         k_high=est["k_high_eff"]))
    x = est["x"] - est["shift"] + lean
    lr = uncapped = on_grid(2.0 ** x, 2 * d.grid)
    cap = min(ceilings.values(), default=math.inf) * d.ceiling_factor
    capped_by = ""
    if lr > cap * 1.0001:
        capped_by = min(ceilings, key=lambda k: ceilings[k])
        lr = on_grid(cap, 2 * d.grid, down=True)
    probe = ("measured slope " + f"{est['measured_slope']:+.2f}" + " shrunk to "
             if est["measured_slope"] is not None else "prior slope ")
    summary = (f"LR {lr:.3g}: the fit's minimum {2 ** est['x']:.3g} at {est['fraction']:.0%} "
               f"of a run{'' if est['fitted'] else ' (best point: no convex fit)'}, / "
               f"{2 ** est['shift']:.3g} for the full horizon ({probe}{est['slope']:+.2f} "
               f"octaves per octave of length"
               + (f", and {est['warmup_shift']:.2f} octaves for the optimizer's own warm-up"
                  if est.get("warmup_shift") else "") + ")"
               # the lean is off in the shipped design: name it only when it moved the pick
               + (f", leaned {lean:+.2f} octaves for a spread of {spread:.2f} octaves "
                  f"(steepness low {est['k_low']:.3f}, high {est['k_high']:.3f} per "
                  "octave^2)" if lean else "")
               + (f"; capped at {cap:.3g} by the {capped_by}" if capped_by else ""))
    data = {k: v for k, v in est.items()}
    data.update({"lr": lr, "lean": lean, "spread": spread, "ceilings": ceilings,
                 "ceiling": cap if math.isfinite(cap) else None, "capped_by": capped_by,
                 "fit_lr": 2 ** est["x"], "uncapped_lr": uncapped})
    return {"lr": lr, "fallback": False, "summary": summary, "data": data}
