"""Messages: the words a client reads for a :class:`SchemaViolation`, and every violation
of a document on the error path.

Owns :func:`describe_violation`, :func:`violation_text` and :func:`all_violations`. The
violation itself is violation.py's; each engine's errors are converted in rs_messages.py
(jsonschema-rs) and draft4_messages.py (fastjsonschema): the same rule, path, value and
words whichever engine failed. When a document has several errors the engines may name a
different one first.
"""

from __future__ import annotations

from .draft4_messages import _SHOWN, _as_json, _fast_kind, _from_fast, _not_json
from .rs_messages import _convert, _violation
from .violation import JsonSchemaValueException, SchemaViolation, _name

__all__ = [
    "JsonSchemaValueException",
    "SchemaViolation",
    "_convert",
    "_from_fast",
    "_not_json",
    "_violation",
    "all_violations",
    "describe_violation",
    "violation_text",
]


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


def all_violations(validator, data, first: SchemaViolation, limit: int = 20) -> list:
    """Every violation of ``data`` (at most ``limit``), ``first`` (the engine's, what the
    error's description names) first. Only on the error path: draft 4 asks the python
    ``jsonschema`` engine for the others (a draft 4 worker never loads jsonschema-rs),
    2020-12 jsonschema-rs. Formats are checked by ``first``'s engine only."""
    fn = getattr(validator, "compile", None)
    fn = fn() if fn is not None else validator
    schema = getattr(fn, "schema", None)
    out, seen = [first], {_key(first)}
    if not isinstance(schema, dict):
        return out
    try:
        for v in _others(fn, schema, data):
            if _key(v) not in seen:
                seen.add(_key(v))
                out.append(v)
                if len(out) >= limit:
                    break
    except Exception:  # noqa: BLE001 - a second opinion only: the first error stands
        return out[:1]
    return out


def _key(v: SchemaViolation) -> tuple:
    return (v.rule, tuple(v.path), str(v.rule_definition))


def _others(fn, schema: dict, data):
    if getattr(fn, "draft", 4) == 2020:
        import jsonschema_rs

        for error in jsonschema_rs.Draft202012Validator(schema).iter_errors(data):
            yield _convert(error, data)
        return
    from jsonschema import Draft4Validator

    for error in Draft4Validator(schema).iter_errors(data):
        path = list(error.absolute_path)
        name = _name(path)
        node = error.schema if isinstance(error.schema, dict) else {}
        if error.validator == "required":
            missing = [r for r in node.get("required") or [] if r not in error.instance]
            for prop in missing:
                yield SchemaViolation(
                    f"{name} must contain [{prop!r}] properties",
                    error.instance,
                    name,
                    {"required": [prop]},
                    "required",
                    ["data", *path],
                )
            continue
        try:
            rule, definition, text = _fast_kind(
                error.validator, node, error.instance, error.message, name
            )
        except (KeyError, IndexError, TypeError):
            rule, definition, text = error.validator, {}, error.message
        value = _as_json(error.instance) if rule in _SHOWN else error.instance
        yield SchemaViolation(f"{name} {text}", value, name, definition, rule, ["data", *path])
