#!/usr/bin/env python3
"""The corpus table (issue 27's closing note): every public spec of tests/fixtures/corpus
(and, with --swagger, every valid case of tests/fixtures/swagger_corpus) served with the
stub handlers the suite binds, one row each: load result (``pym check``: ok, or the
refusal's first line), cold start (a fresh interpreter building the app, no spec-check
record: wall and CPU seconds), ``pym check`` seconds, and schemathesis' counts
(``not_a_server_error``, ``response_schema_conformance``) against a gunicorn worker.

    .venv/bin/python bench/startup_corpus.py              # 12 paths per spec, 1 example
    .venv/bin/python bench/startup_corpus.py --full       # every path, 10 examples
    .venv/bin/python bench/startup_corpus.py --only discord.json --swagger
"""

from __future__ import annotations

import argparse
import os
import pathlib
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

import startup  # noqa: E402  (bench/startup.py: the cold start measure)

from tests.framework import test_oas_corpus as oas  # noqa: E402
from tests.framework import test_swagger_corpus as swagger  # noqa: E402
from tests.reliability.support import pym, start_gunicorn  # noqa: E402

CHECKS = "not_a_server_error,response_schema_conformance"
_COUNTS = re.compile(r"(\d+) cases, (\d+) failure")


def _row(name: str, svc: str, paths: list[str], examples: str, full: bool) -> dict:
    started = time.perf_counter()
    check = pym("check", "--dir", svc, cwd=svc, timeout=600)
    took = time.perf_counter() - started
    row = {"spec": name, "check_s": took, "size": _size(svc)}
    if check.returncode != 0 or "ok:" not in check.stdout:
        lines = [ln for ln in check.stderr.splitlines() if "cannot start" in ln]
        row["load"] = "refused: " + (lines[0] if lines else check.stderr.strip()[-200:])[:160]
        return row
    row["load"] = check.stdout.strip().splitlines()[-1]  # ok: N routes
    row["start_wall"], row["start_cpu"] = startup.cold_start(svc, None)
    if not paths:
        row["fuzz"] = "no paths"
        return row
    excludes = [] if full else oas._excludes(paths)
    server = start_gunicorn(svc, workers=1)
    try:
        result = pym(
            "fuzz", "--url", server.url, "--dir", svc, "--max-examples", examples,
            "--seed", "27", "--no-builtin", "--no-auth", "--phases", "examples,fuzzing",
            "--checks", CHECKS, *excludes, timeout=1800,
        )  # fmt: skip
    finally:
        server.stop()
    counts = _COUNTS.findall(result.stdout)
    cases = sum(int(c) for c, _ in counts)
    failures = sum(int(f) for _, f in counts)
    row["fuzz"] = f"{cases} cases, {failures} failures" + (
        "" if result.returncode == 0 else f" (exit {result.returncode})"
    )
    return row


def _size(svc: str) -> float:
    apis = os.path.join(svc, "apis")
    return sum(os.path.getsize(os.path.join(apis, f)) for f in os.listdir(apis)) / 1e6


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="every path, 10 examples")
    parser.add_argument("--swagger", action="store_true", help="the Swagger 2.0 corpus too")
    parser.add_argument("--only", action="append", default=[], help="only these specs")
    args = parser.parse_args(argv)
    examples = "10" if args.full else "1"
    oas.SAMPLE = None if args.full else 12  # the suite's brief run: 12 paths per spec
    os.environ["PYM_CACHE_DIR"] = "off"
    cases = [("3.x", n) for n in oas.SPECS]
    cases += [("3.x invalid", n) for n in sorted(oas.INVALID)]
    if args.swagger:
        cases += [("2.0", n) for n in swagger.VALID]
    if args.only:
        cases = [c for c in cases if c[1] in args.only]
    print(f"load average at the start: {startup._load()}", flush=True)
    print(
        "| set | spec | MB | load (pym check) | pym check s | cold start wall s | "
        "cold start CPU s | fuzz |\n|---|---|---|---|---|---|---|---|",
        flush=True,
    )
    bad = 0
    for kind, name in cases:
        tmp = tempfile.mkdtemp(prefix="pym-corpus-")
        try:
            where = pathlib.Path(tmp)
            if kind == "3.x":
                svc = oas.service(where, name)
                paths = oas._paths(svc)
            elif kind == "2.0":
                svc = swagger.service(where, "valid", name)
                paths = ["all"]
            else:
                svc = os.path.join(tmp, "svc")
                shutil.copytree(oas.STUB_SERVICE, svc)
                os.mkdir(os.path.join(svc, "apis"))
                shutil.copyfile(
                    os.path.join(oas.CORPUS, "invalid", name), os.path.join(svc, "apis", name)
                )
                with open(os.path.join(svc, "pym-config.yaml"), "w") as f:
                    f.write("name: invalid\n")
                paths = []
            row = _row(name, svc, paths, examples, args.full)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        fuzz = row.get("fuzz", "no paths")
        if row["load"].startswith("refused") != kind.endswith("invalid") or not (
            fuzz == "no paths" or fuzz.endswith(" 0 failures")
        ):
            bad += 1
        start = (
            f"{row['start_wall']:.2f} | {row['start_cpu']:.2f}" if "start_wall" in row else "- | -"
        )
        print(
            f"| {kind} | {name} | {row['size']:.2f} | {row['load']} | {row['check_s']:.1f} | "
            f"{start} | {row.get('fuzz', '-')} |",
            flush=True,
        )
    print(f"load average at the end: {startup._load()}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
