"""A ``pattern`` the validation engine cannot compile (issue 27: never a 500 for a client's
input, never a traceback): refused at startup and by ``pym check`` in one line naming the
file, the JSON path, the line and the pattern, in Swagger 2.0, OpenAPI 3.0 and 3.1 -- found
at load (validators compile on first use), in parameters as in body schemas. A valid
pattern still validates requests, and ECMA-262 named groups run on draft 4's ``re``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from pymacaron.exceptions import StartupError
from pymacaron.spec.validation.patterns import bad_pattern, draft4_regex
from tests.conftest import FIXTURES, build_app

HERE = os.path.join(FIXTURES, "spec_issues")

# fixture -> (JSON path, line, engine) of the first bad pattern in it
BAD = {
    "bad_pattern_2.yaml": ("paths./events.get.parameters[0].pattern", 13, "Python re"),
    "bad_pattern_body_2.yaml": (
        "paths./things.post.parameters[0].schema.properties.code.pattern",
        14,
        "Python re",
    ),
    "bad_pattern_30.yaml": ("paths./events.get.parameters[0].schema.pattern", 14, "Python re"),
    "bad_pattern_31.yaml": (
        "paths./things.post.requestBody.content.application/json.schema.properties.code.pattern",
        14,
        "jsonschema-rs",
    ),
}

SERVER = """import os
from flask import Flask
from pymacaron import API

app = Flask(__name__)
api = API(app)
api.load_apis(os.path.join(os.path.dirname(os.path.abspath(__file__)), "apis"))
api.start()
"""


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch):
    monkeypatch.setenv("PYM_CACHE_DIR", "off")


def service(tmp_path, name: str) -> str:
    (tmp_path / "apis").mkdir()
    shutil.copyfile(os.path.join(HERE, name), tmp_path / "apis" / name)
    shutil.copyfile(
        os.path.join(HERE, "spec_issues_handlers.py"), tmp_path / "spec_issues_handlers.py"
    )
    (tmp_path / "pym-config.yaml").write_text("name: patterns\n")
    (tmp_path / "server.py").write_text(SERVER)
    return str(tmp_path)


def expected_line(name: str) -> str:
    where, line, engine = BAD[name]
    return f"apis/{name}: {where} (line {line}): pattern '([' cannot be compiled"


@pytest.mark.parametrize("name", sorted(BAD))
def test_startup_refuses_a_pattern_the_engine_cannot_compile_in_one_line(tmp_path, name):
    with pytest.raises(StartupError) as e:
        build_app(service(tmp_path, name))
    message = str(e.value)
    assert "\n" not in message
    assert expected_line(name) in message, message
    assert BAD[name][2] in message, message
    assert "unterminated character set" in message or "regex" in message, message


@pytest.mark.parametrize(
    "name", ["bad_pattern_2.yaml", "bad_pattern_30.yaml", "bad_pattern_31.yaml"]
)
def test_pym_check_exits_2_with_the_line_and_no_traceback(tmp_path, name):
    root = service(tmp_path, name)
    pym = os.path.join(os.path.dirname(sys.executable), "pym")
    result = subprocess.run(
        [pym, "check", "--dir", root],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        env=dict(os.environ, PYM_CACHE_DIR="off"),
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected_line(name) in lines[0], result.stderr


def test_a_valid_pattern_still_validates_requests(tmp_path):
    client = build_app(service(tmp_path, "good_pattern_2.yaml")).test_client()
    ok = client.get("/events?since=2026-12")
    assert ok.status_code == 200 and ok.get_json() == {"since": "2026-12"}
    bad = client.get("/events?since=december")
    assert bad.status_code == 400, bad.get_json()
    assert "pattern" in bad.get_json()["error_description"], bad.get_json()


def test_an_ecma_named_group_and_its_backreference_run_on_the_draft4_engine(tmp_path):
    client = build_app(service(tmp_path, "good_pattern_2.yaml")).test_client()
    ok = client.post("/things", json={"code": "AB-AB"})
    assert ok.status_code == 200 and ok.get_json() == {"code": "AB-AB"}, ok.get_json()
    bad = client.post("/things", json={"code": "AB-CD"})
    assert bad.status_code == 400, bad.get_json()
    assert "body.code" in bad.get_json()["error_description"], bad.get_json()


def test_named_groups_are_translated_only_where_re_refuses_the_pattern():
    assert draft4_regex(r"^(?<y>\d{4})-\k<y>$").fullmatch("2026-2026")
    assert not draft4_regex(r"^(?<y>\d{4})-\k<y>$").fullmatch("2026-2027")
    # lookbehinds, escaped parentheses and classes are not named groups
    assert draft4_regex(r"(?<=a)b").search("ab") and not draft4_regex(r"(?<!a)b").search("ab")
    assert draft4_regex(r"^\(?<x>$").fullmatch("(<x>")
    assert draft4_regex(r"^[(?<x>]+$").fullmatch("(?<x>")
    # the end anchor is read as fastjsonschema reads it: no trailing newline matches
    assert draft4_regex("^a$").search("a\n") is None


@pytest.mark.parametrize(
    "spec, dialect, found",
    [
        # a parameter's own pattern (Swagger 2.0) and a patternProperties key
        ({"parameters": {"p": {"in": "query", "pattern": "(["}}}, "swagger2", "pattern"),
        ({"definitions": {"M": {"patternProperties": {"([": {}}}}}, "oas30", "patternProperties"),
        # path and header parameters, 2.0 (the parameter's own) and 3.x (its schema)
        (
            {"paths": {"/a/{id}": {"parameters": [{"in": "path", "pattern": "a)"}]}}},
            "swagger2",
            "pattern",
        ),
        (
            {
                "paths": {
                    "/a": {"get": {"parameters": [{"in": "header", "schema": {"pattern": "(["}}]}}
                }
            },
            "oas30",
            "pattern",
        ),
        (
            {"components": {"schemas": {"M": {"patternProperties": {"([": {}}}}}},
            "oas31",
            "patternProperties",
        ),
        # Unicode property escapes: ECMA-262 (u), fancy-regex knows them, Python's re does not
        ({"definitions": {"M": {"pattern": r"^\p{L}+$"}}}, "oas30", "pattern"),
        ({"definitions": {"M": {"pattern": r"^\p{L}+$"}}}, "oas31", None),
        # data and names are not regexes
        ({"definitions": {"M": {"example": {"pattern": "(["}}}}, "swagger2", None),
        ({"definitions": {"M": {"properties": {"pattern": {"type": "string"}}}}}, "oas31", None),
        ({"definitions": {"M": {"enum": [{"pattern": "(["}]}}}, "oas30", None),
    ],
)
def test_bad_pattern_finds_regexes_not_data(spec, dialect, found):
    result = bad_pattern(spec, dialect)
    if found is None:
        assert result is None, result
    else:
        assert result is not None and found in result[0], result


@pytest.mark.parametrize(
    "pattern, reason",
    [
        ("([", "unterminated character set at position 1"),
        (r"^\p{L}+(", "missing ), unterminated subpattern at position 7"),
        ("a{2,1}", "min repeat greater than max repeat at position 2"),
        (r"^\p{Foo}$", r"unknown Unicode property \p{Foo} (expected a General_Category"),
    ],
)
def test_a_31_pattern_is_refused_in_the_words_of_the_draft4_message(tmp_path, pattern, reason):
    """3.1 (jsonschema-rs) says why and what was expected, as 3.0/2.0 (Python re) do, not its
    meta-schema's '"..." is not a "regex"'."""
    (tmp_path / "apis").mkdir()
    spec = tmp_path / "apis" / "p.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n"
        "      parameters:\n        - name: q\n          in: query\n"
        f"          schema: {{type: string, pattern: '{pattern}'}}\n"
        "      responses:\n        '200': {description: ok}\n"
    )
    from pymacaron.spec.load import load_spec

    with pytest.raises(StartupError) as e:
        load_spec(str(spec))
    message = str(e.value)
    assert "\n" not in message
    assert 'is not a "regex"' not in message
    from pymacaron.spec.yamlfile import display_path  # relative to the cwd when shorter

    assert message.startswith(
        f"{display_path(str(spec))}: paths./a.get.parameters[0].schema.pattern (line 9): "
        f"pattern {pattern!r} "
        "cannot be compiled by pymacaron's validation engine (jsonschema-rs fancy-regex "
        "(2020-12)): "
    ), message
    assert reason in message, message
    if "Unicode property" not in reason:
        assert message.endswith(
            "(expected an ECMA-262 regular expression, as JSON Schema 2020-12 says)"
        )
