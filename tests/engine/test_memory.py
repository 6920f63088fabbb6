"""NumPy's huge pages: kept where the kernel has free huge-page-sized blocks, off where memory is
fragmented or unreadable, and NUMPY_MADVISE_HUGEPAGE decides when it is set (engine/memory.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from xiangchuang.engine.memory import HUGE_FREE_MIN, decide_pages, free_in_blocks

CHECK = (
    "import xiangchuang.engine, numpy as np; from xiangchuang.engine.memory import PAGES; "
    "print(np._core.multiarray._get_madvise_hugepage(), PAGES.huge)"
)
MEMINFO = "MemTotal:       24683520 kB\nHugepagesize:       2048 kB\nHugetlb:               0 kB\n"
# Two zones; order 0 (4 kB) … order 10 (4 MB). Free in blocks of ≥ 2 MB: Normal 201·2 + 444·4 MB,
# DMA32 2·2 + 752·4 MB = 5,190 MB.
BUDDY = (
    "Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3\n"
    "Node 0, zone    DMA32      2      2      4      2      5      4      3      3      4      2    752\n"
    "Node 0, zone   Normal   3138   4804   4711   3563   1965   1025    586    327    202    201    444\n"
)
FRAGMENTED = (
    "Node 0, zone   Normal  900000 400000 200000  90000  20000   4000   1000    300     90     40     12\n"
)


def _run(env: str | None) -> list[str]:
    environ = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if env is not None:
        environ["NUMPY_MADVISE_HUGEPAGE"] = env
    out = subprocess.run(
        [sys.executable, "-c", CHECK], env=environ, capture_output=True, text=True, check=True
    )
    return out.stdout.split()


@pytest.mark.parametrize(("env", "expected"), [("1", "True"), ("0", "False")])
def test_the_environment_decides_when_set(env, expected):
    assert _run(env) == [expected, "None"]


def test_without_the_environment_numpy_follows_the_engine_choice():
    numpy_setting, choice = _run(None)
    assert choice in ("True", "False")
    assert numpy_setting == choice


def test_free_memory_in_blocks_of_the_huge_page_size():
    assert free_in_blocks(BUDDY, 4096, 2 << 20) == (201 * 2 + 444 * 4 + 1 * 2 + 3 * 4 + 2 * 2 + 752 * 4) << 20
    # Every block counts when the block size is one page.
    pages = sum(int(c) << k for line in BUDDY.splitlines() for k, c in enumerate(line.split()[4:]))
    assert free_in_blocks(BUDDY, 4096, 4096) == pages * 4096
    assert free_in_blocks("", 4096, 2 << 20) == 0


def test_huge_pages_only_with_enough_free_huge_blocks():
    plenty = decide_pages(BUDDY, MEMINFO, 4096)
    assert plenty.huge is True and plenty.free_huge_bytes == free_in_blocks(BUDDY, 4096, 2 << 20)
    assert "使用透明大页" in plenty.reason
    fragmented = decide_pages(FRAGMENTED, MEMINFO, 4096)
    assert fragmented.huge is False and fragmented.free_huge_bytes is not None
    assert fragmented.free_huge_bytes < HUGE_FREE_MIN
    assert "碎片" in fragmented.reason and "普通页" in fragmented.reason


def test_threshold_is_inclusive():
    per_block = 4 << 20  # one order-10 block of 4 kB pages
    exactly = "Node 0, zone Normal" + " 0" * 10 + f" {HUGE_FREE_MIN // per_block}\n"
    assert decide_pages(exactly, MEMINFO, 4096).huge is True
    short = "Node 0, zone Normal" + " 0" * 10 + f" {HUGE_FREE_MIN // per_block - 1}\n"
    assert decide_pages(short, MEMINFO, 4096).huge is False


@pytest.mark.parametrize(("buddy", "meminfo"), [(None, MEMINFO), (BUDDY, None), (BUDDY, "MemTotal: 1 kB\n")])
def test_unreadable_free_lists_mean_ordinary_pages(buddy, meminfo):
    choice = decide_pages(buddy, meminfo, 4096)
    assert choice.huge is False and choice.free_huge_bytes is None


def _case_facts():
    from pathlib import Path

    from xiangchuang.engine.case import case_to_tables, load_yaml

    root = Path(__file__).resolve().parents[2]
    text = (root / "src/xiangchuang/policy/examples/returning_founder.yaml").read_text(encoding="utf-8")
    return case_to_tables(load_yaml(text))  # 13 contribution rows, the largest table


def test_registry_wide_assembly_decides_again_and_a_single_case_does_not(monkeypatch):
    from xiangchuang.engine import memory
    from xiangchuang.engine.assemble import assemble

    calls = []
    fresh = memory.PageChoice(False, 0, "重新判断")
    monkeypatch.setattr(memory, "choose_pages", lambda: calls.append(1) or fresh)
    monkeypatch.setattr(memory, "PAGES", memory.PageChoice(True, 1, "导入时"))
    assemble(_case_facts(), 19_800)
    assert calls == [] and memory.PAGES.reason == "导入时"
    monkeypatch.setattr(memory, "REFRESH_ROWS", 13)  # the case's largest table counts as registry-wide
    assemble(_case_facts(), 19_800)
    assert calls == [1] and memory.PAGES is fresh


def test_freezing_the_startup_heap_leaves_later_garbage_collectable() -> None:
    """What the server's startup built is frozen (out of the collector's walks); a reference cycle
    made afterwards (a request's) is still collected. In a child process: freezing is process-wide."""
    import subprocess
    import sys

    code = (
        "import gc, weakref\n"
        "from xiangchuang.engine.memory import freeze_startup_heap\n"
        "frozen = freeze_startup_heap()\n"
        "class A: pass\n"
        "a = A(); a.me = a; w = weakref.ref(a); del a\n"
        "gc.collect()\n"
        "print(frozen > 1000, w() is None)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]
