"""The web fixtures (signed-in clients for any role) for the training API and page tests."""

from tests.web.conftest import akey, cipher, linked, make_user, web_settings  # noqa: F401
from tests.web.roles import app, as_role  # noqa: F401
