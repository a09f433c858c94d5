"""Example instances of every registered schedule family, as compact spec strings.

The contract tests run over this table; ``test_every_family_has_an_example`` fails when a
family is registered without an entry here, so a new family cannot skip the contract.
"""

from __future__ import annotations

EXAMPLES: dict[str, list[str]] = {
    "constant": ["constant(base_lr=0.1)"],
    "step": ["step(base_lr=0.1, step_size=30, gamma=0.1)",
             "step(base_lr=1, step_size=2.5, gamma=0.5)"],
    "multistep": ["multistep(base_lr=0.1, milestones=[30, 60, 60, 90], gamma=0.1)"],
    "piecewise": ["piecewise(boundaries=[100, 200], lrs=[0.1, 0.01, 0.001])"],
    "interpolate": ["interpolate(steps=[0, 100, 1000], lrs=[0, 0.1, 0.001])",
                    "interpolate(steps=[10, 10, 50], lrs=[0.5, 0.1, 0.2], kind=cosine)"],
    "exponential": ["exponential(init_lr=0.1, decay_rate=0.5, decay_steps=1000)",
                    "exponential(init_lr=0.1, decay_rate=0.9, decay_steps=7, staircase=true, "
                    "transition_begin=50, end_lr=0.01)",
                    "exponential(init_lr=0.001, decay_rate=1.5, decay_steps=10, end_lr=0.1)"],
    "inverse_time": ["inverse_time(init_lr=0.1, decay_rate=0.5, decay_steps=100)",
                     "inverse_time(init_lr=0.1, decay_rate=2, decay_steps=3, staircase=true)"],
    "polynomial": ["polynomial(init_lr=0.1, total_steps=1000, end_lr=0.001, power=2)",
                   "polynomial(init_lr=0.1, total_steps=300, power=0.5, cycle=true)",
                   "linear(init_lr=0.1, end_lr=0.01, total_steps=500)"],
    "linear_warmup": ["linear_warmup(init_lr=0, peak_lr=0.1, warmup_steps=500)"],
    "exponential_warmup": ["exponential_warmup(init_lr=1e-6, peak_lr=1, warmup_steps=100)"],
    "cosine": ["cosine(peak_lr=0.1, total_steps=1000)",
               "cosine(peak_lr=0.1, total_steps=1000, end_lr=0.001, exponent=2, "
               "after_end=periodic)",
               "cosine(peak_lr=0.1, total_steps=1000, warmup_steps=100)"],
    "cosine_restarts": ["cosine_restarts(peak_lr=0.1, cycle_steps=100)",
                        "cosine_restarts(peak_lr=0.1, cycle_steps=10, cycle_mult=3, "
                        "peak_decay=0.7, end_lr=0.001)",
                        "cosine_restarts(peak_lr=0.1, cycle_steps=7, cycle_mult=1.5)"],
    "cyclic": ["cyclic(base_lr=0.001, max_lr=0.1, step_size_up=200)",
               "cyclic(base_lr=0.001, max_lr=0.1, step_size_up=100, step_size_down=300, "
               "mode=triangular2)",
               "cyclic(base_lr=0.001, max_lr=0.1, step_size_up=50, mode=exp_range, "
               "gamma=0.999)"],
    "onecycle": ["onecycle(peak_lr=0.1, total_steps=1000)",
                 "onecycle(peak_lr=0.1, total_steps=1000, pct_start=0.25, three_phase=true, "
                 "anneal=linear, div_factor=10, final_div_factor=100)"],
    "inverse_sqrt": ["inverse_sqrt(peak_lr=0.1, timescale=100)",
                     "inverse_sqrt(peak_lr=0.1, timescale=400, warmup_steps=400)"],
    "noam": ["noam(d_model=512, warmup_steps=4000)"],
    "wsd": ["wsd(peak_lr=0.1, total_steps=1000, decay_steps=200)",
            "wsd(peak_lr=0.1, total_steps=1000, decay_steps=100, end_lr=0.001, "
            "decay_shape=cosine, warmup_steps=50)",
            "wsd(peak_lr=0.1, total_steps=1000, decay_steps=100, decay_shape=linear)",
            "wsd(peak_lr=0.1, total_steps=1000, decay_steps=300, decay_shape=exponential)"],
    "tanh": ["tanh(peak_lr=0.1, total_steps=1000)",
             "tanh(peak_lr=0.1, total_steps=1000, end_lr=0.001, lower=-5, upper=5)"],
    "join": ["join(pieces=[linear_warmup(init_lr=0, peak_lr=0.1, warmup_steps=100), "
             "cosine(peak_lr=0.1, total_steps=900)], boundaries=[100])",
             "join(pieces=[constant(base_lr=0.1), constant(base_lr=0.05), "
             "linear(init_lr=0.05, total_steps=100)], boundaries=[300, 600])"],
    "scaled": ["scaled(schedule=cosine(peak_lr=1, total_steps=1000), factor=0.1)"],
    "product": ["product(first=cosine_restarts(peak_lr=1, cycle_steps=100), "
                "second=exponential(init_lr=0.1, decay_rate=0.5, decay_steps=1000))"],
}
"""family -> example specs (the family is the class the spec builds, e.g. linear -> polynomial)."""


def all_examples() -> list[str]:
    """Every example spec, in table order."""
    return [spec for specs in EXAMPLES.values() for spec in specs]
