"""Which validation engine a served API loads (issue 17: worker RSS).

Swagger 2.0 and OpenAPI 3.0 schemas (JSON Schema draft 4) are validated by fastjsonschema;
jsonschema-rs (a 14.8 MB extension, ~10 MiB of a worker's RSS) is imported only for
OpenAPI 3.1 (2020-12) or for a draft 4 ``format`` checked by its functions (uri, email,
date-time...). Each case builds a real app with create_app in a fresh interpreter (other
tests' imports do not count), sends valid and invalid requests through Flask's test
client, lets a response be validated, and reports what was imported. The spec-check
records are made first, as the image build does (``pym check``), so the serving process
is the image's worker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO

PATHS_2 = """
swagger: '2.0'
info: {title: pets, version: '1'}
produces: [application/json]
consumes: [application/json]
paths:
  /pets:
    get:
      operationId: petsvc.list_pets
      responses:
        200: {description: ok, schema: {type: array, items: {$ref: '#/definitions/Pet'}}}
    post:
      operationId: petsvc.add_pet
      parameters: [{name: pet, in: body, required: true, schema: {$ref: '#/definitions/Pet'}}]
      responses:
        200: {description: ok, schema: {$ref: '#/definitions/Pet'}}
  /bad:
    get:
      operationId: petsvc.bad_pet
      responses:
        200: {description: ok, schema: {$ref: '#/definitions/Pet'}}
definitions:
  Pet:
    type: object
    required: [name]
    properties:
      name: {type: string}
      id: {type: integer, format: int64}
      tag: {type: string, format: uuid}
      addr: {type: string, format: ipv4}
"""

PATHS_31 = """
openapi: 3.1.0
info: {title: pets, version: '1'}
paths:
  /pets:
    get:
      operationId: petsvc.list_pets
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Pet'}}
    post:
      operationId: petsvc.add_pet
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Pet'}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Pet'}
  /bad:
    get:
      operationId: petsvc.bad_pet
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Pet'}
components:
  schemas:
    Pet:
      type: object
      required: [name]
      properties:
        name: {type: string}
        id: {type: integer, format: int64}
"""

HANDLERS = """
def list_pets():
    return [{"name": "rex", "id": 1}, {"name": "tom", "id": 2}]


def add_pet(pet):
    return pet


def bad_pet():
    return {"name": 7}
"""

SERVE = """
import json, os, sys
from pymacaron import create_app


def serve():  # not at the top level: create_app would read this script's arguments
    return create_app(os.environ["SVC_DIR"])


client = serve().test_client()
body = json.loads(os.environ["SVC_BODY"])
seen = {
    "list": client.get("/pets").status_code,
    "invalid": client.post("/pets", json={"name": 1}).status_code,
    "valid": client.post("/pets", json=body).status_code,
    "odd": client.post("/pets", json={**body, "name": 1}).get_json(),
    "bad_reply": client.get("/bad").status_code,
    "jsonschema_rs": "jsonschema_rs" in sys.modules,
}
print(json.dumps(seen))
"""


def _service(tmp_path, spec: str) -> str:
    root = tmp_path / "svc"
    (root / "apis").mkdir(parents=True)
    (root / "apis" / "pets.yaml").write_text(textwrap.dedent(spec))
    (root / "petsvc.py").write_text(HANDLERS)
    (root / "pym-config.yaml").write_text("name: pets\n")
    (root / "server.py").write_text(
        "from pymacaron import create_app\n\napp = create_app(__file__)\n"
    )
    return str(root)


def _serve(tmp_path, spec: str, body: dict) -> dict:
    root = _service(tmp_path, spec)
    env = {
        **os.environ,
        "PYM_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONPATH": os.path.join(REPO, "framework") + os.pathsep + root,
    }
    env.pop("PYM_EAGER_VALIDATORS", None)
    pym = os.path.join(os.path.dirname(sys.executable), "pym")
    check = subprocess.run(
        [pym, "check"], env=env, cwd=root, capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0, check.stdout + check.stderr
    done = subprocess.run(
        [sys.executable, "-c", SERVE],
        env={**env, "SVC_DIR": root, "SVC_BODY": json.dumps(body)},
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_swagger_2_worker_never_loads_jsonschema_rs(tmp_path):
    seen = _serve(tmp_path, PATHS_2, {"name": "rex", "tag": "1b4e28ba-2fa1-11d2-883f-0016d3cca427"})
    assert seen["list"] == 200 and seen["valid"] == 200
    assert seen["invalid"] == 400 and seen["bad_reply"] == 500
    assert seen["odd"]["error_description"].startswith("body.name: expected a string")
    assert seen["jsonschema_rs"] is False


def test_an_openapi_31_worker_loads_it(tmp_path):
    seen = _serve(tmp_path, PATHS_31, {"name": "rex"})
    assert seen["list"] == 200 and seen["valid"] == 200
    assert seen["invalid"] == 400 and seen["bad_reply"] == 500
    assert seen["jsonschema_rs"] is True


def test_a_draft_4_format_checked_by_jsonschema_rs_loads_it_and_rejects_what_it_rejects(
    tmp_path,
):
    spec = PATHS_2 + "      home: {type: string, format: uri}\n"
    seen = _serve(tmp_path, spec, {"name": "rex", "home": "https://example.com/a"})
    assert seen["valid"] == 200 and seen["jsonschema_rs"] is True
    code = """
import sys
from pymacaron.spec.validation import SchemaViolation, compile_schema, to_json_schema
before = "jsonschema_rs" in sys.modules
fn = compile_schema(to_json_schema({"type": "string", "format": "uri"}), dialect="swagger2")
after = "jsonschema_rs" in sys.modules
try:
    fn("https://\u00cf")
    print(before, after, "accepted")
except SchemaViolation as e:
    print(before, after, e.rule)
"""
    env = {**os.environ, "PYTHONPATH": os.path.join(REPO, "framework")}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.split() == ["False", "True", "format"], out.stderr


@pytest.mark.parametrize("fmt", ["uuid", "ipv4", "ipv6", "byte", "int64", "nonsense"])
def test_formats_checked_in_python_do_not_load_it(fmt):
    code = f"""
import sys
from pymacaron.spec.validation import compile_schema, to_json_schema
compile_schema(to_json_schema({{"type": "string", "format": "{fmt}"}}), dialect="oas30")("x")
""".replace('("x")', "")
    code += "\nprint('jsonschema_rs' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.path.join(REPO, "framework")}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.strip() == "False", out.stderr
