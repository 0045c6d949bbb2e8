"""OpenAPI 3 request bodies: one reader per declared media type, chosen by Content-Type.

``application/json`` and every ``+json`` type are parsed, validated and made models (a
``$ref`` schema gives a model, an array of ``$ref`` a list of models), as Swagger 2.0
bodies are. ``application/x-www-form-urlencoded`` and ``multipart/form-data`` become a
dict (or the model of the schema): fields coerced by the object schema's property types,
arrays from repeated fields, per-property ``encoding`` (``contentType: application/json``
parts are parsed, ``style``/``explode`` for urlencoded fields as query parameters have
them), files as werkzeug ``FileStorage`` objects. Other media types reach the handler as
``str`` (text, XML) or ``bytes``. The value is the handler's first positional argument.
"""

from __future__ import annotations

import orjson
from flask import request
from werkzeug.datastructures import FileStorage

from ..exceptions import InvalidParameterError, PyMacaronException
from ..spec import styles
from ..spec.binding import model_of
from ..spec.jsondoc import BodyError, parse_json_body
from ..spec.parameters import (
    ParamError,
    _is_json_media,
    _resolved,
    coercer_for,
    schema_validator,
    shape_of,
)
from ..spec.validation import (
    JsonSchemaValueException,
    _json_type,
    all_violations,
    describe_violation,
    violation_text,
)
from .dispatch import request_body
from .media import request_mimetype

__all__ = ["RequestBody"]

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def _is_text(media: str) -> bool:
    return media.startswith("text/") or media.endswith(("/xml", "+xml"))


def _is_file(schema: dict, encoding: dict) -> bool:
    """A multipart part that is a file: binary strings (3.0 ``format: binary``, 3.1
    ``contentMediaType``), or an ``encoding`` contentType that is not text nor JSON."""
    if schema.get("format") == "binary" or "contentMediaType" in schema:
        return True
    ctype = (encoding.get("contentType") or "").split(",")[0].strip().lower()
    return bool(ctype) and not (_is_json_media(ctype) or ctype.startswith("text/"))


def invalid_body(validator, value, e) -> InvalidParameterError:
    """The 400 for a body that fails its schema: the description names the first
    violation (as before), ``violations`` lists all of them (the reply's ``errors``)."""
    error = InvalidParameterError(violation_text(e, root="body"))
    error.violations = [violation_item(v, "body") for v in all_violations(validator, value, e)]
    return error


def violation_item(v, root: str) -> dict:
    """One entry of an error reply's ``errors``: ``loc`` (the path, as FastAPI's), ``msg``
    and ``type`` (the failed rule)."""
    where, message = describe_violation(v, root)
    loc = [root, *list(v.path or [])[1:]]
    if v.rule == "required" and isinstance(v.rule_definition, list) and v.rule_definition:
        loc.append(v.rule_definition[0])
    return {"loc": loc, "msg": f"{where}: {message}" if where else message, "type": v.rule}


class _Field:
    """One property of a form or multipart body."""

    __slots__ = ("name", "shape", "coerce", "json", "file", "style", "explode", "keys")

    def __init__(self, name: str, schema: dict, encoding: dict, definitions: dict, multipart):
        self.name = name
        resolved = _resolved(schema, definitions)
        self.shape, self.coerce = coercer_for(resolved, definitions)
        ctype = (encoding.get("contentType") or "").lower()
        # multipart's default for an object property is application/json (OAS 3 Encoding)
        self.json = _is_json_media(ctype) if ctype else (multipart and self.shape == "object")
        items = _resolved(resolved.get("items") or {}, definitions)
        self.file = multipart and (
            _is_file(resolved, encoding) or (self.shape == "array" and _is_file(items, encoding))
        )
        self.style = encoding.get("style") or "form"
        explode = encoding.get("explode")
        self.explode = (self.style == "form") if explode is None else bool(explode)
        self.keys = frozenset(resolved.get("properties") or ()) or None


class _Media:
    """How one declared media type is read."""

    __slots__ = (
        "media",
        "kind",
        "validator",
        "model",
        "many",
        "nullable",
        "fields",
        "read_only",
        "extra",
    )

    def __init__(self, media, entry, definitions, raw_definitions, models, dialect):
        self.media = media
        schema = entry.get("schema") or {}
        if media in (FORM, MULTIPART):
            self.kind = "form" if media == FORM else "multipart"
        elif _is_json_media(media):
            self.kind = "json"
        elif media == "*/*" or media.endswith("/*"):
            self.kind = "any"  # decided by the request's own Content-Type
        elif _is_text(media):
            self.kind = "text"
        else:
            self.kind = "binary"
        binary = schema.get("type") == "string" and schema.get("format") == "binary"
        if binary and self.kind in ("json", "any"):
            self.kind = "binary"
        structured = self.kind in ("json", "form", "multipart", "any")
        self.validator = (
            schema_validator(schema, definitions, dialect, "request")
            if schema and structured
            else None
        )
        self.model, self.many = model_of(schema, models)
        resolved = _resolved(schema, raw_definitions)
        self.nullable = resolved.get("nullable") is True or (
            isinstance(resolved.get("type"), list) and "null" in resolved["type"]
        )
        props = resolved.get("properties") or {}
        self.read_only = tuple(
            k
            for k, v in props.items()
            if isinstance(v, dict) and _resolved(v, raw_definitions).get("readOnly") is True
        )
        encoding = entry.get("encoding") or {}
        self.fields = {}
        # fields the schema does not name are passed on (the validator says whether
        # additionalProperties allows them), coerced by additionalProperties' schema
        extra = resolved.get("additionalProperties")
        self.extra = (
            coercer_for(_resolved(extra, raw_definitions), raw_definitions)[1]
            if isinstance(extra, dict)
            and shape_of(_resolved(extra, raw_definitions)) == "primitive"
            else _same
        )
        if self.kind in ("form", "multipart"):
            multipart = self.kind == "multipart"
            self.fields = {
                k: _Field(k, v, encoding.get(k) or {}, raw_definitions, multipart)
                for k, v in props.items()
            }


class RequestBody:
    """The requestBody of one operation (normalized: ``x-pym-content`` per media type)."""

    __slots__ = ("name", "required", "exact", "wildcards", "json", "consumes", "label")

    def __init__(self, spec: dict, definitions, raw_definitions, models, dialect, consumes=()):
        self.name = spec.get("name", "body")
        self.required = bool(spec.get("required"))
        content = spec.get("x-pym-content") or {
            m: {"schema": spec.get("schema") or {}} for m in (consumes or ["application/json"])
        }
        self.exact: dict[str, _Media] = {}
        self.wildcards: list[tuple[str, _Media]] = []
        for media, entry in content.items():
            key = media.split(";", 1)[0].strip().lower()
            reader = _Media(key, entry or {}, definitions, raw_definitions or {}, models, dialect)
            if key == "*/*" or key.endswith("/*"):
                self.wildcards.append((key[:-1] if key != "*/*" else "", reader))
            else:
                self.exact[key] = reader
        self.wildcards.sort(key=lambda w: -len(w[0]))  # text/* before */*
        self.json = next((m for m in self.exact.values() if m.kind == "json"), None)
        self.consumes = list(self.exact) + [w[0] + "*" if w[0] else "*/*" for w in self.wildcards]

    def media_for(self, mimetype: str) -> _Media | None:
        """The declared media type a request's Content-Type picks: exact, then a JSON one
        for any ``+json``, then ``type/*``, then ``*/*``."""
        media = self.exact.get(mimetype)
        if media is not None:
            return media
        if (
            self.json is not None
            and _is_json_media(mimetype)
            and mimetype != "application/x-ndjson"
        ):
            return self.json
        for prefix, media in self.wildcards:
            if mimetype.startswith(prefix) and (mimetype or not prefix):
                return media
        return None

    def missing(self, label: str) -> str:
        kind = "JSON" if self.json is not None else self.consumes[0]
        return f"body: a {kind} request body is required by {label}"

    # -- the request ------------------------------------------------------------------
    def read(self, label: str, req=None):
        if req is None:
            req = request
        mimetype = request_mimetype(req)
        media = self.media_for(mimetype)
        if media is None:
            return no_media(self, label, req, mimetype)
        kind = media.kind
        if kind == "any":
            kind = (
                "json" if _is_json_media(mimetype) else ("text" if _is_text(mimetype) else "binary")
            )
        if kind == "multipart":
            value = self._multipart(media, req)
            if value is None:
                if self.required:
                    raise InvalidParameterError(self.missing(label))
                return None
            return self._checked(media, value)
        data = request_body(req)  # bounded by max_body_size (413)
        if kind == "form":  # an empty form, sent as such, is an object with no fields
            if not data and self.required:
                try:
                    return self._checked(media, self._form(media, data))
                except InvalidParameterError:  # an empty form the schema refuses: missing
                    raise InvalidParameterError(self.missing(label)) from None
            return self._checked(media, self._form(media, data))
        if not data:
            if self.required:
                raise InvalidParameterError(self.missing(label))
            return None
        if kind == "json":
            try:
                value = parse_json_body(data)
            except BodyError as e:
                raise InvalidParameterError(f"body: {e}") from None
            return self._checked(media, value)
        if kind == "text":
            charset = req.mimetype_params.get("charset") or "utf-8"
            try:
                return data.decode(charset)
            except (UnicodeDecodeError, LookupError):
                raise InvalidParameterError(f"body: not valid {charset} text") from None
        return data

    def _checked(self, media: _Media, value):
        if media.validator is not None:
            checked = value
            if media.kind == "multipart" and isinstance(value, dict):
                # files are checked for presence; their content is the handler's
                checked = {k: _placeholder(v) for k, v in value.items()}
            try:
                media.validator(checked)
            except JsonSchemaValueException as e:
                raise invalid_body(media.validator, checked, e) from None
        if media.read_only and isinstance(value, dict):
            for key in media.read_only:  # a client cannot set them (OAS 3 readOnly)
                value.pop(key, None)
        return to_model(value, media.model, media.many, media.nullable)

    @staticmethod
    def _form(media: _Media, data: bytes) -> dict:
        source = styles.parse_query(data)
        out: dict = {}
        for name, field in media.fields.items():
            try:
                if field.json:
                    raw = source.get(name)
                    if raw is None:
                        continue
                    out[name] = _json_field(name, styles.unquote_value(raw[-1]))
                    continue
                keys = field.keys or [k for k in source if k not in media.fields]
                parts = styles.decode(
                    "query", field.style, field.explode, name, field.shape, source, keys
                )
                if parts is None:
                    continue
                out[name] = field.coerce(parts)
            except (ParamError, styles.StyleError) as e:
                raise InvalidParameterError(f"body.{name}: {e}") from None
        for name, raw in source.items():
            if name not in out and name not in media.fields:
                try:
                    values = [media.extra(styles.unquote_value(v)) for v in raw]
                except ParamError as e:
                    raise InvalidParameterError(f"body.{name}: {e}") from None
                out[name] = values[0] if len(values) == 1 else values
        return out

    @staticmethod
    def _multipart(media: _Media, req=None) -> dict | None:
        if req is None:
            req = request
        form, files = req.form, req.files
        if not form and not files:
            return None
        out: dict = {}
        for name, field in media.fields.items():
            try:
                if field.file:
                    found = files.getlist(name)
                    if found:
                        out[name] = found if field.shape == "array" else found[-1]
                    continue
                texts = form.getlist(name) or [_file_text(f) for f in files.getlist(name)]
                if not texts:
                    continue
                if field.json:
                    out[name] = _json_field(name, texts[-1])
                elif field.shape == "array":
                    out[name] = field.coerce(texts)
                elif field.shape == "object":
                    out[name] = field.coerce(
                        styles.decode("header", "simple", False, name, "object", texts[-1])
                    )
                else:
                    out[name] = field.coerce(texts[-1])
            except (ParamError, styles.StyleError) as e:
                raise InvalidParameterError(f"body.{name}: {e}") from None
        for name in form:
            if name not in out and name not in media.fields:
                try:
                    values = [media.extra(v) for v in form.getlist(name)]
                except ParamError as e:
                    raise InvalidParameterError(f"body.{name}: {e}") from None
                out[name] = values[0] if len(values) == 1 else values
        for name in files:
            if name not in out and name not in media.fields:
                out[name] = files.get(name)
        return out


def _same(text: str) -> str:
    return text


def _placeholder(value):
    if isinstance(value, FileStorage):
        return ""
    if isinstance(value, list) and any(isinstance(v, FileStorage) for v in value):
        return ["" if isinstance(v, FileStorage) else v for v in value]
    return value


def _file_text(storage) -> str:
    data = storage.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ParamError("expected a UTF-8 text part") from None


def _json_field(name: str, text: str):
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as e:
        raise ParamError(f"expected a JSON part ({e.args[0] if e.args else e})") from None


def to_model(value, model, many: bool, nullable: bool):
    """A checked body as the handler gets it: ``model`` objects (a list of them when ``many``),
    or ``value`` itself without a model. Both body readers (this one and swagger2_body.py)."""
    if model is None:
        return value
    if many:
        if not isinstance(value, list):
            raise InvalidParameterError(
                f"body: expected an array of {model.__name__}, got {_json_type(value)}"
            )
        for i, v in enumerate(value):
            if not isinstance(v, dict):
                raise InvalidParameterError(
                    f"body[{i}]: expected an object ({model.__name__}), got {_json_type(v)}"
                )
        return [model.from_json(v) for v in value]
    if not isinstance(value, dict):
        if value is None and nullable:
            return None
        raise InvalidParameterError(
            f"body: expected an object ({model.__name__}), got {_json_type(value)}"
        )
    return model.from_json(value)


def no_media(body, label: str, req, mimetype: str):
    """A request whose Content-Type is none ``body`` (either body reader) consumes: no body at
    all is an absent one (None, or the error of a required body), anything else a 415."""
    if not req.content_length and not req.headers.get("Transfer-Encoding"):
        if body.required:
            raise InvalidParameterError(body.missing(label))
        return None
    raise PyMacaronException(
        f"body: expected Content-Type {' or '.join(body.consumes)}, got {mimetype or 'none'!r}",
        status=415,
        code="UNSUPPORTED_MEDIA_TYPE",
    )
