"""The web fixtures (signed-in clients per role, the linked registry person and business) for the outreach
tests, plus helpers."""

from __future__ import annotations

from tests.web.conftest import akey, cipher, linked, make_user, web_settings  # noqa: F401
from tests.web.roles import app, as_role  # noqa: F401
