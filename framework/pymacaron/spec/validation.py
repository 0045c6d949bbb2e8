"""Schema validation: OpenAPI schemas -> JSON Schema -> a compiled validator.

Three dialects, two engines (chosen by measurement: bench/validators.py, bench/worker_rss.py,
docs/performance.md):

- ``swagger2``: Swagger 2.0 schemas, run as JSON Schema draft 4 (``x-nullable``, int32/int64
  bounds, ``type: file``, the ``discriminator`` string);
- ``oas30``: OpenAPI 3.0 schemas, draft 4 as well (``nullable``, boolean
  ``exclusiveMinimum``), with ``readOnly``/``writeOnly`` by direction and the
  ``discriminator`` object (with or without ``mapping``);
- ``oas31``: OpenAPI 3.1 schemas, JSON Schema 2020-12, plus OpenAPI's ``discriminator`` and
  ``readOnly``/``writeOnly``.

:func:`to_json_schema` translates one schema, :func:`json_definitions` a spec's
definitions, :func:`compile_schema` / :func:`validator_for` compile; a validator returns
the data or raises :class:`SchemaViolation`, whose :func:`describe_violation` names the
field (``body.owner.name``) and says what was expected. :func:`unenforceable` lists what a
schema asks for that the engine cannot enforce, so a spec that uses it is refused at start.

Engines: draft 4 (``swagger2``, ``oas30``) runs on fastjsonschema (pure Python, generated
code) behind :mod:`.fastcheck`'s pre-check, so a worker serving only those never loads
jsonschema-rs (a 14.8 MB extension, ~5-10 MiB of a worker's RSS); 2020-12 (``oas31``) runs
on jsonschema-rs, imported on the first 2020-12 compile. Both give the same
:class:`SchemaViolation` for the same failure (the words of jsonschema-rs' errors as
:func:`_convert` maps them). When a document has several errors the engines may name a
different one first (fastjsonschema: keywords in its order, properties in the schema's).

``format`` is checked as schemathesis checks it (the same engine and version, the same
draft per dialect, tests/framework/test_formats.py): :data:`CHECKED_FORMATS` per dialect.
In draft 4, ``byte``, ``uuid``, ``ipv4`` and ``ipv6`` are checked in Python; every other
checked format (:data:`RS_FORMATS_DRAFT4`: date, time, date-time, duration, email,
idn-email, hostname, idn-hostname, uri, uri-reference, uri-template, iri, iri-reference,
json-pointer, relative-json-pointer, regex) by jsonschema-rs' own check for it, which is
imported when a schema using one of them is compiled;
:data:`ANNOTATION_FORMATS` are OpenAPI's own names that constrain nothing (or become
bounds); any other format is refused at start in 3.x specs and ignored in Swagger 2.0 ones
(as bravado-core does).
"""

from __future__ import annotations

import contextvars
import functools
import os
import re

__all__ = [
    "ANNOTATION_FORMATS",
    "CHECKED_FORMATS",
    "DIALECTS",
    "DRAFT4",
    "DRAFT2020",
    "JsonSchemaValueException",
    "LazyValidator",
    "RS_FORMATS_DRAFT4",
    "SWAGGER_FORMATS",
    "SchemaViolation",
    "compile_schema",
    "describe_violation",
    "json_definitions",
    "to_json_schema",
    "unenforceable",
    "validator_for",
    "violation_text",
]

DRAFT4 = "http://json-schema.org/draft-04/schema#"
DRAFT2020 = "https://json-schema.org/draft/2020-12/schema"
DIALECTS = ("swagger2", "oas30", "oas31")
DIRECTIONS = (None, "request", "response")

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


class SchemaViolation(ValueError):
    """A value does not match its schema.

    ``path``: where, from the root (``["data", "owner", 0]``); ``rule``: the failed keyword;
    ``rule_definition``: that keyword's value in the schema (the types, the enum, the bound);
    ``value``: the offending value; ``message``: one line.
    """

    def __init__(self, message, value=None, name="data", definition=None, rule=None, path=None):
        super().__init__(message)
        self.message = message
        self.value = value
        self.name = name
        self.definition = definition or {}
        self.rule = rule
        self.path = list(path) if path is not None else ["data"]

    @property
    def rule_definition(self):
        if not self.rule or not isinstance(self.definition, dict):
            return None
        return self.definition.get(self.rule)


JsonSchemaValueException = SchemaViolation  # the name modules imported from fastjsonschema days

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


# -- translation -----------------------------------------------------------------------

_SKIP = {
    "swagger2": {
        "example",
        "discriminator",
        "readOnly",
        "xml",
        "externalDocs",
        "collectionFormat",
        "in",
        "name",
        "required_",
        "allowEmptyValue",
    },
    "oas30": {
        "example",
        "discriminator",
        "readOnly",
        "writeOnly",
        "xml",
        "externalDocs",
        "nullable",
        "deprecated",
    },
    "oas31": {"example", "discriminator", "readOnly", "writeOnly", "xml", "externalDocs"},
}
_SCHEMA_MAPS = ("properties", "definitions", "patternProperties", "$defs", "dependentSchemas")
_SCHEMA_VALUES = (
    "items",
    "additionalProperties",
    "additionalItems",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "prefixItems",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedProperties",
    "unevaluatedItems",
)
_NOTHING = {"not": {}}  # draft 4 has no `false` schema

BASE_SUFFIX = "__pym_base"
VARIANT_SUFFIX = {"request": "__pym_request", "response": "__pym_response"}
MARKER = "x-pym-discriminator"


def to_json_schema(schema, dialect: str = "swagger2", direction: str | None = None):
    """Translate an OpenAPI schema of ``dialect`` into JSON Schema (a new object): draft 4
    for ``swagger2`` and ``oas30``, 2020-12 for ``oas31``.

    ``x-nullable`` (2.0) and ``nullable`` (3.0) admit null, int32/int64 become bounds,
    ``type: file`` accepts anything, vendor extensions and annotations are dropped. In 3.x,
    ``direction`` applies ``readOnly``/``writeOnly``: in a ``"request"`` a readOnly property
    is not required (it is still accepted, and checked: the 3.x text says it SHOULD NOT be
    sent, not MUST NOT); in a ``"response"`` a writeOnly property is refused and not
    required. ``None`` (models) keeps both as declared. A ``discriminator`` beside
    ``oneOf``/``anyOf`` makes the property's value choose the schema.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown schema dialect {dialect!r} (expected one of {DIALECTS})")
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}")
    return _translate(schema, dialect, direction if dialect != "swagger2" else None)


def _translate(schema, dialect, direction):
    if isinstance(schema, list):
        return [_translate(s, dialect, direction) for s in schema]
    if not isinstance(schema, dict):
        return schema
    skip = _SKIP[dialect]
    out = {}
    for key, value in schema.items():
        if (isinstance(key, str) and key.startswith("x-")) or key in skip:
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {k: _translate(v, dialect, direction) for k, v in value.items()}
        elif key in _SCHEMA_VALUES:
            out[key] = _translate(value, dialect, direction)
        elif key == "dependencies" and isinstance(value, dict):
            out[key] = {
                k: _translate(v, dialect, direction) if isinstance(v, dict) else v
                for k, v in value.items()
            }
        else:
            out[key] = value
    kind = out.get("type")
    if kind == "file" and dialect == "swagger2":
        out.pop("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "integer" in kinds:
        # integers without a format are int64 too: a 10**30 id is a client mistake,
        # not something to hand to a database driver
        low, high = INT32 if schema.get("format") == "int32" else INT64
        if "minimum" not in out and "exclusiveMinimum" not in out:
            out["minimum"] = low
        if "maximum" not in out and "exclusiveMaximum" not in out:
            out["maximum"] = high
    if direction and isinstance(out.get("properties"), dict):
        _apply_direction(schema, out, direction, dialect)
    if dialect != "swagger2" and isinstance(schema.get("discriminator"), dict):
        for key in ("oneOf", "anyOf"):
            if isinstance(out.get(key), list):
                branches = out.pop(key)
                out.setdefault("allOf", []).extend(
                    _dispatch(schema["discriminator"], branches, schema.get(key))
                )
                break
    nullable = schema.get("x-nullable" if dialect == "swagger2" else "nullable") is True
    if nullable and dialect != "oas31":
        if isinstance(kind, str) and "$ref" not in out:
            out["type"] = [kind, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        elif kind is None or "$ref" in out:
            out = {"anyOf": [{"type": "null"}, out]}
    return out


def _apply_direction(raw: dict, out: dict, direction: str, dialect: str) -> None:
    hidden = "readOnly" if direction == "request" else "writeOnly"
    props = raw.get("properties") or {}
    flagged = [k for k, v in props.items() if isinstance(v, dict) and v.get(hidden) is True]
    if not flagged:
        return
    if isinstance(out.get("required"), list):
        required = [r for r in out["required"] if r not in flagged]
        if required:
            out["required"] = required
        else:
            out.pop("required")
    if direction == "response":  # a writeOnly property is never in a response
        for name in flagged:
            out["properties"][name] = False if dialect == "oas31" else dict(_NOTHING)


def _ref_target(value: str) -> str:
    """A discriminator mapping value (a schema name or a reference) as a definitions ref."""
    if value.startswith("#/components/schemas/"):
        return "#/definitions/" + value[len("#/components/schemas/") :]
    if value.startswith("#"):
        return value
    return "#/definitions/" + value


def _dispatch(discriminator: dict, branches: list, raw_branches) -> list:
    """``oneOf``/``anyOf`` with a discriminator: the property is required, its value is one
    of the mapped (or implicit: schema name) values, and the object matches that schema."""
    prop = discriminator.get("propertyName")
    mapping = discriminator.get("mapping") or {}
    choices: list[tuple[str, dict]] = []
    mapped_targets = set()
    for value, target in mapping.items():
        ref = _ref_target(str(target))
        mapped_targets.add(ref)
        choices.append((str(value), {"$ref": ref}))
    for branch in branches:
        ref = branch.get("$ref") if isinstance(branch, dict) else None
        if isinstance(ref, str) and ref not in mapped_targets:
            choices.append((ref.rsplit("/", 1)[-1], branch))
    values = [v for v, _ in choices]
    return [
        {"required": [prop]},
        {"properties": {prop: {"enum": values}}},
        {
            "anyOf": [
                {MARKER: [prop, v], "allOf": [{"properties": {prop: {"enum": [v]}}}, target]}
                for v, target in choices
            ]
        },
    ]


def json_definitions(definitions: dict, dialect: str = "swagger2") -> dict:
    """Translate every definition (:func:`to_json_schema`), with the ``discriminator`` of a
    definition others extend through ``allOf`` enforced: the value of the property names the
    definition (Swagger 2.0, 3.x without ``mapping``) or maps to it (3.x ``mapping``) the
    object must also validate against. In 3.x, definitions whose ``readOnly``/``writeOnly``
    matter get request and response variants (``Name__pym_request``...), which
    :func:`compile_schema` picks for its ``direction``."""
    out = _definitions(definitions, dialect, None)
    if dialect == "swagger2":
        return out
    seeds = {k for k in out if _has_direction(definitions.get(k.removesuffix(BASE_SUFFIX)))}
    if not seeds:
        return out
    sensitive = _closure(out, seeds)
    for direction, suffix in VARIANT_SUFFIX.items():
        variant = _definitions(definitions, dialect, direction)
        for name in sensitive:
            out[name + suffix] = _redirect(variant[name], sensitive, suffix)
    return out


def _has_direction(schema) -> bool:
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("readOnly") is True or node.get("writeOnly") is True:
                return True
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return False


def _refs(node, found: set) -> set:
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/definitions/"):
                found.add(ref[len("#/definitions/") :].split("/", 1)[0])
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return found


def _closure(out: dict, seeds: set) -> set:
    """The definitions that are, or reach through references, one of ``seeds``."""
    graph = {k: _refs(v, set()) for k, v in out.items()}
    sensitive = set(seeds)
    changed = True
    while changed:
        changed = False
        for name, targets in graph.items():
            if name not in sensitive and targets & sensitive:
                sensitive.add(name)
                changed = True
    return sensitive


def _redirect(node, names: set, suffix: str):
    """A copy of ``node`` whose references to ``names`` point at their ``suffix`` variant."""
    if isinstance(node, dict):
        out = {k: _redirect(v, names, suffix) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            name, _, rest = ref[len("#/definitions/") :].partition("/")
            if name in names:
                out["$ref"] = f"#/definitions/{name}{suffix}" + (f"/{rest}" if rest else "")
        return out
    if isinstance(node, list):
        return [_redirect(v, names, suffix) for v in node]
    return node


def _definitions(definitions: dict, dialect: str, direction: str | None) -> dict:
    out = {k: to_json_schema(v, dialect, direction) for k, v in definitions.items()}
    roots = {}
    for k, v in definitions.items():
        if not isinstance(v, dict):
            continue
        disc = v.get("discriminator")
        if dialect == "swagger2" and isinstance(disc, str):
            roots[k] = (disc, {})
        elif (
            dialect != "swagger2"
            and isinstance(disc, dict)
            and isinstance(disc.get("propertyName"), str)
            and not any(isinstance(v.get(key), list) for key in ("oneOf", "anyOf"))
        ):
            roots[k] = (disc["propertyName"], disc.get("mapping") or {})
    if not roots:
        return out

    def parents(name: str) -> list[str]:
        schema = definitions.get(name)
        found = []
        for part in (schema.get("allOf") or []) if isinstance(schema, dict) else []:
            ref = part.get("$ref") if isinstance(part, dict) else None
            if isinstance(ref, str):
                ref = _ref_target(ref)
                if ref.startswith("#/definitions/"):
                    found.append(ref[len("#/definitions/") :])
        return found

    def extends(name: str, root: str, seen=()) -> bool:
        return any(
            p == root or (p not in seen and extends(p, root, (*seen, p))) for p in parents(name)
        )

    for root, (prop, mapping) in roots.items():
        base = root + BASE_SUFFIX
        root_ref = f"#/definitions/{root}"
        out[base] = out[root]
        children = sorted(n for n in definitions if n != root and extends(n, root))
        for child in children:  # a subtype extends the base, not the dispatch (no cycle)
            for part in out[child].get("allOf") or []:
                if isinstance(part, dict) and _ref_target(str(part.get("$ref", ""))) == root_ref:
                    part["$ref"] = f"#/definitions/{base}"
        choices: list[tuple[str, str]] = []
        mapped = set()
        for value, target in mapping.items():
            name = _ref_target(str(target))[len("#/definitions/") :]
            mapped.add(name)
            choices.append((str(value), name))
        choices += [(n, n) for n in [root, *children] if n not in mapped]
        branches = []
        for value, name in choices:
            branch = {MARKER: [prop, value], "allOf": [{"properties": {prop: {"enum": [value]}}}]}
            if name != root:
                branch["allOf"].append({"$ref": f"#/definitions/{name}"})
            branches.append(branch)
        out[root] = {
            "allOf": [
                *([{"required": [prop]}] if dialect != "swagger2" else []),
                {"$ref": f"#/definitions/{base}"},
                {"properties": {prop: {"enum": [v for v, _ in choices]}}},
                {"anyOf": branches},
            ]
        }
    return out


# -- what the engine cannot enforce ---------------------------------------------------

# keywords of later drafts a draft 4 engine would silently ignore
_LATER_DRAFTS = frozenset(
    [
        "const",
        "contains",
        "propertyNames",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
        "prefixItems",
        "unevaluatedProperties",
        "unevaluatedItems",
        "$defs",
        "minContains",
        "maxContains",
        "contentSchema",
        "$anchor",
        "$dynamicRef",
        "$dynamicAnchor",
        "$recursiveRef",
        "$recursiveAnchor",
        "$vocabulary",
        "$id",
    ]
)
# 2020-12 keywords pymacaron does not run: dynamic scopes and vocabularies, and anything
# that moves the base URI or names a fragment (references are resolved in the spec)
_NOT_2020 = frozenset(
    [
        "$dynamicRef",
        "$dynamicAnchor",
        "$recursiveRef",
        "$recursiveAnchor",
        "$vocabulary",
        "$id",
        "$anchor",
    ]
)


def unenforceable(schema, dialect: str, at=()) -> list[tuple[str, list]]:
    """What ``schema`` (an OpenAPI schema of ``dialect``, located at JSON path ``at``) asks
    for and pymacaron cannot enforce, as ``(keyword, json_path)``: the spec is refused at
    startup, never served with a constraint silently ignored.

    Draft 4 dialects (swagger2, oas30): keywords of later drafts (``const``,
    ``prefixItems``...). oas31: ``$dynamicRef``, ``$vocabulary``, ``$id``, ``$anchor``...
    and a ``$schema`` naming another dialect. 3.x: a ``format`` that is neither checked
    (:data:`CHECKED_FORMATS`) nor OpenAPI's own (:data:`ANNOTATION_FORMATS`); a
    ``discriminator`` without a ``propertyName``. All: a ``$ref`` that does not point into
    the spec's schemas.
    """
    found: list[tuple[str, list]] = []
    _walk(schema, dialect, list(at), found)
    return found


def _refused(key: str, value, dialect: str) -> bool:
    if key in (_NOT_2020 if dialect == "oas31" else _LATER_DRAFTS) or (
        key == "nullable" and dialect == "oas31"
    ):
        return True
    if key == "$schema":
        return dialect == "oas31" and value not in (DRAFT2020, DRAFT2020 + "#")
    if key == "$ref":
        return not isinstance(value, str) or not value.startswith(
            ("#/definitions/", "#/components/schemas/")
        )
    if key == "format" and dialect != "swagger2":
        return isinstance(value, str) and value not in CHECKED_FORMATS[dialect] | ANNOTATION_FORMATS
    if key == "discriminator" and dialect != "swagger2":
        return not isinstance(value, dict) or not isinstance(value.get("propertyName"), str)
    return False


def _walk(node, dialect, path, found) -> None:
    if isinstance(node, bool) and dialect == "oas31":
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if not isinstance(key, str) or key.startswith("x-"):
            continue
        here = [*path, key]
        if _refused(key, value, dialect):
            found.append((key, here))
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                _walk(sub, dialect, [*here, name], found)
        elif key in _SCHEMA_VALUES:
            if isinstance(value, list):
                for i, sub in enumerate(value):
                    _walk(sub, dialect, [*here, i], found)
            else:
                _walk(value, dialect, here, found)
        elif key == "dependencies" and isinstance(value, dict):
            for name, sub in value.items():
                _walk(sub, dialect, [*here, name], found)


# -- compilation ------------------------------------------------------------------------


def _reachable(schema, definitions: dict) -> dict:
    """The definitions ``schema`` reaches through ``#/definitions/`` references (a
    validator carries only those, not every definition of the spec)."""
    found: dict = {}
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/definitions/"):
                name = ref[len("#/definitions/") :].split("/", 1)[0]
                if name not in found and name in definitions:
                    found[name] = definitions[name]
                    stack.append(definitions[name])
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return found


def _draft_of(schema, dialect: str | None) -> int:
    if dialect == "oas31":
        return 2020
    if dialect in ("swagger2", "oas30"):
        return 4
    uri = schema.get("$schema") if isinstance(schema, dict) else None
    if isinstance(uri, str) and "2020-12" in uri:
        return 2020
    return 4  # Swagger 2.0's and pymacaron's own schemas: exclusiveMinimum: true is a flag


def compile_schema(
    schema: dict,
    definitions: dict | None = None,
    *,
    dialect: str | None = None,
    direction: str | None = None,
):
    """A validator function for ``schema``, already JSON Schema (:func:`to_json_schema`).

    ``definitions`` (from :func:`json_definitions`) resolve ``#/definitions/...``
    references; ``direction`` picks their request/response variants. The draft is 2020-12
    for ``oas31`` (or a ``$schema`` saying so), else draft 4. The function returns the data
    or raises :class:`SchemaViolation`; a broken schema raises ValueError here.
    """
    if definitions and direction in VARIANT_SUFFIX:
        suffix = VARIANT_SUFFIX[direction]
        names = {k[: -len(suffix)] for k in definitions if k.endswith(suffix)}
        if names:
            schema = _redirect(schema, names, suffix)
    used = _reachable(schema, definitions) if definitions else {}
    if used:
        schema = {**schema, "definitions": {**(schema.get("definitions") or {}), **used}}
    if _draft_of(schema, dialect) == 2020:
        return _compile_rs(schema)
    return _compile_draft4(schema)


def _compile_rs(schema: dict):
    """2020-12: a jsonschema-rs validator (imported here: a draft 4 service never loads it)."""
    import jsonschema_rs

    try:
        engine = jsonschema_rs.Draft202012Validator(
            schema,
            formats=_format_checks(2020),
            validate_formats=True,
            pattern_options=_patterns(),
        )
    except jsonschema_rs.ValidationError as e:  # a broken schema, not a broken value
        where = "".join(f"[{p!r}]" for p in e.instance_path)
        raise ValueError(f"invalid schema{' at ' + where if where else ''}: {e.message}") from None
    except (jsonschema_rs.ReferencingError, ValueError) as e:
        raise ValueError(f"invalid schema: {e}") from None
    is_valid = engine.is_valid

    def validate(data):
        try:
            if is_valid(data):
                return data
        except ValueError:  # not a JSON value (a date, bytes, an int key...)
            raise _not_json(data) from None
        raise _violation(engine, data, schema)

    validate.schema = schema
    return validate


def _formats_of(schema) -> dict:
    """The format functions for every ``format`` name ``schema`` uses (draft 4): checked
    ones (jsonschema-rs' loaded now for those it checks), a yes for any other name (an
    annotation, or a Swagger 2.0 format nobody checks; fastjsonschema's own regexes, which
    disagree with schemathesis, are never used)."""
    names, stack = set(), [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                names.add(node["format"])
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
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


@functools.cache
def _draft4_generator():
    """fastjsonschema's draft 4 code generator, told two things: an error carries the very
    schema node that failed (one object per node, not a literal rebuilt at every raise: a
    rejected document costs less, and a discriminator branch is known by its identity), and
    keywords run in jsonschema-rs' order where it can be (composition last, ``dependencies``
    after ``patternProperties``), so the first error named is most often the same."""
    from fastjsonschema.draft04 import CodeGeneratorDraft04

    class Generator(CodeGeneratorDraft04):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pym_nodes: list = []
            self._pym_index: dict = {}
            table = self._json_keywords_to_function
            for key in ("dependencies", "allOf", "anyOf", "oneOf", "not"):
                table.move_to_end(key)

        def exc(self, msg, *args, append_to_msg=None, rule=None):
            index = self._pym_index.get(id(self._definition))
            if index is None:
                index = self._pym_index[id(self._definition)] = len(self._pym_nodes)
                self._pym_nodes.append(self._definition)
            arg = '"' + msg + '"' + (f" + ({append_to_msg})" if append_to_msg else "")
            self.l(
                "raise JsonSchemaValueException("
                + arg
                + ', value={variable}, name="{name}", definition=PYM_NODES['
                + str(index)
                + "], rule="
                + repr(rule)
                + ")",
                *args,
            )

        def create_variable_keys(self):
            # the keys in the object's order, not a set's (which depends on the hash
            # seed): with several bad extra properties, the first one named is the same
            # in every process
            name = f"{self._variable}_keys"
            if not self._is_variable_in_scope(name):
                self._variables[name] = tuple(self._scope_stack)
                self.l("{variable}_keys = PYM_KEYS.fromkeys({variable})")

        @property
        def global_state(self):
            state = super().global_state
            state["PYM_NODES"] = self._pym_nodes
            state["PYM_KEYS"] = _OrderedKeys
            return state

    return Generator


class _OrderedKeys(dict):
    """The set of an object's keys fastjsonschema's code works on, in the object's order."""

    __slots__ = ()

    def remove(self, key) -> None:
        del self[key]


def _no_remote(uri: str):
    raise ValueError(f"remote reference {uri!r}: references stay inside the spec")


def _compile_draft4(schema: dict, precheck: bool = True):
    """Draft 4 (swagger2, oas30, pymacaron's own schemas): fastjsonschema's validator for
    the verdict and the error, behind :mod:`.fastcheck`'s pre-check for valid data (none
    for a discriminator branch, only ever run on a document known to fail)."""
    import fastjsonschema
    from fastjsonschema.ref_resolver import RefResolver

    from . import fastcheck

    # without $schema fastjsonschema would apply a later draft (exclusiveMinimum: a number)
    schema = {**schema, "$schema": DRAFT4}
    formats = _formats_of(schema)
    handlers = dict.fromkeys(("http", "https", "file", "ftp", ""), _no_remote)
    try:
        resolver = RefResolver.from_schema(schema, handlers=handlers, store={})
        generator = _draft4_generator()(
            schema, resolver=resolver, formats=formats, use_default=False
        )
        state = generator.global_state
        exec(generator.func_code, state)
        full = functools.partial(state[resolver.get_scope_name()], custom_formats=formats)
    except RecursionError:
        raise ValueError("invalid schema: too deeply nested") from None
    except Exception as e:  # fastjsonschema's definition errors, a missing $ref's KeyError...
        raise ValueError(f"invalid schema: {e}") from None
    check = fastcheck.build(schema, formats) if precheck else None
    error_class = fastjsonschema.JsonSchemaValueException
    branches: dict = {}  # discriminator branch (by id) -> its validator, compiled on need

    def validate(data):
        if check is not None and check(data):
            return data
        try:
            full(data)
        except error_class as e:
            raise _from_fast(e, data, schema, branches) from None
        except (TypeError, ValueError, AttributeError):  # not JSON: a key that is no str...
            raise _not_json(data) from None
        return data

    validate.schema = schema
    return validate


@functools.cache
def _patterns():
    import jsonschema_rs

    return jsonschema_rs.FancyRegexOptions()  # what schemathesis' engine uses too


class LazyValidator:
    """A validator compiled on its first call (a big spec starts in seconds); every
    validator is compiled at once when :func:`eager` says so (``pym check``, the image's
    build-time records), so a broken schema still fails before anything is served."""

    __slots__ = ("_args", "_fn", "_lock")

    def __init__(self, schema: dict, definitions: dict | None = None, **options):
        import threading

        self._args, self._fn = (schema, definitions, options), None
        self._lock = threading.Lock()

    def compile(self):
        with self._lock:
            if self._fn is None:
                schema, definitions, options = self._args
                self._fn = compile_schema(schema, definitions, **options)
                self._args = None
        return self._fn

    def __call__(self, data):
        fn = self._fn
        if fn is None:
            fn = self.compile()
        return fn(data)


# Set by whoever builds the service for a check (``pym check``: app.load_service(eager=True)).
EAGER: contextvars.ContextVar[bool] = contextvars.ContextVar("pym_eager", default=False)


def eager() -> bool:
    """Compile every validator at startup: ``pym check`` (:data:`EAGER`), or
    ``PYM_EAGER_VALIDATORS=1``."""
    if os.environ.get("PYM_EAGER_VALIDATORS", "").lower() in ("1", "true", "yes"):
        return True
    return EAGER.get()


def validator_for(
    schema: dict,
    definitions: dict | None = None,
    *,
    dialect: str | None = None,
    direction: str | None = None,
):
    """The validator of ``schema`` (JSON Schema, :func:`to_json_schema`'s output for
    ``dialect`` and ``direction``): compiled now when :func:`eager`, else on first use."""
    lazy = LazyValidator(schema, definitions, dialect=dialect, direction=direction)
    if eager():
        lazy.compile()
    return lazy


# -- violations ------------------------------------------------------------------------


def _name(path) -> str:
    name = "data"
    for p in path:
        name += f"[{p}]" if isinstance(p, int) else f".{p}"
    return name


def _violation(engine, data, schema) -> SchemaViolation:
    import jsonschema_rs

    try:
        engine.validate(data)
    except jsonschema_rs.ValidationError as error:
        return _convert(_precise(error), data)
    return SchemaViolation("data is not valid", data)  # pragma: no cover - the engine said no


def _unchosen(e, depth: int) -> bool:
    import jsonschema_rs

    tail = list(e.evaluation_path[-5:])
    return (
        isinstance(e.kind, jsonschema_rs.ValidationErrorKind.Enum)
        and len(e.instance_path) == depth + 1
        and tail[:3] == ["allOf", 0, "properties"]
        and tail[4:] == ["enum"]
    )


def _precise(error):
    """Under a failed discriminator dispatch (an ``anyOf`` whose branches each start with
    ``properties: {P: {enum: [value]}}``), the error of the branch the value chose."""
    import jsonschema_rs

    kind = error.kind
    if not isinstance(kind, jsonschema_rs.ValidationErrorKind.AnyOf):
        return error
    depth = len(error.instance_path)
    chosen = []
    for branch in kind.context:
        if not branch:
            return error
        if any(_unchosen(e, depth) for e in branch):
            continue  # a branch the discriminator's value did not choose
        chosen.append(branch[0])
    return _precise(chosen[0]) if len(chosen) == 1 else error


# the words after a field's name, for the rules both engines word the same (the draft 4
# engine's _fast_kind and jsonschema-rs' _KINDS): {} is the schema's value for the rule
_WORDS = {
    "minLength": "must be longer than or equal to {} characters",
    "maxLength": "must be shorter than or equal to {} characters",
    "minItems": "must contain at least {} items",
    "maxItems": "must contain less than or equal to {} items",
    "minProperties": "must contain at least {} properties",
    "maxProperties": "must contain less than or equal to {} properties",
    "pattern": "must match pattern {}",
    "format": "must be {}",
    "multipleOf": "must be multiple of {!r}",
    "uniqueItems": "must contain unique items",
    "anyOf": "cannot be validated by any definition",
    "not": "must NOT match a disallowed definition",
}
_ONE_OF = {
    0: "must be valid exactly by one definition (0 matches found)",
    2: "must be valid exactly by one definition (more than one matches)",
}


def _bound_text(word: str, exclusive: bool, limit) -> str:
    return f"must be {word} than {'' if exclusive else 'or equal to '}{limit!r}"


def _limit(word: str, exclusive: bool):
    def text(k):
        return _bound_text(word, exclusive, k.limit)

    return text


def _words(rule: str, attr: str | None = None):
    """The text of a jsonschema-rs error kind ``k`` for ``rule``, with ``k.<attr>`` in it."""
    return lambda k: _WORDS[rule].format(getattr(k, attr) if attr else "")


def _unexpected(k) -> str:
    return "must not contain {" + ", ".join(repr(x) for x in k.unexpected) + "} properties"


# the engine's error kind (class name) -> (rule, its definition, the message after the name)
_KINDS = {
    "Type": ("type", None, None),  # below: the types, in pymacaron's order
    "Required": (
        "required",
        lambda k: {"required": [k.property]},
        lambda k: f"must contain [{k.property!r}] properties",
    ),
    "AdditionalProperties": (
        "additionalProperties",
        lambda k: {"additionalProperties": False},
        _unexpected,
    ),
    "UnevaluatedProperties": ("unevaluatedProperties", lambda k: {}, _unexpected),
    "Enum": ("enum", lambda k: {"enum": k.options}, lambda k: f"must be one of {k.options!r}"),
    "Constant": (
        "const",
        lambda k: {"const": k.expected_value},
        lambda k: f"must be {k.expected_value!r}",
    ),
    "Minimum": ("minimum", lambda k: {"minimum": k.limit}, _limit("bigger", False)),
    "Maximum": ("maximum", lambda k: {"maximum": k.limit}, _limit("smaller", False)),
    "ExclusiveMinimum": (
        "exclusiveMinimum",
        lambda k: {"exclusiveMinimum": k.limit},
        _limit("bigger", True),
    ),
    "ExclusiveMaximum": (
        "exclusiveMaximum",
        lambda k: {"exclusiveMaximum": k.limit},
        _limit("smaller", True),
    ),
    "MinLength": (
        "minLength",
        lambda k: {"minLength": k.limit},
        _words("minLength", "limit"),
    ),
    "MaxLength": (
        "maxLength",
        lambda k: {"maxLength": k.limit},
        _words("maxLength", "limit"),
    ),
    "MinItems": (
        "minItems",
        lambda k: {"minItems": k.limit},
        _words("minItems", "limit"),
    ),
    "MaxItems": (
        "maxItems",
        lambda k: {"maxItems": k.limit},
        _words("maxItems", "limit"),
    ),
    "MinProperties": (
        "minProperties",
        lambda k: {"minProperties": k.limit},
        _words("minProperties", "limit"),
    ),
    "MaxProperties": (
        "maxProperties",
        lambda k: {"maxProperties": k.limit},
        _words("maxProperties", "limit"),
    ),
    "Pattern": (
        "pattern",
        lambda k: {"pattern": k.pattern},
        _words("pattern", "pattern"),
    ),
    "Format": ("format", lambda k: {"format": k.format}, _words("format", "format")),
    "UniqueItems": (
        "uniqueItems",
        lambda k: {"uniqueItems": True},
        _words("uniqueItems"),
    ),
    "MultipleOf": (
        "multipleOf",
        lambda k: {"multipleOf": k.multiple_of},
        _words("multipleOf", "multiple_of"),
    ),
    "AnyOf": ("anyOf", lambda k: {}, _words("anyOf")),
    "OneOfNotValid": (
        "oneOf",
        lambda k: {},
        lambda k: _ONE_OF[0],
    ),
    "OneOfMultipleValid": (
        "oneOf",
        lambda k: {},
        lambda k: _ONE_OF[2],
    ),
    "Not": ("not", lambda k: {}, _words("not")),
    "FalseSchema": ("not", lambda k: {}, lambda k: "must not be present"),
}


def _convert(error, root) -> SchemaViolation:
    kind = error.kind
    path = list(error.instance_path)
    entry = _KINDS.get(type(kind).__name__)
    if entry is None:  # a keyword without a message of pymacaron's: the engine's own
        rule, definition, text = kind.name, {}, error.message
    elif entry[0] == "type":
        types = sorted(kind.types, key=lambda t: t == "null")  # "a string or null"
        rule = "type"
        definition = {"type": types if len(types) > 1 else types[0]}
        text = f"must be {' or '.join(types)}"
    else:
        rule, definition, text = entry[0], entry[1](kind), entry[2](kind)
    if rule == "not" and path:  # a property the schema forbids here (writeOnly in a reply)
        text = "must not be present"
    name = _name(path)
    return SchemaViolation(
        f"{name} {text}", error.instance, name, definition, rule, ["data", *path]
    )


# -- draft 4: fastjsonschema's errors as the same violations -------------------------


_NAME_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def _path_of(name: str, root, value=None) -> list:
    """The path (``["owner", 0]``) that fastjsonschema's ``name`` (``data.owner[0]``)
    denotes in ``root``, the one that leads to the failing ``value`` itself: read against the
    data, so a key holding ``.`` or ``[`` is one key."""

    def walk(rest: str, node):
        if not rest:
            return [] if node is value else None
        if rest[0] == "[" and isinstance(node, list | tuple):
            end = rest.find("]")
            try:
                index = int(rest[1:end])
                sub = walk(rest[end + 1 :], node[index])
            except (ValueError, IndexError):
                sub = None
            if sub is not None:
                return [index, *sub]
        if rest[0] == "." and isinstance(node, dict):
            keys = [k for k in node if isinstance(k, str) and rest.startswith(k, 1)]
            for key in sorted(keys, key=len, reverse=True):
                sub = walk(rest[1 + len(key) :], node[key])
                if sub is not None:
                    return [key, *sub]
        return None

    if not name.startswith("data"):
        found = None
    else:  # the common case: every step is a plain key or an index of the data
        node, found, pos = root, [], 4
        for m in _NAME_STEP.finditer(name, 4):
            key, index = m.group(1), m.group(2)
            if m.start() != pos:
                break
            if index is not None and isinstance(node, list | tuple) and int(index) < len(node):
                found.append(int(index))
                node = node[int(index)]
            elif key is not None and isinstance(node, dict) and key in node:
                found.append(key)
                node = node[key]
            else:
                break
            pos = m.end()
        if pos != len(name) or node is not value:
            found = walk(name[4:], root)
    if found is not None:
        return found
    parts = [p for p in re.split(r"[.\[\]]+", name) if p][1:]
    return [int(p) if p.isdigit() else p for p in parts]


def _extras(schema: dict, value: dict) -> list:
    props = schema.get("properties") or {}
    patterns = list(schema.get("patternProperties") or {})
    return [k for k in value if k not in props and not any(re.search(p, str(k)) for p in patterns)]


def _bound(schema: dict, key: str, exclusive: str, word: str):
    """(rule, definition, text) of a failed draft 4 minimum/maximum (exclusive: a flag)."""
    limit = schema[key]
    if schema.get(exclusive) is True:
        return exclusive, {exclusive: limit}, _bound_text(word, True, limit)
    return key, {key: limit}, _bound_text(word, False, limit)


def _fast_kind(rule: str, schema: dict, value, message: str, name: str):
    """(rule, definition, text) for one fastjsonschema failure, as :func:`_convert` words a
    jsonschema-rs one."""
    if rule == "type":
        types = schema["type"]
        if isinstance(types, str):
            return "type", {"type": types}, f"must be {types}"
        types = sorted(types, key=lambda t: t == "null")  # "a string or null"
        return (
            "type",
            {"type": types if len(types) > 1 else types[0]},
            f"must be {' or '.join(types)}",
        )
    if rule == "required":
        missing = [r for r in schema["required"] if r not in value]
        prop = missing[0]
        return "required", {"required": [prop]}, f"must contain [{prop!r}] properties"
    if rule == "dependencies" and "missing dependency" in message:
        prop = message.split("missing dependency ", 1)[1].rsplit(" for ", 1)[0]
        return "required", {"required": [prop]}, f"must contain [{prop!r}] properties"
    if rule == "additionalProperties":  # the first one, as jsonschema-rs names it
        extra = "{" + repr(_extras(schema, value)[0]) + "}"
        return (
            "additionalProperties",
            {"additionalProperties": False},
            f"must not contain {extra} properties",
        )
    if rule == "enum":
        return "enum", {"enum": schema["enum"]}, f"must be one of {schema['enum']!r}"
    if rule in ("minimum", "exclusiveMinimum"):
        return _bound(schema, "minimum", "exclusiveMinimum", "bigger")
    if rule in ("maximum", "exclusiveMaximum"):
        return _bound(schema, "maximum", "exclusiveMaximum", "smaller")
    if rule == "uniqueItems":
        return rule, {rule: True}, _WORDS[rule]
    if rule in ("anyOf", "not"):
        return rule, {}, _WORDS[rule]
    if rule in _WORDS:
        return rule, {rule: schema[rule]}, _WORDS[rule].format(schema[rule])
    if rule == "oneOf":
        return rule, {}, _ONE_OF[0 if "(0 matches found)" in message else 2]
    text = message[len(name) + 1 :] if message.startswith(name + " ") else message
    return rule, {}, text


def _from_fast(error, root, schema: dict, branches: dict) -> SchemaViolation:
    """A fastjsonschema error on ``root`` as the :class:`SchemaViolation` jsonschema-rs'
    error converts to: the same rule, definition, value, path and words; under a failed
    discriminator dispatch, the error of the branch the value chose (as :func:`_precise`)."""
    path = _path_of(error.name or "data", root, error.value)
    node, value = error.definition if isinstance(error.definition, dict) else {}, error.value
    bad = _not_json_here(value)
    if bad is not None:  # jsonschema-rs refuses a value JSON cannot carry where it looks
        return _not_json_at(path, bad)
    if error.rule == "anyOf":
        inner = _chosen_branch(node.get("anyOf"), value, schema, branches)
        if inner is not None:
            full = [*path, *inner.path[1:]]
            name = _name(full)
            text = inner.message[len(inner.name) + 1 :]
            return SchemaViolation(
                f"{name} {text}", inner.value, name, inner.definition, inner.rule, ["data", *full]
            )  # inner.value is already _as_json's
    try:
        rule, definition, text = _fast_kind(
            error.rule, node, value, error.message, error.name or "data"
        )
    except (KeyError, IndexError, TypeError):  # pragma: no cover - fastjsonschema's own words
        rule, definition, text = error.rule, {}, error.message.split(" ", 1)[-1]
    if rule == "not" and path:  # a property the schema forbids here (writeOnly in a reply)
        text = "must not be present"
    name = _name(path)
    if rule in _SHOWN:  # the value is in the message: as jsonschema-rs hands it back
        value = _as_json(value)
    return SchemaViolation(f"{name} {text}", value, name, definition, rule, ["data", *path])


# rules whose message shows the offending value (describe_violation)
_SHOWN = frozenset(
    ["type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]
    + ["pattern", "format"]
)


def _not_json_here(value):
    """What makes ``value`` itself no JSON value (jsonschema-rs refuses it when it looks at
    it), or None: ``("keys", value)`` for an object with a key that is no string."""
    if value is None or isinstance(value, str | int | float | list | tuple):
        return None
    if isinstance(value, dict):
        return None if all(isinstance(k, str) for k in value) else ("keys", value)
    return value


def _as_json(value):
    """``value`` as jsonschema-rs hands an error's instance back: tuples are arrays,
    objects have their keys in order."""
    if isinstance(value, dict):
        return (
            {k: _as_json(value[k]) for k in sorted(value)}
            if all(isinstance(k, str) for k in value)
            else value
        )
    if isinstance(value, list | tuple):
        return [_as_json(v) for v in value]
    return value


def _chosen_branch(branches, value, schema: dict, cache: dict):
    """The violation of the one discriminator branch ``value`` chose, or None."""
    if not isinstance(branches, list) or not branches or not isinstance(value, dict):
        return None
    if not all(isinstance(b, dict) and MARKER in b for b in branches):
        return None
    prop = branches[0][MARKER][0]
    chosen = [b for b in branches if not (prop in value and value[prop] != b[MARKER][1])]
    if len(chosen) != 1:
        return None
    branch = chosen[0]
    validator = cache.get(id(branch))
    if validator is None:
        sub = {**branch, "definitions": schema.get("definitions") or {}}
        validator = cache[id(branch)] = _compile_draft4(sub, precheck=False)
    try:
        validator(value)
    except SchemaViolation as inner:
        return inner
    return None


def _not_json_at(path: list, what) -> SchemaViolation:
    name = _name(path)
    if isinstance(what, tuple):
        return SchemaViolation(
            f"{name} must have string keys",
            what[1],
            name,
            {"type": "object"},
            "keys",
            ["data", *path],
        )
    return SchemaViolation(
        f"{name} must be a JSON value", what, name, {"type": "JSON value"}, "type", ["data", *path]
    )


def _not_json(data) -> SchemaViolation:
    """The first value of ``data`` that JSON cannot carry, as a violation."""
    stack = [((), data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if not isinstance(k, str):
                    name = _name(path)
                    return SchemaViolation(
                        f"{name} must have string keys",
                        node,
                        name,
                        {"type": "object"},
                        "keys",
                        ["data", *path],
                    )
                stack.append(((*path, k), v))
        elif isinstance(node, list | tuple):
            stack.extend(((*path, i), v) for i, v in enumerate(node))
        elif not (node is None or isinstance(node, str | int | float)):
            name = _name(path)
            return SchemaViolation(
                f"{name} must be a JSON value",
                node,
                name,
                {"type": "JSON value"},
                "type",
                ["data", *path],
            )
    return SchemaViolation("data must be a JSON value", data)


_TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
    "JSON value": "a JSON value",
}


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _where(e: SchemaViolation, root: str) -> str:
    parts = list(e.path or [])[1:]  # drop 'data'
    where = root
    for p in parts:
        if isinstance(p, int):
            where += f"[{p}]"
        else:
            where += f".{p}" if where else str(p)
    return where


def describe_violation(e: SchemaViolation, root: str = "body") -> tuple[str, str]:
    """(field path, human message) for a validation error."""
    where = _where(e, root)
    rule, definition, value = e.rule, e.rule_definition, e.value
    if rule == "type":
        kinds = definition if isinstance(definition, list) else [definition]
        expected = " or ".join(_TYPE_NAMES.get(k, k) for k in kinds)
        message = f"expected {expected}, got {_json_type(value)} {_short(value)}"
    elif rule == "required" and isinstance(value, dict):
        missing = [r for r in definition if r not in value]
        name = missing[0] if missing else definition[0]
        where = f"{where}.{name}" if where else name
        message = "is required but missing"
    elif rule in ("additionalProperties", "unevaluatedProperties"):
        extra = e.message.split("must not contain ", 1)[-1].rsplit(" properties", 1)[0]
        message = f"has properties the spec does not declare: {extra}"
    elif rule == "enum":
        message = (
            f"expected one of {', '.join(_short(v, 30) for v in definition)}, got {_short(value)}"
        )
    elif rule == "const":
        message = f"expected {_short(definition, 30)}, got {_short(value)}"
    elif rule in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        message = e.message.split(" must ", 1)[-1]
        message = f"must {message}, got {_short(value)}"
    elif rule in (
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
    ):
        message = f"must {e.message.split(' must ', 1)[-1]}"
    elif rule == "pattern":
        message = f"must match the pattern {definition}, got {_short(value)}"
    elif rule == "format":
        message = f"must be a valid {definition}, got {_short(value)}"
    elif rule == "uniqueItems":
        message = "must contain unique items"
    else:
        message = e.message
        if e.name and message.startswith(e.name + " "):
            message = message[len(e.name) + 1 :]
    return where, message


def violation_text(e: SchemaViolation, root: str = "body") -> str:
    """'<field>: <message>' in one line."""
    where, message = describe_violation(e, root)
    return f"{where}: {message}" if where else message
