#!/usr/bin/env python3
"""Violations of this tree's spec/validation against another tree's, document by document.

The corpus of tests/framework/test_validation_reference.py (every petshop definition and
the dialects' tricky schemas, seeds and their mutations); draft 4 cases only by default
(the engine that changed). For each rejected document: are the two SchemaViolations equal
(message, value, name, definition, rule, path), and if not, is the text a client reads
(violation_text) the same, and is it the same error (rule and path) worded otherwise or
another of the document's errors?

    .venv/bin/python bench/violations.py OTHER_TREE [--all-dialects]
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "framework"))
sys.path.insert(0, os.path.join(ROOT, "tests", "framework"))

import test_validation_reference as corpus  # noqa: E402

from pymacaron.spec import validation as ours  # noqa: E402


def _load(tree: str):
    """The other tree's ``spec.validation`` (a module or a package), imported under a
    parent of its own so its relative imports (``..fastcheck``) resolve in that tree."""
    import types

    parent = types.ModuleType("other_spec")
    parent.__path__ = [os.path.join(tree, "framework", "pymacaron", "spec")]
    sys.modules["other_spec"] = parent
    return importlib.import_module("other_spec.validation")


def _fields(e):
    return (e.message, e.value, e.name, e.definition, e.rule, e.path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("other")
    parser.add_argument("--all-dialects", action="store_true")
    args = parser.parse_args(argv)
    theirs = _load(os.path.abspath(args.other))
    count = collections.Counter()
    for name, dialect, direction, schema, definitions in corpus._cases():
        if dialect == "oas31" and not args.all_dialects:
            continue
        a = theirs.compile_schema(schema, definitions, dialect=dialect, direction=direction)
        b = ours.compile_schema(schema, definitions, dialect=dialect, direction=direction)
        rnd = random.Random(name)
        own = [corpus._generate(a.schema, a.schema, rnd, 0) for _ in range(10)]
        for seed in [*own, *corpus.SEEDS, *corpus.VALUES]:
            for _ in range(60):
                value = seed
                for _ in range(rnd.randint(0, 3)):
                    value = corpus._mutate(value, rnd)
                count["documents"] += 1
                ea = eb = None
                try:
                    a(value)
                except theirs.SchemaViolation as e:
                    ea = e
                try:
                    b(value)
                except ours.SchemaViolation as e:
                    eb = e
                if (ea is None) != (eb is None):
                    count["verdict differs"] += 1
                    continue
                if ea is None:
                    continue
                count["rejected"] += 1
                if _fields(ea) == _fields(eb):
                    continue
                if theirs.violation_text(ea) == ours.violation_text(eb):
                    count["same text, other fields (value as given)"] += 1
                elif (ea.rule, ea.path) == (eb.rule, eb.path):
                    count["same error, other words"] += 1
                else:
                    count["another of the document's errors named"] += 1
    print(", ".join(f"{k}: {v}" for k, v in count.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
