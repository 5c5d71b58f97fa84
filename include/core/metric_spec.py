"""Which information-loss measure the k-anonymity search minimizes, and its parameters.

The measures themselves are in `information_loss`; this module has no project
imports so that a source config can name and check a measure without pulling in the
search.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

MetricName = Literal["lm", "arx_loss", "non_uniform_entropy"]
METRIC_NAMES: tuple[MetricName, ...] = ("lm", "arx_loss", "non_uniform_entropy")


@dataclass(frozen=True)
class MetricSpec:
    """Which information-loss measure the search minimizes, with its parameters."""

    name: MetricName = "lm"
    gs_factor: float = 0.5
    monotonic: bool = False

    def __post_init__(self) -> None:
        if self.name not in METRIC_NAMES:
            raise ValueError(f"metric must be one of {list(METRIC_NAMES)}, got {self.name!r}")
        if not 0 <= self.gs_factor <= 1:
            raise ValueError(f"gs_factor must be in [0, 1], got {self.gs_factor}")
        if self.name == "lm" and (self.gs_factor != 0.5 or self.monotonic):
            raise ValueError("the 'lm' metric has no gs_factor and no monotonic variant")
        if self.name == "arx_loss" and self.monotonic:
            raise ValueError("ARX's Loss has no monotonic variant; 'monotonic' is for entropy")

    @property
    def generalization_factor(self) -> float:
        return 1.0 if self.gs_factor <= 0.5 else 1.0 - 2.0 * (self.gs_factor - 0.5)

    @property
    def suppression_factor(self) -> float:
        return 2.0 * self.gs_factor if self.gs_factor < 0.5 else 1.0

    def describe(self) -> str:
        if self.name == "lm":
            return "loss metric (LM, suppressed records fully lost)"
        variant = "monotonic " if self.monotonic else ""
        what = "ARX's Loss" if self.name == "arx_loss" else f"ARX's {variant}non-uniform entropy"
        return f"{what}, gs-factor {self.gs_factor:g}"

    def as_dict(self) -> dict[str, Any]:
        """The spec as the manifest states it."""
        described: dict[str, Any] = {"name": self.name}
        if self.name != "lm":
            described["gs_factor"] = self.gs_factor
        if self.name == "non_uniform_entropy":
            described["monotonic"] = self.monotonic
        return described
