"""Compiling: JSON Schema -> a validator function, on one of two engines.

Draft 4 (``swagger2``, ``oas30``, pymacaron's own schemas) runs on fastjsonschema behind
:mod:`..fastcheck`'s pre-check, so a worker serving only those never loads jsonschema-rs;
2020-12 (``oas31``) runs on jsonschema-rs, imported on the first 2020-12 compile. Owns
:func:`compile_schema`, :func:`validator_for`, :class:`LazyValidator` (compiled on first
use) and :func:`eager` / :data:`EAGER` (compile everything now: ``pym check``).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import re

from .draft4_messages import _from_fast, _not_json
from .formats import _format_checks, _formats_of
from .patterns import draft4_regex
from .rs_messages import _violation
from .translate import DRAFT4, VARIANT_SUFFIX, _redirect, _refs


def _reachable(schema, definitions: dict) -> dict:
    """The definitions ``schema`` reaches through ``#/definitions/`` references (a
    validator carries only those, not every definition of the spec)."""
    found: dict = {}
    stack = [schema]
    while stack:
        for name in sorted(_refs(stack.pop(), set())):
            if name not in found and name in definitions:
                found[name] = definitions[name]
                stack.append(definitions[name])
    return found


def _draft_of(schema, dialect: str | None) -> int:
    if dialect == "oas31":
        return 2020
    if dialect in ("swagger2", "oas30"):
        return 4
    uri = schema.get("$schema") if isinstance(schema, dict) else None
    if isinstance(uri, str) and "2020-12" in uri:
        return 2020
    return 4  # Swagger 2.0's and pymacaron's own schemas: exclusiveMinimum: true is a flag


def compile_schema(
    schema: dict,
    definitions: dict | None = None,
    *,
    dialect: str | None = None,
    direction: str | None = None,
):
    """A validator function for ``schema``, already JSON Schema (:func:`to_json_schema`).

    ``definitions`` (from :func:`json_definitions`) resolve ``#/definitions/...``
    references; ``direction`` picks their request/response variants. The draft is 2020-12
    for ``oas31`` (or a ``$schema`` saying so), else draft 4. The function returns the data
    or raises :class:`SchemaViolation`; a broken schema raises ValueError here.
    """
    schema, draft, key = _prepared(schema, definitions, dialect, direction)
    known = _compiled.get(key) if key is not None else None
    if known is not None:
        return known
    fn = _compile_rs(schema) if draft == 2020 else _compile_draft4(schema)
    if key is not None:
        if len(_compiled) >= _COMPILED_MAX:
            _compiled.clear()
        _compiled[key] = fn
    return fn


def _prepared(schema: dict, definitions: dict | None, dialect, direction):
    """(the schema with the definitions it reaches, its draft, its dedup key)."""
    if definitions and direction in VARIANT_SUFFIX:
        suffix = VARIANT_SUFFIX[direction]
        names = {k[: -len(suffix)] for k in definitions if k.endswith(suffix)}
        if names:
            schema = _redirect(schema, names, suffix)
    used = _reachable(schema, definitions) if definitions else {}
    if used:
        schema = {**schema, "definitions": {**(schema.get("definitions") or {}), **used}}
    draft = _draft_of(schema, dialect)
    return schema, draft, _key_of(schema, draft)


# identical schemas (after references and variants are resolved) share one validator: a
# spec repeats the same parameter, error and $ref schemas across its operations
_compiled: dict = {}
_COMPILED_MAX = 20000


def _key_of(schema: dict, draft: int):
    import orjson

    try:
        return draft, orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):  # not plain JSON: compiled on its own
        return None


def _compile_rs(schema: dict):
    """2020-12: a jsonschema-rs validator (imported here: a draft 4 service never loads it)."""
    import jsonschema_rs

    try:
        engine = jsonschema_rs.Draft202012Validator(
            schema,
            formats=_format_checks(2020),
            validate_formats=True,
            pattern_options=_patterns(),
        )
    except jsonschema_rs.ValidationError as e:  # a broken schema, not a broken value
        where = "".join(f"[{p!r}]" for p in e.instance_path)
        raise ValueError(f"invalid schema{' at ' + where if where else ''}: {e.message}") from None
    except (jsonschema_rs.ReferencingError, ValueError) as e:
        raise ValueError(f"invalid schema: {e}") from None
    is_valid = engine.is_valid

    def validate(data):
        try:
            if is_valid(data):
                return data
        except ValueError:  # not a JSON value (a date, bytes, an int key...)
            raise _not_json(data) from None
        raise _violation(engine, data, schema)

    validate.schema, validate.draft = schema, 2020
    return validate


@functools.cache
def _draft4_generator():
    """fastjsonschema's draft 4 code generator, told two things: an error carries the very
    schema node that failed (one object per node, not a literal rebuilt at every raise: a
    rejected document costs less, and a discriminator branch is known by its identity), and
    keywords run in jsonschema-rs' order where it can be (composition last, ``dependencies``
    after ``patternProperties``), so the first error named is most often the same."""
    from fastjsonschema.draft04 import CodeGeneratorDraft04

    class Generator(CodeGeneratorDraft04):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pym_nodes: list = []
            self._pym_index: dict = {}
            table = self._json_keywords_to_function
            for key in ("dependencies", "allOf", "anyOf", "oneOf", "not"):
                table.move_to_end(key)

        def exc(self, msg, *args, append_to_msg=None, rule=None):
            index = self._pym_index.get(id(self._definition))
            if index is None:
                index = self._pym_index[id(self._definition)] = len(self._pym_nodes)
                self._pym_nodes.append(self._definition)
            arg = '"' + msg + '"' + (f" + ({append_to_msg})" if append_to_msg else "")
            self.l(
                "raise JsonSchemaValueException("
                + arg
                + ', value={variable}, name="{name}", definition=PYM_NODES['
                + str(index)
                + "], rule="
                + repr(rule)
                + ")",
                *args,
            )

        def generate_pattern(self):
            # the regex draft4_regex compiles (ECMA named groups spelt as re's), keyed
            # and named in errors by the pattern as written
            pattern = self._definition["pattern"]
            if not isinstance(pattern, str):
                return super().generate_pattern()
            self._compile_regexps[pattern] = draft4_regex(pattern)
            with (
                self.l("if isinstance({variable}, str):"),
                self.l("if not REGEX_PATTERNS[{}].search({variable}):", repr(pattern)),
            ):
                self.exc("{name} must match pattern {}", self.e(pattern), rule="pattern")

        def create_variable_keys(self):
            # the keys in the object's order, not a set's (which depends on the hash
            # seed): with several bad extra properties, the first one named is the same
            # in every process
            name = f"{self._variable}_keys"
            if not self._is_variable_in_scope(name):
                self._variables[name] = tuple(self._scope_stack)
                self.l("{variable}_keys = PYM_KEYS.fromkeys({variable})")

        @property
        def global_state(self):
            state = super().global_state
            state["PYM_NODES"] = self._pym_nodes
            state["PYM_KEYS"] = _OrderedKeys
            return state

    return Generator


class _OrderedKeys(dict):
    """The set of an object's keys fastjsonschema's code works on, in the object's order."""

    __slots__ = ()

    def remove(self, key) -> None:
        del self[key]


def _no_remote(uri: str):
    raise ValueError(f"remote reference {uri!r}: references stay inside the spec")


def _compile_draft4(schema: dict, precheck: bool = True):
    """Draft 4 (swagger2, oas30, pymacaron's own schemas): fastjsonschema's validator for
    the verdict and the error, behind :mod:`.fastcheck`'s pre-check for valid data (none
    for a discriminator branch, only ever run on a document known to fail)."""
    import fastjsonschema
    from fastjsonschema.ref_resolver import RefResolver

    from .. import fastcheck

    # without $schema fastjsonschema would apply a later draft (exclusiveMinimum: a number)
    schema = {**schema, "$schema": DRAFT4}
    formats = _formats_of(schema)
    handlers = dict.fromkeys(("http", "https", "file", "ftp", ""), _no_remote)
    try:
        resolver = RefResolver.from_schema(schema, handlers=handlers, store={})
        generator = _draft4_generator()(
            schema, resolver=resolver, formats=formats, use_default=False
        )
        state = generator.global_state
        exec(generator.func_code, state)
        full = functools.partial(state[resolver.get_scope_name()], custom_formats=formats)
    except RecursionError:
        raise ValueError("invalid schema: too deeply nested") from None
    except Exception as e:  # fastjsonschema's definition errors, a missing $ref's KeyError...
        raise ValueError(f"invalid schema: {e}") from None
    try:  # the pre-check is an optimisation: one it cannot compile is no pre-check
        check = fastcheck.build(schema, formats) if precheck else None
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        check = None
    error_class = fastjsonschema.JsonSchemaValueException
    branches: dict = {}  # discriminator branch (by id) -> its validator, compiled on need

    def validate(data):
        if check is not None and check(data):
            return data
        try:
            full(data)
        except error_class as e:
            raise _from_fast(e, data, schema, branches) from None
        except (TypeError, ValueError, AttributeError):  # not JSON: a key that is no str...
            raise _not_json(data) from None
        return data

    validate.schema, validate.draft = schema, 4
    return validate


@functools.cache
def _patterns():
    import jsonschema_rs

    return jsonschema_rs.FancyRegexOptions()  # what schemathesis' engine uses too


class LazyValidator:
    """A validator compiled on its first call (a big spec starts in seconds); every
    validator is compiled at once when :func:`eager` says so (``pym check``, the image's
    build-time records), so a broken schema still fails before anything is served."""

    __slots__ = ("_args", "_fn", "_lock")

    def __init__(self, schema: dict, definitions: dict | None = None, **options):
        import threading

        self._args, self._fn = (schema, definitions, options), None
        self._lock = threading.Lock()

    def compile(self):
        with self._lock:
            if self._fn is None:
                schema, definitions, options = self._args
                self._fn = compile_schema(schema, definitions, **options)
                self._args = None
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


def validator_for(
    schema: dict,
    definitions: dict | None = None,
    *,
    dialect: str | None = None,
    direction: str | None = None,
):
    """The validator of ``schema`` (JSON Schema, :func:`to_json_schema`'s output for
    ``dialect`` and ``direction``): compiled now when :func:`eager`, else on first use."""
    lazy = LazyValidator(schema, definitions, dialect=dialect, direction=direction)
    if eager():
        pending = _PENDING.get()
        if pending is not None:  # pym check: proven in bulk when the service is built
            pending.append(lazy)
        else:
            lazy.compile()
    return lazy


_BULK = 50  # roots per generated module when proving (see prove)
_PENDING: contextvars.ContextVar[list | None] = contextvars.ContextVar("pym_pending", default=None)


@contextlib.contextmanager
def proving():
    """``pym check``: every validator made inside (eagerly) is proven to compile when the
    block ends, in bulk (see :func:`prove`), not one generated module per validator."""
    token = _PENDING.set([])
    try:
        yield
        prove(_PENDING.get() or [])
    finally:
        _PENDING.reset(token)


def prove(validators: list) -> None:
    """Prove that each of ``validators`` (:class:`LazyValidator`) compiles, raising the
    error its own compile raises when one does not. Draft 4 ones are generated and executed
    as fastjsonschema modules per definitions table (a module's ``anyOf`` holds up to
    :data:`_BULK` distinct roots, each definition they reach becomes one function, as in
    each validator's own module), which costs each definition once instead of once per
    validator reaching it; a validator's own module differs only by nesting its root one
    level less, so it compiles whenever the bulk does. Schemas that differ only by what the
    code generator never reads (:class:`_Shapes`) are generated once. When the bulk fails
    (or for 2020-12), each compiles on its own: the error is then exactly the one serving
    would hit. The validators stay lazy."""
    pending = [lazy for lazy in validators if lazy._fn is None and lazy._args is not None]
    groups: dict[int, list] = {}  # id(definitions) -> its draft 4 validators
    alone = []
    for lazy in pending:
        schema, definitions, options = lazy._args
        if _draft_of(schema, options.get("dialect")) != 4:
            alone.append(lazy)
        else:
            groups.setdefault(id(definitions), []).append(lazy)
    try:
        for members in groups.values():
            try:
                modules = _Shapes(members[0]._args[1] or {}).modules(members)
            except _Unshaped:  # a reference or an id the shapes do not follow: as written
                modules = _modules_as_written(members, alone)
            for bulk in modules:
                _compile_draft4(bulk, precheck=False)
    except ValueError:
        alone = [lazy for lazy in pending if lazy._fn is None and lazy._args is not None]
    for lazy in alone:
        lazy.compile()


def _chunks(items: list) -> list:
    # modules of _BULK roots: one function of thousands of branches compiles in more than
    # linear time (CPython's code generator), a few hundred do not
    return [items[start : start + _BULK] for start in range(0, len(items), _BULK)]


def _modules_as_written(members: list, alone: list) -> list[dict]:
    """The bulk modules of ``members`` with every schema as written (distinct after
    references and variants are resolved); a validator that cannot join one goes to
    ``alone``."""
    merged: dict = {}
    roots: dict = {}  # key -> (root, its definitions)
    for lazy in members:
        schema, definitions, options = lazy._args
        schema, _, key = _prepared(schema, definitions, **options)
        if key is None or key in _compiled:
            alone.append(lazy)
            continue
        own = schema.get("definitions") or {}
        if any(merged.get(name, node) is not node for name, node in own.items()):
            alone.append(lazy)  # a name meaning another schema here: not in this module
            continue
        merged.update(own)
        roots.setdefault(key, ({k: v for k, v in schema.items() if k != "definitions"}, own))
    modules = []
    for chunk in _chunks(list(roots.values())):
        bulk: dict = {"anyOf": [root for root, _ in chunk]}
        used = {name: node for _, own in chunk for name, node in own.items()}
        if used:
            bulk["definitions"] = used
        modules.append(bulk)
    return modules


class _Unshaped(Exception):
    """A schema :class:`_Shapes` does not reduce: proven as written."""


# what fastjsonschema's draft 4 generator never reads (nor its reference resolver, which
# walks every mapping for ``id`` and ``$ref``: only plain values are left out)
_TEXT_ANNOTATIONS = frozenset({"description", "title", "$comment"})
_FLAG_ANNOTATIONS = frozenset({"deprecated", "readOnly", "writeOnly"})
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
_PREFIX = "#/definitions/"


class _Shapes:
    """The shapes of a definitions table's schemas, for :func:`prove`: a schema's shape is
    the schema with its descriptions, titles and flags left out (text the generated code
    never holds) and each reference to a definition made anonymous. Two definitions of one
    shape generate the same code but for the names of the functions they call, so one of
    each shape is generated (its references pointing at each target's own shape's one),
    and every definition a validator reaches is still proven through its shape's: a spec
    that repeats one model per resource, each with its own text, costs one model.

    Only plain references (``#/definitions/Name``, a name of the table made of letters,
    digits, ``_.-``) are followed; any other reference, an ``id``, nested ``definitions``
    or a non-JSON value raise :class:`_Unshaped` (the table is then proven as written)."""

    def __init__(self, definitions: dict):
        self.definitions = definitions
        self.done: dict = {}  # name -> (body, shape key, [(holder, target)], targets)
        self.first: dict = {}  # shape key -> the first name of that shape

    def modules(self, members: list) -> list[dict]:
        roots: dict = {}  # shape key -> (body, holders, [every target of that shape's roots])
        for lazy in members:
            schema, definitions, options = lazy._args
            direction = options.get("direction")
            if definitions and direction in VARIANT_SUFFIX:
                schema = _variant_of(schema, definitions, direction)
            body, key, holders = self._strip(schema)
            roots.setdefault(key, (body, holders, []))[2].extend(t for _, t in holders)
        modules = []
        for chunk in _chunks(list(roots.values())):
            used: dict = {}
            stack = [target for _, _, targets in chunk for target in targets]
            seen: set = set()
            while stack:  # every definition reached, each through its shape's first
                name = stack.pop()
                if name in seen:
                    continue
                seen.add(name)
                body, key, holders = self._definition(name)
                first = self.first.setdefault(key, name)
                stack.extend(target for _, target in holders)
                if first != name:
                    stack.append(first)
                else:
                    used[name] = body
            for holders in [*(h for _, h, _ in chunk), *(self.done[n][2] for n in used)]:
                for holder, target in holders:
                    holder["$ref"] = _PREFIX + self.first[self.done[target][1]]
            # the generator writes only the functions its root reaches: a root holds one
            # of each shape, so every definition proven is made reachable on its own
            branches = [body for body, _, _ in chunk]
            for i, names in enumerate(_chunks(list(used))):
                reach = f"__pym_reach_{i}"
                if reach in self.definitions:
                    raise _Unshaped()
                branches.append({"$ref": _PREFIX + reach})
                used[reach] = {"anyOf": [{"$ref": _PREFIX + name} for name in names]}
            bulk: dict = {"anyOf": branches}
            if used:
                bulk["definitions"] = used
            modules.append(bulk)
        return modules

    def _definition(self, name: str):
        known = self.done.get(name)
        if known is None:
            known = self.done[name] = self._strip(self.definitions[name])
        return known

    def _strip(self, schema):
        import orjson

        holders: list = []
        try:
            body = self._node(schema, holders)
            key = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
        except (TypeError, orjson.JSONEncodeError, RecursionError):
            raise _Unshaped() from None
        return body, key, holders

    def _node(self, node, holders: list):
        if isinstance(node, list):
            return [self._node(item, holders) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict = {}
        for key, value in node.items():
            if key in _TEXT_ANNOTATIONS and isinstance(value, str):
                continue
            if key in _FLAG_ANNOTATIONS and isinstance(value, bool):
                continue
            if key == "$ref":
                name = value[len(_PREFIX) :] if isinstance(value, str) else ""
                plain = isinstance(value, str) and value.startswith(_PREFIX)
                if not (plain and name in self.definitions and _SAFE_NAME.fullmatch(name)):
                    raise _Unshaped()
                out[key] = _PREFIX  # anonymous in the shape; pointed at a name by modules
                holders.append((out, name))
            elif key in ("id", "$id", "definitions"):
                raise _Unshaped()
            elif key in ("properties", "patternProperties", "dependencies"):
                if not isinstance(value, dict) or not all(
                    isinstance(v, dict | list | bool) for v in value.values()
                ):
                    raise _Unshaped()
                out[key] = {k: self._node(v, holders) for k, v in value.items()}
            elif key in _SUBSCHEMAS:
                out[key] = self._node(value, holders)
            else:
                out[key] = value  # a keyword's value (enum, pattern...): as written
        return out


# draft 4's keywords whose value is a schema or a list of schemas
_SUBSCHEMAS = frozenset(
    {"items", "additionalItems", "additionalProperties", "not", "allOf", "anyOf", "oneOf"}
)


def _variant_of(schema: dict, definitions: dict, direction: str) -> dict:
    """``schema`` with its references pointing at their ``direction`` variants (as
    :func:`_prepared` does)."""
    suffix = VARIANT_SUFFIX[direction]
    names = {k[: -len(suffix)] for k in definitions if k.endswith(suffix)}
    return _redirect(schema, names, suffix) if names else schema
