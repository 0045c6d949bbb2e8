"""Serving switches in pym-config: ignore_base_path, reject_unknown_query_params,
response_validation: warn, max_body_size."""

import os
import shutil
import sys

import pytest

from tests.conftest import FIXTURES, build_app

LIBRARY = os.path.join(FIXTURES, "library_service")


def service_with(tmp_path, extra: str):
    if LIBRARY not in sys.path:  # the copy's handlers are the fixture's package
        sys.path.insert(0, LIBRARY)
    root = tmp_path / "svc"
    shutil.copytree(LIBRARY, root, ignore=shutil.ignore_patterns("__pycache__", "library"))
    with open(root / "pym-config.yaml", "a") as f:
        f.write(extra)
    return build_app(str(root)).test_client()


def test_ignore_base_path_serves_at_the_root(tmp_path):
    client = service_with(tmp_path, "ignore_base_path: true\n")
    assert client.get("/books/dune-1").status_code == 200
    assert client.get("/api/v2/books/dune-1").status_code == 404


def test_reject_unknown_query_params(tmp_path):
    client = service_with(tmp_path, "reject_unknown_query_params: true\n")
    assert client.get("/api/v2/books?pageSize=2").status_code == 200
    r = client.get("/api/v2/books?pageSize=2&sort=asc")
    assert r.status_code == 400
    assert "query parameter 'sort' is not declared" in r.get_json()["error_description"]


def test_response_validation_warn_sends_with_a_warning(tmp_path, caplog):
    client = service_with(tmp_path, "response_validation: warn\n")
    r = client.get("/api/v2/books/dune-1/broken")
    assert r.status_code == 200 and r.get_json()["title"] == 42
    assert any("BAD_RESPONSE (sent anyway" in rec.getMessage() for rec in caplog.records)


@pytest.mark.parametrize("size,status", [(100, 201), (5000, 413)])
def test_max_body_size(tmp_path, size, status):
    client = service_with(tmp_path, "max_body_size: 1000\n")
    r = client.post("/api/v2/books", json={"title": "x" * size, "author": {"name": "a"}})
    assert r.status_code == status
