"""`pym mock`: a service's specs served before its handlers exist; `pym run --allow-unbound`.

Real servers on 127.0.0.1 (the `pym` command itself), fuzzed by schemathesis with the two
checks a front-end relies on: no server error, every reply conforms to its schema.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import requests

from pymacaron.run.mock import NoExample, example_of, generate
from pymacaron.testing.fuzz import run_schemathesis

from ..conftest import REPO, TEST_SECRET, LiveServer, free_port

PYM = os.path.join(os.path.dirname(sys.executable), "pym")
CHECKS = "not_a_server_error,response_schema_conformance"


def _mock(directory: str, *extra: str) -> LiveServer:
    port = free_port()
    cmd = [PYM, "mock", "--port", str(port), "--dir", directory, *extra]
    return LiveServer(cmd, cwd=directory, port=port, env={"JWT_SECRET": TEST_SECRET}).wait(60)


def _token(directory: str) -> str:
    out = subprocess.run(
        [PYM, "token", "fuzzer", "--dir", directory],
        capture_output=True,
        text=True,
        env={**os.environ, "JWT_SECRET": TEST_SECRET},
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def new_repo(tmp_path_factory):
    """A repository as `pym new` writes it (never the example's files)."""
    where = tmp_path_factory.mktemp("new") / "shelfsvc"
    proc = subprocess.run(
        [PYM, "new", "shelfsvc", "--dir", str(where)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return where


# ---- generation, in-process --------------------------------------------------------------


def test_generated_values_follow_the_schema_keywords():
    import jsonschema

    definitions = {"Money": {"type": "object", "required": ["amount"], "properties": {
        "amount": {"type": "integer", "minimum": 5, "multipleOf": 5},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    }}}  # fmt: skip
    schema = {
        "type": "object",
        "required": ["id", "price", "tags", "kind"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "price": {"$ref": "#/definitions/Money"},
            "tags": {"type": "array", "items": {"type": "string", "minLength": 12}, "minItems": 2},
            "kind": {"oneOf": [{"enum": ["cat", "dog"]}, {"type": "integer"}]},
            "code": {"type": "string", "pattern": r"^pet-\d{4}(-[a-z]+)?$", "maxLength": 20},
            "score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            "both": {"allOf": [{"$ref": "#/definitions/Money"}, {"properties": {"x": {"type": "boolean"}}}]},
        },
    }  # fmt: skip
    value = generate(schema, {"definitions": definitions}, definitions)
    jsonschema.validate(value, {**schema, "definitions": definitions})
    assert value["price"]["currency"] == "AAA" and value["code"] == "pet-0000"
    assert value["both"] == {"amount": 5, "currency": "AAA", "x": True}


def test_a_spec_example_wins_over_generation():
    oas3 = {"x-pym-content": {"application/json": {"examples": {"one": {"value": {"id": 7}}}}}}
    assert example_of(oas3) == {"id": 7}
    swagger = {"examples": {"application/json": [{"id": 8}]}, "schema": {"type": "array"}}
    assert example_of(swagger) == [{"id": 8}]
    assert example_of({"schema": {"type": "object", "example": {"id": 9}}}) == {"id": 9}
    with pytest.raises(NoExample):
        example_of({"schema": {"type": "object"}})


# ---- real servers, fuzzed ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["petshop.yaml", "adoption.yaml", "delivery.yaml"])
def test_pym_mock_serves_the_example_specs_with_no_schemathesis_failure(spec, tmp_path):
    server = _mock(REPO)
    try:
        base = server.url + ("/v1" if spec == "delivery.yaml" else "")
        run = run_schemathesis(
            os.path.join(REPO, "apis", spec),
            base,
            token=_token(REPO),
            max_examples=8,
            seed=1,
            checks=CHECKS,
            quiet=True,
            timeout=50,
        )
        assert run.ok and run.failures == 0 and run.generated > 0, run.output[-3000:]
        assert " 500 " not in server.output()
    finally:
        server.stop()


@pytest.mark.slow
def test_pym_mock_serves_a_generated_repo_before_its_handlers_exist(new_repo, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(new_repo, repo)
    shutil.rmtree(repo / "shelfsvc")  # no handler module at all
    server = _mock(str(repo))
    try:
        hello = requests.get(server.url + "/hello", timeout=10)
        assert hello.status_code == 200 and hello.json() == {"message": "string"}
        # x-decorate-server: requires_auth still guards /me
        assert requests.get(server.url + "/me", timeout=10).status_code == 401
        run = run_schemathesis(
            str(repo / "apis" / "shelfsvc.yaml"),
            server.url,
            token=_token(str(new_repo)),
            max_examples=10,
            seed=1,
            checks=CHECKS,
            quiet=True,
            timeout=50,
        )
        assert run.ok and run.failures == 0 and run.generated > 0, run.output[-3000:]
    finally:
        server.stop()


@pytest.mark.slow
def test_pym_mock_examples_only_answers_501_without_an_example(new_repo, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(new_repo, repo)
    spec = repo / "apis" / "shelfsvc.yaml"
    text = spec.read_text()
    spec.write_text(
        text.replace(
            "          description: A greeting\n",
            "          description: A greeting\n          examples:\n"
            '            application/json: {message: "hello, example"}\n',
            1,
        )
    )
    server = _mock(str(repo), "--examples")
    try:
        hello = requests.get(server.url + "/hello", timeout=10)
        assert hello.status_code == 200 and hello.json() == {"message": "hello, example"}
        token = _token(str(new_repo))
        me = requests.get(
            server.url + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        body = me.json()
        assert me.status_code == 501 and body["error"] == "NOT_IMPLEMENTED", body
        assert set(body) >= {"status", "error", "error_description", "error_id"}
    finally:
        server.stop()


@pytest.mark.slow
def test_pym_run_allow_unbound_answers_501_for_handlers_that_do_not_import(new_repo, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(new_repo, repo)
    (repo / "shelfsvc" / "api.py").write_text(
        "def hello(who='world'):\n    return {'message': who}\n"
    )
    env = {**os.environ, "JWT_SECRET": TEST_SECRET}
    # without the flag: a one-line startup error naming the target, exit 2
    port = free_port()
    refused = subprocess.run(
        [PYM, "run", "--port", str(port), "--dir", str(repo)],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "shelfsvc.api.whoami" in refused.stderr and "Traceback" not in refused.stderr
    server = LiveServer(
        [PYM, "run", "--allow-unbound", "--port", str(port), "--dir", str(repo)],
        cwd=str(repo),
        port=port,
        env={"JWT_SECRET": TEST_SECRET},
    ).wait(60)
    try:
        assert requests.get(server.url + "/hello?who=x", timeout=10).json() == {"message": "x"}
        token = _token(str(new_repo))
        me = requests.get(
            server.url + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        body = me.json()
        assert me.status_code == 501 and body["error"] == "NOT_IMPLEMENTED", body
        assert body["status"] == 501 and body["error_id"]
    finally:
        server.stop()


@pytest.mark.parametrize(
    "pattern",
    [
        r"^\p{L}+$",
        r"^\p{Lu}\p{Ll}{2,}$",
        r"^[\p{L}\d]{3}$",
        r"^\P{L}$",
        r"^\p{Script=Greek}+$",
        r"^(?<year>\d{4})-(?<month>\d{2})$",
    ],
)
def test_a_31_pattern_generates_a_value_its_validator_accepts(pattern):
    """ECMA-262 patterns a 3.1 spec may hold (Unicode property escapes, named groups), which
    Python's re cannot compile: the value is generated and checked by jsonschema-rs, the
    engine that validates 3.1 replies."""
    import jsonschema_rs

    from pymacaron.spec.validation.compile import _patterns  # the validators' regex engine

    schema = {"type": "string", "pattern": pattern}
    value = generate(schema, {})
    assert isinstance(value, str) and value
    checker = jsonschema_rs.Draft202012Validator(schema, pattern_options=_patterns())
    assert checker.is_valid(value), value


def test_a_named_back_reference_generates_what_draft4_accepts():
    """3.0 / 2.0: ECMA-262's named group and its back-reference (run by Python re, spelt as
    Python's: validation/patterns.py)."""
    from pymacaron.spec.validation.patterns import draft4_regex

    pattern = r"^(?<year>\d{4})-\k<year>$"
    value = generate({"type": "string", "pattern": pattern}, {})
    assert value == "0000-0000" and draft4_regex(pattern).search(value)


def test_a_pattern_no_engine_compiles_is_a_clear_refusal():
    with pytest.raises(NoExample, match=r"pattern '\^\\\\p\{Foo\}\$' is not a regular expression"):
        generate({"type": "string", "pattern": r"^\p{Foo}$"}, {})
