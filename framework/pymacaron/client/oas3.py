"""The OpenAPI 3 side of a client call: parameters by style, bodies by media type, replies
decoded by their media type.

Parameters are written by :meth:`OAS3Param.wire` -- the inverse of the server's reading,
from the same style table (spec/styles.py) -- so a client and a pymacaron server always
agree: path values by simple/label/matrix, query pairs by form/spaceDelimited/
pipeDelimited/deepObject, headers by simple, cookies as one ``Cookie`` header.
A body goes as JSON (any ``+json`` type), as an urlencoded form or as multipart (files:
bytes, a file object, a ``(filename, content[, content type])`` tuple or a werkzeug
``FileStorage``; object properties and ``encoding.contentType: application/json`` parts
as JSON), or as it is (bytes, str) for other media types. Replies: JSON -> models,
``text/*`` -> str, anything else -> bytes.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator

import orjson

from ..spec import styles
from ..spec.binding import model_of
from ..spec.models import PyMacaronModel
from ..spec.parameters import (
    OAS3Param,
    _is_json_media,
    _resolved,
    coercer_for,
    schema_validator,
    shape_of,
    wire_text,
)
from ..spec.validation import JsonSchemaValueException, violation_text

__all__ = ["place_param", "BodyWriter", "ReplyReader", "FORM", "MULTIPART"]

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def _plain(value):
    """JSON-ready data from models, lists of models and dates."""
    if isinstance(value, PyMacaronModel):
        return value.to_json()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, _dt.date):
        return value.isoformat()
    return value


def place_param(param: OAS3Param, value, path: str, query: list, headers: dict, cookies: list):
    """Write one parameter where it goes; returns the path (path parameters fill it)."""
    wire = param.wire(_plain(value))
    if param.location == "path":
        return path.replace("{" + param.name + "}", wire)
    if param.location == "query":
        query.extend(wire)
    elif param.location == "header":
        if "\r" in wire or "\n" in wire:
            raise ValueError(f"the {param.label} cannot hold a line break")
        headers[param.name] = wire
    elif param.location == "cookie":
        cookies.extend(wire)
    return path


def _is_file(value) -> bool:
    return isinstance(value, bytes | bytearray | tuple) or hasattr(value, "read")


def _file_part(name, value):
    if hasattr(value, "filename") and hasattr(value, "stream"):  # werkzeug FileStorage
        return (value.filename or name, value.stream, value.mimetype or "application/octet-stream")
    if isinstance(value, tuple):
        return value
    if isinstance(value, bytes | bytearray):
        return (name, bytes(value), "application/octet-stream")
    return (getattr(value, "name", name), value, "application/octet-stream")


class _Media:
    __slots__ = ("media", "schema", "encoding", "props", "validator", "definitions", "dialect")

    def __init__(self, media, entry, definitions, raw_definitions, dialect):
        self.media = media
        self.schema = entry.get("schema") or {}
        self.encoding = entry.get("encoding") or {}
        resolved = _resolved(self.schema, raw_definitions)
        self.props = {
            k: _resolved(v, raw_definitions) for k, v in (resolved.get("properties") or {}).items()
        }
        self.validator = None
        self.definitions, self.dialect = definitions, dialect

    def check(self, data, where: str) -> None:
        if not self.schema:
            return
        if self.validator is None:
            self.validator = schema_validator(self.schema, self.definitions, self.dialect)
        try:
            self.validator(data)
        except JsonSchemaValueException as e:
            raise ValueError(f"{where}: {violation_text(e, root='body')}") from None

    def fields(self, data: dict) -> Iterator[tuple[str, object, dict, dict]]:
        """Each field of a form body that is not None: (name, value, its property schema,
        its ``encoding`` entry), in the body's order."""
        for name, value in data.items():
            if value is not None:
                yield name, value, self.props.get(name) or {}, self.encoding.get(name) or {}


class BodyWriter:
    """A 3.x requestBody, written as requests' keyword arguments."""

    def __init__(self, spec: dict, definitions, raw_definitions, dialect, consumes=()):
        self.required = bool(spec.get("required"))
        content = spec.get("x-pym-content") or {
            m: {"schema": spec.get("schema") or {}} for m in (consumes or ["application/json"])
        }
        self.media = {
            m.split(";", 1)[0].strip().lower(): _Media(
                m, e or {}, definitions, raw_definitions or {}, dialect
            )
            for m, e in content.items()
        }
        self.raw_definitions = raw_definitions or {}
        self.schema = spec.get("schema") or {}

    def pick(self, body, content_type: str | None) -> str:
        if content_type:
            key = content_type.split(";", 1)[0].strip().lower()
            if key in self.media or any(
                m == "*/*" or (m.endswith("/*") and key.startswith(m[:-1])) for m in self.media
            ):
                return content_type
            raise ValueError(f"content_type {content_type!r} is not one of {', '.join(self.media)}")
        structured = isinstance(body, dict | list | PyMacaronModel) or body is None
        has_file = isinstance(body, dict) and any(_is_file(v) for v in body.values())
        order = [MULTIPART, FORM] if has_file else []
        if structured:
            order += [m for m in self.media if _is_json_media(m)] + [FORM, MULTIPART]
        order += [m for m in self.media if m not in (FORM, MULTIPART) and not _is_json_media(m)]
        for m in order:
            if m in self.media:
                return "application/octet-stream" if m == "*/*" else m
        return next(iter(self.media))

    def write(self, body, where: str, content_type: str | None = None) -> dict:
        """requests' arguments (``data``/``files``, ``headers``) for ``body``; {} for none."""
        if body is None:
            if self.required:
                raise TypeError(f"{where}: a request body is required")
            return {}
        media_type = self.pick(body, content_type)
        key = media_type.split(";", 1)[0].strip().lower()
        media = self.media.get(key) or next(
            (m for k, m in self.media.items() if k == "*/*" or key.startswith(k[:-1])), None
        )
        if key == MULTIPART:
            return self._multipart(media, _plain_dict(body, where), where)
        if key == FORM:
            return self._form(media, _plain_dict(body, where), where)
        if _is_json_media(key) and isinstance(body, bytes | bytearray):
            return {"data": bytes(body), "headers": {"Content-Type": media_type}}  # JSON text
        if _is_json_media(key) or (
            media.media == "*/*" and isinstance(body, dict | list | PyMacaronModel)
        ):
            data = _plain(body)
            media.check(data, where)
            ctype = media_type if _is_json_media(key) else "application/json"
            return {"data": orjson.dumps(data), "headers": {"Content-Type": ctype}}
        if isinstance(body, str):
            return {"data": body.encode("utf-8"), "headers": {"Content-Type": media_type}}
        if isinstance(body, bytes | bytearray) or hasattr(body, "read"):
            return {"data": body, "headers": {"Content-Type": media_type}}
        raise ValueError(f"{where}: a {media_type} body is bytes, str or a file")

    def _form(self, media: _Media, data: dict, where: str) -> dict:
        media.check(data, where)
        pairs = []
        for name, value, prop, enc in media.fields(data):
            if _is_json_media(enc.get("contentType") or ""):
                pairs.append((name, styles.quote_value(orjson.dumps(value).decode())))
                continue
            shape, _ = coercer_for(prop, self.raw_definitions)
            style = enc.get("style") or "form"
            explode = enc.get("explode")
            explode = (style == "form") if explode is None else bool(explode)
            spec = {"name": name, "in": "query", "schema": prop, "style": style, "explode": explode}
            if shape == "primitive" and isinstance(value, list):
                pairs.extend((name, styles.quote_value(wire_text(v))) for v in value)
                continue
            pairs.extend(OAS3Param(spec, name, None, self.raw_definitions, "oas30").wire(value))
        body = styles.query_string(pairs).encode("ascii")
        return {"data": body, "headers": {"Content-Type": FORM}}

    def _multipart(self, media: _Media, data: dict, where: str) -> dict:
        checked = {k: ("" if _is_file(v) else v) for k, v in data.items()}
        checked = {
            k: ([""] * len(v) if isinstance(v, list) and v and all(map(_is_file, v)) else v)
            for k, v in checked.items()
        }
        media.check(checked, where)
        parts = []
        for name, value, prop, enc in media.fields(data):
            ctype = enc.get("contentType") or ""
            many = isinstance(value, list) and shape_of(prop) == "array"
            values = value if many else [value]
            if _is_json_media(ctype) or (not ctype and isinstance(value, dict)):
                parts.append((name, (None, orjson.dumps(value), "application/json")))
                continue
            for v in values:
                if _is_file(v):
                    parts.append((name, _file_part(name, v)))
                else:
                    parts.append((name, (None, wire_text(v).encode("utf-8"))))
        return {"files": parts}


def _plain_dict(body, where: str) -> dict:
    data = _plain(body)  # files (objects, bytes, tuples) are kept as they are
    if not isinstance(data, dict):
        raise ValueError(f"{where}: a form body is an object (a dict or a model)")
    return data


class ReplyReader:
    """A 3.x reply decoded by its media type: (ok, data or reason)."""

    def __init__(self, responses: dict, definitions, models, dialect):
        self.responses = responses
        self.definitions, self.models, self.dialect = definitions, models, dialect
        self._cache: dict = {}

    def _entry(self, status: int, media: str):
        key = (status, media)
        if key not in self._cache:
            resp = self.responses.get(str(status)) or self.responses.get("default")
            if resp is None:
                self._cache[key] = None
            else:
                content = resp.get("x-pym-content") or {}
                entry = content.get(media)
                if entry is None and _is_json_media(media):
                    entry = next((e for m, e in content.items() if _is_json_media(m)), None)
                if entry is None:
                    entry = {"schema": resp.get("schema")} if resp.get("schema") else {}
                schema = (entry or {}).get("schema")
                validator = (
                    schema_validator(schema, self.definitions, self.dialect, "response")
                    if schema
                    else None
                )
                model, many = model_of(schema or {}, self.models)
                self._cache[key] = (set(content), validator, model, many)
        return self._cache[key]

    def read(self, status: int, response):
        """(True, value) or (False, why) for a 2xx reply."""
        media = (response.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        content = response.content
        entry = self._entry(status, media)
        if entry is None:
            return False, f"returned status {status}, which the spec does not declare"
        declared, validator, model, many = entry
        if not content:
            if validator is not None:
                return False, f"returned no body for status {status}"
            return True, None
        if (
            declared
            and media not in declared
            and not any(
                d == "*/*" or (d.endswith("/*") and media.startswith(d[:-1])) for d in declared
            )
        ):
            return False, f"returned a {status} reply of type {media or 'none'}, not one of " + (
                ", ".join(sorted(declared))
            )
        if _is_json_media(media) or (not media and not declared):
            try:
                data = orjson.loads(content)
            except orjson.JSONDecodeError:
                return False, f"returned a {status} reply that is not JSON"
        elif media.startswith("text/"):
            data = response.text
        else:
            return True, content
        if validator is not None:
            try:
                validator(data)
            except JsonSchemaValueException as e:
                return False, (
                    f"returned a {status} body that does not match the spec: "
                    f"{violation_text(e, root='response')}"
                )
        if model is not None and isinstance(data, dict | list):
            if many and isinstance(data, list):
                return True, [model.from_json(v) for v in data]
            if not many and isinstance(data, dict):
                return True, model.from_json(data)
        return True, data
