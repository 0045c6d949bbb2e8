"""``pym mock [--examples]``: serve a service's specs before its handlers exist.

Every operation answers its first declared success (2xx) with the spec's own example
(Swagger 2.0 ``examples``/schema ``example``; OpenAPI 3 ``example``/``examples`` of the media
type or the schema), else a reply generated from the schema; ``--examples`` serves only
examples (an operation without one answers 501 ``NOT_IMPLEMENTED``). Requests are parsed,
checked and authorized, and replies validated, exactly as the real service does: the
mock is the service with other handlers (``BINDER``), so a front-end starts on day one
against the very contract it will get. ``x-bind-server`` targets are never imported.
"""

from __future__ import annotations

import logging
import os
import re

from ..exceptions import PyMacaronException, StartupError
from ..server.operation import BINDER

__all__ = ["BINDER", "cmd_mock", "mock_app", "generate", "example_of"]

log = logging.getLogger("pymacaron")

MAX_DEPTH = 6
FORMATS = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "time": "12:00:00Z",
    "email": "user@example.com",
    "idn-email": "user@example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "uri": "https://example.com/",
    "uri-reference": "https://example.com/",
    "iri": "https://example.com/",
    "url": "https://example.com/",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "byte": "AAAA",
    "password": "secret",
    "duration": "P1D",
    "regex": "^a$",
    "json-pointer": "/a",
}
# Tried, in order, for a string with a pattern and no example
PATTERN_CANDIDATES = ("a", "A", "0", "example", "abc", "a1", "A1", "aa", "00", "1", "x", "")


class NoExample(Exception):
    """The schema cannot be mocked (a pattern none of the candidates matches...)."""


def _resolve(schema, root: dict, definitions: dict):
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 50:
        ref = schema["$ref"]
        seen += 1
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise NoExample(f"cannot follow $ref {ref!r}")
        parts = [p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/")]
        if len(parts) == 2 and parts[0] == "definitions" and parts[1] in definitions:
            target = definitions[parts[1]]
        else:
            target = root
            for p in parts:
                target = target[p]
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**target, **rest} if rest else target
    return schema


# tried, in order, as the character a Unicode property escape (\\p{L}, \\P{N}...) stands for
PROPERTY_SAMPLES = "aA0-_ +.,αΑаАé中ǅʰ٠"


def _rs_pattern(pattern: str):
    """jsonschema-rs' ``is_valid`` for a string and ``pattern`` (2020-12, ECMA-262, as the
    3.1 validators run it), or NoExample naming the pattern when it does not compile."""
    import jsonschema_rs

    from ..spec.validation.compile import _patterns

    try:
        return jsonschema_rs.Draft202012Validator(
            {"type": "string", "pattern": pattern}, pattern_options=_patterns()
        ).is_valid
    except (jsonschema_rs.ValidationError, ValueError):
        raise NoExample(f"pattern {pattern!r} is not a regular expression") from None


def _matcher(pattern: str):
    """``text -> bool``: whether the validators accept ``text`` for ``pattern``: draft 4's
    Python re (as validation/patterns.py compiles it) when the pattern compiles there, else
    jsonschema-rs (a 3.1 pattern with what only ECMA-262 has, such as ``\\p{L}``)."""
    from ..spec.validation.patterns import draft4_regex

    try:
        regex = draft4_regex(pattern)
    except (re.error, ValueError, RecursionError, OverflowError):
        return _rs_pattern(pattern)
    return lambda text: regex.search(text) is not None


def _property_sample(escape: str) -> str:
    """A character that the Unicode property escape ``escape`` (``\\p{Lu}``) matches, asked
    of the engine that knows the property (jsonschema-rs)."""
    accepts = _rs_pattern(f"^{escape}$")
    for ch in PROPERTY_SAMPLES:
        if accepts(ch):
            return ch
    raise NoExample(f"no sample character for {escape}")


def _from_regex(pattern: str) -> str:
    """The shortest-ish string ``re.search(pattern)`` accepts, from the pattern's parse tree
    (ECMA-262's Unicode property escapes replaced by a character each matches, its named
    groups spelt as Python's)."""
    from re import _constants as c
    from re import _parser as parser

    from ..spec.validation.patterns import PROPERTY_ESCAPE, python_named_groups

    pattern = PROPERTY_ESCAPE.sub(lambda m: re.escape(_property_sample(m.group(0))), pattern)
    try:
        parser.parse(pattern)
    except re.error:
        pattern = python_named_groups(pattern)

    categories = {
        c.CATEGORY_DIGIT: "0",
        c.CATEGORY_NOT_DIGIT: "a",
        c.CATEGORY_WORD: "a",
        c.CATEGORY_NOT_WORD: "-",
        c.CATEGORY_SPACE: " ",
        c.CATEGORY_NOT_SPACE: "a",
    }

    def one_of(items) -> str:
        negate = any(op is c.NEGATE for op, _ in items)
        if negate:
            banned = {chr(v) for op, v in items if op is c.LITERAL}
            return next(ch for ch in "aA0-_x" if ch not in banned)
        op, value = items[0]
        if op is c.LITERAL:
            return chr(value)
        if op is c.RANGE:
            return chr(value[0])
        if op is c.CATEGORY:
            return categories.get(value, "a")
        raise NoExample(f"class {op}")

    groups: dict[int, str] = {}  # a group's number -> what it matched (back-references)

    def walk(tree) -> str:
        out = []
        for op, value in tree:
            if op is c.LITERAL:
                out.append(chr(value))
            elif op is c.NOT_LITERAL:
                out.append("a" if value != ord("a") else "b")
            elif op is c.ANY:
                out.append("a")
            elif op is c.IN:
                out.append(one_of(value))
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
                low, _high, sub = value
                out.append(walk(sub) * low)
            elif op is c.SUBPATTERN:
                text = walk(value[-1])
                if value[0] is not None:
                    groups[value[0]] = text
                out.append(text)
            elif op is c.GROUPREF:
                out.append(groups.get(value, ""))
            elif op is c.ATOMIC_GROUP:
                out.append(walk(value))
            elif op is c.BRANCH:
                out.append(walk(value[1][0]))
            elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
                continue
            elif op is c.CATEGORY:
                out.append(categories.get(value, "a"))
            else:
                raise NoExample(f"regex element {op}")
        return "".join(out)

    return walk(parser.parse(pattern))


def _string(schema: dict) -> str:
    value = FORMATS.get(schema.get("format", ""), "string")
    pattern = schema.get("pattern")
    lo, hi = schema.get("minLength", 0), schema.get("maxLength")
    candidates = [value]
    matches = _matcher(pattern) if pattern else None  # NoExample: a pattern no engine compiles
    if pattern:
        try:
            candidates.insert(0, _from_regex(pattern))
        except (NoExample, re.error, IndexError, StopIteration, TypeError):
            pass
        candidates += PATTERN_CANDIDATES
    for candidate in candidates:
        text = candidate
        if pattern is None and len(text) < lo:
            text += "x" * (lo - len(text))
        if pattern is None and hi is not None and len(text) > hi:
            text = text[:hi]
        fits = len(text) >= lo and (hi is None or len(text) <= hi)
        if fits and (matches is None or matches(text)):
            return text
    raise NoExample(f"no value found for pattern {pattern!r}")


def _number(schema: dict, integer: bool):
    lo, hi = schema.get("minimum"), schema.get("maximum")
    if isinstance(schema.get("exclusiveMinimum"), int | float):
        lo = schema["exclusiveMinimum"] + (1 if integer else 0.5)
    elif schema.get("exclusiveMinimum") is True and lo is not None:
        lo = lo + (1 if integer else 0.5)
    if isinstance(schema.get("exclusiveMaximum"), int | float):
        hi = schema["exclusiveMaximum"] - (1 if integer else 0.5)
    elif schema.get("exclusiveMaximum") is True and hi is not None:
        hi = hi - (1 if integer else 0.5)
    value = lo if lo is not None else (min(hi, 1) if hi is not None else 1)
    step = schema.get("multipleOf")
    if step:
        value = step * -(-value // step)  # the first multiple at or above the minimum
    return int(value) if integer else value


def generate(schema, root: dict, definitions: dict | None = None, depth: int = 0):
    """A value valid against ``schema`` (``$ref`` resolved in ``root``/``definitions``):
    its own example when it has one, else the simplest value its keywords allow."""
    definitions = definitions or {}
    schema = _resolve(schema, root, definitions)
    if schema is True or schema == {} or not isinstance(schema, dict):
        return {}
    for key in ("example", "const", "default"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    if schema.get("enum"):
        return schema["enum"][0]
    if "allOf" in schema:
        merged: dict = {}
        for part in schema["allOf"]:
            value = generate(part, root, definitions, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        if rest.get("properties") or rest.get("type"):
            value = generate(rest, root, definitions, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            return generate(schema[key][0], root, definitions, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string" if "pattern" in schema else None
    if kind == "object" or kind is None and "additionalProperties" in schema:
        props = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        names = [n for n in props if n in required or depth < MAX_DEPTH]
        out = {}
        for name in names:
            out[name] = generate(props[name], root, definitions, depth + 1)
        for name in required - set(out):  # required but not described
            out[name] = "string"
        return out
    if kind == "array":
        count = schema.get("minItems", 0)
        if count == 0 and (schema.get("maxItems") == 0 or depth >= MAX_DEPTH):
            return []
        item = generate(schema.get("items") or {}, root, definitions, depth + 1)
        count = max(count, 1)
        if count > 1 and schema.get("uniqueItems"):
            raise NoExample("unique items needed")
        return [item] * count
    if kind == "string":
        return _string(schema)
    if kind in ("integer", "number"):
        return _number(schema, kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return {}


def _success(op_spec) -> str | None:
    codes = sorted(c for c in op_spec.responses if c.isdigit() and c.startswith("2"))
    return codes[0] if codes else None


def example_of(response: dict):
    """The response's own example (3.x media type or 2.0 ``examples``), else NoExample."""
    for media, content in (response.get("x-pym-content") or {}).items():
        if "json" not in media:
            continue
        if "example" in content:
            return content["example"]
        for example in (content.get("examples") or {}).values():
            if isinstance(example, dict) and "value" in example:
                return example["value"]
    for media, value in (response.get("examples") or {}).items():
        if "json" in media:
            return value
    schema = response.get("schema")
    if isinstance(schema, dict) and "example" in schema:
        return schema["example"]
    raise NoExample("no example")


def mock_handler(operation, op_spec, api, examples_only: bool = False):
    """The handler ``operation`` gets: its first 2xx reply, example or generated."""
    code = _success(op_spec)
    where = f"{op_spec.label} ({api.name})"

    def unavailable(why: str):
        def handler(*args, **kwargs):
            raise PyMacaronException(
                f"{where} has no mock reply: {why}", status=501, code="NOT_IMPLEMENTED"
            )

        return handler

    if code is None:
        return unavailable("no 2xx response declared")
    response = op_spec.responses[code]
    status = int(code)
    if "schema" not in response and not response.get("x-pym-content"):
        body = None  # a reply without content (204...)
    else:
        try:
            body = example_of(response)
        except NoExample:
            if examples_only:
                return unavailable("no example in the spec (pym mock without --examples)")
            try:
                root = getattr(api, "spec", None) or {}
                body = generate(
                    response.get("schema") or {}, root, getattr(api, "definitions", None) or {}
                )
            except NoExample as e:
                log.warning("%s: cannot generate a reply: %s: it answers 501", where, e)
                return unavailable(str(e))

    def handler(*args, **kwargs):
        return (body, status) if body is not None else ("", status)

    return handler


def mock_app(service_dir: str = ".", examples_only: bool = False):
    """The service's app with every operation answered by its mock reply."""
    from ..app import create_app

    def bind(operation, op_spec, api):
        if str(op_spec.x("bind-server") or "").startswith("pymacaron."):
            return None  # the framework's own endpoints (/ping, /version) are real
        return mock_handler(operation, op_spec, api, examples_only)

    token = BINDER.set(bind)
    try:
        return create_app(service_dir)
    finally:
        BINDER.reset(token)


def cmd_mock(args) -> int:
    directory = os.path.abspath(args.dir)
    if not os.path.isdir(os.path.join(directory, "apis")):
        raise StartupError(f"no apis/ directory in {directory}: is it a service directory?")
    if args.env:
        os.environ["PYM_ENV"] = args.env
    os.environ.setdefault("PYM_SERVICE_DIR", directory)
    app = mock_app(directory, examples_only=args.examples)
    what = "examples only" if args.examples else "examples, else generated from the schemas"
    print(f"pym mock: {what}, on http://{args.host}:{args.port}", flush=True)
    # Flask's threaded server alone: no task worker, no local DynamoDB (nothing runs handlers)
    app.run(host=args.host, port=args.port, debug=False, use_reloader=False, threaded=True)
    return 0
