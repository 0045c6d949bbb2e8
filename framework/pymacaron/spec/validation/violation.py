"""One failed validation, whichever engine failed: :class:`SchemaViolation`.

Owns the violation (rule, path, value, words), the name of a path (``data.owner[0]``) and
the words both engines' converters give the same rule (:data:`_WORDS`): jsonschema-rs'
errors are converted in rs_messages.py, fastjsonschema's (draft 4) in draft4_messages.py;
the text a client reads is messages.py's.
"""

from __future__ import annotations


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
