"""One served operation: bind the handler, compile the validators, run the request pipeline.

The whole pipeline is :meth:`Operation.__call__`, in order:
declared security (security/guard.py) -> parameters -> body -> handler -> result -> response validation -> JSON reply.
Everything the spec fixes (validators, coercions, models, kwarg names) is computed once,
when the operation is built at startup -- for an OpenAPI 3 operation, that includes which
request reader (styles, cookies, bodies by media type: parameters.py, styles.py, bodies.py)
and which reply step (per-status media types, declared headers) the one pipeline calls.
"""

from __future__ import annotations

import inspect
import logging
import os
import re
from contextvars import ContextVar
from urllib.parse import unquote

import orjson
from flask import Response, request

from ..exceptions import BadResponseError, InvalidParameterError, PyMacaronException, StartupError
from ..security.guard import guard_for
from ..spec.binding import decorate, import_dotted
from ..spec.binding import model_of as _model_of
from ..spec.jsondoc import BodyError, parse_json_body
from ..spec.load import ApiSpec, OperationSpec
from ..spec.models import PyMacaronModel
from ..spec.parameters import OAS3Param, Param, ParamError, make_param, schema_validator, snake_case
from ..spec.styles import parse_cookies, parse_query
from ..spec.validation import (
    JsonSchemaValueException,
    to_json_schema,
    validator_for,
    violation_text,
)
from ..spec.yamlfile import display_path
from .bodies import RequestBody, invalid_body
from .dispatch import request_body
from .replies import exception_reply, json_reply

log = logging.getLogger("pymacaron")
# While an app is built: ``(operation, op_spec, api) -> handler`` replacing x-bind-server, or
# None to bind it (pym mock, run/mock.py); with ALLOW_UNBOUND_ENV=1 (pym run --allow-unbound) a target that
# does not import answers 501 NOT_IMPLEMENTED instead of refusing startup.
BINDER: ContextVar = ContextVar("pym_binder", default=None)
ALLOW_UNBOUND_ENV = "PYM_ALLOW_UNBOUND"

__all__ = ["Operation", "decorate", "import_dotted", "flask_rule"]

_PATH_VAR = re.compile(r"{([^}/]+)}")
_IGNORED_HEADERS = ("accept", "content-type", "authorization")
_JSON_TYPES = ("application/json", "text/json")


def flask_rule(path: str) -> tuple[str, list[str]]:
    """``/pets/{pet-id}`` -> (``/pets/<p0>``, ['pet-id']).

    Percent-encoded characters of the spec's path are decoded (``green%20color`` is the
    path a client writes as ``green%20color``, and werkzeug matches decoded paths), except
    an encoded ``/``, which stays inside its segment.
    """
    names: list[str] = []
    out: list[str] = []
    last = 0
    for m in _PATH_VAR.finditer(path):
        out.append(_decoded(path[last : m.start()]))
        names.append(m.group(1))
        out.append(f"<p{len(names) - 1}>")
        last = m.end()
    out.append(_decoded(path[last:]))
    return "".join(out), names


def _decoded(literal: str) -> str:
    if "%" not in literal:
        return literal
    return "%2F".join(unquote(part) for part in re.split("%2[fF]", literal))


def _is_json(mimetype: str) -> bool:
    return mimetype in _JSON_TYPES or mimetype.endswith("+json")


def _is_text(mimetype: str) -> bool:
    return mimetype.startswith("text/") or mimetype.endswith(("/xml", "+xml"))


def _media_types(declared: list[str]) -> list[str]:
    """Declared media types without parameters, lowercased (``text/plain; charset=x``)."""
    return [m.split(";", 1)[0].strip().lower() for m in declared if isinstance(m, str)]


def _concrete(declared: list[str], dedupe: bool = True) -> list[str]:
    """Declared reply media types with wildcards made concrete: ``*/*`` and
    ``application/*`` -> application/json, ``text/*`` -> text/plain, any other ``x/*``
    -> application/octet-stream."""
    out: list[str] = []
    for m in declared:
        if m in ("*/*", "*", "application/*"):
            m = "application/json"
        elif m == "text/*":
            m = "text/plain"
        elif m.endswith("/*"):
            m = "application/octet-stream"
        if not dedupe or m not in out:
            out.append(m)
    return out


def _matches(mimetype: str, declared: list[str]) -> bool:
    for d in declared:
        if d == mimetype or d == "*/*":
            return True
        if d.endswith("/*") and mimetype.startswith(d[:-1]):
            return True
    return False


class _Body:
    """The body parameter: which Content-Types it takes, its validator, its model."""

    __slots__ = ("name", "required", "validator", "model", "many", "consumes", "json", "nullable")

    def __init__(self, spec: dict, definitions: dict, models: dict, consumes: list[str]):
        self.name = spec.get("name", "body")
        self.required = bool(spec.get("required"))
        schema = spec.get("schema") or {}
        self.consumes = _media_types(consumes) or ["application/json"]
        # JSON bodies are parsed and validated; other declared types reach the handler as
        # bytes (binary) or str (text, XML) -- a string schema of format binary says so too
        binary = schema.get("type") == "string" and schema.get("format") == "binary"
        self.json = not binary and any(_is_json(c) or c == "*/*" for c in self.consumes)
        self.validator = (
            validator_for(to_json_schema(schema), definitions) if schema and self.json else None
        )
        self.model, self.many = _model_of(schema, models)
        self.nullable = schema.get("x-nullable") is True

    def missing(self, label: str) -> str:
        kind = "JSON" if self.json else self.consumes[0]
        return f"body: a {kind} body is required by {label}"


class Operation:
    """A Flask view for one spec operation."""

    def __init__(self, op: OperationSpec, api: ApiSpec, definitions: dict, models: dict, config):
        self.spec = op
        self.api = api
        self.label = f"{op.label} ({api.name})"
        self.endpoint = f"{api.name}.{op.method}.{op.path}"
        self.response_validation = config.response_validation or "error"
        self.handler, self.target = self._bind(op, api)
        self.guard = guard_for(op, api, config)  # the declared security (fail closed)
        signature = _signature_of(self.target)

        self.path_params: list[tuple[str, Param]] = []
        self.query_params: list[Param] = []
        self.header_params: list[Param] = []
        self.form_params: list[Param] = []
        self.cookie_params: list[OAS3Param] = []
        self.body: _Body | RequestBody | None = None
        self.dialect = getattr(api, "dialect", None) or "swagger2"
        oas3 = self.dialect != "swagger2"
        _, path_names = flask_rule(op.path)
        for prm in op.parameters:
            where = prm.get("in")
            if where == "body":
                if oas3:
                    self.body = RequestBody(
                        prm, definitions, api.definitions, models, self.dialect, op.consumes
                    )
                else:
                    self.body = _Body(prm, definitions, models, op.consumes)
                continue
            if oas3 and where == "header" and prm["name"].lower() in _IGNORED_HEADERS:
                continue  # OAS 3: these header parameters "SHALL be ignored"
            kwarg = _kwarg_name(prm["name"], signature)
            if oas3:
                try:
                    param = make_param(prm, kwarg, definitions, api.definitions, self.dialect)
                except ParamError as e:
                    raise StartupError(
                        f"{where} parameter {prm['name']!r}: {e}",
                        file=display_path(api.path),
                        location=op.label,
                    ) from None
            else:
                param = Param(prm, kwarg)
            if where == "path":
                self.path_params.append((f"p{path_names.index(param.name)}", param))
            elif where == "query":
                self.query_params.append(param)
            elif where == "header":
                self.header_params.append(param)
            elif where == "formData":
                self.form_params.append(param)
            elif where == "cookie":
                self.cookie_params.append(param)
        self.known_query = {p.name for p in self.query_params}
        if oas3:
            # 3.x: the style table reads the raw query string (styles.py); chosen here, at
            # startup, so the Swagger 2.0 path keeps its own reader untouched
            self.read_request = self._read_request_oas3
            self.query_prefixes = tuple(
                p.name + "[" for p in self.query_params if p.style == "deepObject"
            )
            self.query_open = False
            for p in self.query_params:
                if p.shape == "object" and p.explode and p.style == "form":
                    if p.keys is None:
                        self.query_open = True
                    else:
                        self.known_query |= p.keys
        self.reject_unknown_query = bool(config.reject_unknown_query_params)
        self.consumes_form = any(
            c in ("application/x-www-form-urlencoded", "multipart/form-data") for c in op.consumes
        ) or bool(self.form_params)
        self._check_signature(signature)

        self.responses: dict[int, tuple] = {}
        self.default_response = None
        self.no_responses = not op.responses  # 3.1 allows an operation without responses
        for code, resp in op.responses.items():
            schema = resp.get("schema")
            if oas3:
                validator = (
                    schema_validator(schema, definitions, self.dialect, "response")
                    if schema
                    else None
                )
            else:
                validator = validator_for(to_json_schema(schema), definitions) if schema else None
            entry = (validator, bool(schema))
            if code == "default":
                self.default_response = entry
            elif code.isdigit():
                self.responses[int(code)] = entry
        self.error_model = None
        if config.error_model == "auto":
            from ..spec.errormodel import renderers_for

            self.error_model = renderers_for(
                op.responses, api.definitions, op.label, display_path(api.path)
            )
        success = sorted(c for c in self.responses if 200 <= c < 300)
        self.default_status = 200 if (200 in self.responses or not success) else success[0]
        # content negotiation, fixed per operation: JSON-only operations (most) only look
        # for a JSON-compatible Accept header, others pick among their declared types
        declared = _media_types(op.produces)
        # a wildcard (`*/*`, `application/*`) is no Content-Type: a reply is sent as a
        # concrete type (JSON for a JSON body), and an Accept the spec allows gets it
        self.any_type = any("*" in m for m in declared)
        self.produces = _concrete(declared) or ["application/json"]
        self.json_only = all(_is_json(m) for m in self.produces)
        self.json_type = next((m for m in self.produces if _is_json(m)), "application/json")
        if self.json_type not in ("application/json",) and "application/json" in self.produces:
            self.json_type = "application/json"
        # 3.x: per status, the media types it declares and each one's validator
        self.media_validators: dict[tuple[int | str, str], object] = {}
        self.reply_media: dict[int | str, tuple[str, ...]] = {}
        self.reply_headers: dict[int | str, tuple] = {}
        if oas3:
            self._compile_replies(op, definitions, api)

    # -- startup ---------------------------------------------------------------------
    def _compile_replies(self, op: OperationSpec, definitions: dict, api: ApiSpec) -> None:
        """3.x responses: the validator of each (status, media type), the media types of
        each status, the declared headers; the reply path reads these tables."""
        statuses = []
        for code, resp in op.responses.items():
            key: int | str = int(code) if code.isdigit() else code
            if key != "default" and not isinstance(key, int):
                continue
            statuses.append(key)
            content = resp.get("x-pym-content") or {}
            media = tuple(_concrete(_media_types(list(content)), dedupe=False))
            self.reply_media[key] = media
            for m, entry in zip(media, content.values(), strict=True):
                schema = (entry or {}).get("schema")
                self.media_validators[(key, m)] = (
                    schema_validator(schema, definitions, self.dialect, "response")
                    if schema
                    else None
                )
            checks = []
            for name, header in (resp.get("headers") or {}).items():
                if name.lower() == "content-type" or not isinstance(header, dict):
                    continue
                header = dict(header)
                if "schema" not in header and header.get("content"):
                    header["schema"] = next(iter(header["content"].values())).get("schema") or {}
                try:
                    param = OAS3Param(
                        {**header, "name": name, "in": "header", "style": "simple"},
                        snake_case(name),
                        definitions,
                        api.definitions,
                        self.dialect,
                    )
                except ParamError as e:
                    raise StartupError(
                        f"response header {name!r} of {code}: {e}",
                        file=display_path(api.path),
                        location=op.label,
                    ) from None
                checks.append(param)
            if checks:
                self.reply_headers[key] = tuple(checks)
        produced = set(self.produces)
        remap = any(m and set(m) != produced for m in self.reply_media.values())
        if remap or self.reply_headers:
            self.make_reply = self._make_reply_oas3

    def _bind(self, op: OperationSpec, api: ApiSpec):
        where = f"{display_path(api.path)}: {op.label}"
        binder = BINDER.get()  # pym mock (run/mock.py): its handlers, no import
        handler = binder(self, op, api) if binder is not None else None
        if handler is not None:
            try:  # x-decorate-server (requires_auth...) as the real handler has it
                return decorate(handler, op, "decorate-server", api.path), handler
            except StartupError as e:
                log.warning("%s: served without its x-decorate-server: %s", where, e)
                return handler, handler
        target_name = op.x("bind-server")
        if not target_name:
            oid = op.operation_id or ""
            if "." in oid and all(part.isidentifier() for part in oid.split(".")):
                target_name = oid
        if not target_name:
            log.warning("%s has no x-bind-server (nor dotted operationId): it answers 501", where)
            return self._not_implemented, self._not_implemented
        try:
            target = import_dotted(target_name)
        except Exception as e:  # ImportError, or an error raised by the module itself
            if os.environ.get(ALLOW_UNBOUND_ENV) == "1":  # pym run --allow-unbound
                log.warning("%s: %r does not import (%s): it answers 501", where, target_name, e)
                return self._not_implemented, self._not_implemented
            raise StartupError(
                f"x-bind-server target {target_name!r} does not import: {type(e).__name__}: {e}",
                file=display_path(api.path),
                location=op.label,
            ) from None
        if not callable(target):
            raise StartupError(
                f"x-bind-server target {target_name!r} is not callable",
                file=display_path(api.path),
                location=op.label,
            )
        return decorate(target, op, "decorate-server", api.path), target

    def _not_implemented(self, *args, **kwargs):
        raise PyMacaronException(
            f"{self.spec.label} is not implemented", status=501, code="NOT_IMPLEMENTED"
        )

    def _check_signature(self, signature) -> None:
        if signature is None or self.target is self._not_implemented:
            return
        params = signature.parameters.values()
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            return
        accepted = {
            p.name
            for p in params
            if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        }
        for param in self.all_params():
            if param.kwarg not in accepted:
                raise StartupError(
                    f"handler {self.target.__module__}.{self.target.__qualname__} does not accept "
                    f"the {param.label} (add a '{param.kwarg}' argument or **kwargs)",
                    file=display_path(self.api.path),
                    location=self.spec.label,
                )

    def all_params(self) -> list[Param]:
        return (
            [p for _, p in self.path_params]
            + self.query_params
            + self.header_params
            + self.form_params
            + self.cookie_params
        )

    # -- the request pipeline ----------------------------------------------------------
    def __call__(self, **path_values):
        try:
            if self.guard is not None:
                self.guard()
            mimetype = self.negotiate()
            args, kwargs = self.read_request(path_values)
            result = self.handler(*args, **kwargs)
            return self.make_reply(result, mimetype)
        except Exception as e:  # ours, werkzeug's (413...) or a bug: exception_reply tells
            return exception_reply(e, self.endpoint, self.error_model)

    def negotiate(self) -> str:
        """The declared media type the reply is sent as, from ``Accept`` (406 if none fits)."""
        accept = request.environ.get("HTTP_ACCEPT")
        if self.json_only and (accept is None or self.json_type in accept or "*/*" in accept):
            return self.json_type
        if not accept:
            return self.json_type if self.json_type in self.produces else self.produces[0]
        best = request.accept_mimetypes.best_match(self.produces)
        if best is None and self.any_type:
            return self.json_type  # the spec produces any type: JSON is what there is
        if best is None:
            raise PyMacaronException(
                f"{self.spec.label} produces {', '.join(self.produces)}, none of which the "
                f"Accept header allows ({accept[:100]!r})",
                status=406,
                code="NOT_ACCEPTABLE",
            )
        return best

    def read_request(self, path_values: dict) -> tuple[list, dict]:
        """Parse and validate everything the request carries: (args, kwargs) for the handler.
        Every parameter and the body are read: a 400 lists all their violations."""
        kwargs: dict = {}
        errors: list = []
        for flask_name, param in self.path_params:
            _read(errors, kwargs, param, param.parse, path_values[flask_name])
        if self.query_params or self.reject_unknown_query:
            args = request.args
            if self.reject_unknown_query:
                unknown = [k for k in args if k not in self.known_query]
                if unknown:
                    raise InvalidParameterError(
                        f"query parameter '{unknown[0][:60]}' is not declared by {self.spec.label}"
                    )
            for param in self.query_params:
                if param.name in args:
                    _read(
                        errors,
                        kwargs,
                        param,
                        param.parse,
                        args[param.name],
                        args.getlist(param.name),
                    )
                else:
                    _read(errors, kwargs, param, param.missing)
        for param in self.header_params:
            value = request.headers.get(param.name)
            if value is not None:
                _read(errors, kwargs, param, param.parse, value)
            else:
                _read(errors, kwargs, param, param.missing)
        if self.form_params:
            try:
                self._read_form(kwargs)
            except InvalidParameterError as e:
                errors.append(_item(e, "formData"))
        body = _read_body_into(errors, self._read_body) if self.body is not None else None
        _raise_all(errors)
        return ([body] if self.body is not None else []), kwargs

    def _read_request_oas3(self, path_values: dict) -> tuple[list, dict]:
        """:meth:`read_request` of a 3.x operation (bound at startup): every style of
        styles.py, cookies, and the request body by its media type (bodies.py)."""
        kwargs: dict = {}
        errors: list = []
        for flask_name, param in self.path_params:
            _read(errors, kwargs, param, param.from_text, path_values[flask_name])
        if self.query_params or self.reject_unknown_query:
            query = parse_query(request.query_string)
            if self.reject_unknown_query and not self.query_open:
                for k in query:
                    if k not in self.known_query and not k.startswith(self.query_prefixes):
                        raise InvalidParameterError(
                            f"query parameter '{k[:60]}' is not declared by {self.spec.label}"
                        )
            for param in self.query_params:
                _read(errors, kwargs, param, param.from_pairs, query, self.known_query)
        if self.header_params:
            headers = request.headers
            for param in self.header_params:
                value = headers.get(param.name)
                if value is not None:
                    _read(errors, kwargs, param, param.from_text, value)
                else:
                    _read(errors, kwargs, param, param.missing)
        if self.cookie_params:
            cookies = parse_cookies(request.environ.get("HTTP_COOKIE"))
            for param in self.cookie_params:
                _read(errors, kwargs, param, param.from_pairs, cookies)
        if self.body is not None:
            body = _read_body_into(errors, self.body.read, self.spec.label)
            _raise_all(errors)
            return [body], kwargs
        _raise_all(errors)
        return [], kwargs

    def _read_form(self, kwargs: dict) -> None:
        mimetype = request.mimetype
        if mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            raise InvalidParameterError(
                f"expected Content-Type multipart/form-data or application/x-www-form-urlencoded, "
                f"got {mimetype or 'none'!r}"
            )
        form, files = request.form, request.files
        for param in self.form_params:
            if param.kind == "file":
                value = files.get(param.name)
                kwargs[param.kwarg] = value if value is not None else param.missing()
            elif param.name in form:
                kwargs[param.kwarg] = param.parse(form[param.name], form.getlist(param.name))
            else:
                kwargs[param.kwarg] = param.missing()

    def _read_body(self):
        body = self.body
        mimetype = request.mimetype
        if not _matches(mimetype, body.consumes) and not (
            body.json and _is_json(mimetype) and mimetype != "application/x-ndjson"
        ):
            if not request.content_length and not request.headers.get("Transfer-Encoding"):
                if body.required:
                    raise InvalidParameterError(body.missing(self.spec.label))
                return None
            raise PyMacaronException(
                f"body: expected Content-Type {' or '.join(body.consumes)}, "
                f"got {mimetype or 'none'!r}",
                status=415,
                code="UNSUPPORTED_MEDIA_TYPE",
            )
        data = request_body(request)  # bounded by max_body_size (413)
        if not data:
            if body.required:
                raise InvalidParameterError(body.missing(self.spec.label))
            return None
        if not (body.json and (_is_json(mimetype) or mimetype == "")):
            if _is_text(mimetype):
                try:
                    return data.decode(request.mimetype_params.get("charset") or "utf-8")
                except (UnicodeDecodeError, LookupError):
                    raise InvalidParameterError(
                        f"body: not valid {request.mimetype_params.get('charset') or 'utf-8'} text"
                    ) from None
            return data
        try:
            value = parse_json_body(data)
        except BodyError as e:
            raise InvalidParameterError(f"body: {e}") from None
        if body.validator is not None:
            try:
                body.validator(value)
            except JsonSchemaValueException as e:
                raise invalid_body(body.validator, value, e) from None
        if body.model is not None:
            if body.many:
                if not isinstance(value, list):
                    raise InvalidParameterError(
                        f"body: expected an array of {body.model.__name__}, got {_kind(value)}"
                    )
                for i, v in enumerate(value):
                    if not isinstance(v, dict):
                        raise InvalidParameterError(
                            f"body[{i}]: expected an object ({body.model.__name__}), got {_kind(v)}"
                        )
                return [body.model.from_json(v) for v in value]
            if not isinstance(value, dict):
                if value is None and body.nullable:
                    return None
                raise InvalidParameterError(
                    f"body: expected an object ({body.model.__name__}), got {_kind(value)}"
                )
            return body.model.from_json(value)
        return value

    def make_reply(self, result, mimetype: str | None = None) -> Response:
        """Check the handler's result against the spec and serialise it as ``mimetype``
        (one of the declared ``produces``, JSON by default)."""
        status = None
        headers = None
        if isinstance(result, Response):
            return result
        if isinstance(result, tuple):
            if len(result) == 2:
                result, status = result
            elif len(result) == 3:
                result, status, headers = result
            else:
                raise TypeError("a handler returns body, (body, status) or (body, status, headers)")
        if isinstance(result, PyMacaronModel):
            if status is None and result.is_error():
                status = result.status
            data = result.to_json()
        elif isinstance(result, list):
            data = [v.to_json() if isinstance(v, PyMacaronModel) else v for v in result]
        else:
            data = result
        if status is None:
            status = self.default_status
        entry = self.responses.get(status) or self.default_response
        if entry is None and self.no_responses:
            entry = (None, False)  # the spec declares no responses (3.1): nothing to check
        if entry is None:
            return self._bad_response(
                f"{self.label} returned status {status}, which the spec does not declare",
                data,
                status,
                headers,
            )
        validator, has_schema = entry
        if mimetype is not None and mimetype != self.json_type:
            if self.media_validators:
                validator = self._media_validator(status, mimetype, validator)
            if not _is_json(mimetype):
                return self._raw_reply(data, status, headers, mimetype, validator)
        if validator is not None:
            if data is None:
                return self._bad_response(
                    f"{self.label} returned no body for status {status}, the spec declares one",
                    data,
                    status,
                    headers,
                )
            bad = self._check_body(validator, data, status, headers)
            if bad is not None:
                return bad
        if data is None or status == 204:
            return Response(status=status, headers=headers, mimetype="application/json")
        if mimetype is not None and mimetype != "application/json":
            reply = json_reply(data, status, headers)
            reply.mimetype = mimetype
            return reply
        return json_reply(data, status, headers)

    def _media_validator(self, status, mimetype, validator):
        """The validator of ``mimetype`` for ``status`` (3.x, per media type)."""
        key = (status, mimetype) if status in self.responses else ("default", mimetype)
        return self.media_validators.get(key, validator)

    def _make_reply_oas3(self, result, mimetype: str | None = None) -> Response:
        """:meth:`make_reply` of a 3.x operation whose statuses declare different media
        types or response headers (bound at startup): the reply's media type is one its
        status declares, and its declared headers are checked."""
        if isinstance(result, Response):
            return result
        headers = None
        if isinstance(result, tuple) and len(result) >= 2:
            status = result[1]
            if len(result) == 3:
                headers = result[2]
        elif isinstance(result, PyMacaronModel) and result.is_error():
            status = result.status
        else:
            status = self.default_status
        key = status if status in self.reply_media else "default"
        media = self.reply_media.get(key)
        if media and mimetype not in media:
            mimetype = request.accept_mimetypes.best_match(media) or media[0]
        reply = Operation.make_reply(self, result, mimetype)
        checks = self.reply_headers.get(status if status in self.responses else "default")
        if checks and reply.status_code == status:
            problem = _header_problem(checks, headers)
            if problem is not None:
                message = f"{self.label} returned a {status} reply whose {problem}"
                if self.response_validation == "warn":
                    log.warning(
                        "BAD_RESPONSE (sent anyway, response_validation: warn): %s", message
                    )
                    return reply
                error = BadResponseError(
                    "the server produced a reply that does not match its API spec"
                )
                log.error("BAD_RESPONSE error_id=%s: %s", error.error_id, message)
                return exception_reply(error, self.endpoint, self.error_model)
        return reply

    def _raw_reply(self, data, status, headers, mimetype, validator) -> Response:
        """A text or binary reply: str and bytes as they are (a string schema checks a str)."""
        if isinstance(data, str) and validator is not None:
            bad = self._check_body(validator, data, status, headers)
            if bad is not None:
                return bad
        if data is None:
            return Response(status=status, headers=headers, mimetype=mimetype)
        if not isinstance(data, str | bytes | bytearray) and not hasattr(data, "__iter__"):
            data = str(data)
        elif isinstance(data, dict | list):
            data = orjson.dumps(data)
        return Response(data, status=status, headers=headers, mimetype=mimetype)

    def _check_body(self, validator, data, status, headers) -> Response | None:
        """None when ``data`` matches the response schema, else the BAD_RESPONSE reply."""
        try:
            validator(data)
        except JsonSchemaValueException as e:
            return self._bad_response(
                f"{self.label} returned a {status} body that does not match the spec: "
                f"{violation_text(e, root='response')}",
                data,
                status,
                headers,
            )
        return None

    def _bad_response(self, message: str, data, status, headers) -> Response:
        if self.response_validation == "warn":
            log.warning("BAD_RESPONSE (sent anyway, response_validation: warn): %s", message)
            if data is None:
                return Response(status=status, headers=headers, mimetype="application/json")
            return json_reply(data, status, headers)
        error = BadResponseError("the server produced a reply that does not match its API spec")
        log.error("BAD_RESPONSE error_id=%s: %s", error.error_id, message)
        return exception_reply(error, self.endpoint, self.error_model)


def _read(errors: list, kwargs: dict, param, fn, *args) -> None:
    """kwargs[param.kwarg] = fn(*args), or the violation recorded in ``errors``."""
    try:
        kwargs[param.kwarg] = fn(*args)
    except InvalidParameterError as e:
        errors.append(_item(e, getattr(param, "location", None) or "parameter", param.name))


def _item(e: InvalidParameterError, where: str, name: str | None = None) -> dict:
    """One violation of a parameter as an ``errors`` entry (bodies.violation_item's shape)."""
    return {"loc": [where, name] if name else [where], "msg": str(e), "type": "parameter"}


def _read_body_into(errors: list, read, *args):
    """The body, or None with its violations added to ``errors``."""
    try:
        return read(*args)
    except InvalidParameterError as e:
        found = getattr(e, "violations", None)
        errors.extend(found if found else [_item(e, "body")])
        return None


def _raise_all(errors: list) -> None:
    """Raise the 400 for ``errors`` (the first one's text is the description)."""
    if not errors:
        return
    error = InvalidParameterError(errors[0]["msg"])
    if len(errors) > 1:  # one violation: the uniform body as it always was
        error.violations = errors
    raise error


def _header_problem(checks, headers) -> str | None:
    """What is wrong with a reply's headers against the declared ones, or None."""
    from werkzeug.datastructures import Headers

    given = Headers(headers) if headers is not None else Headers()
    for param in checks:
        value = given.get(param.name)
        if value is None:
            if param.required:
                return f"header {param.name!r} is required by the spec but missing"
            continue
        try:
            param.from_text(str(value))
        except InvalidParameterError as e:
            return str(e).replace("header parameter", "header", 1)
    return None


def _kind(value) -> str:
    from ..spec.validation import _json_type

    return _json_type(value)


def _signature_of(target):
    try:
        return inspect.signature(target)
    except (TypeError, ValueError):
        return None


def _kwarg_name(name: str, signature) -> str:
    """The spec's name when the handler takes it as is, else its snake_case form."""
    if signature is not None and name.isidentifier() and name in signature.parameters:
        return name
    return snake_case(name)
