"""Messages: a failed validation as one :class:`SchemaViolation`, whichever engine failed.

Owns :class:`SchemaViolation`, the conversion of jsonschema-rs' errors (:func:`_convert`)
and of fastjsonschema's (:func:`_from_fast`) to the same rule, path, value and words, and
the text a client reads (:func:`describe_violation`, :func:`violation_text`). When a
document has several errors the engines may name a different one first.
"""

from __future__ import annotations

import re

from .translate import MARKER


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
