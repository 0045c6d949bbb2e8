"""Formats: which ``format`` names are checked per dialect and how.

Owns :data:`CHECKED_FORMATS` (per dialect, as schemathesis checks them:
tests/framework/test_formats.py), :data:`ANNOTATION_FORMATS` (OpenAPI's own names that
constrain nothing or become bounds) and the check functions the engines are given. In
draft 4, ``byte``, ``uuid``, ``ipv4`` and ``ipv6`` are checked in Python; every other
checked format (:data:`RS_FORMATS_DRAFT4`) by jsonschema-rs' own check for it, imported
when a schema using one of them is compiled.
"""

from __future__ import annotations

import functools
import re

from ..walk import json_objects

# Formats pymacaron checks with a regex of its own (the engine's draft 4 does not know them;
# the uuid regex is exactly jsonschema-rs' 2020-12 uuid check).
SWAGGER_FORMATS = {
    "byte": r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
}
# Formats jsonschema-rs checks itself, per draft (what schemathesis' validators check too).
_NATIVE_DRAFT4 = frozenset(
    [
        "date",
        "date-time",
        "email",
        "hostname",
        "idn-email",
        "ipv4",
        "ipv6",
        "regex",
        "time",
        "uri",
    ]
)
_NATIVE_2020 = frozenset(
    [
        "date",
        "date-time",
        "duration",
        "email",
        "hostname",
        "idn-email",
        "idn-hostname",
        "ipv4",
        "ipv6",
        "iri",
        "iri-reference",
        "json-pointer",
        "regex",
        "relative-json-pointer",
        "time",
        "uri",
        "uri-reference",
        "uri-template",
        "uuid",
    ]
)
# Draft 4 validators check the later drafts' standard formats as 2020-12 defines them.
_FROM_2020 = _NATIVE_2020 - _NATIVE_DRAFT4 - set(SWAGGER_FORMATS)
CHECKED_FORMATS = {
    "swagger2": _NATIVE_DRAFT4 | _FROM_2020 | set(SWAGGER_FORMATS),
    "oas30": _NATIVE_DRAFT4 | _FROM_2020 | set(SWAGGER_FORMATS),
    "oas31": _NATIVE_2020 | set(SWAGGER_FORMATS),
}
# OpenAPI's own format names that are no check: int32/int64 become bounds, the others
# describe a representation (float, double, password, binary: a file's bytes).
ANNOTATION_FORMATS = frozenset({"int32", "int64", "float", "double", "password", "binary"})


# Draft 4 formats checked in pure Python, exactly as jsonschema-rs checks them
# (tests/framework/test_formats.py): byte and uuid by regex, ipv4 and ipv6 below. Every
# other checked draft 4 format (date, time, date-time, email, hostname, idn-*, uri, iri*,
# uri-reference, uri-template, json-pointer, relative-json-pointer, regex, duration) is
# checked by jsonschema-rs' own function for it, and jsonschema-rs is imported only when a
# schema that uses one of those is compiled. Pure-Python date and time checks were tried
# and disagree with jsonschema-rs (it accepts "--24-01-06" as a date), so they are not.
_PYTHON_DRAFT4 = frozenset(["byte", "uuid", "ipv4", "ipv6"])
RS_FORMATS_DRAFT4 = CHECKED_FORMATS["swagger2"] - _PYTHON_DRAFT4


def _is_ipv4(value: str) -> bool:
    parts = value.split(".")
    if len(parts) != 4:
        return False
    for part in parts:
        if not (1 <= len(part) <= 3 and part.isascii() and part.isdigit()):
            return False
        if (len(part) > 1 and part[0] == "0") or int(part) > 255:
            return False
    return True


def _is_ipv6(value: str) -> bool:
    import ipaddress

    if "%" in value or not value.isascii():  # no zone index (Python's parser takes one)
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


class _RsFormat:
    """jsonschema-rs' check of one format, loaded on :meth:`load` or the first call."""

    __slots__ = ("name", "_check")

    def __init__(self, name: str):
        self.name, self._check = name, None

    def load(self):
        if self._check is None:
            import jsonschema_rs

            cls = (
                jsonschema_rs.Draft4Validator
                if self.name in _NATIVE_DRAFT4
                else jsonschema_rs.Draft202012Validator
            )
            self._check = cls({"format": self.name}, validate_formats=True).is_valid
        return self._check

    def __call__(self, value) -> bool:
        return (self._check or self.load())(value)


@functools.cache
def _format_checks(draft: int) -> dict:
    """name -> check(value) -> bool for the formats the engine does not check natively:
    every checked format for draft 4 (the fastjsonschema engine), the Swagger ones for
    2020-12 (jsonschema-rs)."""
    checks = {}
    for name, pattern in SWAGGER_FORMATS.items():
        if draft == 4 or name not in _NATIVE_2020:
            checks[name] = (lambda rx: lambda value: rx.match(value) is not None)(
                re.compile(pattern)
            )
    if draft == 4:
        checks["ipv4"], checks["ipv6"] = _is_ipv4, _is_ipv6
        for name in RS_FORMATS_DRAFT4:
            checks[name] = _RsFormat(name)
    return checks


def _formats_of(schema) -> dict:
    """The format functions for every ``format`` name ``schema`` uses (draft 4): checked
    ones (jsonschema-rs' loaded now for those it checks), a yes for any other name (an
    annotation, or a Swagger 2.0 format nobody checks; fastjsonschema's own regexes, which
    disagree with schemathesis, are never used)."""
    names = {o["format"] for o in json_objects(schema) if isinstance(o.get("format"), str)}
    checks = _format_checks(4)
    out = {}
    for name in names:
        check = checks.get(name, _anything)
        if isinstance(check, _RsFormat):
            check.load()
        out[name] = check
    return out


def _anything(value) -> bool:
    return True
