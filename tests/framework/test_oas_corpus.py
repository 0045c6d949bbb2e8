"""Public OpenAPI 3.0 / 3.1 specs nobody here wrote (tests/fixtures/corpus, sources in its
README): each valid one loads (every validator proven to compile, as ``pym check`` proves
it) and is served by gunicorn with stub handlers that reply schema-valid values, in one
start, and is fuzzed briefly by schemathesis (``pym fuzz``:
no 5xx, 2xx replies conform, error replies conform with ``error_model: auto``); each
invalid one is refused in one line naming the place. ``make corpus``
(bench/startup_corpus.py --full) runs ``pym check``, a cold start and the fuzz on every path
with 10 examples per operation and prints the table; ``PYM_CORPUS_FULL=1
PYM_CORPUS_EXAMPLES=10`` runs this file at that length."""

from __future__ import annotations

import json
import os
import re
import shutil
import time

import pytest
import requests
import yaml

from tests.conftest import FIXTURES
from tests.reliability.support import pym, pym_fuzz, start_gunicorn

CORPUS = os.path.join(FIXTURES, "corpus")
STUB_SERVICE = os.path.join(FIXTURES, "stub_service")  # shared with test_swagger_corpus.py
SPECS = sorted(os.listdir(os.path.join(CORPUS, "specs")))
INVALID = {
    # the place and what is wrong, as the refusal must name them
    "openai.yaml": ["components.schemas.", "not a JSON Schema 2020-12"],
    "spotify_official.yaml": ["requestBody.content.image/jpeg.schema.required", "not of type"],
}
EXAMPLES = os.environ.get("PYM_CORPUS_EXAMPLES", "1")
# the suite's brief run: a bounded number of operations per spec (make corpus: all)
SAMPLE = None if os.environ.get("PYM_CORPUS_FULL") else 12
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _read(path: str):
    with open(path) as f:
        return json.load(f) if path.endswith(".json") else yaml.load(f, Loader=yaml.CSafeLoader)


def service(tmp_path, name: str) -> str:
    """A service dir serving one corpus spec with the stub handler bound to every
    operation (the fixture itself stays as published)."""
    dest = tmp_path / "svc"
    shutil.copytree(STUB_SERVICE, dest)
    (dest / "apis").mkdir()
    spec = _read(os.path.join(CORPUS, "specs", name))
    for item in (spec.get("paths") or {}).values():
        for method, op in item.items():
            if method in METHODS and isinstance(op, dict):
                op["x-bind-server"] = "corpus_stubs.reply"
    stem = os.path.splitext(name)[0]
    with open(dest / "apis" / f"{stem}.json", "w") as f:
        json.dump(spec, f, indent=1, default=str)
    schemes = sorted((spec.get("components") or {}).get("securitySchemes") or {})
    checks = "".join(f"  {name}: corpus_stubs.deny\n" for name in schemes)
    (dest / "pym-config.yaml").write_text(
        f"name: {stem.replace('_', '-')}\nerror_model: auto\nignore_base_path: true\n"
        + (f"security_checks:\n{checks}" if checks else "")
    )
    return str(dest)


def _paths(svc: str) -> list[str]:
    (spec_file,) = os.listdir(os.path.join(svc, "apis"))
    return sorted(_read(os.path.join(svc, "apis", spec_file)).get("paths") or {})


def _excludes(paths: list[str]) -> list[str]:
    """One path regex leaving SAMPLE paths in (every path in make corpus)."""
    if SAMPLE is None or len(paths) <= SAMPLE:
        return []
    step = len(paths) / SAMPLE
    keep = {paths[int(i * step)] for i in range(SAMPLE)}
    skipped = "|".join(re.escape(p) for p in paths if p not in keep)
    return ["--exclude-path-regex", f"^({skipped})$"]


def test_corpus_holds_both_versions_and_big_specs():
    versions = {_read(os.path.join(CORPUS, "specs", n))["openapi"][:3] for n in SPECS}
    assert versions == {"3.0", "3.1"}
    sizes = [os.path.getsize(os.path.join(CORPUS, "specs", n)) for n in SPECS]
    assert sum(s > 250_000 for s in sizes) >= 2 and max(sizes) < 5_000_000


@pytest.mark.slow
@pytest.mark.parametrize("name", SPECS)
def test_public_spec_loads_serves_and_survives_a_short_fuzz(tmp_path, name):
    """One start both checks and serves: the stub server builds the app proving every
    validator compiles (PYM_STUB_PROVE=1: what ``pym check`` proves, tests/fixtures/
    stub_service/server.py), then ``pym fuzz`` runs against it. ``make corpus``
    (bench/startup_corpus.py) runs ``pym check`` itself on every spec."""
    svc = service(tmp_path, name)
    started = time.monotonic()
    server = start_gunicorn(svc, workers=1, env={"PYM_STUB_PROVE": "1"}, timeout=180)
    took = time.monotonic() - started
    try:
        served = requests.get(server.url + "/version", timeout=10).json()
        paths = _paths(svc)
        code, printed = 0, ""
        if paths:  # a 3.1 spec may hold only webhooks: served (ping), nothing to fuzz
            code, printed = pym_fuzz(
                "--url", server.url, "--dir", svc, "--max-examples", EXAMPLES, "--seed", "27",
                "--no-builtin", "--no-auth", "--phases", "examples,fuzzing",
                "--checks", "not_a_server_error,response_schema_conformance", *_excludes(paths),
            )  # fmt: skip
        log = server.output()
    finally:
        server.stop()
    assert "Traceback" not in log, log[-4000:]
    assert os.path.splitext(name)[0] in (served.get("apis") or []), served  # it is served
    summary = [line for line in printed.splitlines() if line.startswith("pym fuzz:")]
    print(f"{name}: built and proven in {took:.1f} s; {summary}")
    assert code == 0, printed[-6000:]
    counts = [line for line in summary if " cases, " in line]
    assert bool(counts) == bool(paths) and all(" 0 failure(s)" in line for line in counts), summary


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_public_spec_is_refused_naming_the_place(tmp_path, name):
    svc = tmp_path / "svc"
    shutil.copytree(STUB_SERVICE, svc)
    (svc / "apis").mkdir()
    shutil.copyfile(os.path.join(CORPUS, "invalid", name), svc / "apis" / name)
    (svc / "pym-config.yaml").write_text("name: invalid\n")
    result = pym("check", "--dir", str(svc), cwd=str(svc), timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if "cannot start" in line]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    missing = [e for e in INVALID[name] if e not in lines[0]]
    assert not missing and "(line " in lines[0], lines[0]


_TRIVIAL = """\
swagger: "2.0"
info: {title: trivial, version: "1"}
produces: [application/json]
paths:
  /things:
    get:
      operationId: get_things
      x-bind-server: corpus_stubs.reply
      responses:
        200: {description: ok, schema: {type: object}}
"""


def _stub_server_module(tmp_path, monkeypatch):
    """The stub server, imported from a copy holding one trivial spec (imported, it builds
    its app as under gunicorn)."""
    import importlib.util

    svc = tmp_path / "svc"
    shutil.copytree(STUB_SERVICE, svc)
    (svc / "apis").mkdir(exist_ok=True)
    (svc / "apis" / "trivial.yaml").write_text(_TRIVIAL)
    (svc / "pym-config.yaml").write_text("name: trivial\n")
    monkeypatch.syspath_prepend(str(svc))
    spec = importlib.util.spec_from_file_location("_corpus_stub_server", svc / "server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_stub_server_proves_every_validator_only_when_told(tmp_path, monkeypatch):
    """PYM_STUB_PROVE=1 is what lets the corpus test stand for ``pym check``: while the stub
    server builds its app, a validator that does not compile fails there and then (as in
    ``pym check``), while a plain start leaves validators to compile on first use. (A
    pattern re refuses is now refused at load, spec/validation/patterns.py: the schema is
    handed to the validators directly here, as ``pym check``'s own tests do.)"""
    from pymacaron.spec.validation import compile as vcompile
    from pymacaron.spec.validation import validator_for

    monkeypatch.delenv("PYM_STUB_PROVE", raising=False)
    from tests.conftest import reset_pymacaron

    reset_pymacaron()
    stub = _stub_server_module(tmp_path, monkeypatch)
    bad = {"type": "object", "properties": {"code": {"type": "string", "pattern": "(["}}}
    defs = {"Bad": bad}
    monkeypatch.delenv("PYM_STUB_PROVE", raising=False)
    vcompile._compiled.clear()
    with stub._proven():
        lazy = validator_for({"$ref": "#/definitions/Bad"}, defs, dialect="swagger2")
    assert lazy._fn is None  # a plain start: not compiled yet
    monkeypatch.setenv("PYM_STUB_PROVE", "1")
    vcompile._compiled.clear()
    with pytest.raises(ValueError) as refused, stub._proven():
        validator_for({"$ref": "#/definitions/Bad"}, defs, dialect="swagger2")
    assert "unterminated character set" in str(refused.value)
    vcompile._compiled.clear()
    reset_pymacaron()  # the stub's app and API are this test's only
