"""Draft 4's errors (fastjsonschema's, and python jsonschema's second opinion) as the
:class:`SchemaViolation` jsonschema-rs' error converts to (rs_messages.py).

Owns reading fastjsonschema's ``name`` back into a path of the data (:func:`_path_of`), the
words of each rule (:func:`_fast_kind`), the discriminator branch a value chose, and the
values JSON cannot carry (which jsonschema-rs refuses where it looks).
"""

from __future__ import annotations

import re

from .translate import MARKER
from .violation import _ONE_OF, _WORDS, SchemaViolation, _bound_text, _name

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
        from .compile import _compile_draft4  # compile imports this module

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
                    return _not_json_at(list(path), ("keys", node))
                stack.append(((*path, k), v))
        elif isinstance(node, list | tuple):
            stack.extend(((*path, i), v) for i, v in enumerate(node))
        elif not (node is None or isinstance(node, str | int | float)):
            return _not_json_at(list(path), node)
    return SchemaViolation("data must be a JSON value", data)
