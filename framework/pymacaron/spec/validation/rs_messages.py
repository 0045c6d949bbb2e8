"""jsonschema-rs' errors (2020-12, and draft 4's formats) as :class:`SchemaViolation`.

Owns the table of the engine's error kinds (:data:`_KINDS`) and :func:`_convert`; under a
failed discriminator dispatch, :func:`_precise` takes the error of the branch the value
chose. jsonschema-rs is imported only when one of these runs.
"""

from __future__ import annotations

from .violation import _ONE_OF, _WORDS, SchemaViolation, _bound_text, _name


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


def _worded(rule: str, attr: str | None):
    """A _KINDS entry whose definition is ``{rule: k.<attr>}`` and words are _WORDS'."""
    value = (lambda k: getattr(k, attr)) if attr else (lambda k: True)
    return rule, lambda k: {rule: value(k)}, _words(rule, attr)


# the kinds worded by _WORDS with the kind's one attribute (uniqueItems: none, its value True)
for _kind, _attr in (
    ("MinLength", "limit"),
    ("MaxLength", "limit"),
    ("MinItems", "limit"),
    ("MaxItems", "limit"),
    ("MinProperties", "limit"),
    ("MaxProperties", "limit"),
    ("Pattern", "pattern"),
    ("Format", "format"),
    ("UniqueItems", None),
    ("MultipleOf", "multiple_of"),
):
    _KINDS[_kind] = _worded(_kind[0].lower() + _kind[1:], _attr)
del _kind, _attr


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
