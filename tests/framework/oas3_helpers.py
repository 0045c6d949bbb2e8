"""Build a Flask app from hand-written normalized 3.x operations (the form spec/load.py
gives Operation), for the OpenAPI 3 parameter, body and client tests."""

from __future__ import annotations

from types import SimpleNamespace

from flask import Flask

from pymacaron.server.operation import Operation, flask_rule
from pymacaron.spec.load import ApiSpec, OperationSpec
from pymacaron.spec.models import build_models
from pymacaron.spec.validation import json_definitions

HANDLERS = "tests.framework.oas3_helpers"


def echo(*args, **kwargs):
    """Every argument back, as JSON (files by name and content)."""
    out = {k: _json(v) for k, v in kwargs.items()}
    if args:
        out["__body__"] = _json(args[0])
    return out


def strict(session):
    return {"session": session}


def reply_with(*args, **kwargs):
    """Returns what the test put in REPLY (body, status[, headers])."""
    return REPLY["value"]


REPLY: dict = {}


def _json(value):
    if hasattr(value, "to_json"):
        return {"__model__": type(value).__name__, **value.to_json()}
    if hasattr(value, "filename") and hasattr(value, "read"):
        return {"__file__": value.filename, "content": value.read().decode("latin-1")}
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return {"__bytes__": value.decode("latin-1")}
    return value


def operation(path, parameters, method="get", responses=None, consumes=(), produces=(), **x):
    op = {"operationId": "op", "x-bind-server": f"{HANDLERS}.{x.pop('handler', 'echo')}"}
    op.update({f"x-{k.replace('_', '-')}": v for k, v in x.items()})
    responses = responses or {
        "200": {"description": "ok", "x-pym-content": {"application/json": {}}}
    }
    return OperationSpec(
        api="t",
        method=method,
        path=path,
        operation=op,
        parameters=parameters,
        responses=responses,
        consumes=list(consumes) or ["application/json"],
        produces=list(produces) or ["application/json"],
    )


def make_client(operations, definitions=None, dialect="oas30", **config):
    definitions = definitions or {}
    api = ApiSpec(
        name="t",
        path="t.yaml",
        spec={"openapi": "3.0.3", "definitions": definitions},
        dialect=dialect,
    )
    models = build_models("t", definitions)
    conf = SimpleNamespace(
        response_validation="error",
        reject_unknown_query_params=False,
        error_model=None,
    )
    for k, v in config.items():
        setattr(conf, k, v)
    app = Flask("oas3test")
    for op in operations:
        view = Operation(op, api, json_definitions(definitions, dialect), models, conf)
        rule, _ = flask_rule(op.path)
        app.add_url_rule(rule, endpoint=view.endpoint, view_func=view, methods=[op.method.upper()])
    return app.test_client(use_cookies=False)


def param(name, where, schema, oas="3.0", **extra):
    """A normalized 3.x parameter (style/explode filled as spec/load.py fills them)."""
    style, explode = ("form", True) if where in ("query", "cookie") else ("simple", False)
    out = {
        "name": name,
        "in": where,
        "schema": schema,
        "style": style,
        "explode": explode,
        "x-pym-oas": oas,
    }
    out.update(extra)
    return out


# -- a client of the same operations, sent through requests into the in-process app ------
CLIENT_HOST = "oas3.test"


class _FlaskAdapter:
    """A requests transport adapter answering from a Flask test client: what the client
    sends is the exact prepared request (URL, headers, body bytes) requests would put on
    the wire."""

    def __init__(self, client):
        self.client = client
        self.sent = []

    def send(self, prepared, **kwargs):
        import requests
        from requests.structures import CaseInsensitiveDict

        self.sent.append(prepared)
        url = prepared.url.split("://", 1)[1]
        url = url[url.index("/") :] if "/" in url else "/"
        body = prepared.body
        if hasattr(body, "read"):
            body = body.read()
        reply = self.client.open(
            url, method=prepared.method, headers=dict(prepared.headers), data=body or b""
        )
        response = requests.Response()
        response.status_code = reply.status_code
        response._content = reply.data
        response.headers = CaseInsensitiveDict(dict(reply.headers))
        response.url = prepared.url
        response.request = prepared
        response.encoding = reply.mimetype_params.get("charset") or "utf-8"
        return response

    def close(self):
        pass


def make_pair(operations, definitions=None, dialect="oas30"):
    """(flask test client, ApiClient of the same operations, adapter recording requests)."""
    from pymacaron.client import build_client
    from pymacaron.client.transport import _session

    definitions = definitions or {}
    server = make_client(operations, definitions, dialect)
    spec = ApiSpec(
        name="t",
        path="t.yaml",
        spec={"openapi": "3.0.3", "definitions": definitions},
        dialect=dialect,
        document={"openapi": "3.0.3", "servers": [{"url": f"http://{CLIENT_HOST}"}]},
    )
    spec.operations = list(operations)
    api = SimpleNamespace(
        name="t",
        spec=spec,
        models=build_models("t", definitions),
        json_definitions=json_definitions(definitions, dialect),
        client_settings={},
    )
    adapter = _FlaskAdapter(server)
    _session().mount(f"http://{CLIENT_HOST}", adapter)
    from pymacaron.apipool import builtin_error_model

    return server, build_client(api, builtin_error_model), adapter


def first_arg(body, **kwargs):
    return body


def add_marker(send):
    def marked(url, **kwargs):
        kwargs.setdefault("headers", {})["X-Marker"] = "yes"
        return send(url, **kwargs)

    return marked
