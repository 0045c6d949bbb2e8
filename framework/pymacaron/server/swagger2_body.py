"""The Swagger 2.0 request body (``in: body``), beside the OpenAPI 3 reader (bodies.py):
compiled once per operation, read per request by :meth:`Swagger2Body.read` -- JSON parsed
(spec/jsondoc.py), validated and made a model; other declared types as bytes or text."""

from __future__ import annotations

from flask import request

from ..exceptions import InvalidParameterError
from ..spec.binding import model_of
from ..spec.jsondoc import BodyError, parse_json_body
from ..spec.validation import JsonSchemaValueException, to_json_schema, validator_for
from .bodies import invalid_body, no_media, to_model
from .dispatch import request_body
from .media import is_json, is_text, matches, media_types, request_mimetype

__all__ = ["Swagger2Body"]


class Swagger2Body:
    """The ``in: body`` parameter of a Swagger 2.0 operation: which Content-Types it
    takes, its validator, its model (the 3.x reader is bodies.RequestBody)."""

    __slots__ = ("name", "required", "validator", "model", "many", "consumes", "json", "nullable")

    def __init__(self, spec: dict, definitions: dict, models: dict, consumes: list[str]):
        self.name = spec.get("name", "body")
        self.required = bool(spec.get("required"))
        schema = spec.get("schema") or {}
        self.consumes = media_types(consumes) or ["application/json"]
        # JSON bodies are parsed and validated; other declared types reach the handler as
        # bytes (binary) or str (text, XML) -- a string schema of format binary says so too
        binary = schema.get("type") == "string" and schema.get("format") == "binary"
        self.json = not binary and any(is_json(c) or c == "*/*" for c in self.consumes)
        self.validator = (
            validator_for(to_json_schema(schema), definitions) if schema and self.json else None
        )
        self.model, self.many = model_of(schema, models)
        self.nullable = schema.get("x-nullable") is True

    def missing(self, label: str) -> str:
        kind = "JSON" if self.json else self.consumes[0]
        return f"body: a {kind} body is required by {label}"

    def read(self, label: str, req=None):
        """The request's body: parsed, validated and made a model (JSON), else bytes or
        text; None when absent and not required."""
        body = self
        if req is None:
            req = request
        mimetype = request_mimetype(req)
        if not matches(mimetype, body.consumes) and not (
            body.json and is_json(mimetype) and mimetype != "application/x-ndjson"
        ):
            return no_media(body, label, req, mimetype)
        data = request_body(req)  # bounded by max_body_size (413)
        if not data:
            if body.required:
                raise InvalidParameterError(body.missing(label))
            return None
        if not (body.json and (is_json(mimetype) or mimetype == "")):
            if is_text(mimetype):
                try:
                    return data.decode(req.mimetype_params.get("charset") or "utf-8")
                except (UnicodeDecodeError, LookupError):
                    raise InvalidParameterError(
                        f"body: not valid {req.mimetype_params.get('charset') or 'utf-8'} text"
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
        return to_model(value, body.model, body.many, body.nullable)
