"""The generalization lattice: every combination of one level per quasi-identifier.

A node is a tuple of levels; node A is below node B when each of A's levels is at
most B's. Nodes are numbered in row-major (C) order of their levels (the bottom is
0, the top the last). The lattice is enumerated as a (nodes × columns) level matrix
so that a cone (everything below a node, where a failure or a penalty spreads) is
one vectorised comparison.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

MAX_NODES = 2_000_000


class Lattice:
    """All nodes for the given top level (number of generalization steps) per column."""

    def __init__(self, tops: Sequence[int], names: Sequence[str]) -> None:
        shape = tuple(top + 1 for top in tops)
        self.size = math.prod(shape)
        if self.size > MAX_NODES:
            raise ValueError(
                f"the generalization lattice of {list(names)} has {self.size:,} nodes "
                f"(levels per field: {dict(zip(names, shape, strict=True))}), more than "
                f"{MAX_NODES:,}; declare fewer quasi-identifiers or fewer hierarchy levels"
            )
        self.levels = np.indices(shape, dtype=np.int16).reshape(len(shape), -1).T

    @property
    def bottom(self) -> int:
        return 0

    @property
    def top(self) -> int:
        return self.size - 1

    def node_levels(self, node: int) -> tuple[int, ...]:
        return tuple(int(level) for level in self.levels[node])

    def at_or_below(self, node: int) -> np.ndarray:
        """Mask of the nodes at most as general as `node` on every column."""
        return (self.levels <= self.levels[node]).all(axis=1)
