#!/usr/bin/env python3
"""CPU cost of the load-time pattern pass (spec/validation/patterns.py ``bad_pattern``) on
bench/startup.py's generated Swagger 2.0 specs, loaded as pymacaron loads them: as
generated (no ``pattern``), then with a pattern on every string property (500 distinct),
for the draft 4 engine (Python re) and the 2020-12 one (jsonschema-rs). Best of 5 runs,
the regex cache cleared before each.

    .venv/bin/python bench/pattern_pass.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from startup import generate  # noqa: E402

from pymacaron.spec.validation.patterns import bad_pattern, draft4_regex  # noqa: E402
from pymacaron.spec.yamlfile import load_document  # noqa: E402


def best_ms(spec: dict, dialect: str, runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        draft4_regex.cache_clear()
        start = time.process_time()
        assert bad_pattern(spec, dialect) is None
        best = min(best, time.process_time() - start)
    return best * 1000


def with_patterns(node, count: list) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string":
            node["pattern"] = f"^[a-z]+-{count[0] % 500}(?:-[0-9]+)?$"
            count[0] += 1
        for value in node.values():
            with_patterns(value, count)
    elif isinstance(node, list):
        for value in node:
            with_patterns(value, count)


def main() -> None:
    for label, ops, warnings in (("1.2 MB", 330, 200), ("4 MB", 1100, 0)):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "spec.yaml")
            with open(path, "w") as f:
                f.write(generate(ops, warnings))
            spec, _ = load_document(path, str_keys=True)
            size = os.path.getsize(path) / 1e6
        plain = best_ms(spec, "swagger2")
        count = [0]
        with_patterns(spec, count)
        print(
            f"{label} ({size:.2f} MB): no pattern {plain:.1f} ms; {count[0]} patterns "
            f"(500 distinct): Python re {best_ms(spec, 'swagger2'):.1f} ms, "
            f"jsonschema-rs {best_ms(spec, 'oas31'):.1f} ms (CPU, best of 5)"
        )


if __name__ == "__main__":
    main()
