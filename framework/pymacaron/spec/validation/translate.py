"""Dialect translation: an OpenAPI schema (``swagger2``, ``oas30``, ``oas31``) as JSON Schema.

Owns :func:`to_json_schema` (one schema) and :func:`json_definitions` (a spec's
definitions, with discriminators enforced and request/response variants where
``readOnly``/``writeOnly`` matter): draft 4 for ``swagger2`` and ``oas30`` (``x-nullable``,
``nullable``, int32/int64 bounds, ``type: file``), 2020-12 for ``oas31``.
"""

from __future__ import annotations

from ..walk import json_objects

DRAFT4 = "http://json-schema.org/draft-04/schema#"
DRAFT2020 = "https://json-schema.org/draft/2020-12/schema"
DIALECTS = ("swagger2", "oas30", "oas31")
DIRECTIONS = (None, "request", "response")

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


# OpenAPI's annotations every dialect drops from the JSON Schema it validates with
_ANNOTATIONS = {"example", "discriminator", "readOnly", "xml", "externalDocs"}
_SKIP = {
    "swagger2": _ANNOTATIONS | {"collectionFormat", "in", "name", "required_", "allowEmptyValue"},
    "oas30": _ANNOTATIONS | {"writeOnly", "nullable", "deprecated"},
    # $recursiveRef/$recursiveAnchor: 2019-09's, no keyword of 2020-12 (enforce.OLD_2019)
    "oas31": _ANNOTATIONS | {"writeOnly", "$recursiveRef", "$recursiveAnchor"},
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
    ``type: file`` accepts anything, vendor extensions and annotations are dropped, a schema
    with ``properties`` and no ``type`` is an object (what a model is built from). In 3.x,
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
    if "type" not in out and isinstance(out.get("properties"), dict):
        # properties without a type (common in 2.0, where `type: object` is often left
        # out) describe a model: a string or a number there is a client's mistake, not a
        # value to hand to a handler that reads its attributes
        out["type"] = "object"
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
    return any(
        o.get("readOnly") is True or o.get("writeOnly") is True for o in json_objects(schema)
    )


def _refs(node, found: set) -> set:
    for o in json_objects(node):
        ref = o.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            found.add(ref[len("#/definitions/") :].split("/", 1)[0])
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
