"""What Swagger 2.0 requires beyond its JSON Schema, and external references inlined.

:func:`check` refuses (StartupError naming the JSON path and line in the file) only what
the specification forbids: a duplicate ``operationId``, a parameter listed twice, a
non-body array parameter without ``items``, a parameter ``default`` of another type, a
``$ref`` that resolves to nothing, a ``discriminator`` that is not a required string
property. Checks that bravado-core made but Swagger 2.0 does not (``required`` naming a
property no branch defines, ``type`` as a list, an array schema without ``items``) are
returned as warnings. Vendor extensions (``x-...``) are opaque: nothing in them is checked.
"""

from __future__ import annotations

import copy
import os

from ..exceptions import StartupError
from . import refs
from .pointer import resolve as _pointer
from .yamlfile import line_of, load_yaml

__all__ = ["check", "inline_external_refs", "HTTP_METHODS"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_KINDS = {"integer": int, "number": (int, float), "string": str, "boolean": bool, "array": list}


def _where(path: str, json_path) -> str:
    from .load import _json_path_text

    line = line_of(path, list(json_path))
    return _json_path_text(list(json_path)) + (f" (line {line})" if line else "")


def _refuse(message: str, shown: str, path: str, json_path) -> StartupError:
    return StartupError(
        f"not a valid Swagger 2.0 spec: {message}", file=shown, location=_where(path, json_path)
    )


def _walk(node, where=()):
    """(json path, dict) of every mapping outside vendor extensions, in document order (a
    stack, not nested generators: a deep spec costs its size, not size x depth)."""
    stack = [(where, node)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, dict):
            yield where, node
            stack.extend(
                reversed(
                    [
                        ((*where, k), v)
                        for k, v in node.items()
                        if isinstance(v, dict | list)
                        and not (isinstance(k, str) and k.startswith("x-"))
                    ]
                )
            )
        elif isinstance(node, list):
            stack.extend(
                reversed(
                    [((*where, i), v) for i, v in enumerate(node) if isinstance(v, dict | list)]
                )
            )


def _deref(spec: dict, node):
    """``node`` with its local $ref chain followed in ``spec`` (refs.py)."""
    return refs.follow(node, root=spec)


def _collapsed(spec: dict, schema) -> tuple[dict, set]:
    """(properties, required) of a schema with its allOf branches merged (refs.py)."""
    flat = refs.merged(refs.follow(schema, root=spec), root=spec)
    return dict(flat.get("properties") or {}), set(flat.get("required") or [])


def check(spec: dict, path: str, shown: str) -> list[tuple[str, tuple]]:
    """Raise StartupError on what Swagger 2.0 forbids; return [(warning, json path)]."""
    warnings: list[tuple[str, tuple]] = []
    schemas = _check_refs(spec, path, shown)
    _check_operations(spec, path, shown)
    for where, node in schemas:
        if isinstance(node.get("type"), list):
            warnings.append(
                (
                    "'type' as a list is JSON Schema draft 4, enforced as such (Swagger 2.0 "
                    "tools other than pymacaron may not read it)",
                    where,
                )
            )
        if node.get("type") == "array" and "items" not in node:
            warnings.append(("an array schema without 'items' accepts any items", where))
        if "discriminator" in node:
            _check_discriminator(spec, node, where, path, shown)
        required = node.get("required")
        if isinstance(required, list) and "allOf" not in node:
            props = node.get("properties") or {}
            missing = [r for r in required if r not in props]
            if missing and not _defined_by_a_parent(spec, where, missing):
                warnings.append(
                    (
                        f"required names {', '.join(map(repr, missing))}, which 'properties' "
                        "does not define (allowed: any value is then accepted for it)",
                        where,
                    )
                )
    return warnings


def _defined_by_a_parent(spec: dict, where: tuple, names: list) -> bool:
    """A required list in an allOf branch whose properties come from a sibling branch."""
    if len(where) >= 2 and where[-2] == "allOf":
        owner = _pointer_of(spec, where[:-2])
        props, _ = _collapsed(spec, owner)
        return all(n in props for n in names)
    return False


def _pointer_of(spec: dict, where: tuple):
    node = spec
    for part in where:
        node = node[part]
    return node


_SCHEMA_KEYS = ("schema", "items", "additionalProperties", "not")


def _is_schema_position(where: tuple) -> bool:
    """Is the mapping at ``where`` a Schema Object (a definition or below a 'schema')?"""
    if len(where) >= 2 and where[0] == "definitions":
        for i, part in enumerate(where):
            if i >= 2 and where[i - 1] == "properties":
                continue
            if part == "example" or part == "default" or part == "enum":
                return False
        return where[-1] != "properties"
    if "schema" in where:
        tail = where[where.index("schema") :]
        return not any(p in ("example", "default", "enum") for p in tail) and (
            where[-1] != "properties"
        )
    return False


def _check_discriminator(spec, node, where, path, shown) -> None:
    name = node["discriminator"]
    props, required = _collapsed(spec, node)
    if name not in props:
        raise _refuse(
            f"discriminator {name!r} is not a property of the schema",
            shown,
            path,
            (*where, "discriminator"),
        )
    if name not in required:
        raise _refuse(
            f"discriminator {name!r} must be listed in 'required'",
            shown,
            path,
            (*where, "discriminator"),
        )
    kind = _deref(spec, props[name]).get("type") if isinstance(props[name], dict) else None
    if kind not in (None, "string"):
        raise _refuse(
            f"discriminator {name!r} must be a string property, not {kind!r}",
            shown,
            path,
            (*where, "discriminator"),
        )


def _check_refs(spec: dict, path: str, shown: str) -> list[tuple[tuple, dict]]:
    """Refuse a local ``$ref`` that resolves to nothing; return the Schema Objects met on
    the way, (json path, schema) in document order (one walk of the spec for both)."""
    schemas = []
    for where, node in _walk(spec):
        if _is_schema_position(where):
            schemas.append((where, node))
        ref = node.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#"):
            continue
        if where and where[-1] == "properties":
            continue  # a property named $ref
        try:
            _pointer(spec, ref)
        except KeyError:
            raise StartupError(
                f"not a valid Swagger 2.0 spec: unresolvable reference {ref!r}",
                file=shown,
                location=_where(path, where),
            ) from None
    return schemas


def _check_operations(spec: dict, path: str, shown: str) -> None:
    seen_ids: dict[str, str] = {}
    for name, param in (spec.get("parameters") or {}).items():
        _check_parameter(spec, param, ("parameters", name), path, shown)
    for p, item in (spec.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        common = item.get("parameters") or []
        _check_parameter_list(spec, common, ("paths", p, "parameters"), path, shown)
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            oid = op.get("operationId")
            if oid is not None:
                if oid in seen_ids:
                    raise _refuse(
                        f"duplicate operationId {oid!r} (also {seen_ids[oid]})",
                        shown,
                        path,
                        ("paths", p, method, "operationId"),
                    )
                seen_ids[oid] = f"{method.upper()} {p}"
            _check_parameter_list(
                spec, op.get("parameters") or [], ("paths", p, method, "parameters"), path, shown
            )


def _check_parameter_list(spec, params, where, path, shown) -> None:
    seen = set()
    for i, param in enumerate(params):
        resolved = _deref(spec, param)
        if not isinstance(resolved, dict):
            continue
        key = (resolved.get("name"), resolved.get("in"))
        if key in seen:
            raise _refuse(
                f"parameter {key[0]!r} in {key[1]} is listed twice", shown, path, (*where, i)
            )
        seen.add(key)
        if "$ref" not in param:
            _check_parameter(spec, param, (*where, i), path, shown)


def _check_parameter(spec, param, where, path, shown) -> None:
    if not isinstance(param, dict) or param.get("in") == "body" or "$ref" in param:
        return
    kind = param.get("type")
    if kind == "array" and "items" not in param:
        raise _refuse("an array parameter needs 'items'", shown, path, where)
    if "default" in param and kind in _KINDS:
        value = param["default"]
        expected = _KINDS[kind]
        if not isinstance(value, expected) or (
            kind in ("integer", "number") and isinstance(value, bool)
        ):
            raise _refuse(
                f"default {value!r} is not of the parameter's type {kind!r}",
                shown,
                path,
                (*where, "default"),
            )


# -- external references -----------------------------------------------------------------
def inline_external_refs(spec: dict, path: str, shown: str, dialect: str = "swagger2") -> dict:
    """A copy of ``spec`` where every ``$ref`` to another file (outside ``x-`` extensions)
    is resolved: schemas become definitions (Swagger 2.0) or components/schemas (OpenAPI
    3.x), named after the referenced key; path items, parameters, responses (and for 3.x
    request bodies, headers and every other non-schema object) are copied in place."""
    oas3 = dialect != "swagger2"
    label = {"swagger2": "Swagger 2.0", "oas30": "OpenAPI 3.0", "oas31": "OpenAPI 3.1"}[dialect]
    spec = copy.deepcopy(spec)
    if oas3:
        definitions = spec.setdefault("components", {}).setdefault("schemas", {})
        prefix = "#/components/schemas/"
    else:
        definitions = spec.setdefault("definitions", {})
        prefix = "#/definitions/"
    names: dict[tuple[str, str], str] = {}
    documents: dict[str, object] = {}

    def located(where) -> str | None:
        return _where(path, where) if where else None

    def document(file: str, where=()):
        if file not in documents:
            if not os.path.isfile(file):
                raise StartupError(
                    f"not a valid {label} spec: referenced file {os.path.basename(file)!r} "
                    "does not exist",
                    file=shown,
                    location=located(where),
                )
            documents[file] = load_yaml(file)
        return documents[file]

    def target(file: str, pointer: str, where=()):
        try:
            doc = document(file, where)
            return _pointer(doc, "#" + pointer) if pointer else doc
        except KeyError:
            raise StartupError(
                f"not a valid {label} spec: unresolvable reference "
                f"'{os.path.basename(file)}#{pointer}'",
                file=shown,
                location=located(where),
            ) from None

    def absolute(ref: str, base: str) -> tuple[str, str]:
        file, _, pointer = ref.partition("#")
        file = file.removeprefix("file://")
        full = os.path.normpath(os.path.join(os.path.dirname(base), file)) if file else base
        return full, pointer

    def name_for(file: str, pointer: str, where=()) -> str:
        key = (file, pointer)
        if key not in names:
            stem = (
                pointer.rstrip("/").rsplit("/", 1)[-1]
                or os.path.splitext(os.path.basename(file))[0]
            )
            name, n = stem, 1
            while name in definitions:
                n += 1
                name = f"{stem}_{n}"
            names[key] = name
            definitions[name] = {}  # reserved: cycles end here
            definitions[name] = resolve(
                copy.deepcopy(target(file, pointer, where)), file, schema=True
            )
        return names[key]

    def resolve(node, base: str, schema: bool, where: tuple = ()):
        if isinstance(node, list):
            return [resolve(v, base, schema, (*where, i)) for i, v in enumerate(node)]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and (base != path or not ref.startswith("#")):
            file, pointer = absolute(ref, base)
            if file == path and not schema:
                return node
            in_place = not schema and (oas3 or _in_place(where))
            if in_place:
                return resolve(copy.deepcopy(target(file, pointer, where)), file, False, where)
            if file == path:
                return {"$ref": "#" + pointer}
            return {"$ref": prefix + name_for(file, pointer, where if base == path else ())}
        out = {}
        for k, v in node.items():
            if isinstance(k, str) and k.startswith("x-"):
                out[k] = v
            else:
                entering = k == "schema" or (not oas3 and k == "definitions")
                out[k] = resolve(v, base, schema or entering, (*where, k))
        return out

    aliases = {}
    if oas3:  # components.schemas.X: {$ref: other.yaml#/X} -- X is that schema, by its name
        for key, node in definitions.items():
            ref = node.get("$ref") if isinstance(node, dict) else None
            if isinstance(ref, str) and not ref.startswith("#") and len(node) == 1:
                aliases[key] = absolute(ref, path)
                names[aliases[key]] = key
    paths = spec.get("paths") or {}
    spec["paths"] = resolve(paths, path, False, ("paths",))
    if oas3:
        if isinstance(spec.get("webhooks"), dict):
            spec["webhooks"] = resolve(spec["webhooks"], path, False, ("webhooks",))
        components = spec["components"]
        for section in list(components):
            if section != "schemas" and isinstance(components[section], dict):
                components[section] = resolve(
                    components[section], path, False, ("components", section)
                )
        where = ("components", "schemas")
    else:
        for section in ("parameters", "responses"):
            if section in spec:
                spec[section] = resolve(spec[section], path, False, (section,))
        where = ("definitions",)
    for key in list(definitions):
        if key in aliases:
            file, pointer = aliases[key]
            definitions[key] = resolve(copy.deepcopy(target(file, pointer)), file, True)
        else:
            definitions[key] = resolve(definitions[key], path, True, (*where, key))
    return spec


def _in_place(where: tuple) -> bool:
    """A path item, a parameter or a response (not a schema)."""
    if len(where) == 2 and where[0] == "paths":
        return True
    return len(where) >= 2 and (
        where[-2] in ("parameters", "responses")
        or where[0] in ("parameters", "responses")
        and len(where) == 2
    )
