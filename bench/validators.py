#!/usr/bin/env python3
"""Validation engines side by side, on Swagger 2.0, OpenAPI 3.0 and OpenAPI 3.1 schemas:
what pymacaron ships (fastjsonschema + its pre-check for draft 4, jsonschema-rs for 2020-12),
the fastjsonschema + pre-check path as it was before jsonschema-rs (fastjsonschema's own
format regexes), plain fastjsonschema and jsonschema-rs alone.

The same schemas, translated as pymacaron translates them (validation.to_json_schema and
json_definitions, request direction for 3.x): every definition of the bench petstore and of
the example service (Swagger 2.0), and 3.0-style (nullable, oneOf + discriminator with and
without mapping, readOnly/writeOnly, boolean exclusiveMinimum) and 3.1-style (type arrays,
const, prefixItems, $defs, dependentRequired, unevaluatedProperties, numeric exclusive
bounds) schemas. The same documents: valid ones generated from each schema and accepted by
the reference, plus mutations of them. For each engine:

- compile time per schema (median of ``--rounds``, no on-disk cache),
- time per call on valid and on invalid documents (invalid: the error and its message built),
- verdicts against the reference validator (``jsonschema``'s Draft4Validator for the draft 4
  groups, Draft202012Validator for 3.1, with its format checker): how many documents each
  engine judges differently.

fastjsonschema has no 2020-12: on the 3.1 group it runs as draft 7 (its latest) and its
verdicts show what it would miss. ``pymacaron compile_schema`` is validation.compile_schema
as the server calls it, per dialect (draft 4: spec/fastcheck.py's pre-check, then
fastjsonschema for the verdict and pymacaron's message; 2020-12: jsonschema-rs behind a
Python function that builds pymacaron's message).
Rounds interleave the engines, so machine noise hits all of them alike.

    .venv/bin/python bench/validators.py [--rounds 5] [--docs 40] [--group oas31]

Run it on another checkout (``cd /tmp/main && .venv/bin/python bench/validators.py``) to
compare what ships there.
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import re._parser as sre_parse
import statistics
import string
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "framework"))

import fastjsonschema  # noqa: E402
import jsonschema  # noqa: E402
import jsonschema_rs  # noqa: E402

try:
    from pymacaron.spec import fastcheck  # noqa: E402
except ImportError:  # a tree from before the draft 4 engine came back: bench/fastcheck.py
    import fastcheck  # noqa: E402
from pymacaron.spec.load import load_spec  # noqa: E402
from pymacaron.spec.validation import (  # noqa: E402
    DRAFT4,
    DRAFT2020,
    SchemaViolation,
    _format_checks,
    compile_schema,
    json_definitions,
    to_json_schema,
    violation_text,
)

# the formats the retired engine was given (fastjsonschema knows date-time, email, uri...)
SWAGGER_FORMATS = {
    "date": r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$",
    "byte": r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
}

SPECS = [os.path.join(HERE, "petstore.yaml"), os.path.join(ROOT, "apis", "petshop.yaml")]


OAS_DEFINITIONS = {
    "Cat": {
        "type": "object",
        "required": ["petType", "name"],
        "properties": {
            "petType": {"type": "string"},
            "name": {"type": "string", "minLength": 1, "maxLength": 40},
            "lives": {"type": "integer", "minimum": 0, "maximum": 9},
        },
    },
    "Dog": {
        "type": "object",
        "required": ["petType", "name"],
        "properties": {
            "petType": {"type": "string"},
            "name": {"type": "string", "minLength": 1},
            "bark": {"type": "string", "enum": ["soft", "loud"]},
        },
    },
}
OAS30 = {
    "Owner": {
        "type": "object",
        "required": ["id", "name", "password"],
        "properties": {
            "id": {"type": "integer", "format": "int64", "readOnly": True},
            "name": {"type": "string", "maxLength": 60},
            "nickname": {"type": "string", "nullable": True},
            "password": {"type": "string", "writeOnly": True, "minLength": 8},
            "score": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
            "status": {"type": "string", "enum": ["active", "gone"], "nullable": True},
            "email": {"type": "string", "format": "email"},
        },
    },
    "Pet": {
        "oneOf": [{"$ref": "#/definitions/Cat"}, {"$ref": "#/definitions/Dog"}],
        "discriminator": {"propertyName": "petType"},
    },
    "MappedPet": {
        "oneOf": [{"$ref": "#/definitions/Cat"}, {"$ref": "#/definitions/Dog"}],
        "discriminator": {
            "propertyName": "petType",
            "mapping": {"cat": "#/components/schemas/Cat", "dog": "#/components/schemas/Dog"},
        },
    },
    "Household": {
        "type": "object",
        "required": ["owner", "pets"],
        "properties": {
            "owner": {"$ref": "#/definitions/Owner"},
            "pets": {"type": "array", "maxItems": 5, "items": {"$ref": "#/definitions/Pet"}},
            "note": {"anyOf": [{"type": "string"}, {"type": "integer"}], "nullable": True},
        },
    },
    **OAS_DEFINITIONS,
}
OAS31 = {
    "Reading": {
        "type": "object",
        "required": ["sensor", "at", "value"],
        "properties": {
            "sensor": {"type": "string", "format": "uuid"},
            "at": {"type": "string", "format": "date-time"},
            "value": {
                "type": ["number", "null"],
                "exclusiveMinimum": -100,
                "exclusiveMaximum": 100,
            },
            "unit": {"const": "celsius"},
            "point": {
                "type": "array",
                "prefixItems": [{"type": "number"}, {"type": "number"}],
                "items": False,
            },
            "card": {"type": "string"},
            "cvc": {"type": "string", "pattern": "^[0-9]{3}$"},
        },
        "dependentRequired": {"card": ["cvc"]},
        "examples": [{"sensor": "x"}],
    },
    "Tagged": {
        "allOf": [{"$ref": "#/definitions/Reading"}],
        "properties": {
            "tags": {"type": "array", "items": {"$ref": "#/definitions/Tagged/$defs/Tag"}}
        },
        "unevaluatedProperties": False,
        "$defs": {"Tag": {"type": "string", "minLength": 1, "maxLength": 20}},
    },
    "Pet": {
        "oneOf": [{"$ref": "#/definitions/Cat"}, {"$ref": "#/definitions/Dog"}, {"type": "null"}],
        "discriminator": {"propertyName": "petType"},
    },
    "Owner": {
        "type": "object",
        "required": ["id", "name"],
        "properties": {
            "id": {"type": "integer", "readOnly": True},
            "name": {"type": "string"},
            "pets": {"type": "array", "items": {"$ref": "#/definitions/Pet"}},
        },
    },
    **OAS_DEFINITIONS,
}
GROUPS = ("swagger2", "oas30", "oas31")


def schemas() -> dict[str, tuple[str, dict]]:
    """name -> (group, self-contained JSON Schema) for every definition of every group."""
    out = {}
    for path in SPECS:
        spec = load_spec(path, validate=False)
        definitions = {k: to_json_schema(v) for k, v in spec.definitions.items()}
        for name in definitions:
            out[f"{spec.name}.{name}"] = (
                "swagger2",
                {"$schema": DRAFT4, "$ref": f"#/definitions/{name}", "definitions": definitions},
            )
    for group, raw, uri in (("oas30", OAS30, DRAFT4), ("oas31", OAS31, DRAFT2020)):
        definitions = json_definitions(raw, dialect=group)
        for name in raw:
            root = compile_schema(
                {"$ref": f"#/definitions/{name}"}, definitions, dialect=group, direction="request"
            ).schema
            out[f"{group}.{name}"] = (group, {"$schema": uri, **root})
    return out


def valid_documents(schema: dict, count: int, reference) -> list:
    """Up to ``count`` documents generated from ``schema`` that the reference accepts."""
    rng = random.Random(20261201)
    found: list = []
    for _ in range(count * 6):
        doc = _generate(schema, schema, rng, 0)
        if reference.is_valid(doc):
            found.append(doc)
        if len(found) >= count:
            break
    return found


def _resolve(ref: str, root: dict):
    node = root
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def _merge(parts: list, root: dict) -> dict:
    """allOf parts (references followed) as one schema; a property's schemas are merged."""
    merged: dict = {}
    for part in parts:
        while isinstance(part, dict) and "$ref" in part:
            part = {
                **_resolve(part["$ref"], root),
                **{k: v for k, v in part.items() if k != "$ref"},
            }
        if not isinstance(part, dict):
            continue
        if "allOf" in part:
            part = {
                **_merge(part["allOf"], root),
                **{k: v for k, v in part.items() if k != "allOf"},
            }
        for k, v in part.items():
            if k == "properties":
                props = merged.setdefault("properties", {})
                for name, sub in v.items():
                    props[name] = {**sub, **props[name]} if name in props else sub
            elif k == "required":
                merged.setdefault("required", []).extend(v)
            else:
                merged[k] = v
    return merged


def _generate(schema, root, rng, depth):
    """A document meant to satisfy ``schema``, random within its bounds."""
    if schema is True or schema == {}:
        return rng.choice(["x", 1])
    if "$ref" in schema or "allOf" in schema:
        return _generate(_merge([schema], root), root, rng, depth)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            rest = {k: v for k, v in schema.items() if k != key}
            return _generate(_merge([rest, rng.choice(schema[key])], root), root, rng, depth)
    if "enum" in schema:
        return rng.choice(schema["enum"])
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = rng.choice(kind)
    if kind is None:
        kind = "object" if "properties" in schema else rng.choice(["string", "integer"])
    if kind == "object":
        out = {}
        required = set(schema.get("required", []))
        for key, sub in schema.get("properties", {}).items():
            if key in required or (depth < 3 and rng.random() < 0.6):
                out[key] = _generate(sub, root, rng, depth + 1)
        return out
    if kind == "array":
        if "prefixItems" in schema:
            return [_generate(s, root, rng, depth + 1) for s in schema["prefixItems"]]
        low = schema.get("minItems", 0)
        high = min(schema.get("maxItems", low + 4), low + 4)
        return [
            _generate(schema.get("items", {}), root, rng, depth + 1)
            for _ in range(rng.randint(low, high) if depth < 3 else low)
        ]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", -1000))
        high = schema.get("maximum", schema.get("exclusiveMaximum", 100000))
        low = -1000 if isinstance(low, bool) else low
        high = 100000 if isinstance(high, bool) else high
        value = rng.randint(int(low) + 1, max(int(low) + 1, int(high) - 1))
        return value if kind == "integer" else value + rng.choice([0, 0.5, 0.25])
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    return _string(schema, rng)


FORMAT_SAMPLES = {
    "date": "2026-12-01",
    "date-time": "2026-12-01T09:30:00Z",
    "uuid": "3f0c1b8e-7a2d-4c5e-9b1f-2d3e4f5a6b7c",
    "email": "alice@example.com",
    "uri": "https://example.com/a",
}


def _string(schema, rng) -> str:
    if schema.get("format") in FORMAT_SAMPLES:
        return FORMAT_SAMPLES[schema["format"]]
    if "pattern" in schema:
        return _from_pattern(schema["pattern"], rng)
    low = schema.get("minLength", 0)
    high = min(schema.get("maxLength", low + 12), low + 12)
    return "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(low, high)))


def _from_pattern(pattern: str, rng) -> str:
    """A string matching the simple regexes specs use (classes, literals, repeats, groups)."""

    def emit(parsed) -> str:
        out = []
        for op, arg in parsed:
            name = str(op)
            if name == "LITERAL":
                out.append(chr(arg))
            elif name == "IN":
                choices = []
                for cop, carg in arg:
                    if str(cop) == "RANGE":
                        choices.extend(chr(c) for c in range(carg[0], carg[1] + 1))
                    elif str(cop) == "LITERAL":
                        choices.append(chr(carg))
                    elif str(cop) == "CATEGORY":
                        choices.extend(string.ascii_letters + string.digits)
                out.append(rng.choice(choices or ["a"]))
            elif name in ("MAX_REPEAT", "MIN_REPEAT"):
                low, high, sub = arg
                high = min(high, low + 5)
                out.extend(emit(sub) for _ in range(rng.randint(low, high)))
            elif name == "SUBPATTERN":
                out.append(emit(arg[-1]))
            elif name == "BRANCH":
                out.append(emit(rng.choice(arg[1])))
            elif name == "ANY":
                out.append("a")
            elif name == "CATEGORY":
                out.append("7" if "DIGIT" in str(arg) else "a")
        return "".join(out)

    return emit(sre_parse.parse(pattern))


MUTANTS = [None, True, 3, -1, 2.5, "", "x" * 300, [], {}, [None], {"": None}]


def mutations(doc) -> list:
    """Documents near ``doc``: each member replaced by values of other types, removed, or a
    stranger added; each array item replaced."""
    out = [m for m in MUTANTS if type(m) is not type(doc)]
    if isinstance(doc, dict):
        for key in list(doc)[:6]:
            dropped = dict(doc)
            del dropped[key]
            out.append(dropped)
            for m in MUTANTS[:6]:
                changed = copy.deepcopy(doc)
                changed[key] = m
                out.append(changed)
        out.append({**doc, "zz_unknown": 1})
    elif isinstance(doc, list) and doc:
        for m in MUTANTS[:6]:
            out.append([m, *doc[1:]])
    return out


class Engine:
    name = ""
    drafts = (4, 2020)

    def compile(self, schema, draft: int):
        raise NotImplementedError

    @staticmethod
    def check(fn, doc) -> bool:
        raise NotImplementedError


def _as_fastjsonschema(schema: dict, draft: int) -> dict:
    # fastjsonschema knows drafts 4, 6 and 7: a 2020-12 schema runs as draft 7
    return (
        {**schema, "$schema": "http://json-schema.org/draft-07/schema#"}
        if draft == 2020
        else schema
    )


class FastjsonschemaPrecheck(Engine):
    """The path before jsonschema-rs: the pre-check, fastjsonschema for its message, with
    fastjsonschema's own format regexes (which disagree with schemathesis)."""

    name = "fastjsonschema+precheck (old formats)"

    def compile(self, schema, draft):
        schema = _as_fastjsonschema(schema, draft)
        full = fastjsonschema.compile(schema, formats=SWAGGER_FORMATS, use_default=False)
        pre = fastcheck.build(schema, SWAGGER_FORMATS)
        if pre is None:
            return full

        def validate(data):
            if pre(data):
                return data
            return full(data)

        return validate

    @staticmethod
    def check(fn, doc) -> bool:
        try:
            fn(doc)
            return True
        except fastjsonschema.JsonSchemaValueException as e:
            _ = e.message
            return False


class Fastjsonschema(FastjsonschemaPrecheck):
    name = "fastjsonschema"

    def compile(self, schema, draft):
        return fastjsonschema.compile(
            _as_fastjsonschema(schema, draft), formats=SWAGGER_FORMATS, use_default=False
        )


class JsonschemaRs(Engine):
    """The engine alone: jsonschema-rs with pymacaron's format checks, its own message."""

    name = "jsonschema-rs"

    def compile(self, schema, draft):
        cls = jsonschema_rs.Draft202012Validator if draft == 2020 else jsonschema_rs.Draft4Validator
        return cls(schema, validate_formats=True, formats=_format_checks(draft))

    @staticmethod
    def check(fn, doc) -> bool:
        if fn.is_valid(doc):
            return True
        try:
            fn.validate(doc)
        except jsonschema_rs.ValidationError as e:
            _ = e.message
        return False


class Pymacaron(Engine):
    """What ships: validation.compile_schema (draft 4: pre-check + fastjsonschema; 2020-12:
    jsonschema-rs) and pymacaron's message."""

    name = "pymacaron compile_schema"

    def compile(self, schema, draft):
        return compile_schema(schema)  # the draft from $schema

    @staticmethod
    def check(fn, doc) -> bool:
        try:
            fn(doc)
            return True
        except SchemaViolation as e:
            _ = violation_text(e)
            return False


ENGINES = [FastjsonschemaPrecheck(), Fastjsonschema(), JsonschemaRs(), Pymacaron()]


def reference_for(schema: dict, draft: int):
    cls = jsonschema.Draft202012Validator if draft == 2020 else jsonschema.Draft4Validator
    return cls(schema, format_checker=jsonschema.FormatChecker())


def run_group(group: str, corpus: dict, rounds: int) -> None:
    draft = 2020 if group == "oas31" else 4
    n_valid = sum(len(v) for _, v, _ in corpus.values())
    n_invalid = sum(len(i) for _, _, i in corpus.values())
    print(
        f"\n== {group} (draft {'2020-12' if draft == 2020 else '4'}"
        f"{', fastjsonschema as draft 7' if draft == 2020 else ''}): {len(corpus)} schemas,"
        f" {n_valid} generated valid documents, {n_invalid} mutated documents, {rounds}"
        " interleaved rounds"
    )
    disagreements = {e.name: 0 for e in ENGINES}
    examples: dict[str, list] = {e.name: [] for e in ENGINES}
    for name, (schema, valid, invalid) in corpus.items():
        ref = reference_for(schema, draft)
        compiled = {e.name: e.compile(schema, draft) for e in ENGINES}
        for doc in valid + invalid:
            expected = ref.is_valid(doc)
            for e in ENGINES:
                if e.check(compiled[e.name], doc) != expected:
                    disagreements[e.name] += 1
                    if len(examples[e.name]) < 3:
                        examples[e.name].append((name, repr(doc)[:80], expected))

    compile_t = {e.name: [] for e in ENGINES}
    valid_t = {e.name: [] for e in ENGINES}
    invalid_t = {e.name: [] for e in ENGINES}
    for _ in range(rounds):
        for e in ENGINES:
            total_compile = total_valid = total_invalid = 0.0
            for schema, valid, invalid in corpus.values():
                t0 = time.perf_counter()
                fn = e.compile(schema, draft)
                total_compile += time.perf_counter() - t0
                t0 = time.perf_counter()
                for doc in valid:
                    e.check(fn, doc)
                total_valid += time.perf_counter() - t0
                t0 = time.perf_counter()
                for doc in invalid:
                    e.check(fn, doc)
                total_invalid += time.perf_counter() - t0
            compile_t[e.name].append(total_compile / len(corpus) * 1e3)
            valid_t[e.name].append(total_valid / max(n_valid, 1) * 1e6)
            invalid_t[e.name].append(total_invalid / max(n_invalid, 1) * 1e6)

    def cell(values):
        med = statistics.median(values)
        return f"{med:9.2f} ({min(values):.2f}-{max(values):.2f})"

    print(
        f"{'engine':26} {'compile ms/schema':>24} {'valid µs/doc':>24} {'invalid µs/doc':>24}"
        f" {'verdicts ≠ ref':>15}"
    )
    for e in ENGINES:
        print(
            f"{e.name:26} {cell(compile_t[e.name]):>24} {cell(valid_t[e.name]):>24}"
            f" {cell(invalid_t[e.name]):>24} {disagreements[e.name]:>15}"
        )
    base = ENGINES[0].name
    for e in ENGINES[1:]:
        med = statistics.median
        print(
            f"  {e.name} / {base}: compile {med(compile_t[e.name]) / med(compile_t[base]):.2f}x,"
            f" valid {med(valid_t[e.name]) / med(valid_t[base]):.2f}x,"
            f" invalid {med(invalid_t[e.name]) / med(invalid_t[base]):.2f}x (time; < 1 is faster)"
        )
    for e in ENGINES:
        for name, doc, expected in examples[e.name]:
            print(f"  {e.name} disagrees on {name}: {doc} (reference: valid={expected})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--docs", type=int, default=40, help="valid documents per schema")
    parser.add_argument("--group", choices=GROUPS, action="append", help="default: all")
    args = parser.parse_args(argv)

    corpora: dict[str, dict] = {g: {} for g in args.group or GROUPS}
    for name, (group, schema) in schemas().items():
        if group not in corpora:
            continue
        ref = reference_for(schema, 2020 if group == "oas31" else 4)
        valid = valid_documents(schema, args.docs, ref)
        invalid = [m for d in valid[:8] for m in mutations(d)]
        corpora[group][name] = (schema, valid, invalid)
    for group, corpus in corpora.items():
        run_group(group, corpus, args.rounds)
    if args.group is None or "swagger2" in args.group:
        list_response()
    return 0


def list_response(calls: int = 20000) -> None:
    """The bench's ``GET /pets?limit=20`` reply (20 Pets) and one Pet through
    pymacaron's ``compile_schema``, as the server validates them: µs per call, min of 5."""
    import timeit

    sys.path.insert(0, os.path.join(HERE, "apps"))
    import data  # bench/apps/data.py: the pets the bench apps serve

    spec = load_spec(os.path.join(HERE, "petstore.yaml"), validate=False)
    definitions = json_definitions(spec.definitions)
    many = compile_schema(
        to_json_schema({"type": "array", "items": {"$ref": "#/definitions/Pet"}}),
        definitions,
        dialect="swagger2",
    )
    one = compile_schema({"$ref": "#/definitions/Pet"}, definitions, dialect="swagger2")
    pets = data.PETS[:20]

    def best(fn, doc) -> float:
        fn(doc)
        return min(timeit.repeat(lambda: fn(doc), number=calls, repeat=5)) / calls * 1e6

    print(
        f"\n== petstore replies, pymacaron compile_schema: GET /pets?limit=20 (20 Pets)"
        f" {best(many, pets):.2f} µs, one Pet {best(one, pets[0]):.2f} µs (min of 5 x {calls})"
    )


if __name__ == "__main__":
    sys.exit(main())
