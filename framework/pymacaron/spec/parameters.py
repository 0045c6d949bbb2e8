"""Request parameters (path, query, header, cookie, form): compiled once, parsed per request.

Each Swagger 2.0 parameter becomes a :class:`Param`: where to read it, how to coerce the
string(s) to the declared type (``collectionFormat`` arrays included), its default, and a
compiled validator for its constraints. Each OpenAPI 3 parameter becomes an
:class:`OAS3Param`: the same, driven by its ``schema`` (types, nullable, enums, oneOf /
anyOf of scalars, arrays, objects) and its ``style``/``explode`` (styles.py, shared with
the client), with JSON-encoded (``content``) parameters. A violation raises
InvalidParameterError naming the parameter and what was expected.
"""

from __future__ import annotations

import datetime as _dt
import inspect
import math
import re

import orjson

from ..exceptions import InvalidParameterError
from . import refs, styles
from .validation import (
    JsonSchemaValueException,
    describe_violation,
    to_json_schema,
    validator_for,
)

__all__ = [
    "Param",
    "OAS3Param",
    "make_param",
    "schema_validator",
    "coercer_for",
    "snake_case",
    "ParamError",
]

_CONSTRAINTS = (
    "format",
    "enum",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
    "items",
    "x-nullable",
)
_SEPARATORS = {"csv": ",", "ssv": " ", "tsv": "\t", "pipes": "|"}
# OpenAPI/JSON Schema numbers as JSON writes them: ASCII digits only, no sign "+", no padding,
# no "_" (``int``/``float`` accept all three, and every Unicode digit)
_INT = re.compile(r"-?[0-9]+\Z", re.ASCII)
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z", re.ASCII)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


class ParamError(Exception):
    """A value that cannot be coerced to the declared type."""


def snake_case(name: str) -> str:
    """``petId`` -> ``pet_id``, ``X-Request-ID`` -> ``x_request_id``."""
    s = re.sub(r"[^0-9a-zA-Z]+", "_", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    s = s.strip("_").lower()
    if not s or s[0].isdigit():
        s = "p_" + s
    return s


def _coerce_scalar(raw: str, kind: str | None):
    if kind == "integer":
        # ASCII digits only: [0-9]+, what _INT reads without its sign (no regex to run)
        if not (raw.isdigit() and raw.isascii()) and not _INT.match(raw):
            raise ParamError(f"expected an integer, got {raw[:40]!r}")
        if len(raw) > 20 or not _INT64_MIN <= (value := int(raw)) <= _INT64_MAX:
            raise ParamError(f"expected an integer within the int64 range, got {raw[:40]!r}")
        return value
    if kind == "number":
        if len(raw) > 64 or not _NUMBER.match(raw):
            word = raw.lower().lstrip("+-")
            what = "a finite number" if word in ("nan", "inf", "infinity") else "a number"
            raise ParamError(f"expected {what}, got {raw[:40]!r}")
        value = int(raw) if _INT.match(raw) else float(raw)
        if isinstance(value, float) and not math.isfinite(value):  # 1e999
            raise ParamError(f"expected a finite number, got {raw[:40]!r}")
        return value
    if kind == "boolean":
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ParamError(f"expected true or false, got {raw[:40]!r}")
    return raw


class _Declared:
    """What every declared parameter is (its name, where it is, the handler's keyword, whether
    it is required, its default and its label in errors) and answers: its error, and its value
    when absent."""

    __slots__ = (
        "name",
        "location",
        "kwarg",
        "required",
        "default",
        "has_default",
        "label",
        "validator",
    )

    def __init__(self, spec: dict, kwarg: str, holder: dict, where: str | None = None):
        """``holder``: where the default is (Swagger 2.0: the parameter; 3.x: its schema);
        ``where``: how errors name the location (default: ``in``)."""
        self.name: str = spec["name"]
        self.location: str = spec["in"]
        self.kwarg = kwarg
        self.required = bool(spec.get("required")) or self.location == "path"
        self.has_default = "default" in holder
        self.default = holder.get("default")
        self.label = f"{where or self.location} parameter '{self.name}'"

    def error(self, message: str) -> InvalidParameterError:
        return InvalidParameterError(f"{self.label}: {message}")

    def checked(self, value):
        """``value`` once its schema (``validator``, None: no constraint) accepts it."""
        if self.validator is not None:
            try:
                self.validator(value)
            except JsonSchemaValueException as e:
                where, message = describe_violation(e, root="")
                raise self.error(f"{where + ': ' if where else ''}{message}") from None
        return value

    def missing(self):
        """The value when the request lacks the parameter (or raise if required)."""
        if self.required:
            raise self.error("is required but missing")
        if self.has_default:
            return self.default
        return None


class Param(_Declared):
    """One declared parameter, ready to be read from a request."""

    __slots__ = (
        "kind",
        "items_kind",
        "separator",
        "multi",
        "bounds",
    )

    def __init__(self, spec: dict, kwarg: str):
        # in: path | query | header | formData
        super().__init__(spec, kwarg, spec, "form" if spec["in"] == "formData" else None)
        self.kind = spec.get("type")
        items = spec.get("items") or {}
        self.items_kind = items.get("type")
        fmt = spec.get("collectionFormat", "csv")
        self.multi = self.kind == "array" and fmt == "multi"
        self.separator = _SEPARATORS.get(fmt, ",")
        schema = {k: spec[k] for k in _CONSTRAINTS if k in spec}
        if self.kind == "array":
            schema["type"] = "array"
        elif self.kind == "file":
            schema = {}
        if set(schema) - {"type"}:
            json_schema = to_json_schema(
                {"type": self.kind, **schema} if self.kind not in (None, "file") else schema
            )
            self.validator = validator_for(json_schema)
        else:
            self.validator = None
        # a number with only bounds (the common limit/offset/id): a value within them is
        # valid without the validator, which runs (and words the 400) for any other
        self.bounds = _bounds_of(json_schema) if self.validator is not None else None

    def parse(self, raw, raw_list=None):
        """Coerce and validate one raw value (``raw_list`` for multi arrays)."""
        try:
            if self.kind == "array":
                if self.multi:
                    parts = raw_list if raw_list is not None else [raw]
                else:
                    parts = raw.split(self.separator) if raw != "" else []
                value = [_coerce_scalar(p, self.items_kind) for p in parts]
            elif self.kind == "file":
                return raw
            else:
                value = _coerce_scalar(raw, self.kind)
        except ParamError as e:
            raise self.error(str(e)) from None
        bounds = self.bounds
        if bounds is not None and bounds[0] <= value <= bounds[1]:
            return value
        return self.checked(value)

    from_text = parse  # one text (a path segment, a header), as OAS3Param.from_text


_BOUND_KEYS = frozenset({"type", "minimum", "maximum", "format"})


def _bounds_of(json_schema: dict) -> tuple[float, float] | None:
    """(low, high), inclusive, when ``json_schema`` is an integer or a number with nothing
    but inclusive ``minimum`` / ``maximum`` (int32/int64 formats are such bounds already),
    else None."""
    if (
        json_schema.get("type") not in ("integer", "number")
        or not json_schema.keys() <= _BOUND_KEYS
    ):
        return None
    if json_schema.get("format") not in (None, "int32", "int64"):
        return None
    low, high = json_schema.get("minimum", -math.inf), json_schema.get("maximum", math.inf)
    if type(low) not in (int, float) or type(high) not in (int, float):
        return None
    return low, high


# -- OpenAPI 3 ---------------------------------------------------------------------------
# validator_for / to_json_schema learn the 3.x dialects in issue 16 (16valid); until they
# do, 3.x schemas go through the Swagger 2.0 translation with `nullable` as `x-nullable`.
_DIALECT_AWARE = "dialect" in inspect.signature(validator_for).parameters  # PYM-16VALID switch


def schema_validator(
    schema: dict, definitions: dict | None, dialect: str = "swagger2", direction: str = "request"
):
    """The compiled validator of one spec schema, for the spec's dialect and direction
    (``request``: readOnly properties are not required; ``response``: writeOnly ones)."""
    if dialect == "swagger2":
        return validator_for(to_json_schema(schema), definitions)
    if _DIALECT_AWARE:  # PYM-16VALID: the one line that uses the dialect-aware engine
        return validator_for(
            to_json_schema(schema, dialect=dialect, direction=direction),
            definitions,
            dialect=dialect,
            direction=direction,
        )
    return validator_for(to_json_schema(_nullable_as_x(schema)), definitions)


def _nullable_as_x(node):
    if isinstance(node, list):
        return [_nullable_as_x(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable_as_x(v) for k, v in node.items()}
    if out.pop("nullable", None) is True:
        out["x-nullable"] = True
    return out


_JSON_MEDIA = ("application/json", "text/json")


def _is_json_media(media: str) -> bool:
    media = media.split(";", 1)[0].strip().lower()
    return media in _JSON_MEDIA or media.endswith("+json")


def _resolved(schema, definitions: dict) -> dict:
    """``schema`` with its ``$ref`` and ``allOf`` folded in (refs.py), for coercion only
    (validation keeps the references)."""
    return refs.merged(schema, definitions)


def _types_of(schema: dict) -> tuple[list[str], bool]:
    """(declared types without null, null allowed)."""
    kind = schema.get("type")
    types = list(kind) if isinstance(kind, list) else ([kind] if isinstance(kind, str) else [])
    nullable = "null" in types or schema.get("nullable") is True
    return [t for t in types if t != "null"], nullable


def _scalar_coercer(schema: dict, definitions: dict):
    """A str -> value function: the declared type(s) tried in order, then the scalar types
    of oneOf / anyOf alternatives in order, null last (``null`` or an empty value)."""
    types, nullable = _types_of(schema)
    for key in ("oneOf", "anyOf"):
        for alt in schema.get(key) or []:
            alt = _resolved(alt, definitions)
            alt_types, alt_null = _types_of(alt)
            nullable = nullable or alt_null or alt.get("enum") == [None]
            types += [t for t in alt_types if t not in types]
    enum = schema.get("enum")
    if not types and isinstance(enum, list) and enum:
        by_text = {wire_text(v): v for v in enum}

        def from_enum(raw: str):
            if raw in by_text:
                return by_text[raw]
            if nullable and raw in ("", "null"):
                return None
            return raw  # the validator names the allowed values

        return from_enum
    scalars = [t for t in types if t in ("integer", "number", "boolean", "string")]
    if not scalars:
        scalars = ["string"]
    if len(scalars) == 1 and not nullable:
        kind = scalars[0]
        if kind == "string":
            return _as_is
        return lambda raw: _coerce_scalar(raw, kind)

    def coerce(raw: str):
        for kind in scalars:
            try:
                return _coerce_scalar(raw, kind)
            except ParamError:
                continue
        if nullable and raw in ("", "null"):
            return None
        raise ParamError(f"expected {' or '.join(scalars)}, got {raw[:40]!r}")

    return coerce


def _as_is(raw: str) -> str:
    return raw


def wire_text(value) -> str:
    """How a client writes one scalar (true/false, numbers as JSON writes them)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


def shape_of(schema: dict) -> str:
    """``primitive``, ``array`` or ``object``: how a style carries the value."""
    types, _ = _types_of(schema)
    if "array" in types:
        return "array"
    if "object" in types or (not types and "properties" in schema):
        return "object"
    return "primitive"


def coercer_for(schema: dict, definitions: dict | None = None):
    """(shape, function turning a shape of strings into typed values) for ``schema``."""
    definitions = definitions or {}
    schema = _resolved(schema, definitions)
    shape = shape_of(schema)
    if shape == "array":
        item = _scalar_coercer(_resolved(schema.get("items") or {}, definitions), definitions)
        return shape, lambda parts: [item(p) for p in parts]
    if shape == "object":
        props = {
            k: _scalar_coercer(_resolved(v, definitions), definitions)
            for k, v in (schema.get("properties") or {}).items()
        }
        extra = schema.get("additionalProperties")
        other = (
            _scalar_coercer(_resolved(extra, definitions), definitions)
            if isinstance(extra, dict)
            else _as_is
        )

        def coerce_object(pairs):
            return {k: props.get(k, other)(v) for k, v in pairs}

        return shape, coerce_object
    return shape, _scalar_coercer(schema, definitions)


class OAS3Param(_Declared):
    """One OpenAPI 3 parameter (the normalized form of spec/load.py), ready to be read
    from a request; the client serialises with the same style table (styles.py)."""

    __slots__ = (
        "schema",
        "shape",
        "style",
        "explode",
        "allow_empty",
        "allow_reserved",
        "content_type",
        "coerce",
        "keys",
        "kind",
        "items_kind",
        "multi",
        "separator",
    )

    def __init__(
        self,
        spec: dict,
        kwarg: str,
        definitions: dict | None = None,
        raw_definitions: dict | None = None,
        dialect: str | None = None,
    ):
        schema = spec.get("schema") or {}
        super().__init__(spec, kwarg, schema)  # in: path | query | header | cookie
        self.schema = schema
        default_style, default_explode = styles.default_style(self.location)
        self.style = spec.get("style") or default_style
        explode = spec.get("explode")
        self.explode = (self.style == "form") if explode is None else bool(explode)
        self.allow_empty = bool(spec.get("allowEmptyValue")) and self.location == "query"
        self.allow_reserved = bool(spec.get("allowReserved")) and self.location == "query"
        self.content_type = spec.get("x-pym-content-type")
        resolved = _resolved(schema, raw_definitions or {})
        self.kind = (_types_of(resolved)[0] or [None])[0]
        self.items_kind = None
        if self.content_type:
            self.shape = "primitive"
            self.coerce = _json_decoder if _is_json_media(self.content_type) else _as_is
            self.style, self.explode = default_style, default_explode
        else:
            self.shape, self.coerce = coercer_for(schema, raw_definitions)
            self._check_style()
        if self.shape == "array":
            items = _resolved(resolved.get("items") or {}, raw_definitions or {})
            self.items_kind = (_types_of(items)[0] or [None])[0]
        # an exploded form object reads its declared properties as query names
        self.keys = None
        if self.shape == "object" and self.explode and self.style == "form":
            props = resolved.get("properties") or {}
            self.keys = frozenset(props) if props else None
        self.multi = self.shape == "array" and self.explode and self.location == "query"
        self.separator = styles.DELIMITERS.get(self.style, ",")
        if dialect is None:
            dialect = "oas31" if str(spec.get("x-pym-oas", "")).startswith("3.1") else "oas30"
        self.validator = schema_validator(schema, definitions, dialect) if schema else None

    def _check_style(self) -> None:
        allowed = styles.STYLES_BY_LOCATION.get(self.location, ())
        if self.style not in allowed:
            raise ParamError(
                f"style {self.style!r} does not apply to {self.location} parameters "
                f"(expected one of {', '.join(allowed)})"
            )
        if self.style == "deepObject" and self.shape != "object":
            raise ParamError("style 'deepObject' applies to object schemas only")
        if self.style in ("spaceDelimited", "pipeDelimited") and self.shape == "primitive":
            raise ParamError(f"style {self.style!r} applies to array and object schemas only")

    # -- reading ----------------------------------------------------------------------
    def from_text(self, text: str):
        """A path or header parameter from its text (path: as WSGI decoded it)."""
        try:
            parts = styles.decode(
                self.location, self.style, self.explode, self.name, self.shape, text
            )
            value = self.coerce(parts)
        except (ParamError, styles.StyleError) as e:
            raise self.error(str(e)) from None
        return self.checked(value)

    def from_pairs(self, source: dict, claimed=()):
        """A query or cookie parameter from the request's (name -> [raw values]); an exploded
        form object without declared properties takes every name not in ``claimed``."""
        keys = self.keys
        if keys is None and self.shape == "object" and self.explode and self.style == "form":
            keys = [k for k in source if k not in claimed]
            if not keys:
                return self.missing()
        try:
            parts = styles.decode(
                self.location, self.style, self.explode, self.name, self.shape, source, keys
            )
            if parts is None:
                return self.missing()
            if parts == "" and self.allow_empty and self.kind != "string":
                return self.default if self.has_default else None
            value = self.coerce(parts)
        except (ParamError, styles.StyleError) as e:
            raise self.error(str(e)) from None
        return self.checked(value)

    def parse(self, raw, raw_list=None):
        """Coerce and validate decoded value(s), as :meth:`Param.parse` does."""
        if self.location in ("path", "header"):
            return self.from_text(raw)
        values = raw_list if raw_list is not None else [raw]
        return self.from_pairs({self.name: [styles.quote_value(v) for v in values]})

    # -- writing (the client) -----------------------------------------------------------
    def wire(self, value):
        """The inverse of reading: a path/header string, or query/cookie (name, raw) pairs."""
        if self.content_type:
            text = orjson.dumps(value).decode() if _is_json_media(self.content_type) else str(value)
            parts = text
        elif self.shape == "array":
            parts = [wire_text(v) for v in value]
        elif self.shape == "object":
            parts = [(str(k), wire_text(v)) for k, v in value.items()]
        else:
            parts = wire_text(value)
        return styles.encode(
            self.location,
            self.style,
            self.explode,
            self.name,
            self.shape,
            parts,
            self.allow_reserved,
        )


def _json_decoder(raw: str):
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise ParamError(f"expected JSON ({e.args[0] if e.args else e})") from None


def make_param(
    spec: dict,
    kwarg: str,
    definitions: dict | None = None,
    raw_definitions: dict | None = None,
    dialect: str | None = None,
):
    """A :class:`Param` for a Swagger 2.0 parameter, an :class:`OAS3Param` for a 3.x one."""
    if "x-pym-oas" in spec or spec.get("in") == "cookie" or "schema" in spec:
        return OAS3Param(spec, kwarg, definitions, raw_definitions, dialect)
    return Param(spec, kwarg)
