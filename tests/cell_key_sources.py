"""Cell key variants of the committed sources, built in the tests, never committed.

WHY: both committed sources keep cell suppression (their expectation suites and Superset
assets are generated from them); the cell key method is exercised on a copy of one of
them whose config says `disclosure: {method: cell_key, ...}`, validated as a source file
would be.
"""

from __future__ import annotations

from include.core.source_config import SourceConfig


def cell_key_variant(
    config: SourceConfig,
    *,
    name: str | None = None,
    max_noise: int = 2,
    variance: float = 1.0,
    js: int = 0,
) -> SourceConfig:
    """`config` with its aggregates perturbed by the cell key method (and renamed)."""
    data = config.model_dump(by_alias=True)
    data["disclosure"] = {
        "method": "cell_key",
        "max_noise": max_noise,
        "variance": variance,
        "js": js,
    }
    if name is not None:
        data["name"] = name
    return SourceConfig.model_validate(data)
