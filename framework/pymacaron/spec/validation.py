"""Schema validation compiled once: Swagger schemas -> JSON Schema draft 4 -> Python code.

Validators are compiled with fastjsonschema at startup, once per operation and schema,
so a request pays for a function call, not for walking a schema. Messages name the
field (``body.owner.name``) and say what was expected.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import json
import marshal
import os
import sys
import tempfile
import types

import fastjsonschema
from fastjsonschema import JsonSchemaException, JsonSchemaValueException

from . import fastcheck

__all__ = [
    "compile_schema",
    "json_definitions",
    "validator_for",
    "LazyValidator",
    "to_json_schema",
    "describe_violation",
    "SchemaViolation",
    "JsonSchemaValueException",
]

SchemaViolation = JsonSchemaValueException

DRAFT4 = "http://json-schema.org/draft-04/schema#"

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)

# Formats Swagger 2.0 names that fastjsonschema does not know; all other formats
# (int32/int64 are ranges, float/double/binary/password are not checks) are handled
# in to_json_schema or ignored, as bravado-core does.
SWAGGER_FORMATS = {
    "date": r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$",
    "byte": r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
}

_SKIP_KEYS = {
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
}


def to_json_schema(schema):
    """Translate a Swagger 2.0 schema into JSON Schema draft 4 (a new object).

    ``x-nullable: true`` admits null, int32/int64 become bounds, ``type: file`` accepts
    anything, vendor extensions are dropped.
    """
    if isinstance(schema, list):
        return [to_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key.startswith("x-") or key in _SKIP_KEYS:
            continue
        if key in ("properties", "definitions", "patternProperties"):
            out[key] = {k: to_json_schema(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "allOf", "anyOf", "oneOf", "not"):
            out[key] = to_json_schema(value)
        else:
            out[key] = value
    kind = out.get("type")
    if kind == "file":
        out.pop("type")
    if kind == "integer":
        fmt = schema.get("format")
        # integers without a format are int64 too: a 10**30 id is a client mistake,
        # not something to hand to a database driver
        bounds = INT32 if fmt == "int32" else INT64
        if bounds:
            out.setdefault("minimum", bounds[0])
            out.setdefault("maximum", bounds[1])
    if schema.get("x-nullable") is True:
        if "$ref" in out:
            out = {"anyOf": [{"type": "null"}, out]}
        elif isinstance(kind, str):
            out["type"] = [kind, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
    return out


BASE_SUFFIX = "__pym_base"
MARKER = "x-pym-discriminator"


def json_definitions(definitions: dict) -> dict:
    """Translate every definition (:func:`to_json_schema`), with Swagger 2.0's
    ``discriminator`` enforced: the value of the property names the definition (the one
    that has the discriminator, or one that extends it through ``allOf``) the object must
    also validate against. Specs without a discriminator are translated as they are."""
    out = {k: to_json_schema(v) for k, v in definitions.items()}
    roots = [
        k
        for k, v in definitions.items()
        if isinstance(v, dict) and isinstance(v.get("discriminator"), str)
    ]
    if not roots:
        return out

    def parents(name: str) -> list[str]:
        schema = definitions.get(name)
        found = []
        for part in (schema.get("allOf") or []) if isinstance(schema, dict) else []:
            ref = part.get("$ref") if isinstance(part, dict) else None
            if isinstance(ref, str) and ref.startswith("#/definitions/"):
                found.append(ref[len("#/definitions/") :])
        return found

    def extends(name: str, root: str, seen=()) -> bool:
        return any(
            p == root or (p not in seen and extends(p, root, (*seen, p))) for p in parents(name)
        )

    for root in roots:
        prop = definitions[root]["discriminator"]
        base = root + BASE_SUFFIX
        root_ref = f"#/definitions/{root}"
        out[base] = out[root]
        children = sorted(n for n in definitions if n != root and extends(n, root))
        for child in children:  # a subtype extends the base, not the dispatch (no cycle)
            for part in out[child].get("allOf") or []:
                if isinstance(part, dict) and part.get("$ref") == root_ref:
                    part["$ref"] = f"#/definitions/{base}"
        names = [root, *children]
        branches = []
        for n in names:
            branch = {MARKER: [prop, n], "properties": {prop: {"enum": [n]}}}
            if n != root:
                branch["allOf"] = [{"$ref": f"#/definitions/{n}"}]
            branches.append(branch)
        out[root] = {
            "allOf": [
                {"$ref": f"#/definitions/{base}"},
                {"properties": {prop: {"enum": names}}},
            ],
            "anyOf": branches,
        }
    return out


def _discriminated(e: JsonSchemaValueException, definitions: dict, cache: dict):
    """The precise error under a failed discriminator branch (the named definition's)."""
    branches = e.rule_definition if e.rule == "anyOf" else None
    if not isinstance(branches, list) or not all(
        isinstance(b, dict) and MARKER in b for b in branches
    ):
        return e
    prop = branches[0][MARKER][0]
    name = e.value.get(prop) if isinstance(e.value, dict) else None
    if not isinstance(name, str) or f"{name}" not in definitions:
        return e
    validator = cache.get(name)
    if validator is None:
        validator = cache[name] = compile_schema({"$ref": f"#/definitions/{name}"}, definitions)
    try:
        validator(e.value)
    except JsonSchemaValueException as inner:
        prefix = e.name or "data"
        rest = (inner.name or "data")[len("data") :]
        return JsonSchemaValueException(
            inner.message.replace("data", prefix, 1),
            inner.value,
            prefix + rest,
            inner.definition,
            inner.rule,
        )
    return e


def _reachable(schema, definitions: dict) -> dict:
    """The definitions ``schema`` reaches through ``#/definitions/`` references (a
    validator, and its cache key, carry only those, not every definition of the spec)."""
    found: dict = {}
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/definitions/"):
                name = ref[len("#/definitions/") :]
                if name not in found and name in definitions:
                    found[name] = definitions[name]
                    stack.append(definitions[name])
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return found


def compile_schema(schema: dict, definitions: dict | None = None):
    """A fast validator function for ``schema`` (JSON Schema draft 4).

    ``definitions`` (already translated) resolve ``#/definitions/...`` references.
    The function returns the data or raises :class:`JsonSchemaValueException`.
    """
    used = _reachable(schema, definitions) if definitions else {}
    if used:
        schema = {**schema, "definitions": used}
    # Swagger 2.0 schemas are draft 4 (exclusiveMinimum: true is a flag, not the number 1);
    # without $schema fastjsonschema would apply a later draft
    schema = {"$schema": DRAFT4, **schema}
    full_code, check_code = _compiled(schema)
    namespace: dict = {}
    exec(full_code, namespace)
    full = namespace["validate"]
    if any(k.endswith(BASE_SUFFIX) for k in used):
        plain, cache = full, {}

        def full(data):  # noqa: F811 - a discriminator's failure says what failed inside
            try:
                return plain(data)
            except JsonSchemaValueException as e:
                raise _discriminated(e, definitions, cache) from None

    if check_code is None:
        return full
    namespace = {}
    exec(check_code, namespace)
    check = namespace["check"]

    def validate(data):
        # the pre-check says yes to valid data; anything else gets fastjsonschema's verdict
        # and message (fastcheck.py)
        if check(data):
            return data
        return full(data)

    return validate


class LazyValidator:
    """A validator compiled on its first call (a big spec starts in seconds); every
    validator is compiled at once when :func:`eager` says so (``pym check``, the image's
    build-time records), so a broken schema still fails before anything is served."""

    __slots__ = ("_schema", "_definitions", "_fn", "_lock")

    def __init__(self, schema: dict, definitions: dict | None = None):
        import threading

        self._schema, self._definitions, self._fn = schema, definitions, None
        self._lock = threading.Lock()

    def compile(self):
        with self._lock:
            if self._fn is None:
                self._fn = compile_schema(self._schema, self._definitions)
                self._schema = self._definitions = None
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


def validator_for(schema: dict, definitions: dict | None = None):
    """The validator of ``schema``: compiled now when :func:`eager`, else on first use."""
    lazy = LazyValidator(schema, definitions)
    if eager():
        lazy.compile()
    return lazy


def _compiled(schema: dict):
    """(fastjsonschema's code, the pre-check's code or None) for ``schema``: generated and
    compiled once, then kept as marshalled code in the cache directory (speccache.py), keyed
    by the schema and the generators' versions, so a normal start only loads them."""
    from .cache import cache_dir

    try:
        text = json.dumps(schema, sort_keys=True, default=repr)
    except (TypeError, ValueError):  # keys of mixed types: compile it every time
        text = None
    base = cache_dir() if text is not None else None
    record = None
    if base:
        key = hashlib.sha256(_generator_version().encode() + text.encode()).hexdigest()
        record = os.path.join(base, "validators", f"{key}.marshal")
        try:
            with open(record, "rb") as f:
                codes = marshal.loads(f.read())
            if (
                isinstance(codes, tuple)
                and len(codes) == 2
                and isinstance(codes[0], types.CodeType)
                and (codes[1] is None or isinstance(codes[1], types.CodeType))
            ):
                return codes
        except (OSError, ValueError, EOFError, TypeError):
            pass
    try:
        full_source = fastjsonschema.compile_to_code(
            schema, formats=SWAGGER_FORMATS, use_default=False
        )
    except JsonSchemaException as e:  # a broken schema, not a broken value
        raise ValueError(f"invalid schema: {e}") from None
    check_source = fastcheck.source(schema, SWAGGER_FORMATS)
    codes = (
        compile(full_source, "<fastjsonschema>", "exec"),
        compile(check_source, "<pymacaron.fastcheck>", "exec") if check_source else None,
    )
    if record:
        try:
            os.makedirs(os.path.dirname(record), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(record), suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                f.write(marshal.dumps(codes))
            os.chmod(tmp, 0o644)  # mkstemp makes 0600: other users (the image's app user) read it
            os.replace(tmp, record)
        except OSError:
            pass  # a read-only cache only costs the compilation on every start
    return codes


@functools.cache
def _generator_version() -> str:
    """What the generated code depends on: Python, fastjsonschema, the pre-check generator."""
    with open(fastcheck.__file__, "rb") as f:
        mine = hashlib.sha256(f.read()).hexdigest()
    return "\n".join(
        [sys.version, fastjsonschema.VERSION, mine, json.dumps(SWAGGER_FORMATS, sort_keys=True)]
    )


_TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
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


def _where(e: JsonSchemaValueException, root: str) -> str:
    parts = list(e.path or [])[1:]  # drop 'data'
    where = root
    for p in parts:
        if p.isdigit() or (p.startswith("-") and p[1:].isdigit()):
            where += f"[{p}]"
        else:
            where += f".{p}" if where else p
    return where


def describe_violation(e: JsonSchemaValueException, root: str = "body") -> tuple[str, str]:
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
    elif rule == "additionalProperties":
        extra = e.message.split("must not contain ", 1)[-1].rsplit(" properties", 1)[0]
        message = f"has properties the spec does not declare: {extra}"
    elif rule == "enum":
        message = (
            f"expected one of {', '.join(_short(v, 30) for v in definition)}, got {_short(value)}"
        )
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
        text = e.message
        message = text.split(" must ", 1)[-1] if " must " in text else text
        message = f"must {message}" if " must " in text else message
    return where, message


def violation_text(e: JsonSchemaValueException, root: str = "body") -> str:
    """'<field>: <message>' in one line."""
    where, message = describe_violation(e, root)
    return f"{where}: {message}" if where else message
