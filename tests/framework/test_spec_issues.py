"""Specs nobody here wrote (issue 27) and two spec messages (issue 24), each with its
minimal repro under tests/fixtures/spec_issues: unknown formats and 3.1 keywords are
annotations (warned once; ``strict_formats: true`` refuses formats), an operation without
responses answers, ``*/*`` is never a Content-Type, ``error_model: auto`` never refuses a
spec, a non-object where a model goes is a 400 at every depth, a misspelt key is named,
and a 400 lists every violation of the request."""

from __future__ import annotations

import logging
import os
import shutil

import pytest

from pymacaron.exceptions import StartupError
from pymacaron.spec.load import load_spec
from tests.conftest import FIXTURES, build_app

HERE = os.path.join(FIXTURES, "spec_issues")


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch):
    monkeypatch.setenv("PYM_CACHE_DIR", "off")


def client_for(tmp_path, name: str, config: str = ""):
    (tmp_path / "apis").mkdir()
    shutil.copyfile(os.path.join(HERE, name), tmp_path / "apis" / name)
    shutil.copyfile(
        os.path.join(HERE, "spec_issues_handlers.py"), tmp_path / "spec_issues_handlers.py"
    )
    (tmp_path / "pym-config.yaml").write_text("name: issues\n" + config)
    return build_app(str(tmp_path)).test_client()


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


# -- 1. unknown formats ---------------------------------------------------------------------
def test_an_unknown_format_is_served_as_an_annotation_with_one_warning(tmp_path, caplog):
    caplog.set_level(logging.WARNING, "pymacaron")
    client = client_for(tmp_path, "unknown_format_31.yaml")
    r = client.get("/events?since=not-a-date-at-all")
    assert r.status_code == 200 and r.get_json() == {"since": "not-a-date-at-all"}
    said = [w for w in warnings_of(caplog) if "'yesterday'" in w]
    assert len(said) == 1 and "annotation" in said[0] and "(line 13)" in said[0], said


def test_one_warning_per_distinct_format_even_inside_a_oneof_branch(tmp_path, caplog):
    caplog.set_level(logging.WARNING, "pymacaron")
    client = client_for(tmp_path, "unknown_formats_30.yaml")
    r = client.post("/links", json={"href": "::", "other": "x", "token": "!!"})
    assert r.status_code == 200, r.get_json()
    said = warnings_of(caplog)
    assert len([w for w in said if "'uriref'" in w]) == 1
    assert any("'uriref'" in w and "(and 1 more place)" in w for w in said), said
    assert any("'base64'" in w and "oneOf[1].format" in w for w in said), said


def test_strict_formats_refuses_naming_the_value_also_in_a_oneof_branch(tmp_path):
    with pytest.raises(StartupError) as e:
        client_for(tmp_path, "unknown_format_31.yaml", "strict_formats: true\n")
    message = str(e.value)
    assert "format 'yesterday'" in message and "strict_formats: true" in message
    assert "paths./events.get.parameters[0].schema.format (line 13)" in message, message


def test_strict_formats_names_the_value_of_a_format_inside_a_oneof(tmp_path):
    with open(os.path.join(HERE, "unknown_formats_30.yaml")) as f:
        spec = f.read()
    (tmp_path / "only_oneof.yaml").write_text(spec.replace("format: uriref", "format: uri"))
    from pymacaron.spec.validation import STRICT_FORMATS

    token = STRICT_FORMATS.set(True)
    try:
        with pytest.raises(StartupError) as e:
            load_spec(str(tmp_path / "only_oneof.yaml"))
    finally:
        STRICT_FORMATS.reset(token)
    assert "format 'base64'" in str(e.value) and "oneOf[1].format" in str(e.value)


def test_strict_formats_is_a_pym_config_key():
    import json

    from pymacaron.config import SCHEMA_PATH

    with open(SCHEMA_PATH) as f:
        schema = json.load(f)
    assert schema["properties"]["strict_formats"]["type"] == "boolean"


# -- 2. nullable in 3.1 ---------------------------------------------------------------------
def test_nullable_in_31_is_a_warning_with_the_migration_hint(tmp_path, caplog):
    caplog.set_level(logging.WARNING, "pymacaron")
    client = client_for(tmp_path, "nullable_31.yaml")
    assert client.post("/pets", json={"name": "rex"}).status_code == 200
    said = [w for w in warnings_of(caplog) if "'nullable'" in w]
    assert len(said) == 1 and "use `type: [T, 'null']`" in said[0], said
    assert "properties.name.nullable (line 14)" in said[0], said


# -- 3. a 3.1 operation without responses ---------------------------------------------------
def test_an_operation_without_responses_answers_its_handlers_reply(tmp_path):
    client = client_for(tmp_path, "no_responses_31.yaml")
    r = client.get("/hello")
    assert r.status_code == 200 and r.get_json() == {"hello": "world"}, r.get_json()


# -- 4. */* is no Content-Type ---------------------------------------------------------------
@pytest.mark.parametrize("name", ["produces_any_2.yaml", "content_any_30.yaml"])
@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "text/html", "text/*"])
def test_a_wildcard_media_type_replies_a_concrete_one(tmp_path, name, accept):
    client = client_for(tmp_path, name)
    r = client.get("/hello", headers={"Accept": accept} if accept else {})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.headers["Content-Type"] == "application/json", r.headers["Content-Type"]
    assert r.get_json() == {"hello": "world"}


# -- 6. error_model: auto never refuses ------------------------------------------------------
def test_error_model_auto_warns_and_keeps_the_uniform_body_where_it_cannot_fill(tmp_path, caplog):
    caplog.set_level(logging.WARNING, "pymacaron")
    client = client_for(tmp_path, "error_model_unfillable_2.yaml", "error_model: auto\n")
    said = [w for w in warnings_of(caplog) if "cannot fill" in w]
    assert len(said) == 1 and "the required field 'trace'" in said[0], said
    assert "GET /things responses.400.schema" in said[0], said
    r = client.get("/things?n=abc")  # 400: Problem cannot be filled -> the uniform body
    body = r.get_json()
    assert r.status_code == 400 and body["error"] == "INVALID_PARAMETER" and "error_id" in body
    r = client.get("/things?n=404")  # 404: Simple can -> the spec's own body
    assert r.status_code == 404 and r.get_json() == {"message": "no such thing"}


# -- 7. a non-object where a model goes --------------------------------------------------
@pytest.mark.parametrize(
    "path, body, where",
    [
        ("/pets", ["rex"], "body[0]"),
        ("/pets", [{"name": "rex"}, 3], "body[1]"),
        ("/owners", "rex", "body"),
        ("/owners", {"pet": "rex"}, "body.pet"),
        ("/owners", {"pets": [{"name": "a"}, "b"]}, "body.pets[1]"),
    ],
)
def test_a_value_that_is_no_object_where_a_model_goes_is_a_400(tmp_path, path, body, where):
    client = client_for(tmp_path, "untyped_models_2.yaml")
    r = client.post(path, json=body)
    assert r.status_code == 400, r.get_json()
    description = r.get_json()["error_description"]
    assert description.startswith(f"{where}: expected an object"), description


def test_models_without_type_still_take_objects(tmp_path):
    client = client_for(tmp_path, "untyped_models_2.yaml")
    r = client.post("/owners", json={"pet": {"name": "a"}, "pets": [{"name": "b"}]})
    assert r.status_code == 200 and r.get_json() == {"pet": "a", "pets": ["b"]}


# -- issue 24: the misspelt key ----------------------------------------------------------
def test_a_misspelt_key_in_a_parameter_is_named_with_its_line():
    with pytest.raises(StartupError) as e:
        load_spec(os.path.join(HERE, "misspelt_type_2.yaml"))
    message = str(e.value)
    assert "unknown key 'tpye' (did you mean 'type'?)" in message, message
    assert "paths./pets.get.parameters[0].tpye (line 10)" in message, message
    assert "is not one of" not in message


# -- issue 24: every violation of a request ------------------------------------------------
def test_a_400_lists_every_violation_and_keeps_the_first_as_its_description(tmp_path):
    client = client_for(tmp_path, "all_errors_2.yaml")
    r = client.post("/pets?page=x", json={"name": "toolongname", "age": "3"})
    body = r.get_json()
    assert r.status_code == 400 and body["error"] == "INVALID_PARAMETER", body
    assert {"status", "error", "error_description", "error_id"} <= set(body)
    locs = [tuple(e["loc"]) for e in body["errors"]]
    assert locs == [
        ("query", "limit"),
        ("query", "page"),
        ("body", "name"),
        ("body", "age"),
    ], body["errors"]
    assert body["error_description"] == body["errors"][0]["msg"]
    assert all(isinstance(e["msg"], str) and e["type"] for e in body["errors"])


def test_a_single_violation_keeps_the_description_it_always_had(tmp_path):
    client = client_for(tmp_path, "all_errors_2.yaml")
    r = client.post("/pets?limit=1", json={"name": "rex"})
    body = r.get_json()
    assert body["error_description"] == "body.age: is required but missing", body
    assert "errors" not in body  # the uniform body's fields, as before


def test_error_model_auto_renders_a_range_status_of_3x():
    from pymacaron.spec.errormodel import render, renderers_for

    schema = {"type": "object", "required": ["code", "message"]}
    schema["properties"] = {"code": {"type": "integer"}, "message": {"type": "string"}}
    renderers = renderers_for({"4XX": {"schema": schema}}, {}, "GET /x", "api.yaml")
    body = {"status": 401, "error": "TOKEN_INVALID", "error_description": "no", "error_id": "i"}
    assert render(renderers, 401, body) == {"code": 401, "message": "no"}
    assert render(renderers, 500, {**body, "status": 500}) == {**body, "status": 500}
