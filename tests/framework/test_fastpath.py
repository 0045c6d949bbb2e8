"""The fast path (server/fastpath.py): spec routes without Flask's request context, the
same replies as Flask's path, and Flask's path whenever something could see the difference."""

import json
import logging
import sys
import textwrap

import pytest
from flask import signals
from flask.ctx import RequestContext

from pymacaron import MiddlewarePosition, create_app
from pymacaron.server import fastpath
from tests.conftest import reset_pymacaron

SPEC = """\
swagger: "2.0"
info: {title: fast, version: "1.0"}
consumes: [application/json]
produces: [application/json]
paths:
  /items/{item_id}:
    get:
      x-bind-server: MODULE.get_item
      parameters:
        - {name: item_id, in: path, type: integer, required: true, minimum: 1}
        - {name: tag, in: query, type: string}
      responses:
        "200": {description: ok, schema: {$ref: "#/definitions/Item"}}
        default: {description: error, schema: {$ref: "#/definitions/Error"}}
  /items:
    post:
      x-bind-server: MODULE.add_item
      parameters:
        - {name: body, in: body, required: true, schema: {$ref: "#/definitions/NewItem"}}
      responses:
        "201": {description: ok, schema: {$ref: "#/definitions/Item"}}
        default: {description: error, schema: {$ref: "#/definitions/Error"}}
definitions:
  NewItem:
    type: object
    additionalProperties: false
    required: [name]
    properties: {name: {type: string, maxLength: 10}}
  Item:
    type: object
    required: [id, name]
    properties:
      id: {type: integer}
      name: {type: string}
      tag: {type: string}
      service: {type: string}
  Error:
    type: object
    properties:
      status: {type: integer}
      error: {type: string}
      error_description: {type: string}
      error_id: {type: string}
      user_message: {type: string}
"""

PLAIN = """\
from pymacaron.config import get_config
from pymacaron.exceptions import add_error

NotFound = add_error("ItemNotFoundError", "ITEM_NOT_FOUND", 404)
CALLS = []


def get_item(item_id, tag=None):
    CALLS.append(item_id)
    if item_id == 404:
        raise NotFound(f"no item {item_id}")
    if item_id == 500:
        return {"id": "not an integer", "name": "x"}
    item = {"id": item_id, "name": "one", "service": get_config().name}
    if tag is not None:
        item["tag"] = tag
    return item


def add_item(new_item):
    CALLS.append(new_item.name)
    return {"id": 1, "name": new_item.name}, 201
"""


def service(tmp_path, name: str, module_text: str, **files) -> str:
    """A service directory whose handlers are ``module_text`` (module ``name``)."""
    root = tmp_path / name
    (root / "apis").mkdir(parents=True)
    (root / "apis" / "fast.yaml").write_text(SPEC.replace("MODULE", name))
    (root / "pym-config.yaml").write_text("name: fast-svc\nresponse_validation: error\n")
    (root / f"{name}.py").write_text(textwrap.dedent(module_text))
    for file, text in files.items():
        (root / f"{file}.py").write_text(textwrap.dedent(text))
    return str(root)


@pytest.fixture
def build(tmp_path, monkeypatch):
    """build(name, module_text, **helper_modules) -> the app (a fresh service)."""
    made = []

    def make(name, module_text=PLAIN, fast=True, middleware=(), **files):
        reset_pymacaron()
        if not fast:
            monkeypatch.setenv(fastpath.FAST_PATH_ENV, "0")
        else:
            monkeypatch.delenv(fastpath.FAST_PATH_ENV, raising=False)
        root = service(tmp_path, name, module_text, **files)
        made.extend([name, *files])
        return create_app(root, middleware=middleware)

    yield make
    for name in made:
        sys.modules.pop(name, None)
    reset_pymacaron()


@pytest.fixture
def contexts(monkeypatch):
    """How many Flask request contexts were pushed."""
    count = {"n": 0}
    original = RequestContext.push

    def counting(self):
        count["n"] += 1
        return original(self)

    monkeypatch.setattr(RequestContext, "push", counting)
    return count


REQUESTS = [
    ("GET", "/items/7?tag=red", None),
    ("GET", "/items/7", None),
    ("GET", "/items/404", None),  # the handler's error
    ("GET", "/items/500", None),  # a reply that does not match the spec
    ("GET", "/items/0", None),  # a parameter out of bounds
    ("GET", "/items/x", None),  # not an integer
    ("POST", "/items", {"name": "pen"}),
    ("POST", "/items", {"name": "far too long a name"}),  # body validation
    ("POST", "/items", {"name": "pen", "extra": 1}),
    ("POST", "/items", "not json"),
    ("GET", "/nowhere", None),
]


def _open(client, method, path, body):
    kwargs = {"headers": {"X-Request-ID": "rid-1"}}
    if body is not None:
        kwargs["data"] = body if isinstance(body, str) else json.dumps(body)
        kwargs["content_type"] = "application/json"
    r = client.open(path, method=method, **kwargs)
    data = r.get_json(silent=True)
    if isinstance(data, dict):
        data.pop("error_id", None)  # random per error
    return r.status, data, list(r.headers.items())  # the status line, the headers in order


def test_the_same_replies_as_flasks_path(build, contexts):
    replies = {}
    for fast in (False, True):
        contexts["n"] = 0
        app = build(f"same_{int(fast)}", fast=fast)
        client = app.test_client()
        replies[fast] = [_open(client, *req) for req in REQUESTS]
        pushed = contexts["n"]
        if fast:  # only the unknown path went through Flask
            assert pushed == 1
        else:
            assert pushed == len(REQUESTS)
    assert replies[True] == replies[False]
    status, data, headers = replies[True][0]
    assert (status, data["tag"], data["service"]) == ("200 OK", "red", "fast-svc")
    names = dict(headers)
    assert names["X-Request-ID"] == "rid-1"
    assert names["X-Content-Type-Options"] == "nosniff"
    codes = [int(r[0].split()[0]) for r in replies[True]]
    assert codes == [200, 200, 404, 500, 400, 400, 201, 400, 400, 400, 404]
    assert replies[True][6][0] == "201 CREATED"


def _served_by_flask(app, contexts, path="/items/7") -> dict:
    contexts["n"] = 0
    r = app.test_client().get(path)
    assert r.status_code == 200, r.get_data()
    assert contexts["n"] == 1, "served without Flask's request context"
    return r.get_json()


def _op(app, endpoint_part="get./items/{item_id}"):
    return next(v for k, v in app.view_functions.items() if k.endswith(endpoint_part))


def test_a_handler_module_that_reads_flask_request_gets_flasks_path(build, contexts):
    app = build(
        "reads_request",
        PLAIN.replace("CALLS = []", "from flask import request\nCALLS = []").replace(
            'item = {"id": item_id, "name": "one"',
            'item = {"id": item_id, "name": request.headers.get("X-Name", "one")',
        ),
    )
    assert "context proxy" in _op(app).fast_reason
    r = app.test_client().get("/items/7", headers={"X-Name": "named"})
    assert r.get_json()["name"] == "named"
    _served_by_flask(app, contexts)


def test_flask_g_and_the_flask_module_and_a_helper_module_count(build, contexts):
    uses_g = build("uses_g", PLAIN.replace("CALLS = []", "from flask import g\nCALLS = []"))
    assert "context proxy" in _op(uses_g).fast_reason
    _served_by_flask(uses_g, contexts)
    uses_flask = build("uses_flask", "import flask\n" + PLAIN)
    assert _op(uses_flask).fast_reason == "uses_flask: uses flask"
    _served_by_flask(uses_flask, contexts)
    # the handler's module calls a helper of the service that reads flask.request
    helper = "from flask import request\n\ndef who():\n    return request.remote_addr\n"
    via_helper = build(
        "via_helper", "from via_helper_util import who\n" + PLAIN, via_helper_util=helper
    )
    assert "via_helper_util" in _op(via_helper).fast_reason or "context proxy" in (
        _op(via_helper).fast_reason
    )
    _served_by_flask(via_helper, contexts)
    # pymacaron's own context users: auth (reads the token from flask.request)
    uses_auth = build("uses_auth", "from pymacaron.auth import get_userid\n" + PLAIN)
    assert "pymacaron.auth" in _op(uses_auth).fast_reason
    marked = build("marked", "PYM_FLASK_CONTEXT = True\n" + PLAIN)
    assert "PYM_FLASK_CONTEXT" in _op(marked).fast_reason
    _served_by_flask(marked, contexts)


def test_a_plain_handler_takes_the_fast_path(build, contexts):
    app = build("plain_one")
    op = _op(app)
    assert op.fast_reason is None
    contexts["n"] = 0
    assert app.test_client().get("/items/7").status_code == 200
    assert contexts["n"] == 0


@pytest.mark.parametrize(
    "hook", ["before_request", "after_request", "teardown_request", "teardown_appcontext"]
)
def test_a_flask_hook_turns_it_off_and_runs(build, contexts, hook):
    app = build(f"hook_{hook}")
    ran = []

    def before():
        ran.append("before")

    def after(response):
        ran.append("after")
        response.headers["X-Hook"] = "yes"
        return response

    def teardown(exc):
        ran.append("teardown")

    fn = {"before_request": before, "after_request": after}.get(hook, teardown)
    getattr(app, hook)(fn)  # registered after the first request would be too late
    _served_by_flask(app, contexts)
    assert ran


def test_a_signal_receiver_turns_it_off(build, contexts):
    app = build("signal_one")
    seen = []

    def receiver(sender, **extra):
        seen.append(sender)

    with signals.request_started.connected_to(receiver, app):
        _served_by_flask(app, contexts)
    assert seen == [app]
    contexts["n"] = 0
    app.test_client().get("/items/7")
    assert contexts["n"] == 0  # disconnected: fast again


def test_a_url_value_preprocessor_turns_it_off(build, contexts):
    app = build("url_values_one")
    seen = []
    app.url_value_preprocessor(lambda endpoint, values: seen.append(endpoint))
    _served_by_flask(app, contexts)
    assert seen


def test_registered_but_empty_hooks_and_another_apps_receiver_keep_it(build, contexts):
    # plain_app's cheap test sees a non-empty dict or a signal with receivers and asks
    # _hooks_used for the exact answer: an empty list under a name, a receiver of another
    # sender, are no reason to build Flask's context
    app = build("empty_hooks_one")
    for funcs in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        funcs["some_blueprint"] = []
    other = object()

    def receiver(sender, **extra):
        raise AssertionError("a receiver of another sender ran")

    with signals.request_started.connected_to(receiver, other):
        contexts["n"] = 0
        r = app.test_client().get("/items/7")
        assert r.status_code == 200 and contexts["n"] == 0
    app.before_request_funcs["some_blueprint"].append(lambda: None)  # now one is used
    _served_by_flask(app, contexts)


def test_an_error_callback_or_a_session_cookie_turns_it_off(build, contexts):
    from pymacaron import current

    app = build("callback_one")
    service = app.extensions[current.EXTENSION]
    service.hooks.error_callback = lambda body: body
    _served_by_flask(app, contexts)
    service.hooks.error_callback = None
    app.secret_key = "s3cret"
    contexts["n"] = 0
    app.test_client().get("/items/7")
    assert contexts["n"] == 0  # a secret key but no cookie: no session to load
    contexts["n"] = 0
    client = app.test_client()
    client.set_cookie("session", "abc")
    r = client.get("/items/7")
    assert r.status_code == 200 and contexts["n"] == 1


def test_a_test_client_keeping_the_context_gets_flasks_path(build):
    from flask import request

    app = build("keeps_context")
    with app.test_client() as client:
        assert client.get("/items/7").status_code == 200
        assert request.path == "/items/7"  # the context is kept for the test to read


def test_a_handler_the_scan_misses_is_served_again_by_flask(build, contexts, caplog):
    # flask.request reached through sys.modules: no name of the module says so
    sneaky = PLAIN.replace(
        'item = {"id": item_id, "name": "one"',
        'import sys\n    item = {"id": item_id, "name": sys.modules["flask"].request.path',
    )
    app = build("sneaky", sneaky)
    op = _op(app)
    assert op.fast_reason is None
    handlers = sys.modules["sneaky"]
    with caplog.at_level(logging.WARNING, logger="pymacaron"):
        r = app.test_client().get("/items/7")
    assert r.status_code == 200 and r.get_json()["name"] == "/items/7"
    assert handlers.CALLS == [7, 7]  # run twice: once without the context, once with it
    assert op.fast_reason == "used Flask's context at run time"
    assert "used Flask's request context" in caplog.text
    assert _served_by_flask(app, contexts)["name"] == "/items/7"
    assert handlers.CALLS == [7, 7, 7]


def test_a_post_the_scan_misses_is_answered_500_never_run_twice(build, contexts, caplog):
    # the POST handler stores something (CALLS), then reaches flask.request unseen
    sneaky = PLAIN.replace(
        'return {"id": 1, "name": new_item.name}, 201',
        'import sys\n    return {"id": 1, "name": sys.modules["flask"].request.path}, 201',
    )
    app = build("sneaky_post", sneaky)
    op = _op(app, "post./items")
    assert op.fast_reason is None
    handlers = sys.modules["sneaky_post"]
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="pymacaron"):
        r = client.post("/items", json={"name": "a"})
    assert handlers.CALLS == ["a"]  # once: a POST is never run a second time
    assert r.status_code == 500 and r.get_json()["error"] == "UNHANDLED_SERVER_ERROR"
    assert op.fast_reason == "used Flask's context at run time"
    assert "answered 500, not run a second time" in caplog.text
    r = client.post("/items", json={"name": "b"})  # from now on: Flask's path
    assert r.status_code == 201 and r.get_json()["name"] == "/items"
    assert handlers.CALLS == ["a", "b"]


def test_a_user_middleware_still_wraps_fast_requests(build, contexts):
    seen = []

    def tagging(wsgi_app):
        def middleware(environ, start_response):
            seen.append(environ["PATH_INFO"])

            def start(status, headers, exc_info=None):
                headers.append(("X-Mine", "1"))
                return start_response(status, headers, exc_info)

            return wsgi_app(environ, start)

        return middleware

    for position in MiddlewarePosition:
        seen.clear()
        app = build(f"middleware_{position.name.lower()}", middleware=[(position, tagging)])
        contexts["n"] = 0
        r = app.test_client().get("/items/7")
        assert r.status_code == 200 and r.headers["X-Mine"] == "1"
        assert seen == ["/items/7"] and contexts["n"] == 0


def test_a_body_over_the_limit_is_refused_on_flasks_path(build, contexts):
    app = build("limits_one")
    app.config["MAX_CONTENT_LENGTH"] = 20
    contexts["n"] = 0
    r = app.test_client().post(
        "/items", data=json.dumps({"name": "x" * 40}), content_type="application/json"
    )
    assert r.status_code == 413 and contexts["n"] == 1
    assert r.get_json()["error"] == "REQUEST_TOO_LARGE"


def test_pym_fast_path_0_turns_it_off(build, contexts):
    app = build("switched_off", fast=False)
    assert _op(app).fast_reason == "PYM_FAST_PATH=0"
    _served_by_flask(app, contexts)


LEAN_ENVIRON = {
    "REQUEST_METHOD": "get",
    "SCRIPT_NAME": "/base/",
    "PATH_INFO": "/a%20b/\xc3\xa9",
    "QUERY_STRING": "a=1&b=2&a=3",
    "SERVER_NAME": "localhost",
    "SERVER_PORT": "8081",
    "HTTP_HOST": "example.com:8080",
    "HTTP_ACCEPT": "application/json;q=0.5, text/plain",
    "REMOTE_ADDR": "10.0.0.1",
    "CONTENT_TYPE": "application/json; charset=utf-8",
    "CONTENT_LENGTH": "12",
    "wsgi.url_scheme": "https",
}


def test_the_lean_request_reads_as_flasks_request():
    from flask import Request

    assert fastpath.LEAN is fastpath.LeanRequest
    lean, full = fastpath.LeanRequest(dict(LEAN_ENVIRON)), Request(dict(LEAN_ENVIRON))
    for name in (
        "method", "scheme", "server", "root_path", "path", "query_string", "remote_addr",
        "args", "mimetype", "mimetype_params", "content_length", "url", "host", "full_path",
    ):  # fmt: skip
        assert getattr(lean, name) == getattr(full, name), name
    assert list(lean.headers) == list(full.headers)
    assert str(lean.accept_mimetypes) == str(full.accept_mimetypes)
    assert lean.environ["werkzeug.request"] is lean


def test_an_unknown_werkzeug_request_gets_the_full_request_class(monkeypatch):
    from flask import Request

    monkeypatch.setattr(fastpath, "_EAGER", fastpath._EAGER | {"something_new"})
    assert fastpath._lean_request_class() is Request
