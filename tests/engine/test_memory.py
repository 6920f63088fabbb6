"""The engine turns off NumPy's huge-page requests unless NUMPY_MADVISE_HUGEPAGE decides."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CHECK = "import xiangchuang.engine, numpy as np; print(np._core.multiarray._get_madvise_hugepage())"


@pytest.mark.parametrize(("env", "expected"), [(None, "False"), ("1", "True"), ("0", "False")])
def test_huge_pages_off_unless_the_environment_says(env, expected):
    environ = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if env is not None:
        environ["NUMPY_MADVISE_HUGEPAGE"] = env
    out = subprocess.run(
        [sys.executable, "-c", CHECK], env=environ, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == expected
