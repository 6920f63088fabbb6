"""Fixtures of the carriers tests: the web fixtures (audit key, settings) and a small world."""

from __future__ import annotations

import pytest

from tests.carriers.world import build
from tests.web.conftest import akey, cipher, web_settings  # noqa: F401  (fixtures)


@pytest.fixture
def world(db_engine, pii, web_settings, akey):  # noqa: F811
    w = build(db_engine, pii, web_settings, akey)
    yield w
    w.close()
