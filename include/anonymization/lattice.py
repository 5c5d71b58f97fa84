"""The generalization lattice: every combination of one level per quasi-identifier.

A node is a tuple of levels; node A is below node B when each of A's levels is at
most B's. Nodes are numbered in row-major (C) order of their levels, so a node's
direct successors (one quasi-identifier one level higher) are its number plus a
stride. The lattice is enumerated as a (nodes × columns) level matrix so that
cones (everything above or below a node) are one vectorised comparison, which
is what predictive tagging needs.
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
        self.tops = tuple(tops)
        self.levels = np.indices(shape, dtype=np.int16).reshape(len(shape), -1).T
        self.strides = tuple(math.prod(shape[i + 1 :]) for i in range(len(shape)))

    @property
    def bottom(self) -> int:
        return 0

    @property
    def top(self) -> int:
        return self.size - 1

    def node(self, levels: Sequence[int]) -> int:
        """The number of the node with these levels."""
        return sum(level * stride for level, stride in zip(levels, self.strides, strict=True))

    def node_levels(self, node: int) -> tuple[int, ...]:
        return tuple(int(level) for level in self.levels[node])

    def at_or_above(self, node: int) -> np.ndarray:
        """Mask of the nodes at least as general as `node` on every column."""
        return (self.levels >= self.levels[node]).all(axis=1)

    def at_or_below(self, node: int) -> np.ndarray:
        """Mask of the nodes at most as general as `node` on every column."""
        return (self.levels <= self.levels[node]).all(axis=1)

    def successors(self, node: int) -> list[int]:
        """Nodes one level higher on exactly one column."""
        levels = self.levels[node]
        return [
            node + stride
            for level, top, stride in zip(levels, self.tops, self.strides, strict=True)
            if level < top
        ]
