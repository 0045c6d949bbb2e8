"""Regexes of a spec: every ``pattern`` (and ``patternProperties`` key) compiled once at
load by the engine that will run it, so a pattern the engine cannot compile refuses the spec
at startup (and in ``pym check``) instead of answering 500 when a validator is first used.

- Draft 4 (``swagger2``, ``oas30``): fastjsonschema runs ``pattern`` with Python's ``re``
  (an unescaped ``$`` read as ``\\Z``, as fastjsonschema does). :func:`draft4_regex` is that
  compile, plus one translation: ECMA-262's named groups ``(?<name>...)`` and their
  back-references ``\\k<name>``, which ``re`` spells ``(?P<name>...)`` / ``(?P=name)``, are
  rewritten only when the pattern as written does not compile (so no pattern ``re`` accepts
  today changes meaning). ``patternProperties`` keys are compiled as written (fastjsonschema).
- 2020-12 (``oas31``): jsonschema-rs with fancy-regex (ECMA-like), as the validators use it.

:func:`bad_pattern` walks a whole document (parameters' own ``pattern`` in Swagger 2.0,
every schema, ``items``, headers) and returns the first pattern the engine refuses.
"""

from __future__ import annotations

import functools
import re

__all__ = ["bad_pattern", "draft4_regex", "python_named_groups", "PROPERTY_ESCAPE", "ENGINE_NAMES"]

ENGINE_NAMES = {
    "swagger2": "Python re (draft 4)",
    "oas30": "Python re (draft 4)",
    "oas31": "jsonschema-rs fancy-regex (2020-12)",
}

# values that are data, not spec: a "pattern" key in them is no regex
_DATA_KEYS = frozenset({"example", "examples", "default", "enum", "const", "x-example"})
# maps whose values are strings keyed by a user's names (a scope or a mapping named "pattern")
_NAME_MAPS = frozenset({"scopes", "mapping", "links", "info", "externalDocs", "security"})


def _dollar_fixed(pattern: str) -> str:
    from fastjsonschema.draft04 import DOLLAR_FINDER

    return DOLLAR_FINDER.sub(r"\\Z", pattern)


def python_named_groups(pattern: str) -> str:
    """``pattern`` with ECMA-262's ``(?<name>`` and ``\\k<name>`` spelt as Python's, outside
    character classes and escapes (lookbehinds ``(?<=`` / ``(?<!`` are left alone)."""
    out, i, n, in_class = [], 0, len(pattern), False
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            if not in_class and pattern[i + 1] == "k" and pattern.startswith("<", i + 2):
                end = pattern.find(">", i + 3)
                if end > i + 3:
                    out.append(f"(?P={pattern[i + 3 : end]})")
                    i = end + 1
                    continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern.startswith("]", i + 1) or pattern.startswith("^]", i + 1):
                out.append(pattern[i : i + (2 if pattern[i + 1] == "]" else 3)])
                i += 2 if pattern[i + 1] == "]" else 3
                continue
        elif pattern.startswith("(?<", i) and not pattern.startswith(("(?<=", "(?<!"), i):
            out.append("(?P<")
            i += 3
            continue
        out.append(c)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def draft4_regex(pattern: str) -> re.Pattern:
    """The compiled regex the draft 4 engine runs for ``pattern`` (raises ``re.error``, or
    ValueError / RecursionError, as ``re.compile`` does, with the error of the pattern as
    written)."""
    fixed = _dollar_fixed(pattern)
    try:
        return re.compile(fixed)
    except re.error:
        translated = python_named_groups(fixed)
        if translated == fixed:
            raise
        try:
            return re.compile(translated)
        except (re.error, ValueError, RecursionError):
            pass
        raise


def _draft4_error(pattern: str, key: bool) -> str | None:
    try:
        if key:
            re.compile(pattern)  # fastjsonschema compiles patternProperties keys as written
        else:
            draft4_regex(pattern)
    except re.error as e:
        return str(e)
    except (ValueError, RecursionError, OverflowError) as e:
        return str(e) or type(e).__name__
    return None


def _rs_schema(pattern: str, key: bool) -> dict:
    return {"patternProperties": {pattern: {}}} if key else {"pattern": pattern}


def _rs_refusal(schema: dict) -> str | None:
    """jsonschema-rs' reason for refusing ``schema`` (its regexes as the validators compile
    them: fancy-regex), or None."""
    import jsonschema_rs

    from .compile import _patterns

    try:
        jsonschema_rs.Draft202012Validator(schema, pattern_options=_patterns())
    except (jsonschema_rs.ValidationError, ValueError) as e:
        return " ".join(str(getattr(e, "message", None) or e).split())
    return None


def _rs_error(pattern: str, key: bool) -> str | None:
    if _rs_refusal(_rs_schema(pattern, key)) is None:
        return None
    return _rs_reason(pattern)


# ECMA-262's Unicode property escapes (\p{L}, \P{Script=Greek}, \pL): fancy-regex knows
# them, Python's re does not (they are set aside before re is asked why a pattern fails)
PROPERTY_ESCAPE = re.compile(r"\\[pP](\{[^}]*\}|[A-Za-z])")
ECMA_EXPECTED = "expected an ECMA-262 regular expression, as JSON Schema 2020-12 says"


def _rs_reason(pattern: str) -> str:
    """Why jsonschema-rs refuses ``pattern``, in the words of the draft 4 message. Its own
    error is its meta-schema's (``"..." is not a "regex"``), which names nothing: the syntax
    error is Python re's, asked about the pattern with ECMA-262's Unicode property escapes
    set aside and its named groups spelt as Python's (the two dialects agree on the rest
    that a spec uses); else the property escapes are what fancy-regex refused."""
    probe = PROPERTY_ESCAPE.sub(lambda m: "x" * len(m.group(0)), pattern)  # positions kept
    try:
        re.compile(python_named_groups(probe))
    except (re.error, ValueError, RecursionError, OverflowError) as e:
        return f"{e} ({ECMA_EXPECTED})"
    properties = sorted({m.group(0) for m in PROPERTY_ESCAPE.finditer(pattern)})
    if properties:
        return (
            f"unknown Unicode property {', '.join(properties)} (expected a General_Category "
            "or Script such as \\p{L}, \\p{Lu}, \\p{Script=Greek})"
        )
    return f"not a regular expression fancy-regex can compile ({ECMA_EXPECTED})"


def _rs_all_compile(candidates: set) -> bool:
    """Whether jsonschema-rs compiles every candidate, in one validator (one construction
    instead of one per pattern; each is compiled on its own only when this one fails)."""
    if not candidates:
        return True
    return _rs_refusal({"allOf": [_rs_schema(p, key) for p, key in candidates]}) is None


def _patterns_of(node, path: list, found: list) -> None:
    """(json path, pattern, is a patternProperties key) of every regex under ``node``."""
    if isinstance(node, dict):
        for k, v in node.items():
            if not isinstance(k, str) or k in _DATA_KEYS or k.startswith("x-"):
                continue
            if k == "pattern" and isinstance(v, str):
                found.append(([*path, k], v, False))
            elif k == "patternProperties" and isinstance(v, dict):
                for name, sub in v.items():
                    if isinstance(name, str):
                        found.append(([*path, k, name], name, True))
                    _patterns_of(sub, [*path, k, name], found)
            elif k not in _NAME_MAPS and isinstance(v, dict | list):
                _patterns_of(v, [*path, k], found)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            if isinstance(v, dict | list):
                _patterns_of(v, [*path, i], found)


def _distinct_patterns(spec) -> set:
    """Every ``(pattern, is a patternProperties key)`` of ``spec``: the walk of
    :func:`_patterns_of` without building a path per node (a start pays this one)."""
    found: set = set()
    stack = [spec]
    skip = _DATA_KEYS | _NAME_MAPS
    while stack:
        node = stack.pop()
        if type(node) is list:
            stack.extend(v for v in node if isinstance(v, dict | list))
            continue
        for k, v in node.items():
            if isinstance(v, str):
                if k == "pattern":
                    found.add((v, False))
            elif isinstance(v, dict | list) and k not in skip and not str(k).startswith("x-"):
                if k == "patternProperties" and type(v) is dict:
                    found.update((name, True) for name in v if isinstance(name, str))
                stack.append(v)
    return found


_PATTERN_VALUE = re.compile(rb'"pattern":("(?:[^"\\]|\\.)*")')


def _candidates(spec) -> set:
    """A superset of :func:`_distinct_patterns`, read off the document's JSON text (a few
    milliseconds for a megabyte): every string value of a ``"pattern"`` key, data included
    (a bad one there is dropped by the located walk of :func:`bad_pattern`). The walk
    itself when the text holds ``patternProperties`` or is no JSON."""
    import orjson

    try:
        text = orjson.dumps(spec)  # the loader's keys are str: orjson's fast path
    except (TypeError, orjson.JSONEncodeError):
        return _distinct_patterns(spec)
    if b'"pattern' not in text:
        return set()
    if b'"patternProperties"' in text:
        return _distinct_patterns(spec)
    return {(orjson.loads(value), False) for value in set(_PATTERN_VALUE.findall(text))}


def bad_pattern(spec: dict, dialect: str) -> tuple[list, str, str, bool] | None:
    """The first ``(json path, pattern, the engine's reason, is a patternProperties key)`` of
    ``spec`` (in document order) that the engine of ``dialect`` cannot compile, or None.
    Each distinct pattern is compiled once; the paths are only walked for a refusal."""
    check = _rs_error if dialect == "oas31" else _draft4_error
    candidates = _candidates(spec)
    if dialect == "oas31" and _rs_all_compile(candidates):
        return None
    bad = {}
    for pattern, key in candidates:
        reason = check(pattern, key)
        if reason is not None:
            bad[(pattern, key)] = reason
    if not bad:
        return None
    found: list = []
    _patterns_of(spec, [], found)
    for json_path, pattern, key in found:
        if (pattern, key) in bad:
            return json_path, pattern, bad[(pattern, key)], key
    return None  # pragma: no cover - the two walks read the same keys
