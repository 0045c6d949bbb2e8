#!/usr/bin/env python3
"""The corpus table (issue 27's closing note): every public spec of tests/fixtures/corpus
(and, with --swagger, every valid case of tests/fixtures/swagger_corpus) served with the
stub handlers the suite binds and ``error_model: auto``, one row each: its source and
commit (tests/fixtures/corpus/README.md), OpenAPI version, size, operations, load result
(``pym check``: ok, or the refusal's first line) and its seconds, cold start (a fresh
interpreter building the app, no spec-check record: wall and CPU seconds), and
schemathesis' counts against a gunicorn worker (``pym fuzz``): cases, then failures by
check — ``not_a_server_error`` (any 5xx), ``response_schema_conformance`` on 2xx replies,
and the same check on error replies (4xx/5xx), with how many error replies the server sent
(its access log) and whether the spec declares error schemas (a non-2xx response with a
JSON schema: those replies are then checked against the spec's own schema, which
``error_model: auto`` makes pymacaron's error body follow).

    .venv/bin/python bench/startup_corpus.py              # 12 paths per spec, 1 example
    .venv/bin/python bench/startup_corpus.py --full       # every path, 10 examples
    .venv/bin/python bench/startup_corpus.py --only discord.json --swagger

Exit 1 when a row breaks issue 27's "Done means": a valid spec that does not load, an
invalid one that loads, or any fuzz failure.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import resource
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
from tests.reliability.support import pym, pym_fuzz, start_gunicorn  # noqa: E402

CHECKS = "not_a_server_error,response_schema_conformance"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_COUNTS = re.compile(r"(\d+) cases, (\d+) failure")
_ACCESS = re.compile(r"pymacaron\.access: [A-Z]+ \S+ (\d{3}) ")
_STATUS = re.compile(r"^\s*\[(\d{3})\]", re.M)


def sources() -> dict:
    """file -> 'owner/repo@commit7' from the corpus README's tables."""
    found = {}
    with open(os.path.join(oas.CORPUS, "README.md")) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 5 and re.fullmatch(r"[0-9a-f]{40}", cells[4]):
                found[cells[0].split(" ")[0]] = f"{cells[2]}@{cells[4][:7]}"
    return found


def shape(svc: str) -> dict:
    """The served spec's version, operations and whether it declares error schemas."""
    apis = os.path.join(svc, "apis")
    spec: dict = {}
    for name in sorted(os.listdir(apis)):
        doc = oas._read(os.path.join(apis, name))
        if isinstance(doc, dict) and ("openapi" in doc or "swagger" in doc):
            spec = doc
            break
    ops, errors = 0, False
    for item in (spec.get("paths") or {}).values():
        for method, op in (item or {}).items():
            if method not in METHODS or not isinstance(op, dict):
                continue
            ops += 1
            for status, response in (op.get("responses") or {}).items():
                response = _follow(spec, response)
                if str(status).startswith("2") or not isinstance(response, dict):
                    continue
                content = response.get("content") or {}
                if response.get("schema") or any(
                    isinstance(m, dict) and m.get("schema") for m in content.values()
                ):
                    errors = True
    version = str(spec.get("openapi") or spec.get("swagger") or "?")
    return {"version": version, "ops": ops, "error_schemas": errors}


def _follow(spec: dict, node, depth: int = 0):
    """``node`` with a local ``$ref`` (``#/components/responses/...``) followed."""
    ref = node.get("$ref") if isinstance(node, dict) else None
    if not isinstance(ref, str) or not ref.startswith("#/") or depth > 10:
        return node
    target = spec
    for part in ref[2:].split("/"):
        target = (
            target.get(part.replace("~1", "/").replace("~0", "~"))
            if isinstance(target, dict)
            else None
        )
    return _follow(spec, target, depth + 1)


def _failures(printed: str) -> dict:
    """Failures by check, from schemathesis' console text as pym fuzz prints it: each
    failure is a ``- <title>`` line, followed by the reply's ``[status] Reason`` line."""
    out = {"server_error": 0, "schema_2xx": 0, "schema_error_reply": 0}
    for title in re.finditer(r"^\s*- (Server error|Response violates schema)", printed, re.M):
        status = _STATUS.search(printed, title.end())
        code = int(status.group(1)) if status else 0
        if title.group(1) == "Server error":
            out["server_error"] += 1
        else:
            out["schema_2xx" if 200 <= code < 300 else "schema_error_reply"] += 1
    return out


def _timed_check(svc: str):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    check = pym("check", "--dir", svc, cwd=svc, timeout=900)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return check, wall, cpu


def _row(name: str, svc: str, paths: list[str], examples: str, full: bool) -> dict:
    row: dict = {"spec": name, "size": _size(svc), **shape(svc)}
    check, row["check_wall"], row["check_cpu"] = _timed_check(svc)
    if check.returncode != 0 or "ok:" not in check.stdout:
        lines = [ln for ln in check.stderr.splitlines() if "cannot start" in ln]
        row["load"] = "refused: " + (lines[0] if lines else check.stderr.strip()[-200:])[:200]
        return row
    row["load"] = check.stdout.strip().splitlines()[-1]  # ok: N routes
    row["start_wall"], row["start_cpu"] = startup.cold_start(svc, None)
    if not paths:
        row["fuzz"] = "no paths"
        return row
    excludes = [] if full else oas._excludes(paths)
    server = start_gunicorn(svc, workers=1, timeout=180)
    try:
        code, printed = pym_fuzz(
            "--url", server.url, "--dir", svc, "--max-examples", examples,
            "--seed", "27", "--no-builtin", "--no-auth", "--phases", "examples,fuzzing",
            "--checks", CHECKS, *excludes,
        )  # fmt: skip
        log = server.output()
    finally:
        server.stop()
    counts = _COUNTS.findall(printed)
    row["cases"] = sum(int(c) for c, _ in counts)
    row["failures"] = sum(int(f) for _, f in counts)
    row["exit"] = code
    row.update(_failures(printed))
    statuses = [int(s) for s in _ACCESS.findall(log)]
    row["replies"] = len(statuses)
    row["error_replies"] = sum(s >= 400 for s in statuses)
    row["replies_5xx"] = sum(s >= 500 for s in statuses)
    row["traceback"] = "Traceback" in log
    return row


def _size(svc: str) -> float:
    apis = os.path.join(svc, "apis")
    return sum(os.path.getsize(os.path.join(apis, f)) for f in os.listdir(apis)) / 1e6


def _bad(kind: str, row: dict) -> bool:
    refused = row["load"].startswith("refused")
    if refused != kind.endswith("invalid"):
        return True
    if "cases" not in row:
        return False
    return bool(
        row["failures"] or row["exit"] or row["traceback"] or row["replies_5xx"]
        or row["server_error"] or row["schema_2xx"] or row["schema_error_reply"]
    )  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="every path, 10 examples")
    parser.add_argument("--swagger", action="store_true", help="the Swagger 2.0 corpus too")
    parser.add_argument("--only", action="append", default=[], help="only these specs")
    parser.add_argument("--json", help="also write the rows to this file")
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
    origin = sources()
    print(
        f"settings: {'every path, 10 examples' if args.full else '12 paths, 1 example'} per "
        f"spec, seed 27, checks {CHECKS}, error_model: auto; load average at the start: "
        f"{startup._load()}",
        flush=True,
    )
    print(
        "| spec | source @ commit | version | MB | ops | load (pym check) | check s wall/CPU | "
        "cold start s wall/CPU | fuzz cases | 5xx (not_a_server_error) | 2xx schema "
        "violations | error replies sent / schema violations | declares error schemas |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        flush=True,
    )
    bad, rows = 0, []
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
        row["set"] = kind
        rows.append(row)
        bad += _bad(kind, row)
        start = f"{row['start_wall']:.2f} / {row['start_cpu']:.2f}" if "start_wall" in row else "-"
        if "cases" in row:
            fuzz = (
                f"{row['cases']} | {row['server_error']} ({row['replies_5xx']} 5xx sent) | "
                f"{row['schema_2xx']} | {row['error_replies']} / {row['schema_error_reply']}"
            )
        else:
            fuzz = f"{row.get('fuzz', '-')} | - | - | -"
        print(
            f"| {name} | {origin.get(name, 'tests/fixtures/swagger_corpus (written here)')} | "
            f"{row['version']} | {row['size']:.2f} | {row['ops']} | {row['load']} | "
            f"{row['check_wall']:.1f} / {row['check_cpu']:.1f} | {start} | {fuzz} | "
            f"{'yes' if row['error_schemas'] else 'no'} |",
            flush=True,
        )
    print(f"load average at the end: {startup._load()}")
    print("Done means: " + ("met" if not bad else f"NOT met on {bad} row(s)"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
