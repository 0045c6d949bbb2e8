"""The official JSON Schemas of Swagger 2.0 and OpenAPI 3.0 / 3.1: a yes/no for a spec,
an explanation (JSON path and line in the file) for one it refuses.

Swagger 2.0: jsonschema-rs' yes/no for every check (the compiled fastjsonschema validator
when jsonschema-rs says no or cannot read the document), jsonschema's explanation on a refusal.
OpenAPI 3.x (:func:`check_oas3`): the schemas the OpenAPI Initiative publishes
(https://spec.openapis.org/oas/3.0/schema/2021-09-28 and .../3.1/schema/2022-10-07,
Apache-2.0, shipped in ``schemas/``): the yes/no by jsonschema-rs (draft 4 and 2020-12,
milliseconds), the explanation of a refusal by jsonschema (whose import alone takes about
a second) -- only on a check, which a recorded result skips (cache.py).

The schema is the official one (vendored: schemas/swagger2.0.json), made self-contained (its draft 4
references inlined) and compiled like any other validator (validation.py, cached on
disk). ``format`` keywords of the meta-schema are dropped: JSON Schema does not assert
them by default, and a spec's ``pattern`` written for another regex dialect is still a
valid spec. A refusal is explained by jsonschema on the spec *as written* (no
dereferencing), so the location is where the bad node is in the file.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import json
import os

from ..exceptions import StartupError
from .yamlfile import line_of

__all__ = ["check", "check_oas3", "official_schema", "oas3_schema"]

_DRAFT4_URI = "http://json-schema.org/draft-04/schema#"


def _package_file(package: str, *parts: str) -> str:
    found = importlib.util.find_spec(package)  # no import: only the file is read
    if found is None or not found.origin:
        raise StartupError(
            f"{package} is not installed: it ships the schema specs are checked with"
        )
    return os.path.join(os.path.dirname(found.origin), *parts)


@functools.cache
def official_schema() -> dict:
    """The Swagger 2.0 JSON Schema, as published."""
    with open(os.path.join(os.path.dirname(__file__), "schemas", "swagger2.0.json")) as f:
        return json.load(f)


@functools.cache
def _draft4() -> dict:
    path = _package_file("jsonschema_specifications", "schemas", "draft4", "metaschema.json")
    with open(path) as f:
        return json.load(f)


def _self_contained() -> dict:
    schema = copy.deepcopy(official_schema())
    draft4 = _draft4()
    extra: dict = {}

    def local(pointer: str) -> str:
        # '#/definitions/positiveInteger' of draft 4 -> '#/definitions/d4_definitions_positiveInteger'
        parts = [p for p in pointer.lstrip("#").split("/") if p]
        name = "d4_" + "_".join(parts)
        if name not in extra:
            node = draft4
            for p in parts:
                node = node[p]
            extra[name] = None  # placeholder against cycles
            extra[name] = rewrite(copy.deepcopy(node), in_draft4=True)
        return f"#/definitions/{name}"

    def rewrite(node, in_draft4=False, in_names=False):
        if isinstance(node, list):
            return [rewrite(v, in_draft4) for v in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for k, v in node.items():
            if in_names:  # keys of 'properties' are names, not keywords
                out[k] = rewrite(v, in_draft4)
            elif k == "$ref" and isinstance(v, str):
                if v.startswith(_DRAFT4_URI):
                    out[k] = local(v[len(_DRAFT4_URI) :])
                elif in_draft4 and v.startswith("#"):
                    out[k] = local(v)
                else:
                    out[k] = v
            elif k == "format" and isinstance(v, str):
                continue  # not asserted by default in JSON Schema
            elif k in ("properties", "patternProperties", "definitions"):
                out[k] = rewrite(v, in_draft4, in_names=True)
            else:
                out[k] = rewrite(v, in_draft4)
        return out

    schema = rewrite(schema)
    schema.pop("id", None)
    schema.setdefault("definitions", {}).update(extra)
    return schema


@functools.cache
def _validator():
    from .validation import compile_schema

    return compile_schema(_self_contained())


@functools.cache
def _yes_no():
    """A fast ``is_valid`` for the Swagger 2.0 schema (jsonschema-rs: ~30 ms for a 4 MB
    spec, where generating, compiling and running the fastjsonschema validator took ~1 s),
    None without it."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - jsonschema-rs is the validation engine
        return None
    return jsonschema_rs.Draft4Validator(_self_contained(), validate_formats=False).is_valid


def check(spec: dict, path: str, shown: str) -> None:
    """Raise StartupError (JSON path and line of the node) unless ``spec`` is Swagger 2.0:
    jsonschema-rs' yes is final; its no (or a value JSON has not, a YAML date: jsonschema-rs
    refuses to read it) goes to the compiled validator, then jsonschema explains."""
    from .validation import JsonSchemaValueException

    is_valid = _yes_no()
    if is_valid is not None:
        try:
            if is_valid(spec):
                return
        except ValueError:
            pass
    try:
        _validator()(spec)
        return
    except JsonSchemaValueException:
        pass
    _explain(spec, path, shown)


def _explain(spec: dict, path: str, shown: str) -> None:
    from jsonschema import Draft4Validator
    from jsonschema.exceptions import relevance

    from .load import _first_line, _json_path_text, _most_telling

    errors = list(Draft4Validator(official_schema()).iter_errors(spec))
    if not errors:  # the two engines disagree: jsonschema's yes stands
        return
    error = max(errors, key=relevance)
    json_path = list(error.absolute_path)
    message = error.message
    misspelt = misspelt_key(errors)
    if misspelt is not None:
        json_path, message = misspelt
    elif error.context:
        best = _most_telling(error.context)
        if best is not None:
            json_path = list(best.absolute_path) or json_path
            message = best.message
    location = None
    if json_path:
        line = line_of(path, json_path)
        location = _json_path_text(json_path) + (f" (line {line})" if line else "")
    raise StartupError(
        f"not a valid Swagger 2.0 spec: {_first_line(message)}", file=shown, location=location
    )


_UNKNOWN_KEYS = ("additionalProperties", "unevaluatedProperties")


def misspelt_key(errors) -> tuple[list, str] | None:
    """(JSON path of the key, message) when a refusal's error tree holds an unknown key
    close to a key its object allows (``tpye`` for ``type``): that is the mistake, not what
    the other ``oneOf`` alternatives say (``'query' is not one of ['path']``)."""
    import difflib
    import re

    stack, found = list(errors), []
    while stack:
        error = stack.pop()
        stack.extend(error.context or [])
        if error.validator not in _UNKNOWN_KEYS or not isinstance(error.instance, dict):
            continue
        schema = error.schema if isinstance(error.schema, dict) else {}
        allowed = list(schema.get("properties") or {})
        patterns = list(schema.get("patternProperties") or {})
        if error.validator == "unevaluatedProperties":  # 3.1: extensions through a $ref
            patterns.append("^x-")
        for key in error.instance:
            if key in allowed or any(re.search(p, str(key)) for p in patterns):
                continue
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            if close and close[0] not in error.instance:
                found.append((list(error.absolute_path), str(key), close[0]))
    if not found:
        return None
    where, key, close = max(found, key=lambda f: len(f[0]))
    return [*where, key], f"unknown key {key!r} (did you mean {close!r}?)"


# -- OpenAPI 3.0 / 3.1 --------------------------------------------------------------------
_OAS3_FILES = {"oas30": "oas3.0.json", "oas31": "oas3.1.json"}
OAS3_SCHEMA_FILES = tuple(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas", f)
    for f in _OAS3_FILES.values()
)


@functools.cache
def oas3_schema(dialect: str) -> dict:
    """The official JSON Schema of OpenAPI 3.0 (``oas30``) or 3.1 (``oas31``), as published."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas")
    with open(os.path.join(here, _OAS3_FILES[dialect])) as f:
        return json.load(f)


@functools.cache
def _oas3_yes_no(dialect: str):
    """A fast ``is_valid`` for the version's schema (jsonschema-rs), None without it."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - jsonschema-rs is the validation engine
        return None
    cls = (
        jsonschema_rs.Draft4Validator if dialect == "oas30" else jsonschema_rs.Draft202012Validator
    )
    return cls(oas3_schema(dialect), validate_formats=False).is_valid


@functools.cache
def _oas3_validator(dialect: str):
    from jsonschema import Draft4Validator, Draft202012Validator

    cls = Draft4Validator if dialect == "oas30" else Draft202012Validator
    return cls(oas3_schema(dialect))  # no format_checker: formats are not asserted


def check_oas3(spec: dict, path: str, shown: str, dialect: str) -> None:
    """Raise StartupError (JSON path and line of the node) unless ``spec`` is OpenAPI 3.0 /
    3.1 as its official JSON Schema says."""
    is_valid = _oas3_yes_no(dialect)
    if is_valid is not None and is_valid(spec):
        return
    from .load import _first_line, _json_path_text

    errors = list(_oas3_validator(dialect).iter_errors(spec))
    if not errors:  # the two engines disagree: jsonschema's yes stands
        return
    json_path, message = misspelt_key(errors) or _telling_oas3(errors)
    location = None
    if json_path:
        line = line_of(path, json_path)
        location = _json_path_text(json_path) + (f" (line {line})" if line else "")
    version = "3.0" if dialect == "oas30" else "3.1"
    raise StartupError(
        f"not a valid OpenAPI {version} spec: {_first_line(message)}",
        file=shown,
        location=location,
    )


def refuse_misspelt_key(spec: dict, path: str, shown: str, dialect: str) -> None:
    """Raise the official schema's "unknown key 'shema' (did you mean 'schema'?)" when
    ``spec`` has such a key; nothing otherwise (called when another check refused the spec:
    the misspelt key is the mistake to name)."""
    from .load import _json_path_text

    found = misspelt_key(_oas3_validator(dialect).iter_errors(spec))
    if found is None:
        return
    json_path, message = found
    line = line_of(path, json_path)
    version = "3.0" if dialect == "oas30" else "3.1"
    raise StartupError(
        f"not a valid OpenAPI {version} spec: {message}",
        file=shown,
        location=_json_path_text(json_path) + (f" (line {line})" if line else ""),
    )


_X_ONLY = "does not match any of the regexes: '^x-'"


def _telling_oas3(errors) -> tuple[list, str]:
    """(JSON path, message) of the error a human wants among a refusal's: the deepest leaf
    of the ``oneOf`` trees, leaving out the "is it a Reference Object" alternative
    (``'$ref' is a required property``) that every ``X-or-Reference`` place offers; a wrong
    enum value before other errors at the same depth."""
    leaves, stack = [], list(errors)
    while stack:
        error = stack.pop()
        if error.context:
            stack.extend(error.context)
        else:
            leaves.append(error)
    useful = [
        e
        for e in leaves
        if not (e.validator == "required" and e.message == "'$ref' is a required property")
    ] or leaves
    best = max(
        useful,
        key=lambda e: (len(e.absolute_path), e.validator == "enum", e.validator != "required"),
    )
    message = best.message
    if best.validator == "additionalProperties" and message.endswith(_X_ONLY):
        keys = message[: -len(_X_ONLY)].strip()
        message = (
            f"{keys} {'is not a keyword' if ',' not in keys else 'are not keywords'} of this "
            "object (only x- extensions may be added)"
        )
    elif best.validator == "additionalProperties" and "were unexpected" not in message:
        message = message.replace("Additional properties are not allowed", "unknown key")
    return list(best.absolute_path), message


def check_2020_12(schema) -> tuple[str, list] | None:
    """(message, JSON path inside ``schema``) when it is not a JSON Schema 2020-12, else None."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover
        jsonschema_rs = None
    if jsonschema_rs is not None:
        if jsonschema_rs.meta.is_valid(schema):
            return None
        try:
            jsonschema_rs.meta.validate(schema)
        except jsonschema_rs.ValidationError as e:
            return str(e).strip().splitlines()[0], list(e.instance_path)
        return None
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(schema))
    return None if error is None else (error.message, list(error.absolute_path))
