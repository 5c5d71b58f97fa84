"""The batched path's chunks: every text once, in order, evenly shared by the workers."""

from __future__ import annotations

from itertools import pairwise

import pytest

from include.anonymization.pii import Scrubber


@pytest.mark.parametrize(
    ("processes", "texts"), [(2, 1000), (2, 256), (2, 258), (3, 1000), (2, 1), (4, 7)]
)
def test_chunks_cover_the_texts_evenly(scrubber: Scrubber, processes: int, texts: int) -> None:
    sized = Scrubber.__new__(Scrubber)  # the chunking only reads these two settings
    sized.processes, sized.batch_size = processes, scrubber.batch_size
    bounds = sized._chunk_bounds(texts)
    assert bounds[0][0] == 0
    assert bounds[-1][1] == texts
    assert all(end == start for (_, end), (start, _) in pairwise(bounds))
    sizes = [end - start for start, end in bounds]
    assert max(sizes) <= scrubber.batch_size
    assert max(sizes) - min(sizes) <= 1
    assert len(bounds) % processes == 0
