"""The end-to-end test's server: ``xiangchuang serve``'s app factory plus a test clock.

Started by tests/e2e/test_browser.py as ``python -m uvicorn tests.e2e.serve_app:app_with_test_clock
--factory``. The clock reads an ISO moment from the file named by ``XC_E2E_CLOCK_FILE`` (the test moves
it forward so the publicity period ends within the test). This module lives under tests/ and is not part
of the installed package, so production has no way to turn a clock override on: no setting, variable or
request sets ``app.state.test_clock`` (see xiangchuang.web.workbench.clock)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from fastapi import FastAPI

from xiangchuang.web.app import app_from_environment


class FileClock:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.path.read_text().strip())


def app_with_test_clock() -> FastAPI:
    app = app_from_environment()
    app.state.test_clock = FileClock(Path(os.environ["XC_E2E_CLOCK_FILE"]))
    return app
