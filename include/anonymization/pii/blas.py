"""Run the NER's matrix products on numpy's OpenBLAS, one thread per process.

Nearly all of the French NER's time is matrix products. thinc sends them to
blis by default; numpy's bundled OpenBLAS computes the same products about twice
as fast on these machines (measured: 3.8 → 1.9 ms of CPU per 230-character
text, same entities on 800 texts), but only single-threaded: OpenBLAS's own
threads fight the scrubber's worker processes for the two cores and made it
slower than blis. OpenBLAS reads its thread count from the environment when numpy
is first imported, which is long before the scrubber is; so the count is set
through OpenBLAS's own function (what threadpoolctl does), and where that is not
possible (another BLAS, another platform) the pipeline keeps blis.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy
from spacy.language import Language
from thinc.api import NumpyOps

# numpy's wheels bundle scipy-openblas; older ones bundled a plain OpenBLAS.
_THREAD_SETTERS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)


def limit_openblas_threads(threads: int = 1) -> bool:
    """Set numpy's bundled OpenBLAS to `threads` threads; False if there is none to set."""
    libraries = Path(numpy.__file__).resolve().parent.parent / "numpy.libs"
    for path in sorted(libraries.glob("*openblas*.so*")):
        library = ctypes.CDLL(str(path))  # the already-loaded copy: dlopen reuses it
        for symbol in _THREAD_SETTERS:
            setter = getattr(library, symbol, None)
            if setter is not None:
                setter(threads)
                return True
    return False


def use_single_threaded_openblas(nlp: Language) -> bool:
    """Route `nlp`'s matrix products through single-threaded OpenBLAS, if it can be had.

    Only this pipeline's layers change ops; the thread limit is process-wide (it is
    OpenBLAS's setting), which is what a process doing CPU-bound NER wants anyway.
    """
    if not limit_openblas_threads(1):
        return False
    ops = NumpyOps(use_blis=False)
    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)
        if model is not None:
            for node in model.walk():
                node.ops = ops
    return True
