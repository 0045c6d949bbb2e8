#!/usr/bin/env python3
"""Model building per request, A/B in one process: this tree's spec/models.py against the
one of a git revision, on the bench petstore's NewPet body (a nested Price: what POST /pets
builds) and on a model with every nested kind (model, list, dict, union, union list, date).

Rounds alternate between the two versions and each keeps its best round, so the load of a
shared machine drifts out of the ratio; ``--control`` times the revision's module against
itself to show the noise that remains.

    .venv/bin/python bench/models_ab.py REV [--rounds 300] [-n 2000] [--control]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import timeit

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "framework"))

import pymacaron.spec.models as current  # noqa: E402

RICH = {
    "Owner": {"type": "object", "properties": {"name": {"type": "string"}}},
    "Cat": {"type": "object", "properties": {"kind": {"type": "string"}}},
    "Dog": {"type": "object", "properties": {"kind": {"type": "string"}}},
    "Animal": {
        "oneOf": [{"$ref": "#/definitions/Cat"}, {"$ref": "#/definitions/Dog"}],
        "discriminator": {"propertyName": "kind"},
    },
    "Rich": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "owner": {"$ref": "#/definitions/Owner"},
            "friends": {"type": "array", "items": {"$ref": "#/definitions/Owner"}},
            "by_name": {"type": "object", "additionalProperties": {"$ref": "#/definitions/Owner"}},
            "animal": {"$ref": "#/definitions/Animal"},
            "animals": {"type": "array", "items": {"$ref": "#/definitions/Animal"}},
            "born": {"type": "string", "format": "date"},
        },
    },
}
RICH_BODY = {
    "name": "Rex",
    "owner": {"name": "a"},
    "friends": [{"name": "b"}, {"name": "c"}],
    "by_name": {"x": {"name": "d"}},
    "animal": {"kind": "Cat"},
    "animals": [{"kind": "Dog"}, {"kind": "Cat"}],
    "born": "2020-01-02",
}
NEW_PET = {"name": "Rex", "species": "dog", "price": {"amount": 10, "currency": "EUR"}}


def _module_at(rev: str):
    text = subprocess.run(
        ["git", "show", f"{rev}:framework/pymacaron/spec/models.py"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(text)
    spec = importlib.util.spec_from_file_location("pymacaron.spec._models_at_rev", f.name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    os.unlink(f.name)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rev", help="the git revision to compare with (e.g. main)")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("-n", type=int, default=2000, help="calls per round")
    parser.add_argument("--control", action="store_true", help="REV against itself")
    args = parser.parse_args()
    before = _module_at(args.rev)
    after = before if args.control else current
    with open(os.path.join(HERE, "apps", "pymacaron", "apis", "petstore.yaml")) as f:
        petstore = yaml.safe_load(f)["definitions"]
    cases = [("NewPet", petstore, NEW_PET), ("Rich", RICH, RICH_BODY)]
    for name, definitions, body in cases:
        a = before.build_models("ab", definitions)[name]
        b = after.build_models("ab", definitions)[name]
        assert a.from_json(body).to_json(True) == b.from_json(body).to_json(True), name
        best = {"before": float("inf"), "after": float("inf")}
        for _ in range(args.rounds):
            for label, cls in (("before", a), ("after", b)):
                t = timeit.timeit(lambda cls=cls, body=body: cls.from_json(body), number=args.n)
                best[label] = min(best[label], t / args.n * 1e6)
        print(
            f"{name}.from_json  {args.rev}: {best['before']:.2f} us  "
            f"{'(control) ' if args.control else 'this tree: '}{best['after']:.2f} us  "
            f"ratio {best['after'] / best['before']:.3f}"
        )


if __name__ == "__main__":
    main()
