"""pym fuzz tells schemathesis what pymacaron and HTTP do that a spec does not say:
integers without bounds are int64 (int32 with that format), and a header value's leading
or trailing whitespace never reaches the server (testing/fuzz.py, fuzzhooks.py)."""

from __future__ import annotations

import json

from pymacaron.testing.fuzz import INT32, INT64, bound_integers, fuzz_view
from pymacaron.testing.fuzzhooks import untrimmed


def test_integers_get_pymacarons_bounds_and_values_are_left_alone(tmp_path):
    spec = tmp_path / "api.yaml"
    spec.write_text(
        "openapi: 3.1.0\n"
        "info: {title: t, version: '1'}\n"
        "paths:\n"
        "  /a/{id}:\n"
        "    get:\n"
        "      parameters:\n"
        "        - {name: id, in: path, required: true, schema: {type: integer}}\n"
        "        - {name: n, in: query, schema: {type: [integer, 'null'], format: int32}}\n"
        "        - {name: m, in: query, schema: {type: integer, minimum: 0}}\n"
        "      responses:\n"
        "        '200':\n"
        "          description: ok\n"
        "          content:\n"
        "            application/json:\n"
        "              schema: {type: object, properties: {c: {type: integer}}}\n"
        "              example: {type: integer}\n"
        "      x-note: {type: integer}\n"
    )
    out = fuzz_view(str(spec), str(tmp_path))
    assert out != str(spec) and out.endswith(".json")
    with open(out) as f:
        doc = json.load(f)
    params = doc["paths"]["/a/{id}"]["get"]["parameters"]
    assert (params[0]["schema"]["minimum"], params[0]["schema"]["maximum"]) == INT64
    assert (params[1]["schema"]["minimum"], params[1]["schema"]["maximum"]) == INT32
    assert params[2]["schema"]["minimum"] == 0 and params[2]["schema"]["maximum"] == INT64[1]
    media = doc["paths"]["/a/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert media["schema"]["properties"]["c"]["maximum"] == INT64[1]
    assert media["example"] == {"type": "integer"}  # a value, not a schema
    assert doc["paths"]["/a/{id}"]["get"]["x-note"] == {"type": "integer"}


def test_a_spec_with_bounds_or_external_refs_is_handed_over_as_it_is(tmp_path):
    bounded = {"type": "integer", "minimum": 1, "exclusiveMaximum": 9}
    assert not bound_integers({"schema": bounded})
    spec = tmp_path / "api.yaml"
    spec.write_text(
        "swagger: '2.0'\ndefinitions:\n  A: {$ref: 'other.yaml#/B'}\n  C: {type: integer}\n"
    )
    assert fuzz_view(str(spec), str(tmp_path)) == str(spec)


def test_header_values_http_would_trim_are_not_sent():
    assert untrimmed({"X-A": "ab", "X-B": "a b"})
    assert not untrimmed({"X-A": "ab "})
    assert not untrimmed({"X-A": "\tab"})
    assert untrimmed({"X-N": 3}) and untrimmed(None)
