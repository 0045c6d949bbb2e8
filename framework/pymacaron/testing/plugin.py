"""pytest plugin (registered as ``pymacaron``): fixtures equivalent to PyMacaronTestCase.

``pym_client`` has every PyMacaronTestCase assertion. It calls the live service named by
``PYM_SERVER_HOST``/``PYM_SERVER_PORT`` when set, else the service's Flask app in-process
(``pym_app``: ``server.py`` of ``PYM_SERVICE_DIR`` or the working directory; override the
fixture in a conftest to test another app)::

    def test_pet(pym_client, pym_auth):
        pym_client.assertGetReturnJson("/pets/1", 200)
        pym_client.assertPostReturnJson("/orders", {...}, 201, auth=pym_auth)
"""

from __future__ import annotations

import os

import pytest


def _live() -> bool:
    return bool(os.environ.get("PYM_SERVER_HOST"))


@pytest.fixture(scope="session")
def pym_app():
    """The service's Flask app, built in-process from its server.py (as gunicorn does)."""
    from pymacaron.app import load_service

    module = load_service(os.environ.get("PYM_SERVICE_DIR") or os.getcwd())
    app = getattr(module, "app", None)
    if app is None:
        pytest.fail("server.py has no module-level 'app' (pym_app fixture)", pytrace=False)
    return app


@pytest.fixture
def pym_token():
    """A JWT for the tests: PYM_JWT_TOKEN, else (in-process) one signed with jwt_secret."""
    token = os.environ.get("PYM_JWT_TOKEN")
    if token or _live():
        return token or None
    from pymacaron.auth import generate_token

    try:
        return generate_token("pym-test-user", expire_in=3600)
    except Exception:  # no jwt_secret configured: tests that need a token say so
        return None


@pytest.fixture
def pym_auth(pym_token) -> str:
    """``Bearer <token>`` for the ``auth=`` argument of the assertions."""
    if not pym_token:
        pytest.fail(
            "no JWT for this test: set PYM_JWT_TOKEN, or jwt_secret in the service's config",
            pytrace=False,
        )
    return f"Bearer {pym_token}"


@pytest.fixture
def pym_client(request, pym_token):
    """A PyMacaronTestCase bound to the live host (PYM_SERVER_HOST) or the in-process app."""
    from pymacaron.testing import PyMacaronTestCase, target_from_env

    if _live():
        base_url, _ = target_from_env()
        return PyMacaronTestCase.bind(base_url=base_url, token=pym_token)
    return PyMacaronTestCase.bind(app=request.getfixturevalue("pym_app"), token=pym_token)
