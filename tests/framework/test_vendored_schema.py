"""The Swagger 2.0 schema is pymacaron's own file: swagger-spec-validator is not needed."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

from ..conftest import REPO

BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "swagger_spec_validator":
            raise ImportError("swagger_spec_validator is not installed")
sys.meta_path.insert(0, Block())
from pymacaron.spec.schema import official_schema
from pymacaron.exceptions import StartupError
from pymacaron.spec.load import load_spec
schema = official_schema()
assert schema["title"] == "A JSON Schema for Swagger 2.0 API.", schema.get("title")
load_spec(sys.argv[1])  # a real spec, checked against it
bad = sys.argv[2]
try:
    load_spec(bad)
except StartupError as e:
    print("refused:", e)
"""


def test_swagger2_specs_are_checked_without_swagger_spec_validator(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text('swagger: "2.0"\ninfo: {title: t, version: "1"}\npaths: {/a: {get: {}}}\n')
    proc = subprocess.run(
        [sys.executable, "-c", BLOCK, os.path.join(REPO, "apis", "petshop.yaml"), str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYM_CACHE_DIR": "off"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "refused:" in proc.stdout and "not a valid Swagger 2.0 spec" in proc.stdout
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
        deps = tomllib.load(f)["project"]
    names = " ".join(deps["dependencies"])
    assert "swagger-spec-validator" not in names and "jsonschema-specifications" in names
