"""Broken OpenAPI 3.0 / 3.1 specs are refused at startup with one line naming the file, the
JSON path of the node and its line (spec/oas3check.py, the corpus in
tests/fixtures/broken_oas3: each file says what its message must contain in `# expect:`
lines); a valid spec's check is recorded and skipped on the next start (spec/cache.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from pymacaron.exceptions import StartupError
from pymacaron.spec.load import load_spec
from tests.conftest import FIXTURES

CORPUS = os.path.join(FIXTURES, "broken_oas3")
CASES = sorted(f for f in os.listdir(CORPUS) if f.endswith(".yaml"))
_EXPECT = re.compile(r"^# expect: (.+?)\s*$", re.M)


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch):
    monkeypatch.setenv("PYM_CACHE_DIR", "off")


def expectations(path: str) -> list[str]:
    with open(path) as f:
        found = _EXPECT.findall(f.read())
    assert found, f"{path}: no '# expect:' line"
    return found


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", CASES)
def test_a_broken_spec_is_one_line_naming_file_path_and_line(tmp_path, name):
    source = os.path.join(CORPUS, name)
    target = tmp_path / "apis" / name
    target.parent.mkdir()
    shutil.copyfile(source, target)
    with pytest.raises(StartupError) as e:
        load_spec(str(target))
    message = str(e.value)
    assert "\n" not in message, message
    assert name in message, message
    assert "(line " in message or name == "missing_info.yaml", message
    missing = [x for x in expectations(source) if x not in message]
    assert not missing, f"{missing} not in: {message}"


def test_the_line_is_the_line_of_the_node(tmp_path):
    path = tmp_path / "api.yaml"
    shutil.copyfile(os.path.join(CORPUS, "in_body.yaml"), path)
    with pytest.raises(StartupError) as e:
        load_spec(str(path))
    line = int(re.search(r"\(line (\d+)\)", str(e.value)).group(1))
    assert "in: body" in path.read_text().splitlines()[line - 1]


def test_a_valid_30_spec_with_every_kind_of_object_passes(tmp_path):
    from tests.framework.test_oas3_load import PETSTORE_30, PETSTORE_31

    for text in (PETSTORE_30, PETSTORE_31):
        path = tmp_path / "api.yaml"
        path.write_text(text)
        assert load_spec(str(path)).operations


def test_warnings_for_ignored_header_parameters(tmp_path, caplog):
    path = tmp_path / "api.yaml"
    path.write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n"
        "      parameters: [{name: Accept, in: header, schema: {type: string}}]\n"
        "      responses: {'200': {description: ok}}\n"
    )
    with caplog.at_level("WARNING", logger="pymacaron"):
        load_spec(str(path))
    assert any("'Accept' is ignored" in r.getMessage() for r in caplog.records)


def test_unenforceable_keywords_are_refused_where_they_are(tmp_path, monkeypatch):
    """The validation engine says what it cannot enforce; the check refuses it, located."""
    from pymacaron.spec import validation

    def unenforceable(schema, dialect, at=()):
        found = []
        for name, prop in (schema.get("properties") or {}).items():
            if "unevaluatedProperties" in prop:
                found.append(("unevaluatedProperties", [*at, "properties", name]))
        return found

    monkeypatch.setattr(validation, "unenforceable", unenforceable, raising=False)
    path = tmp_path / "api.yaml"
    path.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
        "    Pet:\n      type: object\n      properties:\n"
        "        tags: {type: object, unevaluatedProperties: false}\n"
    )
    with pytest.raises(StartupError) as e:
        load_spec(str(path))
    message = str(e.value)
    assert "'unevaluatedProperties' cannot be enforced" in message
    assert "components.schemas.Pet.properties.tags (line 9)" in message


# -- the recorded check -----------------------------------------------------------------
def _load_in_subprocess(spec_path: str, cache_dir: str) -> str:
    code = (
        "import sys\n"
        "from pymacaron.spec.load import load_spec\n"
        f"api = load_spec({spec_path!r})\n"
        "print(api.dialect, len(api.operations), 'jsonschema' in sys.modules,"
        " 'pymacaron.spec.oas3check' in sys.modules)\n"
    )
    env = {**os.environ, "PYM_CACHE_DIR": cache_dir}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_a_checked_3x_spec_is_not_checked_again(tmp_path):
    from tests.framework.test_oas3_load import PETSTORE_31

    spec = tmp_path / "api.yaml"
    spec.write_text(PETSTORE_31)
    cache = str(tmp_path / "cache")
    # first start: checked (jsonschema-rs says yes; jsonschema is only for refusals)
    assert _load_in_subprocess(str(spec), cache) == "oas31 2 False True"
    assert len(os.listdir(os.path.join(cache, "specs"))) == 1
    # second start: the record skips the check
    assert _load_in_subprocess(str(spec), cache) == "oas31 2 False False"
    # an edit is checked again
    spec.write_text(PETSTORE_31.replace('version: "2.0.0"', 'version: "2.0.1"'))
    assert _load_in_subprocess(str(spec), cache) == "oas31 2 False True"


def test_a_refused_3x_spec_is_never_recorded(tmp_path):
    spec = tmp_path / "api.yaml"
    shutil.copyfile(os.path.join(CORPUS, "duplicate_operation_id.yaml"), spec)
    cache = tmp_path / "cache"
    for _ in range(2):
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                f"from pymacaron.spec.load import load_spec; load_spec({str(spec)!r})",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYM_CACHE_DIR": str(cache)},
            timeout=60,
        )
        assert out.returncode != 0 and "duplicate operationId" in out.stderr
    assert not (cache / "specs").exists() or not os.listdir(cache / "specs")


# -- pym check -------------------------------------------------------------------------------
SERVER = """\
import os

from flask import Flask

from pymacaron import API, letsgo

app = Flask(__name__)


def start(port, debug):
    here = os.path.dirname(os.path.realpath(__file__))
    api = API(app, port=port, debug=debug)
    api.load_apis(os.path.join(here, "apis"))
    api.start(serve="pets")


letsgo(__name__, callback=start)
"""

PETS_31 = """\
openapi: 3.1.0
info: {title: pets, version: "1"}
servers: [{url: /api}]
paths:
  /pets/{id}:
    get:
      operationId: petsvc.get_pet
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses:
        "200":
          description: a pet
          content: {application/json: {schema: {$ref: "#/components/schemas/Pet"}}}
components:
  schemas:
    Pet: {type: object, properties: {id: {type: integer}, name: {type: [string, "null"]}}}
"""


def _service(tmp_path, spec: str):
    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "pets.yaml").write_text(spec)
    (tmp_path / "server.py").write_text(SERVER)
    (tmp_path / "petsvc.py").write_text("def get_pet(id):\n    return {'id': id}\n")
    (tmp_path / "pym-config.yaml").write_text(
        "name: pets\njwt_secret: only-for-tests-only-for-tests-1234\n"
        "jwt_audience: a\njwt_issuer: b\n"
    )
    return tmp_path


def _pym_check(directory, cache):
    env = {k: v for k, v in os.environ.items() if k not in ("PYM_ENV", "PYM_SERVICE_DIR")}
    env["PYM_CACHE_DIR"] = str(cache)
    pym = os.path.join(os.path.dirname(sys.executable), "pym")
    return subprocess.run(
        [pym, "check", "--dir", str(directory)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_pym_check_passes_a_31_service_and_records_its_check(tmp_path):
    (tmp_path / "svc").mkdir()
    service = _service(tmp_path / "svc", PETS_31)
    cache = tmp_path / "cache"
    result = _pym_check(service, cache)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ") and "routes" in result.stdout, result.stdout
    # the record a start (the image's) finds: the 3.1 spec and the built-in ping spec
    assert len(os.listdir(cache / "specs")) >= 1


def test_pym_check_refuses_a_broken_30_service_in_one_line(tmp_path):
    with open(os.path.join(CORPUS, "deep_object_in_path.yaml")) as f:
        broken = f.read()
    (tmp_path / "svc").mkdir()
    service = _service(tmp_path / "svc", broken)
    result = _pym_check(service, tmp_path / "cache")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if "cannot start" in line]
    assert len(lines) == 1, result.stderr
    assert "apis/pets.yaml" in lines[0]
    assert "paths./pets/{petId}.get.parameters[0].style (line 10)" in lines[0]
