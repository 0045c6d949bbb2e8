"""What a big spec's startup no longer pays for (issue 27): validators of identical
schemas compiled once, URL builders generated on first ``url_for``, the served document
built without copying the whole spec, and YAML built straight from one node tree."""

import copy
from types import SimpleNamespace

import yaml
from flask import Flask, url_for

from pymacaron.server import docs
from pymacaron.server.routes import LazyBuildRule
from pymacaron.spec.validation.compile import compile_schema
from pymacaron.spec.yamlfile import load_yaml

ERROR = {
    "type": "object",
    "required": ["status", "error"],
    "properties": {"status": {"type": "integer"}, "error": {"type": "string"}},
}


def test_identical_schemas_share_one_validator():
    first = compile_schema(copy.deepcopy(ERROR), dialect="swagger2")
    again = compile_schema(copy.deepcopy(ERROR), dialect="swagger2")
    assert again is first
    other = compile_schema({**ERROR, "required": ["status"]}, dialect="swagger2")
    assert other is not first
    assert other({"status": 1}) == {"status": 1}


def test_shared_validator_still_refuses():
    validate = compile_schema(copy.deepcopy(ERROR), dialect="swagger2")
    compile_schema(copy.deepcopy(ERROR), dialect="swagger2")
    try:
        validate({"status": "x", "error": "e"})
    except Exception as e:  # SchemaViolation
        assert "status" in str(e)
    else:
        raise AssertionError("a string status passed")


def test_url_builders_are_generated_on_first_use(monkeypatch):
    made = []
    real = LazyBuildRule.__mro__[1]._compile_builder

    def counting(self, append_unknown=True):
        made.append(self.rule)
        return real(self, append_unknown)

    monkeypatch.setattr(LazyBuildRule.__mro__[1], "_compile_builder", counting)
    app = Flask("lazy", static_folder=None)
    app.url_rule_class = LazyBuildRule
    for i in range(50):
        app.add_url_rule(f"/things{i}/<thing_id>", f"e{i}", lambda thing_id: thing_id)
    assert made == []  # adding routes compiles no builder
    assert app.test_client().get("/things7/abc").data == b"abc"
    assert made == []  # nor does matching
    with app.test_request_context():
        assert url_for("e7", thing_id="x y", q=1) == "/things7/x%20y?q=1"
    assert made == ["/things7/<thing_id>"]


def test_served_document_shares_the_spec_below_paths():
    paths = {"/a": {"get": {"operationId": "a", "responses": {"200": {"description": "ok"}}}}}
    spec = SimpleNamespace(document=None, spec={"swagger": "2.0", "paths": paths}, base_path="/v1")
    ping_paths = {"/ping": {"get": {"operationId": "ping", "responses": {}}}}
    ping = SimpleNamespace(spec=SimpleNamespace(spec={"paths": ping_paths}))
    conf = SimpleNamespace(ignore_base_path=False)
    doc = docs.served_document(SimpleNamespace(spec=spec), ping, conf)
    assert set(doc["paths"]) == {"/v1/a", "/ping"}
    assert doc["paths"]["/v1/a"] is paths["/a"]  # shared, not deep-copied
    assert set(paths) == {"/a"} and "basePath" not in spec.spec  # the spec is untouched


def test_yaml_built_from_nodes_equals_pyyaml(tmp_path):
    text = (
        "base: &b {x: 1, y: [true, null, 1.5, '2', 2026-01-02]}\n"
        "merged: {<<: *b, z: !!str 3}\n"
        "alias: *b\n"
        "seq: [a, {k: v}, [1, 2]]\n"
        "1: int key\n"
    )
    path = tmp_path / "doc.yaml"
    path.write_text(text)
    assert load_yaml(str(path)) == yaml.safe_load(text)


def test_swagger2_check_of_a_valid_spec_compiles_no_validator():
    """jsonschema-rs says yes to a valid Swagger 2.0 document: the fastjsonschema validator
    of the official schema (~1 s for a 4 MB spec, generated, compiled and run) is not built."""
    from pymacaron.spec import schema

    schema._validator.cache_clear()
    spec = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}},
    }
    schema.check(spec, "a.yaml", "a.yaml")
    assert schema._validator.cache_info().currsize == 0


def test_swagger2_check_refuses_what_jsonschema_rs_cannot_read(tmp_path):
    """A YAML date where the schema wants a string: jsonschema-rs cannot read the value, the
    compiled validator and jsonschema still refuse it with its JSON path and line."""
    import pytest

    from pymacaron.exceptions import StartupError
    from pymacaron.spec.load import load_spec

    path = tmp_path / "a.yaml"
    path.write_text('swagger: "2.0"\ninfo:\n  title: t\n  version: 2020-01-01\npaths: {}\n')
    with pytest.raises(StartupError) as e:
        load_spec(str(path))
    assert "info.version (line 4): not a valid Swagger 2.0 spec" in str(e.value)
    assert "is not of type 'string'" in str(e.value)


def test_swagger2_check_refuses_a_bad_spec_with_its_place(tmp_path):
    """jsonschema-rs' no: the refusal is still explained (file, JSON path, line)."""
    import pytest

    from pymacaron.exceptions import StartupError
    from pymacaron.spec.load import load_spec

    path = tmp_path / "b.yaml"
    path.write_text(
        'swagger: "2.0"\ninfo: {title: t, version: "1"}\npaths:\n  /a:\n    get:\n'
        "      responses:\n        200: {description: ok}\n      parameters:\n"
        "        - {name: q, in: qurey, type: string}\n"
    )
    with pytest.raises(StartupError) as e:
        load_spec(str(path))
    from pymacaron.spec.yamlfile import display_path  # relative to the cwd when shorter

    assert str(e.value).startswith(f"{display_path(str(path))}: paths./a.get.parameters[0]")
    assert "(line 9)" in str(e.value)
