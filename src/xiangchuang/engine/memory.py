"""How the engine's large columns get their memory.

NumPy asks the kernel for transparent huge pages (madvise) for every large array (4 MB and more).
Whether that helps depends on the kernel's free memory at the time, not on the machine's kind:

- Where free memory lies in blocks of the huge-page size (2 MB) or larger, a huge page is a block
  taken from the free lists: one fault instead of 512. On a freshly booted 2-core machine
  (2026-11-28, 1M businesses, separate processes) the first assembly took 0.68 s against 1.70 s
  with ordinary pages, and the first evaluation of all 17 programs 0.57 s against 1.55 s
  (28k faults against 208k in the assembly). The same was seen on 2026-11-27 22:40 (1.33 s
  against 1.85-2.05 s).
- Where it does not (fragmented memory), the kernel compacts memory synchronously for such
  requests (``/sys/kernel/mm/transparent_hugepage/defrag`` = ``madvise``, as here), and the first
  touch of each new array stalls: on 2026-11-27 the first evaluation spent 0.50-0.57 s of system
  time in page faults, against 0.18-0.20 s with ordinary pages (wall 1.66-1.96 s → 0.69-0.70 s).

On this VM the cost of a fault also depends on whether the host still backs the page: memory never
touched since boot is backed on first touch (slow in small pages, where huge pages save the most),
memory used a moment ago is not. Later the same day (2026-11-28 06:00, after a test run; 3.6 GB free
in such blocks, so the rule below chose ordinary pages) ordinary pages were faster: first evaluation
0.60/0.65 s against 1.07/1.34 s with NUMPY_MADVISE_HUGEPAGE=1, load 5.1/6.8 s against 9.8 s. Plenty
of free memory in large blocks went with the case where huge pages won, little with the case where
they lost, in all four comparisons that day.

So the engine reads the free lists (``/proc/buddyinfo``) when it is imported and again before each
registry-wide assembly (:func:`refresh_pages`: a long-running server's memory fragments): NumPy keeps its
huge pages when at least ``HUGE_FREE_MIN`` bytes are free in blocks of the huge-page size or
larger (well above the ~2.3 GB the engine holds at its peak for 1M businesses, so its columns need
no compaction), and uses ordinary pages otherwise, or where the free lists cannot be read. Results do
not depend on it. Setting ``NUMPY_MADVISE_HUGEPAGE`` (0 or 1) keeps NumPy's own choice.
``PAGES`` records the choice and why (the benchmark prints it).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Free memory in blocks of the huge-page size or larger above which NumPy keeps its huge pages.
HUGE_FREE_MIN = 4 << 30


@dataclass(frozen=True)
class PageChoice:
    huge: bool | None  # None: NumPy's own choice (NUMPY_MADVISE_HUGEPAGE, or no setter)
    free_huge_bytes: int | None  # free memory in blocks of the huge-page size or larger
    reason: str


def free_in_blocks(buddyinfo: str, page_size: int, block_size: int) -> int:
    """Bytes free in blocks of at least ``block_size``, from the text of ``/proc/buddyinfo`` (per
    zone, the number of free blocks of 2**order pages for order 0, 1, …)."""
    total = 0
    for line in buddyinfo.splitlines():
        fields = line.split()
        if "zone" not in fields:
            continue
        counts = fields[fields.index("zone") + 2 :]
        for order, count in enumerate(counts):
            size = page_size << order
            if size >= block_size:
                total += int(count) * size
    return total


def _huge_page_size(meminfo: str) -> int | None:
    for line in meminfo.splitlines():
        fields = line.split()
        if fields[:1] == ["Hugepagesize:"] and len(fields) == 3 and fields[2] == "kB" and fields[1].isdigit():
            return int(fields[1]) * 1024
    return None  # (absent or in a form not known here: ordinary pages, never an error at import)


def decide_pages(buddyinfo: str | None, meminfo: str | None, page_size: int) -> PageChoice:
    """Huge pages when at least ``HUGE_FREE_MIN`` bytes are free in blocks of the huge-page size."""
    huge_size = _huge_page_size(meminfo) if meminfo else None
    if buddyinfo is None or huge_size is None:
        return PageChoice(False, None, "无法读取内核空闲内存分布，使用普通页")
    free = free_in_blocks(buddyinfo, page_size, huge_size)
    if free >= HUGE_FREE_MIN:
        return PageChoice(True, free, f"大页大小及以上的空闲块共 {free >> 20} MB，使用透明大页")
    return PageChoice(False, free, f"大页大小及以上的空闲块仅 {free >> 20} MB（内存碎片化），使用普通页")


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="ascii")
    except OSError:
        return None


def choose_pages() -> PageChoice:
    """Apply :func:`decide_pages` to this process's NumPy, unless NUMPY_MADVISE_HUGEPAGE decides."""
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return PageChoice(None, None, "NUMPY_MADVISE_HUGEPAGE 已设定，由 NumPy 决定")
    setter = getattr(getattr(np, "_core", np).multiarray, "_set_madvise_hugepage", None)
    if setter is None:
        return PageChoice(None, None, "此 NumPy 不支持设定透明大页")
    choice = decide_pages(_read("/proc/buddyinfo"), _read("/proc/meminfo"), os.sysconf("SC_PAGE_SIZE"))
    setter(bool(choice.huge))
    return choice


PAGES = choose_pages()

# Tables from this many rows up hold columns of 4 MB and more (the size from which NumPy asks for
# huge pages): their assembly reads the free lists again.
REFRESH_ROWS = 1 << 19


def refresh_pages(rows: int) -> PageChoice:
    """Decide again from the current free lists before work over ``rows`` rows (a registry-wide run);
    a single case (a few rows) keeps the last choice."""
    global PAGES
    if rows >= REFRESH_ROWS:
        PAGES = choose_pages()
    return PAGES


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


def freeze_startup_heap() -> int:
    """Once a long-running process has started (modules imported, parameters loaded, caches
    built), move every object it holds into the collector's permanent generation
    (``gc.freeze``): they live as long as the process, and each full collection would otherwise walk
    them all again (the objects a request makes are collected as before). The single-case p99 fell
    from ~3.2 to ~2.1 ms in alternating runs on 2026-11-29, its median unchanged. Returns how many
    objects were frozen. A process that forks workers after this keeps their pages shared too."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
