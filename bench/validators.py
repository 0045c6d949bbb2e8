#!/usr/bin/env python3
"""Validation engines side by side: today's fastjsonschema + pre-check against jsonschema-rs.

The same schemas (every definition of the bench petstore and of the example service, as
pymacaron translates them to JSON Schema draft 4), the same documents (valid ones generated
from each schema and accepted by the reference, plus mutations of them), and for each engine:

- compile time per schema (median of ``--rounds``, no on-disk cache),
- time per call on valid and on invalid documents (invalid: the error and its message built),
- verdicts against the reference validator (``jsonschema``'s Draft4Validator with its
  format checker): how many documents each engine judges differently.

Rounds interleave the engines, so machine noise hits all of them alike.

    .venv/bin/python bench/validators.py [--rounds 5] [--docs 40]

Needs ``jsonschema-rs`` (bench/requirements.txt) next to the project's venv.
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import re
import re._parser as sre_parse
import statistics
import string
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "framework"))

import fastcheck  # noqa: E402  (the retired pre-check, kept here to compare)
import fastjsonschema  # noqa: E402
import jsonschema  # noqa: E402
import jsonschema_rs  # noqa: E402

from pymacaron.spec.load import load_spec  # noqa: E402
from pymacaron.spec.validation import DRAFT4, SWAGGER_FORMATS, to_json_schema  # noqa: E402

SPECS = [os.path.join(HERE, "petstore.yaml"), os.path.join(ROOT, "apis", "petshop.yaml")]


def schemas() -> dict[str, dict]:
    """Every definition of the bench specs, as a self-contained draft 4 schema."""
    out = {}
    for path in SPECS:
        spec = load_spec(path, validate=False)
        definitions = {k: to_json_schema(v) for k, v in spec.definitions.items()}
        for name in definitions:
            out[f"{spec.name}.{name}"] = {
                "$schema": DRAFT4,
                "$ref": f"#/definitions/{name}",
                "definitions": definitions,
            }
    return out


def valid_documents(schema: dict, count: int, reference) -> list:
    """Up to ``count`` documents generated from ``schema`` that the reference accepts."""
    rng = random.Random(20261201)
    definitions = schema.get("definitions", {})
    found: list = []
    for _ in range(count * 4):
        doc = _generate(schema, definitions, rng, 0)
        if reference.is_valid(doc):
            found.append(doc)
        if len(found) >= count:
            break
    return found


def _generate(schema, definitions, rng, depth):
    """A document meant to satisfy ``schema`` (draft 4), random within its bounds."""
    if "$ref" in schema:
        return _generate(definitions[schema["$ref"].split("/")[-1]], definitions, rng, depth)
    if "allOf" in schema:
        merged: dict = {}
        for part in schema["allOf"]:
            part = definitions[part["$ref"].split("/")[-1]] if "$ref" in part else part
            for k, v in part.items():
                if k == "properties":
                    merged.setdefault("properties", {}).update(v)
                elif k == "required":
                    merged.setdefault("required", []).extend(v)
                else:
                    merged[k] = v
        return _generate(merged, definitions, rng, depth)
    if "enum" in schema:
        return rng.choice(schema["enum"])
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
                out[key] = _generate(sub, definitions, rng, depth + 1)
        return out
    if kind == "array":
        low = schema.get("minItems", 0)
        high = min(schema.get("maxItems", low + 4), low + 4)
        return [
            _generate(schema.get("items", {}), definitions, rng, depth + 1)
            for _ in range(rng.randint(low, high) if depth < 3 else low)
        ]
    if kind in ("integer", "number"):
        low = schema.get("minimum", -1000)
        high = schema.get("maximum", 100000)
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


def reference_verdict(validator, doc) -> bool:
    return validator.is_valid(doc)


class Engine:
    name = ""

    def compile(self, schema):
        raise NotImplementedError

    @staticmethod
    def check(fn, doc) -> bool:
        raise NotImplementedError


class FastjsonschemaPrecheck(Engine):
    """Today's path: fastcheck's yes/no pre-check, fastjsonschema for its message."""

    name = "fastjsonschema+precheck"

    def compile(self, schema):
        full_source = fastjsonschema.compile_to_code(
            schema, formats=SWAGGER_FORMATS, use_default=False
        )
        check_source = fastcheck.source(schema, SWAGGER_FORMATS)
        ns: dict = {}
        exec(compile(full_source, "<fastjsonschema>", "exec"), ns)
        full = ns["validate"]
        if not check_source:
            return full
        ns = {}
        exec(compile(check_source, "<fastcheck>", "exec"), ns)
        pre = ns["check"]

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

    def compile(self, schema):
        return fastjsonschema.compile(schema, formats=SWAGGER_FORMATS, use_default=False)


class JsonschemaRs(Engine):
    name = "jsonschema-rs"

    def compile(self, schema):
        # Swagger's own formats (date, byte, uuid) as pymacaron checks them
        formats = {
            name: (lambda rx: lambda value: rx.match(value) is not None)(re.compile(pattern))
            for name, pattern in SWAGGER_FORMATS.items()
        }
        return jsonschema_rs.Draft4Validator(schema, validate_formats=True, formats=formats)

    @staticmethod
    def check(fn, doc) -> bool:
        if fn.is_valid(doc):
            return True
        try:
            fn.validate(doc)
        except jsonschema_rs.ValidationError as e:
            _ = e.message
        return False


ENGINES = [FastjsonschemaPrecheck(), Fastjsonschema(), JsonschemaRs()]


def timed(fn, *args, repeat: int = 1) -> float:
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn(*args)
    return (time.perf_counter() - t0) / repeat


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--docs", type=int, default=40, help="valid documents per schema")
    args = parser.parse_args(argv)

    corpus = {}
    for name, schema in schemas().items():
        ref = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
        valid = valid_documents(schema, args.docs, ref)
        invalid = [m for d in valid[:8] for m in mutations(d)]
        corpus[name] = (schema, valid, invalid)
    n_valid = sum(len(v) for _, v, _ in corpus.values())
    n_invalid = sum(len(i) for _, _, i in corpus.values())
    print(
        f"{len(corpus)} schemas, {n_valid} generated valid documents, {n_invalid} mutated"
        f" documents, {args.rounds} interleaved rounds"
    )

    # verdicts against the reference
    disagreements = {e.name: 0 for e in ENGINES}
    examples: dict[str, list] = {e.name: [] for e in ENGINES}
    for name, (schema, valid, invalid) in corpus.items():
        ref = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
        compiled = {e.name: e.compile(schema) for e in ENGINES}
        for doc in valid + invalid:
            expected = reference_verdict(ref, doc)
            for e in ENGINES:
                if e.check(compiled[e.name], doc) != expected:
                    disagreements[e.name] += 1
                    if len(examples[e.name]) < 3:
                        examples[e.name].append((name, repr(doc)[:80], expected))

    compile_t = {e.name: [] for e in ENGINES}
    valid_t = {e.name: [] for e in ENGINES}
    invalid_t = {e.name: [] for e in ENGINES}
    for _ in range(args.rounds):
        for e in ENGINES:
            total_compile = 0.0
            total_valid = 0.0
            total_invalid = 0.0
            for schema, valid, invalid in corpus.values():
                t0 = time.perf_counter()
                fn = e.compile(schema)
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
            valid_t[e.name].append(total_valid / n_valid * 1e6)
            invalid_t[e.name].append(total_invalid / n_invalid * 1e6)

    def cell(values):
        med = statistics.median(values)
        return f"{med:9.2f} ({min(values):.2f}-{max(values):.2f})"

    print()
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
    print()
    for e in ENGINES[1:]:
        print(
            f"{e.name} / {base}: compile {statistics.median(compile_t[e.name]) / statistics.median(compile_t[base]):.2f}x,"
            f" valid {statistics.median(valid_t[e.name]) / statistics.median(valid_t[base]):.2f}x,"
            f" invalid {statistics.median(invalid_t[e.name]) / statistics.median(invalid_t[base]):.2f}x"
            " (time; < 1 is faster)"
        )
    for e in ENGINES:
        for name, doc, expected in examples[e.name]:
            print(f"  {e.name} disagrees on {name}: {doc} (reference: valid={expected})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
