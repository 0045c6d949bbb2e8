"""A user's own WSGI middleware at named points among the layers (server/layers.py
MiddlewarePosition, as connexion's), every wanted layer of LAYERS built, and the environ
keys and security headers defined once (issue 28)."""

from __future__ import annotations

import os
import pathlib

import pytest

from pymacaron import create_app
from pymacaron.app import current_service
from pymacaron.exceptions import StartupError
from pymacaron.server import environ as keys
from pymacaron.server.dispatch import SpecDispatch
from pymacaron.server.headers import SECURITY_HEADERS
from pymacaron.server.layers import AccessLog, MiddlewarePosition, RequestId, SecurityHeaders
from tests.conftest import FIXTURES

LIBRARY = os.path.join(FIXTURES, "library_service")


@pytest.fixture(autouse=True)
def _no_other_service():
    """Another test's APIs (same-named definitions of another fixture) are not this one's."""
    from tests.conftest import reset_pymacaron

    reset_pymacaron()
    yield
    reset_pymacaron()


PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "framework" / "pymacaron"


def recorder(name: str, seen: list):
    """A middleware factory that records what it sees of the request and of the reply."""

    def factory(app):
        def middleware(environ, start_response):
            def _start_response(status, headers, exc_info=None):
                names = {k for k, _ in headers}
                seen.append((name, "reply", "X-Request-ID" in names, "X-Frame-Options" in names))
                headers.append((f"X-Seen-By-{name}", "1"))
                return start_response(status, headers, exc_info)

            seen.append((name, "request", keys.REQUEST_ID in environ))
            return app(environ, _start_response)

        middleware.app = app
        middleware.label = name
        return middleware

    return factory


def chain(wsgi) -> list:
    out = []
    while not isinstance(wsgi, SpecDispatch):
        out.append(getattr(wsgi, "label", type(wsgi)))
        wsgi = wsgi.app
    return out


def test_middleware_goes_where_it_is_named():
    seen: list = []
    app = create_app(
        LIBRARY,
        middleware=[
            (MiddlewarePosition.BEFORE_DISPATCH, recorder("inner", seen)),
            (MiddlewarePosition.OUTERMOST, recorder("outer", seen)),
            (MiddlewarePosition.BEFORE_ACCESS_LOG, recorder("logged", seen)),
        ],
    )
    assert chain(app.wsgi_app) == [
        "outer",
        RequestId,
        SecurityHeaders,
        "logged",
        AccessLog,
        "inner",
    ]
    reply = app.test_client().get("/ping")
    assert reply.status_code == 200
    # a request passes outer (no request id yet), then logged and inner (it is set)
    assert [s for s in seen if s[1] == "request"] == [
        ("outer", "request", False),
        ("logged", "request", True),
        ("inner", "request", True),
    ]
    # the reply: inner and logged are inside RequestId/SecurityHeaders (not yet added),
    # outer sees both; every middleware's own header reaches the client
    assert [s for s in seen if s[1] == "reply"] == [
        ("inner", "reply", False, False),
        ("logged", "reply", False, False),
        ("outer", "reply", True, True),
    ]
    for name in ("inner", "logged", "outer"):
        assert reply.headers[f"X-Seen-By-{name}"] == "1"
    for header, value in SECURITY_HEADERS:
        assert reply.headers[header] == value


def test_add_middleware_after_serving_is_refused():
    create_app(LIBRARY)
    with pytest.raises(StartupError, match=r"create_app\(\.\.\., middleware="):
        current_service().add_middleware(lambda app: app)


def test_each_environ_key_and_security_header_is_defined_once():
    where = {keys.REQUEST_ID: "server/environ.py", keys.STATUS: "server/environ.py"}
    where.update({keys.ROUTE_CSP: "server/environ.py", keys.BODY: "server/environ.py"})
    where.update({name: "server/headers.py" for name, _ in SECURITY_HEADERS[:2]})
    where["Referrer-Policy"] = "server/headers.py"
    found: dict = {literal: [] for literal in where}
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        for literal in where:
            if f'"{literal}"' in text:
                found[literal].append(str(path.relative_to(PACKAGE)))
    assert found == {literal: [file] for literal, file in where.items()}
