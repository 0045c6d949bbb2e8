"""One served operation: :class:`Operation`, the Flask view of one spec operation.

The whole request pipeline is :meth:`Operation.__call__`, in order: declared security
(security/guard.py) -> negotiate -> read_request (request_reader.py: parameters, then the
body: swagger2_body.py or bodies.py) -> handler -> make_reply (reply_writer.py: response
validation, JSON reply); any exception -> replies.exception_reply. Everything the spec
fixes (validators, coercions, models, kwarg names, which reader and which reply path) is
computed once, when the operation is built at startup (``__init__`` here, build.py).
"""

from __future__ import annotations

from flask import request

from ..exceptions import PyMacaronException
from ..security.guard import guard_for
from ..spec.binding import decorate, import_dotted  # noqa: F401 - their old place
from ..spec.binding import model_of as _model_of  # noqa: F401 - their old place
from ..spec.load import ApiSpec, OperationSpec
from ..spec.parameters import OAS3Param, Param, ParamError, make_param, schema_validator
from ..spec.validation import to_json_schema, validator_for
from ..spec.yamlfile import display_path
from .bodies import RequestBody
from .build import (
    ALLOW_UNBOUND_ENV,
    BINDER,
    OperationBuild,
    flask_rule,
    kwarg_name,
    refused,
    signature_of,
)
from .fastpath import NeedsFlask, flask_use, needs_context
from .media import concrete, is_json, media_types
from .replies import exception_reply
from .reply_writer import ReplyWriter
from .request_reader import RequestReader
from .swagger2_body import Swagger2Body

__all__ = ["Operation", "decorate", "import_dotted", "flask_rule", "BINDER", "ALLOW_UNBOUND_ENV"]

_IGNORED_HEADERS = ("accept", "content-type", "authorization")


class Operation(OperationBuild, RequestReader, ReplyWriter):
    """A Flask view for one spec operation."""

    def __init__(self, op: OperationSpec, api: ApiSpec, definitions: dict, models: dict, config):
        self.spec = op
        self.api = api
        self.label = f"{op.label} ({api.name})"
        self.endpoint = f"{api.name}.{op.method}.{op.path}"
        self.response_validation = config.response_validation or "error"
        self.handler, self.target = self._bind(op, api)
        self.guard = guard_for(op, api, config)  # the declared security (fail closed)
        signature = signature_of(self.target)

        self.path_params: list[tuple[str, Param]] = []
        self.query_params: list[Param] = []
        self.header_params: list[Param] = []
        self.form_params: list[Param] = []
        self.cookie_params: list[OAS3Param] = []
        self.body: Swagger2Body | RequestBody | None = None
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
                    self.body = Swagger2Body(prm, definitions, models, op.consumes)
                continue
            if oas3 and where == "header" and prm["name"].lower() in _IGNORED_HEADERS:
                continue  # OAS 3: these header parameters "SHALL be ignored"
            kwarg = kwarg_name(prm["name"], signature)
            if oas3:
                try:
                    param = make_param(prm, kwarg, definitions, api.definitions, self.dialect)
                except ParamError as e:
                    raise refused(f"{where} parameter {prm['name']!r}: {e}", api, op) from None
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
            self.read_query = self._read_query_oas3
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
        declared = media_types(op.produces)
        # a wildcard (`*/*`, `application/*`) is no Content-Type: a reply is sent as a
        # concrete type (JSON for a JSON body), and an Accept the spec allows gets it
        self.any_type = any("*" in m for m in declared)
        self.produces = concrete(declared) or ["application/json"]
        self.json_only = all(is_json(m) for m in self.produces)
        self.json_type = next((m for m in self.produces if is_json(m)), "application/json")
        if self.json_type not in ("application/json",) and "application/json" in self.produces:
            self.json_type = "application/json"
        # 3.x: per status, the media types it declares and each one's validator
        self.media_validators: dict[tuple[int | str, str], object] = {}
        self.reply_media: dict[int | str, tuple[str, ...]] = {}
        self.reply_headers: dict[int | str, tuple] = {}
        if oas3:
            self._compile_replies(op, definitions, api)
        # Flask's request context: why this operation needs it, or None (fastpath.py)
        self.fast_reason: str | None = flask_use(self)
        # the fast path's JSON replies go as BareReply, unless a 3.x reply path checks them
        self.bare_replies = "make_reply" not in vars(self)

    # -- the request pipeline ----------------------------------------------------------
    def __call__(self, **path_values):
        return self.serve(request._get_current_object(), path_values)

    def serve(self, req, path_values: dict, fast: bool = False):
        """The pipeline for ``req`` (the request: Flask's, or with ``fast`` a bare
        ``flask.Request`` and no Flask context, fastpath.py): always a reply, errors
        included; with ``fast``, a handler that reaches for Flask's context raises
        :class:`NeedsFlask` (the request is then served again on Flask's path)."""
        try:
            if self.guard is not None:
                self.guard()
            mimetype = self.negotiate(req)
            args, kwargs = self.read_request(path_values, req)
            if fast:
                try:
                    result = self.handler(*args, **kwargs)
                except RuntimeError as e:
                    if needs_context(e):  # the handler reached for Flask's context
                        raise NeedsFlask(self) from e
                    raise
            else:
                result = self.handler(*args, **kwargs)
            if fast and self.bare_replies:
                return ReplyWriter.make_reply(self, result, mimetype, req, True)
            return self.make_reply(result, mimetype, req)
        except NeedsFlask:
            raise
        except Exception as e:  # ours, werkzeug's (413...) or a bug: exception_reply tells
            return exception_reply(e, self.endpoint, self.error_model)

    def negotiate(self, req=None) -> str:
        """The declared media type the reply is sent as, from ``Accept`` (406 if none fits)."""
        if req is None:
            req = request
        accept = req.environ.get("HTTP_ACCEPT")
        if self.json_only and (accept is None or self.json_type in accept or "*/*" in accept):
            return self.json_type
        if not accept:
            return self.json_type if self.json_type in self.produces else self.produces[0]
        best = req.accept_mimetypes.best_match(self.produces)
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
