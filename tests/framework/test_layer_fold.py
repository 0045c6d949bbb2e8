"""RequestId, SecurityHeaders and AccessLog run as one layer when nothing of the user's sits
between them (server/layers.py ``_folded``): the same reply headers in the same order, the
same environ keys, the same access line and request id as the three layers one by one."""

from __future__ import annotations

import io
import logging
from types import SimpleNamespace

import pytest

from pymacaron.logs import RequestIdFilter, get_request_id
from pymacaron.server import layers
from pymacaron.server.environ import REQUEST_ID, ROUTE_CSP, STATUS
from pymacaron.server.headers import SECURITY_HEADERS
from pymacaron.server.layers import AccessLog, RequestId, SecurityHeaders

CONFIG = SimpleNamespace(access_log="text", cors_origins=None)


class Passthrough:
    """A middleware doing nothing: between two layers it ends the fold there."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def _inner(seen):
    def app(environ, start_response):
        seen["rid"] = get_request_id()
        if environ["PATH_INFO"] == "/boom":
            raise RuntimeError("boom")
        if environ["PATH_INFO"] == "/docs":
            environ[ROUTE_CSP] = "default-src 'self'"
        start_response("404 NOT FOUND", [("Content-Type", "application/json")])
        return [b"{}"]

    return app


def _stacks(seen):
    """(folded, the same three layers kept apart by pass-through middleware)."""
    folded = RequestId(SecurityHeaders(AccessLog(_inner(seen), CONFIG, status_recorded=True)))
    apart = RequestId(
        Passthrough(
            SecurityHeaders(Passthrough(AccessLog(_inner(seen), CONFIG, status_recorded=True)))
        )
    )
    return folded, apart


def _serve(app, path, rid="fold-1"):
    env = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "HTTP_X_REQUEST_ID": rid}
    got = {}

    def start_response(status, headers, exc_info=None):
        got.update(status=status, headers=list(headers))

    body = b"".join(app(env, start_response))
    return got, body, env


@pytest.fixture
def access_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(request_id)s|%(message)s"))
    handler.addFilter(RequestIdFilter())  # the id as logging sees it while the line is written
    access = logging.getLogger("pymacaron.access")
    access.addHandler(handler)  # lines through logging, formatted with the request id
    access.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        access.removeHandler(handler)


def test_the_fold_is_what_runs(monkeypatch):
    """Neither SecurityHeaders' nor AccessLog's own call runs in the folded stack."""
    seen: dict = {}
    folded, apart = _stacks(seen)
    calls = []
    for cls in (SecurityHeaders, AccessLog):
        original = cls.__call__
        monkeypatch.setattr(
            cls, "__call__", lambda self, e, s, o=original, c=cls: calls.append(c) or o(self, e, s)
        )
    _serve(folded, "/pets/1")
    assert calls == []
    _serve(apart, "/pets/1")
    assert calls == [SecurityHeaders, AccessLog]


@pytest.mark.parametrize("path", ["/pets/1", "/docs"])
def test_folded_replies_are_the_layers_replies(path, access_lines):
    seen: dict = {}
    before = get_request_id()  # whatever this thread held before (None unless a test leaked)
    folded, apart = _stacks(seen)
    one, body1, env1 = _serve(folded, path)
    rid_seen_folded = seen["rid"]
    two, body2, env2 = _serve(apart, path)
    assert one == two and body1 == body2
    assert one["headers"][-1] == ("X-Request-ID", "fold-1")
    names = [k for k, _ in one["headers"]]
    assert names[1:-1] == [k for k, _ in SECURITY_HEADERS]
    csp = dict(one["headers"])["Content-Security-Policy"]
    assert csp == ("default-src 'self'" if path == "/docs" else SECURITY_HEADERS[2][1])
    for env in (env1, env2):
        assert env[STATUS] == "404 NOT FOUND" and env[REQUEST_ID] == "fold-1"
    assert rid_seen_folded == seen["rid"] == "fold-1"
    assert get_request_id() == before  # reset after each request
    lines = access_lines.getvalue().splitlines()
    assert len(lines) == 2
    assert [line.rsplit(" ", 1)[0] for line in lines] == [f"fold-1|GET {path} 404"] * 2


def test_a_failing_app_still_logs_and_resets_the_request_id(access_lines):
    seen: dict = {}
    folded, _ = _stacks(seen)
    with pytest.raises(RuntimeError):
        _serve(folded, "/boom", rid="fold-2")
    assert seen["rid"] == "fold-2" and get_request_id() is None
    assert access_lines.getvalue().startswith("fold-2|GET /boom - ")


def test_no_access_log_inside_folds_the_two_others():
    seen: dict = {}
    app = RequestId(SecurityHeaders(_inner(seen)))
    got, _, env = _serve(app, "/x", rid="bad id with spaces")
    rid = env[REQUEST_ID]
    assert rid != "bad id with spaces" and len(rid) == 32 and rid[12] == "4"
    assert got["headers"][-1] == ("X-Request-ID", rid)
    assert got["headers"][1:-1] == list(SECURITY_HEADERS)


def test_the_layers_module_keeps_its_named_layers():
    assert layers.LAYERS[:3] == (RequestId, SecurityHeaders, AccessLog)
