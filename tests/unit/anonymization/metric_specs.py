"""Every information-loss measure the search offers, with gs-factors on both sides of 0.5."""

from __future__ import annotations

from include.core.metric_spec import MetricSpec

EXAMPLE_METRICS = [
    MetricSpec(),
    MetricSpec("arx_loss"),
    MetricSpec("arx_loss", gs_factor=0.1),
    MetricSpec("arx_loss", gs_factor=0.9),
    MetricSpec("non_uniform_entropy"),
    MetricSpec("non_uniform_entropy", monotonic=True),
    MetricSpec("non_uniform_entropy", gs_factor=0.3),
]
