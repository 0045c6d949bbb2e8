"""A yes/no pre-check compiled beside each draft 4 (fastjsonschema) validator: the fast
accept path.

fastjsonschema's generated code is built to explain a failure: every item of a list pays
for formatting its own name (``data[3]``), every object for a copy of its keys. Valid
data, the common case, needs none of that. :func:`build` generates, once per schema, a
function that only answers "certainly valid?", using exact type tests, set operations on
keys, fastjsonschema's reading of ``pattern`` and the very format functions the full
validator is given. validation.compile_schema runs it first and calls the full validator
only when it says no, so every error (and its message) comes from the full validator.

The pre-check is *conservative*: it says yes only when fastjsonschema would accept too.
Values or keywords it does not model exactly (tuples, Decimals, subclasses of str or dict,
integral floats for ``integer``, ``oneOf``, ``not``, ``multipleOf``, ``uniqueItems``...)
make that part of the schema say no (the full validator decides); :func:`build` returns
None only for a root it cannot read at all.
"""

from __future__ import annotations

import re

__all__ = ["build", "source"]

# Keywords that never reject anything in draft 4 as fastjsonschema runs it (use_default=False).
_ANNOTATIONS = {
    "title",
    "description",
    "default",
    "definitions",
    "$schema",
    "id",
    "example",
    "examples",
    "readOnly",
    "discriminator",
    "xml",
    "externalDocs",
    "deprecated",
    "x-pym-discriminator",  # validation.json_definitions' branch marker
}
_MARKER = "x-pym-discriminator"
_TYPE_TEST = {
    "string": "type({v}) is str",
    "integer": "type({v}) is int",
    "number": "(type({v}) is int or type({v}) is float)",
    "boolean": "type({v}) is bool",
    "object": "type({v}) is dict",
    "array": "type({v}) is list",
    "null": "{v} is None",
}
# the exact types the checks below understand; anything else goes to the full validator
_BASIC = "(str, int, float, bool, dict, list, type(None))"
_CLASSES = {
    "string": frozenset([str]),
    "integer": frozenset([int]),
    "number": frozenset([int, float]),
    "boolean": frozenset([bool]),
    "object": frozenset([dict]),
    "array": frozenset([list]),
    "null": frozenset([type(None)]),
}
_ALL = frozenset().union(*_CLASSES.values())


class Unsupported(Exception):
    """The schema uses something the pre-check does not model exactly."""


class _Gen:
    def __init__(self, root: dict, formats: dict):
        self.root = root
        self.formats = formats
        self.consts: dict[str, object] = {}
        self.funcs: dict[str, str] = {}  # $ref -> function name
        self.blocks: list[list[str]] = []
        self.n = 0
        self.inlining: list[str] = []  # the $refs being inlined, outermost first
        self.tables: list[str] = []  # discriminator dispatch tables, after the functions
        # variable -> the Python types its value can still have where the code stands
        # (each variable is checked at one block level of one function)
        self.known: dict[str, frozenset] = {}
        schema_uri = root.get("$schema") if isinstance(root, dict) else None
        self.draft4 = isinstance(schema_uri, str) and "draft-04" in schema_uri

    def const(self, value) -> str:
        for name, existing in self.consts.items():
            if type(existing) is type(value) and existing == value:
                return name
        name = f"_c{len(self.consts)}"
        self.consts[name] = value
        return name

    def var(self) -> str:
        self.n += 1
        return f"v{self.n}"

    def target(self, ref) -> dict:
        if not isinstance(ref, str) or not ref.startswith("#/definitions/"):
            raise Unsupported(f"$ref {ref!r}")
        key = ref[len("#/definitions/") :]
        if "/" in key or "~" in key or key not in (self.root.get("definitions") or {}):
            raise Unsupported(f"$ref {ref!r}")
        return self.root["definitions"][key]

    def ref(self, ref: str) -> str:
        if ref in self.funcs:
            return self.funcs[ref]
        target = self.target(ref)
        name = f"_r{len(self.funcs)}"
        self.funcs[ref] = name
        self.function(name, target)
        return name

    def basic(self, v: str, out: list[str]) -> None:
        """The value is one of the exact types the checks understand (once per variable)."""
        if v not in self.known:
            out.append(f"if type({v}) not in {_BASIC}: return False")
            self.known[v] = _ALL

    def function(self, name: str, schema) -> None:
        body: list[str] = []
        saved, self.known = self.known, {}  # v0 is another value in each function
        try:
            self.emit(schema, "v0", body)
        finally:
            self.known = saved
        # a required property is read as v[name]: its absence is the KeyError (no keys() set)
        # the builtins and constants the lines use as default arguments: read as locals
        # (LOAD_FAST), not as globals, on every test of every item (~8 % of a list's
        # check). Positional ones: CPython copies those from a tuple, where keyword-only
        # ones are looked up in a dict on each call (a one-object check then cost more).
        # Every caller passes the value only (check(data), _r0(v), a branch's _a1_v2(v)).
        text = "\n".join(body)
        names = [n for n in (*_LOCALS, *self.consts) if _used(n, text)]
        self.blocks.append(
            [
                f"def {name}(v0{''.join(f', {n}={n}' for n in names)}):",
                "    try:",
                *_indent(_indent(body)),
                "    except KeyError:",
                "        return False",
                "    return True",
            ]
        )

    # -- one schema applied to the value in variable v: lines that 'return False' ----
    def emit(self, schema, v: str, out: list[str]) -> None:
        """Lines checking ``schema`` on ``v``; a part the pre-check cannot model says no."""
        lines: list[str] = []
        try:
            self._emit(schema, v, lines)
        except Unsupported:
            lines = ["return False"]
        out.extend(lines)

    def _emit(self, schema, v: str, out: list[str]) -> None:
        pad = ""
        if schema is True or schema == {}:
            self.basic(v, out)
            return
        if not isinstance(schema, dict):
            raise Unsupported("schema is not an object")
        unknown = set(schema) - _HANDLED - _ANNOTATIONS
        if unknown:
            raise Unsupported(", ".join(sorted(unknown)))
        if "$ref" in schema:
            ref = schema["$ref"]
            if ref not in self.inlining and len(self.inlining) < 4:  # no call per item
                self.inlining.append(ref)
                try:
                    self.emit(self.target(ref), v, out)
                finally:
                    self.inlining.pop()
            else:  # recursive (or deep): a function of its own
                out.append(f"{pad}if not {self.ref(ref)}({v}): return False")
        kinds = schema.get("type")
        if kinds is None:
            kinds = list(_TYPE_TEST)
            if "$ref" not in schema:  # a $ref's function already said yes to the type
                self.basic(v, out)
        else:
            kinds = [kinds] if isinstance(kinds, str) else list(kinds)
            if not kinds or any(k not in _TYPE_TEST for k in kinds):
                raise Unsupported(f"type {kinds!r}")
            allowed = frozenset().union(*(_CLASSES[k] for k in kinds))
            if not self.known.get(v, _ALL) <= allowed:  # not known already
                test = " or ".join(_TYPE_TEST[k].format(v=v) for k in kinds)
                out.append(f"{pad}if not ({test}): return False")
                self.known[v] = self.known.get(v, _ALL) & allowed
        only = kinds[0] if len(kinds) == 1 else None

        def guarded(kind: str, lines: list[str]) -> None:
            if not lines or (kind not in kinds and not (kind == "number" and "integer" in kinds)):
                return
            possible = self.known.get(v, _ALL)
            if not possible & _CLASSES[kind]:
                return  # the value cannot be of that kind here
            if possible <= _CLASSES[kind]:
                out.extend(pad + line for line in lines)
                return
            test = {
                "string": f"type({v}) is str",
                "number": f"(type({v}) is int or type({v}) is float)",
                "object": f"type({v}) is dict",
                "array": f"type({v}) is list",
            }[kind]
            out.append(f"{pad}if {test}:")
            out.extend(pad + "    " + line for line in lines)

        if "enum" in schema:
            values = schema["enum"]
            if not isinstance(values, list) or not all(x is None or type(x) is str for x in values):
                raise Unsupported("enum of non-strings")
            strings = frozenset(x for x in values if x is not None)
            if only == "string" and None not in values:  # the type test is above
                test = f"{v} in {self.const(strings)}"
            else:
                test = f"(type({v}) is str and {v} in {self.const(strings)})"
            if None in values:
                test = f"({v} is None or {test})"
            out.append(f"{pad}if not {test}: return False")

        # numbers: as the draft fastjsonschema applies reads them. Draft 4 (what
        # compile_schema names for Swagger 2.0): exclusiveMinimum/exclusiveMaximum are flags
        # on minimum/maximum. Later drafts: they are numbers of their own.
        lines = []
        if self.draft4:
            bounds: list[str] = []
            for key, exclusive, op in (
                ("minimum", "exclusiveMinimum", "<"),
                ("maximum", "exclusiveMaximum", ">"),
            ):
                flag = schema.get(exclusive, False)
                if type(flag) is not bool:
                    raise Unsupported(exclusive)
                if key in schema:
                    bound = schema[key]
                    if type(bound) not in (int, float):
                        raise Unsupported(key)
                    # the condition to hold (not NaN: the full validator decides it)
                    keep = {"<": ">", ">": "<"}[op] + ("" if flag else "=")
                    bounds.append(f"{v} {keep} {bound!r}")
            if bounds:
                lines.append(f"if not ({' and '.join(bounds)}): return False")
        else:
            for key, op in (
                ("minimum", "<"),
                ("maximum", ">"),
                ("exclusiveMinimum", "<="),
                ("exclusiveMaximum", ">="),
            ):
                if key in schema:
                    bound = schema[key]
                    if type(bound) not in (int, float):  # bool (a draft 4 flag), Decimal...
                        raise Unsupported(key)
                    lines.append(f"if {v} {op} {bound!r}: return False")
        if "multipleOf" in schema:
            raise Unsupported("multipleOf")
        guarded("number", lines)

        # strings
        lines = []
        if "minLength" in schema or "maxLength" in schema:
            lo, hi = schema.get("minLength"), schema.get("maxLength")
            if any(b is not None and type(b) not in (int, float) for b in (lo, hi)):
                raise Unsupported("length bounds")
            if lo is not None and hi is not None:
                lines.append(f"if not ({lo!r} <= len({v}) <= {hi!r}): return False")
            elif lo is not None:
                lines.append(f"if len({v}) < {lo!r}: return False")
            else:
                lines.append(f"if len({v}) > {hi!r}: return False")
        if "pattern" in schema:
            lines.append(
                f"if not {self.const(_pattern(schema['pattern']))}.search({v}): return False"
            )
        if "format" in schema:
            check = self.format_check(schema["format"])
            if check is not None:
                lines.append(f"if not {self.const(check)}({v}): return False")
        guarded("string", lines)

        # arrays
        lines = []
        for key, op in (("minItems", "<"), ("maxItems", ">")):
            if key in schema:
                if type(schema[key]) not in (int, float):
                    raise Unsupported(key)
                lines.append(f"if len({v}) {op} {schema[key]!r}: return False")
        if schema.get("uniqueItems"):
            raise Unsupported("uniqueItems")
        if "additionalItems" in schema and isinstance(schema.get("items"), list):
            raise Unsupported("additionalItems")
        if "items" in schema:
            items = schema["items"]
            if isinstance(items, list):
                raise Unsupported("items as a list")
            item = self.var()
            body: list[str] = []
            self.emit(items, item, body)
            lines.append(f"for {item} in {v}:")
            lines += _indent(body)
        guarded("array", lines)

        # objects
        lines = []
        present: frozenset = frozenset()
        props = schema.get("properties") or {}
        if not isinstance(props, dict):
            raise Unsupported("properties")
        if "required" in schema:
            required = schema["required"]
            if not isinstance(required, list) or not all(type(r) is str for r in required):
                raise Unsupported("required")
            present = frozenset(required)
        # every required name has a property schema: each is read below as v[name], whose
        # KeyError (caught by the function: False) is the required check
        read_all = present <= props.keys()
        if present and not read_all:
            lines.append(f"if not {self.const(present)} <= {v}.keys(): return False")
        for key, op in (("minProperties", "<"), ("maxProperties", ">")):
            if key in schema:
                if type(schema[key]) not in (int, float):
                    raise Unsupported(key)
                lines.append(f"if len({v}) {op} {schema[key]!r}: return False")
        if "patternProperties" in schema or "dependencies" in schema:
            raise Unsupported("patternProperties/dependencies")
        extra = schema.get("additionalProperties", True)
        count = None  # additionalProperties false: the properties present, counted
        if extra is False and read_all and len(present) == len(props):
            # every required name present (read below) and no other key: len(v) says it
            lines.append(f"if len({v}) != {len(present)}: return False")
        elif extra is False and read_all:
            count = self.var()
            lines.append(f"{count} = {len(present)}")
        elif extra is False:
            lines.append(f"if not {v}.keys() <= {self.const(frozenset(props))}: return False")
        elif isinstance(extra, dict):
            key, item = self.var(), self.var()
            body = []
            self.emit(extra, item, body)
            lines.append(f"for {key}, {item} in {v}.items():")
            lines.append(f"    if {key} not in {self.const(frozenset(props))}:")
            lines += _indent(_indent(body))
        elif extra is not True:
            raise Unsupported("additionalProperties")
        for name, sub in props.items():
            if type(name) is not str:
                raise Unsupported("property name")
            item = self.var()
            body = []
            self.emit(sub, item, body)
            if name in present:  # required: a KeyError when it is not there
                lines.append(f"{item} = {v}[{name!r}]")
                lines += body
            else:
                lines.append(f"if {name!r} in {v}:")
                if count is not None:
                    lines.append(f"    {count} += 1")
                lines.append(f"    {item} = {v}[{name!r}]")
                lines += _indent(body)
        if count is not None:  # the required ones and the optional ones present: no other
            lines.append(f"if len({v}) != {count}: return False")
        guarded("object", lines)

        # composition: allOf and anyOf are exact under a conservative pre-check
        if "not" in schema:
            if schema["not"] != {}:
                raise Unsupported("not")
            out.append(f"{pad}return False")  # {"not": {}}: nothing is valid here
        for sub in schema.get("allOf") or []:
            self.emit(sub, v, out)
        if "anyOf" in schema:
            names = []
            for sub in schema["anyOf"]:
                name = f"_a{len(self.blocks)}_{self.var()}"
                self.function(name, sub)
                names.append(name)
            test = " or ".join(f"{n}({v})" for n in names)
            table = _dispatch_table(schema["anyOf"], names)
            if table is None:
                out.append(f"{pad}if not ({test}): return False")
            else:  # a discriminator: its value names the one branch that can hold
                prop, pairs = table
                name, tag = f"_d{len(self.tables)}", self.var()
                self.tables.append(f"{name} = {{{', '.join(pairs)}}}")
                out.append(f"{tag} = {v}.get({prop!r}) if type({v}) is dict else None")
                out.append(f"if type({tag}) is str:")
                out.append(f"    {tag} = {name}.get({tag})")
                out.append(f"    if {tag} is None or not {tag}({v}): return False")
                out.append(f"elif not ({test}): return False")

    def format_check(self, fmt):
        """The function fastjsonschema checks ``fmt`` with (None: not checked)."""
        if fmt in self.formats:
            given = self.formats[fmt]
            return re.compile(given).match if isinstance(given, str) else given
        try:  # the generator fastjsonschema picks for this schema, and its regexes
            from fastjsonschema import _get_code_generator_class

            builtin = _get_code_generator_class(self.root).FORMAT_REGEXS
        except (ImportError, AttributeError):
            raise Unsupported("format") from None
        if fmt in builtin:
            return re.compile(builtin[fmt]).match
        if fmt == "regex":
            raise Unsupported("format regex")
        return None  # an unknown format is no check at all, as in fastjsonschema


_HANDLED = {
    "$ref",
    "type",
    "enum",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minItems",
    "maxItems",
    "uniqueItems",
    "items",
    "additionalItems",
    "required",
    "minProperties",
    "maxProperties",
    "properties",
    "patternProperties",
    "additionalProperties",
    "dependencies",
    "allOf",
    "anyOf",
    "not",
}


# the builtins the generated lines call or test against
_LOCALS = ("type", "len", "str", "int", "float", "bool", "dict", "list")


def _used(name: str, text: str) -> bool:
    """``name`` appears in ``text`` as a whole word (not ``_c1`` inside ``_c10``)."""
    return re.search(rf"\b{re.escape(name)}\b", text) is not None


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def _pattern(pattern):
    if not isinstance(pattern, str):
        raise Unsupported("pattern")
    from .validation.patterns import draft4_regex

    try:
        return draft4_regex(pattern)  # what the full validator runs
    except ImportError:
        raise Unsupported("pattern") from None


def source(schema: dict, formats: dict) -> tuple[str, dict] | None:
    """(Python source defining ``check(data) -> bool``, the objects it names), or None."""
    gen = _Gen(schema, formats)
    try:
        gen.function("check", schema)
    except (Unsupported, RecursionError):
        return None
    blocks = "\n\n".join("\n".join(block) for block in reversed(gen.blocks))
    return blocks + "\n\n" + "\n".join(gen.tables) + "\n", dict(gen.consts)


def _dispatch_table(branches, names):
    """(property, ``"value": function`` pairs) when ``branches`` are validation.py's
    discriminator branches (``{MARKER: [P, value], "allOf": [{"properties": {P: {"enum":
    [value]}}}, ...]}``: only the branch of the object's value can hold), else None."""
    props, pairs, seen = set(), [], set()
    for branch, name in zip(branches, names, strict=True):
        marker = branch.get(_MARKER) if isinstance(branch, dict) else None
        if not (isinstance(marker, list) and len(marker) == 2):
            return None
        prop, value = marker
        parts = branch.get("allOf")
        head = {"properties": {prop: {"enum": [value]}}}
        if not (isinstance(value, str) and isinstance(parts, list) and parts and parts[0] == head):
            return None
        if value in seen:  # two branches for one value: try them all
            return None
        props.add(prop)
        seen.add(value)
        pairs.append(f"{value!r}: {name}")
    return (props.pop(), pairs) if len(props) == 1 else None


def build(schema: dict, formats: dict):
    """The pre-check function for ``schema``, or None when it cannot be exact."""
    made = source(schema, formats)
    if made is None:
        return None
    code, namespace = made
    exec(compile(code, "<pymacaron.fastcheck>", "exec"), namespace)
    return namespace["check"]
