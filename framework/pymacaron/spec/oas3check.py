"""Check an OpenAPI 3.0 / 3.1 document: the official JSON Schema and the MUSTs it cannot say.

:func:`check` runs, in order, each refusal a one-line StartupError naming the file, the
JSON path of the node and its line:

1. the normalization itself (openapi3.py), first because it says best what it refuses:
   a parameter ``in`` a location 3.x does not have (``body``, ``formData``), with both
   ``schema`` and ``content`` or neither, a ``content`` of more than one media type, a
   style its location does not allow, a path parameter not declared or not required, a
   parameter listed twice, a requestBody without content, a reference to nothing;
2. the official JSON Schema of the version (schema.py);
3. what the specification requires beyond it: every ``$ref`` resolves (schemas too), and
   to the kind of object its place needs; unique ``operationId``; templated paths that
   differ only by their variable names; server URL variables defined (and a default in
   their enum); security requirements naming declared schemes; ``encoding`` entries
   naming a property of a form media type; discriminator mappings that resolve; 3.1
   schemas valid under JSON Schema 2020-12; keywords the validation engine cannot
   enforce (load.py ``_refuse_unenforceable``).

Returns warnings (text, JSON path) for what is allowed but likely a mistake. Vendor
extensions (``x-...``) are opaque: nothing in them is checked. Runs only on a check: a
start with a recorded result skips it (cache.py).
"""

from __future__ import annotations

import re

from ..exceptions import StartupError
from .openapi3 import HTTP_METHODS
from .pointer import resolve as _pointer
from .schemaroots import schema_roots
from .yamlfile import line_of

__all__ = ["check"]

_VARIABLE = re.compile(r"{([^{}]*)}")
_PATH_VAR = re.compile(r"{[^}/]+}")
#: where a $ref must point, by the kind of object its place holds
_KIND_SECTION = {
    "parameter": "parameters",
    "requestBody": "requestBodies",
    "response": "responses",
    "header": "headers",
    "schema": "schemas",
    "example": "examples",
    "link": "links",
    "callback": "callbacks",
    "securityScheme": "securitySchemes",
    "pathItem": "pathItems",
}


class _Checker:
    def __init__(self, spec: dict, path: str, shown: str, dialect: str):
        self.spec, self.path, self.shown, self.dialect = spec, path, shown, dialect
        self.oas = "3.0" if dialect == "oas30" else "3.1"
        self.warnings: list[tuple[str, tuple]] = []

    def refuse(self, message: str, where) -> StartupError:
        from .load import _json_path_text

        line = line_of(self.path, list(where))
        return StartupError(
            f"not a valid OpenAPI {self.oas} spec: {message}",
            file=self.shown,
            location=_json_path_text(list(where)) + (f" (line {line})" if line else ""),
        )


def check(spec: dict, path: str, shown: str, dialect: str) -> list[tuple[str, tuple]]:
    """Raise StartupError on what OpenAPI 3.0 / 3.1 forbids; return [(warning, json path)]."""
    from . import schema as specschema
    from .openapi3 import normalize

    c = _Checker(spec, path, shown, dialect)
    try:
        normalize(spec, "check", path, shown, dialect)
    except StartupError:  # e.g. "needs a 'schema'": a misspelt 'shema' is the mistake
        specschema.refuse_misspelt_key(spec, path, shown, dialect)
        raise
    specschema.check_oas3(spec, path, shown, dialect)
    _check_refs(c)
    _check_operations(c)
    _check_servers(c)
    _check_security(c)
    for where, schema in schema_roots(spec):
        _check_schema(c, schema, where)
    _check_parameter_defaults(c)
    _check_encodings(c)
    return c.warnings


# -- walking the document -----------------------------------------------------------------
_DATA_KEYS = ("example", "examples", "default", "enum", "const")


def _walk_schema(schema, where):
    """(JSON path, mapping) of a schema and its subschemas (keys that hold data skipped)."""
    if isinstance(schema, list):
        for i, v in enumerate(schema):
            yield from _walk_schema(v, (*where, i))
        return
    if not isinstance(schema, dict):
        return
    yield where, schema
    for k, v in schema.items():
        if not isinstance(k, str) or k.startswith("x-") or k in _DATA_KEYS:
            continue
        if k in ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas"):
            if isinstance(v, dict):
                for name, sub in v.items():
                    yield from _walk_schema(sub, (*where, k, name))
        elif k in ("discriminator", "xml", "externalDocs", "required", "dependentRequired"):
            continue
        else:
            yield from _walk_schema(v, (*where, k))


def _walk(node, where=()):
    """(JSON path, mapping) of every mapping outside vendor extensions and examples."""
    if isinstance(node, dict):
        yield where, node
        for k, v in node.items():
            if isinstance(k, str) and (k.startswith("x-") or k in ("example", "examples")):
                continue
            yield from _walk(v, (*where, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, (*where, i))


# -- references -----------------------------------------------------------------------------
def _kind_at(where: tuple) -> str | None:
    """The kind of object a ``$ref`` at ``where`` stands for (None: not known here)."""
    if not where:
        return None
    last = where[-1]
    parent = where[-2] if len(where) >= 2 else None
    if len(where) == 2 and where[0] == "paths":
        return "pathItem"
    if parent == "parameters" and isinstance(last, int):
        return "parameter"
    if last == "requestBody":
        return "requestBody"
    if parent == "responses" and where[0] != "components":
        return "response"
    if parent == "headers":
        return "header"
    if parent == "examples":
        return "example"
    if len(where) == 3 and where[0] == "components":
        kinds = {v: k for k, v in _KIND_SECTION.items()}
        return kinds.get(where[1])
    return None


def _anchors(spec) -> set[str]:
    found = set()
    for _, schema in schema_roots(spec):
        for _, node in _walk_schema(schema, ()):
            for key in ("$anchor", "$dynamicAnchor"):
                if isinstance(node.get(key), str):
                    found.add(node[key])
    return found


def _check_refs(c: _Checker) -> None:
    anchors = None
    in_schema = set()
    for where, schema in schema_roots(c.spec):
        for sub_where, node in _walk_schema(schema, where):
            in_schema.add(id(node))
            ref = node.get("$ref")
            if isinstance(ref, str):
                if ref.startswith("#/") or ref == "#":
                    try:
                        _pointer(c.spec, ref)
                    except KeyError:
                        raise c.refuse(
                            f"unresolvable reference {ref!r}", (*sub_where, "$ref")
                        ) from None
                elif ref.startswith("#"):
                    anchors = _anchors(c.spec) if anchors is None else anchors
                    if ref[1:] not in anchors:
                        raise c.refuse(
                            f"unresolvable reference {ref!r} (no $anchor {ref[1:]!r})",
                            (*sub_where, "$ref"),
                        )
            mapping = (node.get("discriminator") or {}).get("mapping")
            if isinstance(node.get("discriminator"), dict) and isinstance(mapping, dict):
                schemas = (c.spec.get("components") or {}).get("schemas") or {}
                for value, target in mapping.items():
                    if not isinstance(target, str):
                        continue
                    if target.startswith("#"):
                        try:
                            _pointer(c.spec, target)
                            continue
                        except KeyError:
                            pass
                    elif target in schemas or "/" in target or target.endswith((".yaml", ".json")):
                        continue
                    raise c.refuse(
                        f"discriminator mapping {value!r}: {target!r} names no schema",
                        (*sub_where, "discriminator", "mapping", value),
                    )
    for where, node in _walk(c.spec):
        ref = node.get("$ref")
        if not isinstance(ref, str) or id(node) in in_schema:
            continue
        if where and where[-1] in ("properties", "mapping"):
            continue
        try:
            _pointer(c.spec, ref)
        except KeyError:
            raise c.refuse(f"unresolvable reference {ref!r}", (*where, "$ref")) from None
        kind = _kind_at(where)
        section = _KIND_SECTION.get(kind or "")
        if (
            section
            and ref.startswith("#/components/")
            and not ref.startswith(f"#/components/{section}/")
        ):
            raise c.refuse(
                f"reference {ref!r} stands for a {kind}: expected '#/components/{section}/...'",
                (*where, "$ref"),
            )


# -- operations -----------------------------------------------------------------------------
def _check_operations(c: _Checker) -> None:
    seen_ids: dict[str, str] = {}
    templates: dict[str, str] = {}
    paths = c.spec.get("paths") if isinstance(c.spec.get("paths"), dict) else {}
    for p, item in paths.items():
        if p.startswith("x-"):
            continue
        shape = _PATH_VAR.sub("{}", p)
        if shape in templates and templates[shape] != p:
            raise c.refuse(
                f"path {p!r} is the same template as {templates[shape]!r} "
                "(paths that differ only by their variable names are identical)",
                ("paths", p),
            )
        templates[shape] = p
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            if method in ("get", "head") and op.get("requestBody") is not None:
                c.warnings.append(
                    (
                        f"a requestBody on {method.upper()} has no defined semantics (HTTP): "
                        "clients and proxies may drop it",
                        ("paths", p, method, "requestBody"),
                    )
                )
            oid = op.get("operationId")
            if oid is not None:
                if oid in seen_ids:
                    raise c.refuse(
                        f"duplicate operationId {oid!r} (also {seen_ids[oid]})",
                        ("paths", p, method, "operationId"),
                    )
                seen_ids[oid] = f"{method.upper()} {p}"
            for i, prm in enumerate(op.get("parameters") or []):
                if (
                    isinstance(prm, dict)
                    and prm.get("in") == "header"
                    and str(prm.get("name", "")).lower()
                    in ("accept", "content-type", "authorization")
                ):
                    c.warnings.append(
                        (
                            f"header parameter {prm['name']!r} is ignored (OpenAPI 3: Accept, "
                            "Content-Type and Authorization are described elsewhere)",
                            ("paths", p, method, "parameters", i),
                        )
                    )


# -- servers ------------------------------------------------------------------------------
def _check_servers(c: _Checker) -> None:
    for where, servers in _server_lists(c.spec):
        for i, server in enumerate(servers):
            if not isinstance(server, dict) or not isinstance(server.get("url"), str):
                continue
            variables = server.get("variables") if isinstance(server.get("variables"), dict) else {}
            for name in _VARIABLE.findall(server["url"]):
                if name not in variables:
                    raise c.refuse(
                        f"server url {server['url']!r} uses variable {name!r}, which "
                        "'variables' does not define",
                        (*where, i, "url"),
                    )
            for name, var in variables.items():
                if not isinstance(var, dict):
                    continue
                enum = var.get("enum")
                if isinstance(enum, list) and "default" in var and var["default"] not in enum:
                    raise c.refuse(
                        f"server variable {name!r}: default {var['default']!r} is not one of "
                        f"its enum {enum!r}",
                        (*where, i, "variables", name, "default"),
                    )


def _server_lists(spec: dict):
    if isinstance(spec.get("servers"), list):
        yield ("servers",), spec["servers"]
    paths = spec.get("paths") if isinstance(spec.get("paths"), dict) else {}
    for p, item in paths.items():
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("servers"), list):
            yield ("paths", p, "servers"), item["servers"]
        for method in HTTP_METHODS:
            op = item.get(method)
            if isinstance(op, dict) and isinstance(op.get("servers"), list):
                yield ("paths", p, method, "servers"), op["servers"]


# -- security ------------------------------------------------------------------------------
def _check_security(c: _Checker) -> None:
    schemes = ((c.spec.get("components") or {}).get("securitySchemes")) or {}
    lists = []
    if isinstance(c.spec.get("security"), list):
        lists.append((("security",), c.spec["security"]))
    paths = c.spec.get("paths") if isinstance(c.spec.get("paths"), dict) else {}
    for p, item in paths.items():
        for method in HTTP_METHODS:
            op = item.get(method) if isinstance(item, dict) else None
            if isinstance(op, dict) and isinstance(op.get("security"), list):
                lists.append((("paths", p, method, "security"), op["security"]))
    for where, requirements in lists:
        for i, requirement in enumerate(requirements):
            if not isinstance(requirement, dict):
                continue
            for name in requirement:
                if name not in schemes:
                    raise c.refuse(
                        f"security requirement names {name!r}, which "
                        "components.securitySchemes does not declare",
                        (*where, i, name),
                    )


# -- schemas -------------------------------------------------------------------------------
def _check_schema(c: _Checker, schema, where: tuple) -> None:
    from .load import _refuse_unenforceable

    if c.dialect == "oas31":
        _check_2020_12(c, schema, where)
    else:
        for sub_where, node in _walk_schema(schema, where):
            if node.get("type") == "array" and "items" not in node:
                raise c.refuse("an array schema needs 'items' (OpenAPI 3.0)", sub_where)
    _refuse_unenforceable(schema, where, c.dialect, c.path, c.shown)


_KINDS = {"integer": int, "number": (int, float), "string": str, "boolean": bool, "array": list}


def _check_parameter_defaults(c: _Checker) -> None:
    """A parameter's default reaches the handler as written: it must be of the schema's type."""
    for where, node in _walk(c.spec):
        # the schema of a Parameter Object: <...>.parameters.<index or name>.schema
        if len(where) < 3 or where[-1] != "schema" or where[-3] != "parameters":
            continue
        kind = node.get("type")
        if "default" not in node or kind not in _KINDS:
            continue
        value = node["default"]
        if not isinstance(value, _KINDS[kind]) or (
            kind in ("integer", "number") and isinstance(value, bool)
        ):
            raise c.refuse(
                f"default {value!r} is not of the parameter's type {kind!r}",
                (*where, "default"),
            )


def _check_2020_12(c: _Checker, schema, where: tuple) -> None:
    """A 3.1 Schema Object is a JSON Schema 2020-12 (the OpenAPI vocabulary's keywords,
    ``discriminator``, ``xml``, ``externalDocs``, ``example``, are annotations to it)."""
    from .load import _first_line
    from .schema import check_2020_12
    from .validation.enforce import OLD_2019

    found = check_2020_12(schema)
    if found is not None and any(k in OLD_2019 for k in found[1] if isinstance(k, str)):
        found = check_2020_12(_without(schema, OLD_2019))  # 2019-09's: annotations, warned
    if found is not None:
        message, inner = found
        raise c.refuse(f"not a JSON Schema 2020-12: {_first_line(message)}", (*where, *inner))


def _without(node, keys):
    """A copy of ``node`` without ``keys`` at any depth."""
    if isinstance(node, dict):
        return {k: _without(v, keys) for k, v in node.items() if k not in keys}
    if isinstance(node, list):
        return [_without(v, keys) for v in node]
    return node


# -- request bodies --------------------------------------------------------------------------
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _check_encodings(c: _Checker) -> None:
    for where, node in _walk(c.spec):
        if not where or where[-1] != "content" or not isinstance(node, dict):
            continue
        for media_type, media in node.items():
            if not isinstance(media, dict) or not isinstance(media.get("encoding"), dict):
                continue
            here = (*where, media_type, "encoding")
            bare = media_type.split(";", 1)[0].strip().lower()
            if bare not in _FORMS and not bare.startswith("multipart/"):
                raise c.refuse(
                    f"'encoding' applies to multipart and application/x-www-form-urlencoded "
                    f"bodies, not {media_type!r}",
                    here,
                )
            props = _properties(c.spec, media.get("schema"))
            if props is None:
                continue
            for name in media["encoding"]:
                if name not in props:
                    raise c.refuse(
                        f"encoding names {name!r}, which is not a property of the body's schema",
                        (*here, name),
                    )


def _properties(spec: dict, schema, depth: int = 0) -> set | None:
    """The property names of an object schema (allOf merged), None when not knowable."""
    if not isinstance(schema, dict) or depth > 20:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str):
        try:
            return _properties(spec, _pointer(spec, ref), depth + 1)
        except KeyError:
            return None
    if any(k in schema for k in ("oneOf", "anyOf", "additionalProperties", "patternProperties")):
        return None
    names = set(schema.get("properties") or {})
    for part in schema.get("allOf") or []:
        more = _properties(spec, part, depth + 1)
        if more is None:
            return None
        names |= more
    return names
