"""Issue 24's two spec messages on OpenAPI 3 specs (the 2.0 cases: test_spec_issues.py): a
400 lists every violation of the request, the body's included (on 3.1 the body is checked by
jsonschema-rs, whose ``iter_errors`` gives the others), and a misspelt key of a 3.0 or 3.1
parameter is named with its line and a suggestion."""

from __future__ import annotations

import pytest

from pymacaron.exceptions import StartupError
from pymacaron.spec.load import load_spec
from tests.conftest import build_app

HANDLERS = """def echo_pet(**kwargs):
    return {}
"""
ALL_ERRORS = """openapi: {version}
info: {{title: all, version: "1"}}
paths:
  /pets:
    post:
      operationId: echo_pet
      x-bind-server: handlers3x.echo_pet
      parameters:
        - {{name: limit, in: query, required: true, schema: {{type: integer}}}}
        - {{name: page, in: query, schema: {{type: integer}}}}
      requestBody:
        required: true
        content:
          application/json:
            schema: {{$ref: "#/components/schemas/Pet"}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {{type: object}}
components:
  schemas:
    Pet:
      type: object
      required: [name, age, kind]
      properties:
        name: {{type: string, maxLength: 5}}
        age: {{type: integer, minimum: 0}}
        kind: {{type: string, enum: [cat, dog]}}
"""
MISSPELT = """openapi: {version}
info: {{title: typo, version: "1"}}
paths:
  /pets:
    get:
      parameters:
        - name: limit
          in: query
          shema: {{type: integer}}
      responses:
        "200": {{description: ok}}
"""


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch):
    monkeypatch.setenv("PYM_CACHE_DIR", "off")


def client_for(tmp_path, version: str):
    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "all.yaml").write_text(ALL_ERRORS.format(version=version))
    (tmp_path / "handlers3x.py").write_text(HANDLERS)
    (tmp_path / "pym-config.yaml").write_text("name: issues\n")
    return build_app(str(tmp_path)).test_client()


@pytest.mark.parametrize("version", ["3.1.0", "3.0.3"])
def test_a_400_lists_every_violation_of_a_3x_request_body_included(tmp_path, version):
    client = client_for(tmp_path, version)
    r = client.post("/pets?page=x", json={"name": "toolongname", "age": -1, "kind": "cow"})
    body = r.get_json()
    assert r.status_code == 400, body
    locs = [tuple(e["loc"]) for e in body["errors"]]
    assert locs[:2] == [("query", "limit"), ("query", "page")], body["errors"]
    assert sorted(locs[2:]) == [("body", "age"), ("body", "kind"), ("body", "name")], body["errors"]
    assert body["error_description"] == body["errors"][0]["msg"]


@pytest.mark.parametrize("version", ["3.1.0", "3.0.3"])
def test_a_3x_body_alone_lists_all_its_violations(tmp_path, version):
    """Only the body is wrong: its first violation and every other one (jsonschema-rs
    ``iter_errors`` on 3.1)."""
    client = client_for(tmp_path, version)
    r = client.post("/pets?limit=1", json={"age": "3", "kind": "cow"})
    body = r.get_json()
    assert r.status_code == 400, body
    locs = sorted(tuple(e["loc"]) for e in body["errors"])
    assert locs == [("body", "age"), ("body", "kind"), ("body", "name")], body["errors"]
    assert all(isinstance(e["msg"], str) and e["msg"] and e["type"] for e in body["errors"])


@pytest.mark.parametrize("version", ["3.1.0", "3.0.3"])
def test_a_misspelt_key_of_a_3x_parameter_is_named_with_its_line(tmp_path, version):
    path = tmp_path / "typo.yaml"
    path.write_text(MISSPELT.format(version=version))
    with pytest.raises(StartupError) as e:
        load_spec(str(path))
    message = str(e.value)
    assert "unknown key 'shema' (did you mean 'schema'?)" in message, message
    assert "paths./pets.get.parameters[0].shema (line 9)" in message, message
    assert "\n" not in message.strip()


@pytest.mark.parametrize("version", ["3.1.0", "3.0.3"])
def test_a_misspelt_key_the_other_checks_let_through_is_named_too(tmp_path, version):
    path = tmp_path / "typo.yaml"
    text = MISSPELT.format(version=version).replace(
        "shema: {type: integer}", "schema: {type: integer}\n          requird: true"
    )
    path.write_text(text)
    with pytest.raises(StartupError) as e:
        load_spec(str(path))
    message = str(e.value)
    assert "unknown key 'requird' (did you mean 'required'?)" in message, message
    assert "paths./pets.get.parameters[0].requird (line 10)" in message, message
