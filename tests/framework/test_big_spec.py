"""A big spec (174 operations, ~1 MB, tests/fixtures/bigspec): validators are compiled on
first use, so a first start without caches takes seconds; the first request to a lazily
compiled operation is validated as any other; ``pym check`` still compiles everything."""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

from tests.conftest import FIXTURES, build_app
from tests.reliability.support import pym

_gen = importlib.util.spec_from_file_location(
    "bigspec_generate", os.path.join(FIXTURES, "bigspec", "generate.py")
)
generate = importlib.util.module_from_spec(_gen)
_gen.loader.exec_module(generate)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    dest = str(tmp_path_factory.mktemp("big"))
    path = generate.write_service(dest)
    assert os.path.getsize(path) > 900_000
    return dest


def _operations(app):
    return [v for v in app.view_functions.values() if hasattr(v, "responses")]


def _compiled(app) -> tuple[int, int]:
    """(compiled, total) response and body validators of the served operations."""
    validators = []
    for op in _operations(app):
        validators += [entry[0] for entry in op.responses.values() if entry[0] is not None]
        if op.body is not None and op.body.validator is not None:
            validators.append(op.body.validator)
    return sum(1 for v in validators if v._fn is not None), len(validators)


def test_a_first_start_compiles_nothing_and_first_requests_are_validated(big, monkeypatch):
    monkeypatch.setenv("PYM_CACHE_DIR", "off")
    monkeypatch.delenv("PYM_EAGER_VALIDATORS", raising=False)
    sys.path.insert(0, big)
    app = build_app(big)
    ops = _operations(app)
    assert len([o for o in ops if o.api.name == "big"]) == 174
    compiled, total = _compiled(app)
    assert compiled == 0 and total > 500, (compiled, total)
    client = app.test_client()
    r = client.post("/v1/things7", json={"name": "", "size": 1})  # minLength 1
    assert r.status_code == 400 and "body.id" in r.get_json()["error_description"]
    r = client.post("/v1/things7", json={"id": "x", "name": "n", "size": -1})
    assert r.status_code == 400 and "body.size" in r.get_json()["error_description"]
    r = client.post("/v1/things7", json={"id": "x", "name": "n", "size": 2})
    assert r.status_code == 201 and r.get_json() == {"id": "new", "name": "n", "size": 2}
    assert client.get("/v1/things9/abc").get_json() == {"id": "abc", "name": "one", "size": 3}
    r = client.get("/v1/things9?limit=0")
    assert r.status_code == 400 and "limit" in r.get_json()["error_description"]
    compiled, _ = _compiled(app)
    assert 0 < compiled < 10


def test_eager_mode_compiles_every_validator(big, monkeypatch):
    monkeypatch.setenv("PYM_CACHE_DIR", "off")
    monkeypatch.setenv("PYM_EAGER_VALIDATORS", "1")
    sys.path.insert(0, big)
    app = build_app(big)
    compiled, total = _compiled(app)
    assert compiled == total > 500


@pytest.mark.slow
def test_pym_check_compiles_every_validator(big, tmp_path):
    cache = tmp_path / "cache"
    result = pym("check", "--dir", big, cwd=big, env={"PYM_CACHE_DIR": str(cache)}, timeout=300)
    assert result.returncode == 0 and "ok: 177 routes" in result.stdout, result.stderr[-2000:]
    # jsonschema-rs compiles a schema in ~0.1 ms: no compiled-code records any more
    # (docs/decisions.md), only the spec check's
    assert not (cache / "validators").exists() and list((cache / "specs").glob("*.json"))
