"""The real-world-style Swagger 2.0 corpus (tests/fixtures/swagger_corpus): every valid
spec loads with every validator proven to compile (what ``pym check`` proves; ``make
corpus`` runs ``pym check`` itself) and survives a short schemathesis run (``pym fuzz``, a few examples per
operation, error responses checked against the spec's own error schemas with
``error_model: auto``); every invalid one is refused with one line naming the place."""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest
import yaml

from tests.conftest import FIXTURES
from tests.reliability.support import pym, pym_fuzz, start_gunicorn

CORPUS = os.path.join(FIXTURES, "swagger_corpus")
STUB_SERVICE = os.path.join(FIXTURES, "stub_service")  # shared with test_oas_corpus.py
VALID = sorted(os.listdir(os.path.join(CORPUS, "valid")))
INVALID = sorted(os.listdir(os.path.join(CORPUS, "invalid")))
# schemathesis reads schemas as JSON Schema, without Swagger's discriminator: a "Dog" without
# the birth date Dog requires is valid to it, so the check that valid data is accepted
# cannot apply there (the shape tests check the discriminator, test_swagger_shapes.py)
CHECKS = {
    "discriminator": "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,negative_data_rejection"
}
_EXPECT = re.compile(r"^# expect: (.+?)\s*$", re.M)


def _is_spec(path: str) -> bool:
    with open(path) as f:
        text = f.read()
    return bool(re.search(r'^(swagger\s*:|\s*"swagger"\s*:)', text, re.M))


def service(tmp_path, kind: str, case: str) -> str:
    """A service dir serving the case's apis/ with stub handlers (valid) or as it is."""
    dest = tmp_path / "svc"
    shutil.copytree(STUB_SERVICE, dest)
    (dest / "apis").mkdir()
    source = os.path.join(CORPUS, kind, case)
    config = "name: corpus\n"
    for name in sorted(os.listdir(source)):
        path = os.path.join(source, name)
        if name == "pym-config.yaml":
            with open(path) as f:
                config = f.read()
            continue
        target = dest / "apis" / name
        if kind == "valid" and _is_spec(path):
            with open(path) as f:
                spec = json.load(f) if name.endswith(".json") else yaml.safe_load(f)
            for item in spec["paths"].values():
                for method, op in item.items():
                    if isinstance(op, dict) and method != "parameters":
                        op["x-bind-server"] = "corpus_stubs.reply"
            with open(target, "w") as f:
                if name.endswith(".json"):
                    json.dump(spec, f, indent=1)
                else:
                    yaml.safe_dump(spec, f, sort_keys=False)
        else:
            shutil.copyfile(path, target)
    (dest / "pym-config.yaml").write_text(config)
    return str(dest)


def test_corpus_has_both_kinds():
    assert len(VALID) >= 6 and len(INVALID) >= 6


@pytest.mark.slow
@pytest.mark.parametrize("case", VALID)
def test_valid_spec_loads_proven_and_survives_a_short_fuzz(tmp_path, case):
    """One start both checks and serves (PYM_STUB_PROVE=1: every validator proven to
    compile while the app is built, what ``pym check`` proves), then ``pym fuzz``."""
    svc = service(tmp_path, "valid", case)
    server = start_gunicorn(svc, workers=1, env={"PYM_STUB_PROVE": "1"}, timeout=120)
    try:
        code, printed = pym_fuzz(
            "--url", server.url, "--dir", svc, "--max-examples", "3", "--seed", "15",
            "--no-builtin", "--no-auth", *(["--checks", CHECKS[case]] if case in CHECKS else []),
        )  # fmt: skip
        log = server.output()
    finally:
        server.stop()
    summary = [line for line in printed.splitlines() if line.startswith("pym fuzz:")]
    assert code == 0, printed[-6000:]
    assert summary and all("0 failure(s)" in line for line in summary[1:]), summary
    assert "Traceback" not in log, log[-4000:]


@pytest.mark.slow
@pytest.mark.parametrize("case", INVALID)
def test_invalid_spec_is_refused_naming_the_place(tmp_path, case):
    svc = service(tmp_path, "invalid", case)
    with open(os.path.join(CORPUS, "invalid", case, "api.yaml")) as f:
        expected = _EXPECT.findall(f.read())
    assert expected
    result = pym("check", "--dir", svc, cwd=svc)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if "cannot start" in line]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "apis/api.yaml" in lines[0], lines[0]
    missing = [e for e in expected if e not in lines[0]]
    assert not missing, f"{missing} not in: {lines[0]}"


@pytest.mark.slow
def test_without_error_model_auto_the_fuzz_reports_error_bodies(tmp_path):
    """The counter-check: the Docker-shaped spec's ErrorResponse is not pymacaron's body."""
    svc = service(tmp_path, "valid", "docker_engine")
    with open(os.path.join(svc, "pym-config.yaml"), "w") as f:
        f.write("name: engine\n")
    server = start_gunicorn(svc, workers=1)
    try:
        result = pym(
            "fuzz", "--url", server.url, "--dir", svc, "--max-examples", "3", "--seed", "15",
            "--no-builtin", "--no-auth", "--checks", "response_schema_conformance", timeout=240,
        )  # fmt: skip
    finally:
        server.stop()
    assert result.returncode == 1, result.stdout[-3000:]
    assert "ST108 Response violates schema" in result.stdout and '"message" is a required' in (
        result.stdout
    ), result.stdout[-3000:]
