"""How the engine's large columns get their memory.

NumPy asks the kernel for transparent huge pages (madvise) for every large array. Where the kernel
compacts memory synchronously for such requests (``/sys/kernel/mm/transparent_hugepage/defrag`` =
``madvise``, as on this project's 2-core machine), the first touch of each new array stalls: at 1M
businesses the first evaluation of all 17 programs spent 0.50-0.57 s of system time in page faults,
against 0.18-0.20 s with ordinary pages (measured 2026-11-27, wall 1.66-1.96 s → 0.69-0.70 s).
Results do not depend on it. Setting ``NUMPY_MADVISE_HUGEPAGE`` (0 or 1) keeps NumPy's own choice.
On another, freshly booted machine of the same kind (2026-11-27 22:40, little fragmentation) huge
pages were faster instead: first evaluation 1.33 s against 1.85-2.05 s. A long-running server's
memory is fragmented, which is when compaction stalls, so ordinary pages stay the default.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np


def prefer_small_pages() -> bool:
    """Stop NumPy's huge-page requests for this process unless NUMPY_MADVISE_HUGEPAGE says otherwise.
    Returns whether the setting was changed."""
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return False
    setter = getattr(getattr(np, "_core", np).multiarray, "_set_madvise_hugepage", None)
    if setter is None:
        return False
    setter(False)
    return True


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a piece of work makes many small containers that
    are not part of reference cycles (a case's tables and explanation, a report's row tuples; the
    mentor draw keeps its own copy, as its module must stand alone). Each generation-0 collection
    would walk the young objects that are still alive; reference counting frees them all the same,
    and the collector resumes (and collects any cycle) afterwards. Nesting is safe: only the outermost pause re-enables it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
