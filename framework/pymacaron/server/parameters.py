"""Request parameters (path, query, header, form): compiled once, parsed per request.

Each Swagger parameter becomes a :class:`Param`: where to read it, how to coerce the
string(s) to the declared type (``collectionFormat`` arrays included), its default, and a
compiled validator for its constraints. A violation raises InvalidParameterError naming
the parameter and what was expected.
"""

from __future__ import annotations

import math
import re

from ..exceptions import InvalidParameterError
from ..spec.validation import (
    JsonSchemaValueException,
    describe_violation,
    to_json_schema,
    validator_for,
)

__all__ = ["Param", "snake_case", "ParamError"]

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
_INT = re.compile(r"^[+-]?\d+$")
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
        raw = raw.strip()
        if not _INT.match(raw):
            raise ParamError(f"expected an integer, got {raw[:40]!r}")
        if len(raw) > 20 or not _INT64_MIN <= (value := int(raw)) <= _INT64_MAX:
            raise ParamError(f"expected an integer within the int64 range, got {raw[:40]!r}")
        return value
    if kind == "number":
        raw = raw.strip()
        try:
            if len(raw) > 64:
                raise ValueError(raw)
            value = int(raw) if _INT.match(raw) else float(raw)
        except ValueError:
            raise ParamError(f"expected a number, got {raw[:40]!r}") from None
        if isinstance(value, float) and not math.isfinite(value):
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


class Param:
    """One declared parameter, ready to be read from a request."""

    __slots__ = (
        "name",
        "location",
        "kwarg",
        "required",
        "default",
        "has_default",
        "kind",
        "items_kind",
        "separator",
        "multi",
        "validator",
        "label",
    )

    def __init__(self, spec: dict, kwarg: str):
        self.name: str = spec["name"]
        self.location: str = spec["in"]  # path | query | header | formData
        self.kwarg = kwarg
        self.required = bool(spec.get("required")) or self.location == "path"
        self.has_default = "default" in spec
        self.default = spec.get("default")
        self.kind = spec.get("type")
        items = spec.get("items") or {}
        self.items_kind = items.get("type")
        fmt = spec.get("collectionFormat", "csv")
        self.multi = self.kind == "array" and fmt == "multi"
        self.separator = _SEPARATORS.get(fmt, ",")
        self.label = (
            f"{'form' if self.location == 'formData' else self.location} parameter '{self.name}'"
        )
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

    def error(self, message: str) -> InvalidParameterError:
        return InvalidParameterError(f"{self.label}: {message}")

    def missing(self):
        """The value when the request lacks the parameter (or raise if required)."""
        if self.required:
            raise self.error("is required but missing")
        if self.has_default:
            return self.default
        return None

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
        if self.validator is not None:
            try:
                self.validator(value)
            except JsonSchemaValueException as e:
                where, message = describe_violation(e, root="")
                raise self.error(f"{where + ': ' if where else ''}{message}") from None
        return value
