"""The web fixtures (signed-in clients for any role, a linked applicant) for the community tests."""

from tests.web.conftest import akey, cipher, client, linked, make_user, web_settings  # noqa: F401
from tests.web.roles import app, as_role  # noqa: F401
