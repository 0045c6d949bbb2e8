"""One client call built from an OperationSpec: parameters, body, marshalling, models.

The body model is the single positional argument; path/query/header/form parameters are
keyword arguments (snake_case or the spec's own name). Arguments are checked against the
spec before sending; the reply is validated and returned as a model (or a list of models);
an error reply or a failure is returned as an Error model. ``x-decorate-request`` wraps
the function that sends.
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
from urllib.parse import quote

import orjson

from ..error_body import FIELDS, error_body
from ..logs import get_request_id
from ..spec import styles
from ..spec.binding import decorate, model_of
from ..spec.models import PyMacaronModel
from ..spec.parameters import OAS3Param, Param, make_param, snake_case, wire_text
from ..spec.validation import (
    JsonSchemaValueException,
    compile_schema,
    to_json_schema,
    violation_text,
)
from .oas3 import BodyWriter, ReplyReader, place_param
from .settings import base_url, client_settings
from .transport import (
    bad_response_error,
    error_to_exception,
    failure_error,
    rex,
    status_error,
    transport,
)

log = logging.getLogger("pymacaron.client")

__all__ = ["ClientOperation", "OPTIONS"]

# Options every call accepts (unless the operation has a parameter of the same name).
OPTIONS = frozenset(
    {
        "raise_on_error",
        "timeout",
        "connect_timeout",
        "read_timeout",
        "retries",
        "request_headers",
        "content_type",  # 3.x: which declared media type the body is sent as
    }
)
_IGNORED_HEADERS = ("accept", "content-type", "authorization")  # OAS 3: not parameters


def _type_ok(value, kind: str | None) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    return True


class ClientOperation:
    """``ApiPool.<api>.client.<name>``: calls one operation of another service."""

    def __init__(self, api, op, name: str, fallback_error_model=None):
        self.api = api
        # () -> the built-in Error model, for APIs whose own Error does not fit
        self._fallback_error_model = fallback_error_model
        self.op = op
        self.name = name
        self.label = f"{api.name}.{name}"
        self.method = op.method
        self.path = op.path
        self.params: dict[str, Param] = {}  # kwarg -> Param
        self.aliases: dict[str, str] = {}  # spec name -> kwarg
        self.body_spec = None
        self.dialect = getattr(api.spec, "dialect", None) or "swagger2"
        oas3 = self.dialect != "swagger2"
        for prm in op.parameters:
            if prm.get("in") == "body":
                self.body_spec = prm
                continue
            if oas3 and prm.get("in") == "header" and prm["name"].lower() in _IGNORED_HEADERS:
                continue
            kwarg = snake_case(prm["name"])
            if oas3:
                raw = api.spec.definitions
                self.params[kwarg] = make_param(prm, kwarg, api.json_definitions, raw, self.dialect)
            else:
                self.params[kwarg] = Param(prm, kwarg)
            if prm["name"] != kwarg:
                self.aliases[prm["name"]] = kwarg
        schema = (self.body_spec or {}).get("schema") or {}
        self.body_schema = schema
        self._body_validator = None
        self.body_model, self.body_many = model_of(schema, api.models)
        self._responses: dict[str, tuple] = {}
        # 3.x: bodies by media type, parameters by style, replies by media type (oas3.py)
        self.body_writer = self.reply_reader = None
        if oas3:
            if self.body_spec is not None:
                self.body_writer = BodyWriter(
                    self.body_spec,
                    api.json_definitions,
                    api.spec.definitions,
                    self.dialect,
                    op.consumes,
                )
            self.reply_reader = ReplyReader(
                op.responses, api.json_definitions, api.models, self.dialect
            )
        self.send = self._decorate(transport(op.method, self.label))
        self.__doc__ = (op.operation.get("summary") or "") + f" ({op.label} on {api.name})"

    def __repr__(self) -> str:
        return f"<client {self.label}: {self.op.label}>"

    def _decorate(self, send):
        return decorate(send, self.op, "decorate-request", self.api.spec.path)

    # -- request ---------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        options = {k: kwargs.pop(k) for k in list(kwargs) if k in OPTIONS and k not in self.params}
        settings = client_settings(self.api)
        raise_on_error = options.get("raise_on_error", settings.get("raise_on_error"))
        request = self._build(args, kwargs, options.get("content_type"))
        connect_timeout = options.get("connect_timeout", settings["connect_timeout"])
        read_timeout = options.get("read_timeout", settings["read_timeout"])
        timeout = options.get("timeout")
        if isinstance(timeout, int | float):
            connect_timeout = read_timeout = timeout
        elif isinstance(timeout, tuple | list):
            connect_timeout, read_timeout = timeout
        retries = int(options.get("retries", settings["retries"]))
        url = base_url(self.api, settings) + request.pop("path")
        headers = request["headers"]
        rid = get_request_id()
        if rid:
            headers.setdefault("X-Request-ID", rid)
        for k, v in (options.get("request_headers") or {}).items():
            headers[k] = v
        started = time.monotonic()
        try:
            response = self.send(
                url,
                timeout=(connect_timeout, read_timeout),
                verify=bool(settings.get("verify_ssl", True)),
                retries=retries,
                retry_backoff=float(settings["retry_backoff"]),
                **request,
            )
            result = self._reply(response, url)
        except rex.RequestException as e:
            result = self._failure(e, url, time.monotonic() - started)
        if raise_on_error and isinstance(result, PyMacaronModel) and result.is_error():
            raise error_to_exception(result)
        return result

    def _build(self, args, kwargs, content_type=None) -> dict:
        where = f"ApiPool.{self.label}()"
        if len(args) > 1:
            raise TypeError(f"{where} takes the body as its only positional argument")
        body = args[0] if args else None
        if args and self.body_spec is None:
            raise TypeError(f"{where}: {self.op.label} takes no body (got a positional argument)")
        if self.body_spec is not None and "body" in kwargs and "body" not in self.params:
            body = kwargs.pop("body")
        values: dict = {}
        for key, value in kwargs.items():
            kwarg = self.aliases.get(key, key)
            if kwarg not in self.params:
                known = ", ".join(sorted(self.params)) or "none"
                raise TypeError(
                    f"{where}: unexpected argument {key!r} (parameters: {known}; "
                    f"options: {', '.join(sorted(OPTIONS))})"
                )
            values[kwarg] = value
        path, params, headers, form = self.path, {}, {}, {}
        query, cookies = [], []
        for kwarg, param in self.params.items():
            value = values.get(kwarg)
            if value is None:
                if param.required:
                    raise TypeError(f"{where}: the {param.label} is required ({kwarg}=...)")
                continue
            self._check_param(param, value)
            if isinstance(param, OAS3Param):
                try:
                    path = place_param(param, value, path, query, headers, cookies)
                except (TypeError, ValueError, AttributeError) as e:
                    raise ValueError(f"{where}: the {param.label}: {e}") from None
                continue
            if param.kind == "array":
                items = [wire_text(v) for v in value]
                encoded = items if param.multi else param.separator.join(items)
            else:
                encoded = wire_text(value)
            if param.location == "path":
                path = path.replace("{" + param.name + "}", quote(encoded, safe=""))
            elif param.location == "query":
                params[param.name] = encoded
            elif param.location == "header":
                headers[param.name] = encoded
            elif param.location == "formData":
                form[param.name] = encoded
        request: dict = {"path": path, "params": params, "headers": headers}
        if query:
            request["params"] = styles.query_string(query)
        if cookies:
            headers["Cookie"] = styles.cookie_header(cookies)
        if self.body_writer is not None:
            written = self.body_writer.write(body, where, content_type)
            headers.update(written.pop("headers", {}))
            request.update(written)
        elif self.body_spec is not None:
            data = self._body(body, where)
            if data is not None:
                request["data"] = orjson.dumps(data)
                headers["Content-Type"] = "application/json"
        elif form:
            request["data"] = form
        return request

    def _check_param(self, param: Param, value) -> None:
        where = f"ApiPool.{self.label}()"
        values = value if param.kind == "array" else [value]
        if param.kind == "array" and not isinstance(value, list | tuple):
            raise ValueError(f"{where}: the {param.label} must be a list")
        kind = param.items_kind if param.kind == "array" else param.kind
        for v in values:
            if not _type_ok(v, kind) and not (kind == "string" and isinstance(v, _dt.date)):
                raise ValueError(
                    f"{where}: the {param.label} must be of type {kind}, got {type(v).__name__}"
                )
        if param.validator is not None:
            checked = list(value) if param.kind == "array" else value
            if isinstance(checked, _dt.date) or (
                isinstance(checked, list) and any(isinstance(v, _dt.date) for v in checked)
            ):
                return
            try:
                param.validator(checked)
            except JsonSchemaValueException as e:
                raise ValueError(
                    f"{where}: the {param.label}: {violation_text(e, root='')}"
                ) from None

    def _body(self, body, where: str):
        if body is None:
            if self.body_spec.get("required"):
                raise TypeError(f"{where}: a body is required ({self.op.label})")
            return None
        if isinstance(body, PyMacaronModel):
            data = body.to_json()
        elif isinstance(body, list):
            data = [v.to_json() if isinstance(v, PyMacaronModel) else v for v in body]
        else:
            data = body
        if self.body_schema:
            if self._body_validator is None:
                self._body_validator = compile_schema(
                    to_json_schema(self.body_schema), self.api.json_definitions
                )
            try:
                self._body_validator(data)
            except JsonSchemaValueException as e:
                raise ValueError(f"{where}: {violation_text(e, root='body')}") from None
        return data

    # -- reply -----------------------------------------------------------------------
    def _response_entry(self, status: int):
        key = str(status)
        if key not in self._responses:
            resp = self.op.responses.get(key) or self.op.responses.get("default")
            if resp is None:
                self._responses[key] = (False, None, None, False)
            else:
                schema = resp.get("schema")
                validator = (
                    compile_schema(to_json_schema(schema), self.api.json_definitions)
                    if schema
                    else None
                )
                model, many = model_of(schema or {}, self.api.models)
                self._responses[key] = (True, validator, model, many)
        return self._responses[key]

    def _reply(self, response, url: str):
        status = response.status_code
        if self.reply_reader is not None and status < 300:  # 3.x: by media type
            ok, value = self.reply_reader.read(status, response)
            return value if ok else self._bad(value, url)
        content = response.content
        data = None
        parsed = False
        if content:
            try:
                data = orjson.loads(content)
                parsed = True
            except orjson.JSONDecodeError:
                parsed = False
        if status >= 300:
            return self._error_reply(status, data if parsed else None, content, url)
        declared, validator, model, many = self._response_entry(status)
        if not declared:
            return self._bad(f"returned status {status}, which the spec does not declare", url)
        if not content:
            if validator is not None:
                return self._bad(f"returned no body for status {status}", url)
            return None
        if not parsed:
            return self._bad(f"returned a {status} reply that is not JSON", url)
        if validator is not None:
            try:
                validator(data)
            except JsonSchemaValueException as e:
                return self._bad(
                    f"returned a {status} body that does not match the spec: "
                    f"{violation_text(e, root='response')}",
                    url,
                )
        if model is not None:
            return [model.from_json(v) for v in data] if many else model.from_json(data)
        return data

    def _error_model(self, body: dict):
        cls = self.api.models.get("Error")
        if cls is None or not set(FIELDS) <= set(cls.__properties__):
            if self._fallback_error_model is None:
                raise LookupError(f"{self.label}: no Error model to return {body.get('error')}")
            cls = self._fallback_error_model()
        return cls.from_json({k: v for k, v in body.items() if v is not None})

    def _error_reply(self, status: int, data, content: bytes, url: str):
        if (
            isinstance(data, dict)
            and isinstance(data.get("error"), str)
            and isinstance(data.get("status", status), int)
        ):
            error_id = data.get("error_id")
            body = error_body(
                data.get("status") or status,
                data["error"],
                data.get("error_description") or "",
                error_id if isinstance(error_id, str) else None,
                data.get("user_message"),
            )
            log.info(
                "%s: %s %s error_id=%s", self.label, body["status"], body["error"], body["error_id"]
            )
            return self._error_model(body)
        error = status_error(self.label, self.method, url, status, content)
        return self._error_model(error.to_dict())

    def _bad(self, why: str, url: str):
        error = bad_response_error(self.label, self.method, url, why)
        return self._error_model(error.to_dict())

    def _failure(self, e: BaseException, url: str, elapsed: float):
        error = failure_error(e, self.label, self.method, url, elapsed)
        return self._error_model(error.to_dict())
