"""The precomputed dispatch (dispatch.py): the same answers as Flask's routing, less work."""

import pytest
from flask import Flask, after_this_request, g, request, url_for
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Rule

from pymacaron.server.dispatch import SpecDispatch
from tests.conftest import REPO, build_app


class Teapot(Exception):
    pass


def make_app(fast: bool):
    app = Flask("dispatch-test")
    app.url_map.strict_slashes = False
    seen = {"adapters": 0, "teardown": []}
    original = app.create_url_adapter

    def counting(req):
        seen["adapters"] += 1 if req is not None else 0
        return original(req)

    app.create_url_adapter = counting

    @app.before_request
    def before():
        g.user = request.headers.get("X-User", "nobody")

    @app.after_request
    def after(response):
        response.headers["X-After"] = "yes"
        return response

    @app.teardown_request
    def teardown(exc):
        seen["teardown"].append(type(exc).__name__ if exc else None)

    @app.errorhandler(Teapot)
    def teapot(e):
        return {"error": "TEAPOT"}, 418

    def pet(p0):
        @after_this_request
        def tag(response):
            response.headers["X-Pet"] = p0
            return response

        return {
            "id": p0,
            "user": g.user,
            "limit": request.args.get("limit"),
            "self": url_for("pet", p0=p0),
            "endpoint": request.endpoint,
        }

    def mine():
        return {"mine": True}

    def crash():
        raise Teapot()

    def created():
        return {"ok": 1}, 201, {"Location": "/pets/9"}

    app.add_url_rule("/pets/<p0>", "pet", pet, methods=["GET"])
    app.add_url_rule("/pets/mine", "mine", mine, methods=["GET"])
    app.add_url_rule("/crash", "crash", crash, methods=["GET", "POST"])
    app.add_url_rule("/created", "created", created, methods=["POST"])
    if fast:
        app.wsgi_app = SpecDispatch(app, app.wsgi_app)
    return app, seen


REQUESTS = [
    ("GET", "/pets/7?limit=3", {"X-User": "ann"}),
    ("GET", "/pets/mine", {}),  # a literal path a dynamic route also matches
    ("GET", "/pets/7/", {}),  # trailing slash: werkzeug decides
    ("GET", "/pets//7", {}),
    ("POST", "/pets/7", {}),  # 405
    ("HEAD", "/pets/7", {}),
    ("OPTIONS", "/pets/7", {}),
    ("GET", "/crash", {}),  # a Flask error handler
    ("POST", "/created", {}),  # Location: werkzeug writes the headers
    ("GET", "/nowhere", {}),
    ("GET", "/pets/%C3%A9", {}),
]


@pytest.mark.parametrize(("method", "path", "headers"), REQUESTS)
def test_the_same_response_as_flask(method, path, headers):
    answers = []
    for fast in (False, True):
        app, seen = make_app(fast)
        r = app.test_client().open(path, method=method, headers=headers)
        answers.append((r.status_code, r.get_data(), sorted(r.headers.items()), seen["teardown"]))
    assert answers[0] == answers[1]


@pytest.fixture
def matches(monkeypatch):
    """How many times Flask's own URL matching ran."""
    from flask.ctx import RequestContext

    count = {"n": 0}
    original = RequestContext.match_request

    def counting(self):
        count["n"] += 1
        return original(self)

    monkeypatch.setattr(RequestContext, "match_request", counting)
    return count


def test_spec_routes_skip_flask_routing_and_bind_the_adapter_only_for_url_for(matches):
    app, seen = make_app(fast=True)
    client = app.test_client()
    assert client.get("/crash").status_code == 418
    seen["adapters"] = 0  # (the one-time check of Flask's request context made one)
    assert client.get("/crash").status_code == 418
    assert seen["adapters"] == 0 and matches["n"] == 0
    r = client.get("/pets/7?limit=3", headers={"X-User": "ann"})
    assert r.json == {"id": "7", "user": "ann", "limit": "3", "self": "/pets/7", "endpoint": "pet"}
    assert r.headers["X-Pet"] == "7" and r.headers["X-After"] == "yes"
    assert seen["adapters"] == 1 and matches["n"] == 0  # bound for url_for only
    client.get("/pets/mine")
    assert matches["n"] == 1  # ambiguous: Flask routed it


def test_rules_added_later_are_seen():
    app, _ = make_app(fast=True)
    client = app.test_client()
    assert client.get("/late/1").status_code == 404
    app.url_map.add(Rule("/late/<p0>", endpoint="late", methods=["GET"]))
    app.view_functions["late"] = lambda p0: {"late": p0}
    assert client.get("/late/1").json == {"late": "1"}
    app.url_map.add(Rule("/late/mine", endpoint="mine", methods=["GET"]))
    assert client.get("/late/mine").json == {"mine": True}


def test_the_table_agrees_with_werkzeug_on_the_example_service():
    app = build_app(REPO, serve="petshop")
    dispatch = app.wsgi_app
    while not isinstance(dispatch, SpecDispatch):
        dispatch = dispatch.app
    table = dispatch.table()
    assert table.enabled
    adapter = app.url_map.bind("localhost")
    checked = 0
    for rule in app.url_map.iter_rules():
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<{name}>", "x1").replace(f"<path:{name}>", "a/b")
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
            mine = table.match(method, path)
            try:
                theirs = adapter.match(path, method=method, return_rule=True)
            except (NotFound, MethodNotAllowed):
                theirs = None
            if mine is not None:
                checked += 1
                assert theirs is not None and mine[0] is theirs[0] and mine[1] == theirs[1]
    assert checked >= 5


def test_an_unknown_flask_request_context_turns_it_off(monkeypatch, matches):
    from pymacaron.server import dispatch

    monkeypatch.setattr(dispatch, "_known_context", lambda app: False)
    app, _ = make_app(fast=True)
    assert app.test_client().get("/pets/7").status_code == 200
    assert matches["n"] == 1


class Trickle:
    """A wsgi.input that hands out a few bytes per read (as a socket may)."""

    def __init__(self, data: bytes, step: int = 3):
        self.data, self.step = data, step

    def read(self, n=-1):
        n = self.step if n is None or n < 0 else min(n, self.step)
        chunk, self.data = self.data[:n], self.data[n:]
        return chunk


def _post_echo(app, body: bytes, declared: int) -> tuple[str, bytes]:
    """(status, body) of a POST /echo whose body arrives 3 bytes per read."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/echo",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": Trickle(body),
        "wsgi.errors": None,
        "CONTENT_LENGTH": str(declared),
        "CONTENT_TYPE": "application/json",
    }
    out = {}
    data = b"".join(app(environ, lambda s, h, e=None, out=out: out.update(status=s)))
    return out["status"], data


@pytest.mark.parametrize(
    ("body", "declared", "status"),
    [(b'{"a": 1}', 8, 200), (b'{"a": 1}', 20, 400), (b"x" * 100, 100, 413)],
    ids=["whole", "short", "too-large"],
)
def test_bodies_are_read_whole_or_reported_as_flask_would(body, declared, status):
    answers = []
    for fast in (False, True):
        app, _ = make_app(fast)
        app.config["MAX_CONTENT_LENGTH"] = 50
        app.add_url_rule("/echo", "echo", lambda: request.get_data(), methods=["POST"])
        answers.append(_post_echo(app, body, declared))
    assert answers[0] == answers[1]
    assert answers[1][0].startswith(str(status))
    if status == 200:
        assert answers[1][1] == body


@pytest.mark.parametrize(
    ("body", "declared", "status"),
    [(b'{"a": 1}', 8, 200), (b'{"a": 1}', 20, 400), (b"x" * 100, 100, 413)],
    ids=["whole", "short", "too-large"],
)
@pytest.mark.parametrize("read_first", [False, True], ids=["alone", "after-a-hook-read-it"])
def test_request_body_is_the_body_flask_reads(body, declared, status, read_first):
    """request_body() (what operations read) gives the bytes request.get_data() would, with
    or without the dispatch's whole read, and after a before_request hook consumed them."""
    from pymacaron.server.dispatch import request_body

    answers = []
    for fast in (False, True):
        app, _ = make_app(fast)
        app.config["MAX_CONTENT_LENGTH"] = 50
        if read_first:
            app.before_request(lambda: g.setdefault("seen", request.get_data()) and None)
        app.add_url_rule("/echo", "echo", lambda: request_body(request), methods=["POST"])
        answers.append(_post_echo(app, body, declared))
    assert answers[0][0] == answers[1][0]
    assert answers[1][0].startswith(str(status))
    if status == 200:
        assert answers[0][1] == answers[1][1] == body
