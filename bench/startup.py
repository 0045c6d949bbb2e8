#!/usr/bin/env python3
"""Start time against spec size (issue 27): generated Swagger 2.0 specs from 0.15 MB to
4 MB, some with warnings (arrays without ``items``: each warning names its line), served
by a fresh process each time (``create_app``, no spec-check cache: a cold start) and
checked by ``pym check`` (every validator compiled). Prints the curve (size -> seconds,
median of the runs and their spread) and whether the goals are met:

- a 1.2 MB spec with ~200 warnings starts in <= 2 s;
- a 4 MB spec with ~1,100 operations starts in <= 4 s;
- ``pym check`` of either takes <= 8 s.

    .venv/bin/python bench/startup.py                # 5 runs per point
    .venv/bin/python bench/startup.py --runs 3 --tree /path/to/other/checkout
    .venv/bin/python bench/startup.py --goals --runs 3 --baseline /path/to/main  # before/after

Each cell: median (min-max) of wall seconds and of the child's CPU seconds (user + system:
on a shared machine the wall time carries the other processes' load, the CPU time much less).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PYTHON = sys.executable
PYM = os.path.join(os.path.dirname(PYTHON), "pym")

# (label, target operations, warnings): sizes follow from the operations (~3.6 KB each)
POINTS = [
    ("small", 40, 10),
    ("medium", 160, 50),
    ("1.2 MB, ~200 warnings", 330, 200),
    ("2 MB", 560, 100),
    ("4 MB, ~1,100 operations", 1100, 0),
]
GOALS = {"1.2 MB, ~200 warnings": 2.0, "4 MB, ~1,100 operations": 4.0}
CHECK_GOAL = 8.0

STUBS = "def reply(*args, **kwargs):\n    return {}\n"
SERVER = "from pymacaron import create_app\n\napp = create_app(__file__)\n"


def generate(ops: int, warnings: int) -> str:
    """A Swagger 2.0 spec (YAML text) with ``ops`` operations over ``ops // 2`` resources,
    each with its own definitions, and ``warnings`` array schemas without ``items``."""
    out = [
        'swagger: "2.0"',
        "info: {title: generated, version: '1.0'}",
        "consumes: [application/json]",
        "produces: [application/json]",
        "paths:",
    ]
    resources = max(1, ops // 2)
    for i in range(resources):
        out += [
            f"  /things{i}/{{thing_id}}:",
            "    get:",
            f"      operationId: get_thing_{i}",
            "      x-bind-server: stubs.reply",
            f"      description: Read one thing of kind {i}, with every field it has.",
            "      parameters:",
            "        - {name: thing_id, in: path, required: true, type: string}",
            "        - {name: fields, in: query, type: array, items: {type: string}, "
            "collectionFormat: csv}",
            "      responses:",
            f"        200: {{description: the thing, schema: {{$ref: '#/definitions/Thing{i}'}}}}",
            "        404: {description: no such thing, schema: {$ref: '#/definitions/Error'}}",
            "    put:",
            f"      operationId: put_thing_{i}",
            "      x-bind-server: stubs.reply",
            "      parameters:",
            "        - {name: thing_id, in: path, required: true, type: string}",
            f"        - {{name: body, in: body, required: true, schema: {{$ref: "
            f"'#/definitions/NewThing{i}'}}}}",
            "      responses:",
            f"        200: {{description: stored, schema: {{$ref: '#/definitions/Thing{i}'}}}}",
            "        400: {description: invalid, schema: {$ref: '#/definitions/Error'}}",
        ]
    out.append("definitions:")
    out += [
        "  Error:",
        "    type: object",
        "    required: [status, error, error_description, error_id]",
        "    properties:",
        "      status: {type: integer}",
        "      error: {type: string}",
        "      error_description: {type: string}",
        "      error_id: {type: string}",
        "      user_message: {type: string}",
    ]
    for i in range(resources):
        out += [
            f"  NewThing{i}:",
            "    type: object",
            "    required: [name]",
            "    properties:",
            "      name: {type: string, minLength: 1, maxLength: 120}",
            "      size: {type: integer, format: int32, minimum: 0}",
            "      weight: {type: number, format: double}",
            "      tags: {type: array, items: {type: string, maxLength: 40}}",
            "      color: {type: string, enum: [red, green, blue, black, white]}",
            "      created: {type: string, format: date-time}",
            f"      parent: {{$ref: '#/definitions/Ref{i}'}}",
            *(
                f"      field{k}: {{type: string, maxLength: 200, description: 'Field {k} of "
                f"thing {i}: free text a client may set, kept as it is written and returned "
                "on every read of the thing; nothing checks it beyond its length.'}"
                for k in range(22)
            ),
            f"  Ref{i}:",
            "    type: object",
            "    properties:",
            "      id: {type: string, format: uuid}",
            "      href: {type: string, format: uri}",
            f"  Thing{i}:",
            "    allOf:",
            f"      - $ref: '#/definitions/NewThing{i}'",
            "      - type: object",
            "        required: [id]",
            "        properties:",
            "          id: {type: string}",
            "          history:",
            "            type: array",
            "            description: what happened to it, most recent first",
            *(
                []
                if i < resources - warnings
                else ["            x-note: no items (a warning naming this line)"]
            ),
            *(
                ["            items: {type: object, properties: {at: {type: string}}}"]
                if i < resources - warnings
                else []
            ),
        ]
    return "\n".join(out) + "\n"


def service(root: str, label: str, ops: int, warnings: int) -> tuple[str, float]:
    where = os.path.join(root, label.split(",")[0].replace(" ", "_").replace(".", "_"))
    os.makedirs(os.path.join(where, "apis"), exist_ok=True)
    text = generate(ops, warnings)
    with open(os.path.join(where, "apis", "big.yaml"), "w") as f:
        f.write(text)
    with open(os.path.join(where, "stubs.py"), "w") as f:
        f.write(STUBS)
    with open(os.path.join(where, "server.py"), "w") as f:
        f.write(SERVER)
    with open(os.path.join(where, "pym-config.yaml"), "w") as f:
        f.write("name: big\n")
    return where, len(text.encode()) / 1e6


def _env(tree: str | None) -> dict:
    env = {**os.environ, "PYM_CACHE_DIR": "off", "PYTHONDONTWRITEBYTECODE": "1"}
    if tree:
        env["PYTHONPATH"] = os.path.join(tree, "framework")
    return env


def _timed(cmd: list, **kwargs) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, CPU seconds of the child: user + system, the steadier number on a
    shared machine, the completed process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(cmd, **kwargs)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result


def cold_start(svc: str, tree: str | None) -> tuple[float, float]:
    """(wall, CPU) seconds for a fresh interpreter to build the app (imports included)."""
    code = (  # inside a function: at a script's top level create_app would serve
        "import logging, sys; logging.disable(logging.WARNING)\n"
        "from pymacaron import create_app\n"
        f"def build():\n    create_app({svc!r})\n"
        "build()\n"
    )
    wall, cpu, _ = _timed(
        [PYTHON, "-c", code], env=_env(tree), check=True, cwd=svc, capture_output=True, timeout=300
    )
    return wall, cpu


def check(svc: str, tree: str | None) -> tuple[float, float]:
    """(wall, CPU) seconds of ``pym check`` (every validator proven to compile)."""
    wall, cpu, result = _timed(
        [PYTHON, "-m", "pymacaron", "check", "--dir", svc],
        env=_env(tree),
        cwd=svc,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"pym check failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return wall, cpu


def _stats(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} s ({min(values):.2f}-{max(values):.2f})"


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "?"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per point (default: 5)")
    parser.add_argument("--tree", help="another checkout to measure (its framework/ first)")
    parser.add_argument(
        "--baseline",
        help="another checkout measured in the same runs, interleaved (before/after rows)",
    )
    parser.add_argument("--no-check", action="store_true", help="skip the pym check column")
    parser.add_argument("--goals", action="store_true", help="only the two points with goals")
    args = parser.parse_args(argv)
    trees = [("this", args.tree)] + ([("baseline", args.baseline)] if args.baseline else [])
    ok = True
    print(f"load average at the start: {_load()}")
    with tempfile.TemporaryDirectory(prefix="pym-startup-") as root:
        print(f"{'spec':26} {'tree':8} {'MB':>5} {'ops':>5} {'warn':>5}  "
              f"{'cold start wall':26} {'cold start CPU':26} "
              f"{'pym check wall':26} {'pym check CPU':26}")  # fmt: skip
        for label, ops, warnings in POINTS:
            if args.goals and label not in GOALS:
                continue
            svc, size = service(root, label, ops, warnings)
            runs: dict = {name: ([], [], [], []) for name, _ in trees}
            for i in range(args.runs):  # interleaved: a busy moment hits every column
                order = trees if i % 2 == 0 else trees[::-1]
                for name, tree in order:
                    walls, cpus, cwalls, ccpus = runs[name]
                    wall, cpu = cold_start(svc, tree)
                    walls.append(wall)
                    cpus.append(cpu)
                    if not args.no_check:
                        wall, cpu = check(svc, tree)
                        cwalls.append(wall)
                        ccpus.append(cpu)
            for name, _ in trees:
                walls, cpus, cwalls, ccpus = runs[name]
                line = (
                    f"{label:26} {name:8} {size:5.2f} {ops:5d} {warnings:5d}  "
                    f"{_stats(walls):26} {_stats(cpus):26}"
                )
                if cwalls:
                    line += f" {_stats(cwalls):26} {_stats(ccpus):26}"
                goal = GOALS.get(label)
                if goal is not None and name == "this":
                    met = statistics.median(walls) <= goal and (
                        not cwalls or statistics.median(cwalls) <= CHECK_GOAL
                    )
                    cpu_met = statistics.median(cpus) <= goal and (
                        not ccpus or statistics.median(ccpus) <= CHECK_GOAL
                    )
                    ok = ok and met
                    line += (
                        f"  goal <= {goal:.0f} s start, <= {CHECK_GOAL:.0f} s check: "
                        + ("met" if met else "MISSED")
                        + (" (CPU: met)" if cpu_met and not met else "")
                    )
                print(line, flush=True)
    print(f"load average at the end: {_load()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
