"""The served specs (/openapi.json, /swagger.json) and the docs page (/docs)."""

import json
import os
import re
import shutil
from types import SimpleNamespace

import pytest

from pymacaron.exceptions import StartupError
from pymacaron.server import docs
from pymacaron.server.headers import SECURITY_HEADERS
from pymacaron.spec.load import load_spec
from tests.conftest import FIXTURES, build_app

LIBRARY = os.path.join(FIXTURES, "library_service")
STRICT_CSP = dict(SECURITY_HEADERS)["Content-Security-Policy"]
BUILTIN = {"/ping", "/version", "/auth/version"}


def service_copy(tmp_path, config_lines: str = "") -> str:
    root = tmp_path / "svc"
    shutil.copytree(LIBRARY, root, ignore=shutil.ignore_patterns("__pycache__", "library"))
    if config_lines:
        with open(root / "pym-config.yaml", "a") as f:
            f.write(config_lines)
    return str(root)


@pytest.fixture(scope="module")
def library():
    return build_app(LIBRARY).test_client()


def test_a_swagger_api_serves_its_document_at_every_url(library):
    bodies = {}
    for url in (
        "/openapi.json",
        "/swagger.json",
        "/api/v2/openapi.json",
        "/api/v2/swagger.json",
        "/openapi/library.json",
    ):
        r = library.get(url)
        assert r.status_code == 200, url
        assert r.headers["Content-Type"] == "application/json"
        bodies[url] = r.data
    assert len(set(bodies.values())) == 1
    doc = json.loads(bodies["/openapi.json"])
    assert doc["swagger"] == "2.0" and doc["info"]["title"] == "Library"
    # 2.0 has no per-path base: the base path moves into the paths, the built-ins at the root
    assert doc["basePath"] == "/"
    assert {"/api/v2/books", "/api/v2/books/{bookId}"} <= set(doc["paths"])
    assert set(doc["paths"]) >= BUILTIN
    assert "Book" in doc["definitions"]
    version = doc["paths"]["/version"]["get"]
    assert version["responses"]["200"]["schema"]["required"][0] == "name"  # inlined
    assert not any(k.startswith("x-") for k in version)


def test_the_served_swagger_document_is_a_valid_spec(library, tmp_path):
    path = tmp_path / "served.json"
    path.write_bytes(library.get("/swagger.json").data)
    spec = load_spec(str(path))  # the official Swagger 2.0 schema and the spec's MUSTs
    served = {(o.method, o.path) for o in spec.operations}
    assert ("get", "/ping") in served and ("get", "/api/v2/books") in served


def test_etag_and_revalidation(library):
    r = library.get("/openapi.json")
    etag = r.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert r.headers["Cache-Control"] == "no-cache"
    again = library.get("/openapi.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    other = library.get("/openapi.json", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200 and other.data == r.data
    assert library.head("/openapi.json").status_code == 200


def test_docs_page_uses_only_local_assets(library):
    r = library.get("/docs")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    page = r.data.decode()
    refs = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert len(refs) >= 5
    assert all(ref.startswith("/docs/static/") for ref in refs), refs
    assert "http" not in page and "<script>" not in page  # no CDN, no inline script
    urls = json.loads(re.search(r'data-urls="([^"]+)"', page).group(1).replace("&quot;", '"'))
    assert urls == [{"name": "library 2.3.1", "url": "/docs/openapi/library.json"}]
    types = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for ref in refs:
        asset = library.get(ref)
        assert asset.status_code == 200, ref
        assert asset.headers["Content-Type"].startswith(types[os.path.splitext(ref)[1]])
        assert asset.headers["Content-Security-Policy"] == docs.DOCS_CSP
        assert asset.headers["X-Content-Type-Options"] == "nosniff"


def test_csp_is_relaxed_only_on_the_docs_page(library):
    assert library.get("/docs").headers.get_all("Content-Security-Policy") == [docs.DOCS_CSP]
    assert "http" not in docs.DOCS_CSP and "unsafe-eval" not in docs.DOCS_CSP
    assert "script-src 'self';" in docs.DOCS_CSP
    for url in ("/ping", "/openapi.json", "/api/v2/books", "/nowhere", "/docs/static/x.js"):
        assert library.get(url).headers.get_all("Content-Security-Policy") == [STRICT_CSP], url


def test_docs_are_off_in_live(tmp_path):
    client = build_app(service_copy(tmp_path), env="live").test_client()
    try:
        for url in ("/docs", "/docs/static/swagger-ui-bundle.js"):
            r = client.get(url)
            assert r.status_code == 404 and r.get_json()["error"] == "NOT_FOUND", url
            assert r.headers["Content-Security-Policy"] == STRICT_CSP
        assert client.get("/openapi.json").status_code == 200  # the spec is always served
    finally:
        os.environ.pop("PYM_ENV", None)


@pytest.mark.parametrize(
    "line, env, status",
    [
        ("docs: false\n", None, 404),
        ("docs: off\n", "staging", 404),
        ("docs: true\n", "live", 200),
        ("docs: auto\n", "staging", 200),
    ],
)
def test_docs_switch(tmp_path, line, env, status):
    client = build_app(service_copy(tmp_path, line), env=env).test_client()
    try:
        assert client.get("/docs").status_code == status
    finally:
        os.environ.pop("PYM_ENV", None)


def test_a_bad_docs_value_is_a_config_error(tmp_path):
    with pytest.raises(StartupError, match="docs"):
        build_app(service_copy(tmp_path, "docs: sometimes\n"))


def test_without_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(docs, "_assets_dir", lambda: None)
    client = build_app(service_copy(tmp_path)).test_client()
    assert client.get("/docs").status_code == 404  # auto: quietly none
    assert client.get("/openapi.json").status_code == 200
    with pytest.raises(StartupError, match=r"pip install flask-swagger-ui"):
        build_app(service_copy(tmp_path / "on", "docs: true\n"))


def test_ignore_base_path_serves_the_paths_where_they_are(tmp_path):
    client = build_app(service_copy(tmp_path, "ignore_base_path: true\n")).test_client()
    doc = client.get("/openapi.json").get_json()
    assert doc["basePath"] == "/" and "/books" in doc["paths"] and set(doc["paths"]) >= BUILTIN
    assert client.get("/api/v2/openapi.json").status_code == 404


EXTRA = """swagger: '2.0'
info: {title: Extra, version: 0.1.0}
paths:
  /extras:
    get:
      x-bind-server: library.handlers.list_books
      responses:
        '200': {description: ok}
"""


@pytest.mark.parametrize(
    "serve, root",
    [(["library"], "Library"), (["library", "extra"], "Extra"), (["extra", "library"], "Extra")],
)
def test_several_apis(tmp_path, serve, root):
    svc = service_copy(tmp_path)
    with open(os.path.join(svc, "apis", "extra.yaml"), "w") as f:
        f.write(EXTRA)
    client = build_app(svc, serve=serve).test_client()
    # the root: the first served API, unless another one's base path is the root
    assert client.get("/openapi.json").get_json()["info"]["title"] == root
    assert client.get("/swagger.json").get_json()["info"]["title"] == root
    assert client.get("/api/v2/openapi.json").get_json()["info"]["title"] == "Library"
    page = client.get("/docs").data.decode().replace("&quot;", '"')
    for name in serve:
        doc = client.get(f"/openapi/{name}.json").get_json()
        assert doc["info"]["title"] == name.title() and set(doc["paths"]) >= BUILTIN
        assert f'"url":"/docs/openapi/{name}.json"' in page  # the page's origin-less copy
        assert client.get(f"/docs/openapi/{name}.json").get_json()["info"] == doc["info"]
    if "extra" not in serve:
        assert client.get("/openapi/extra.json").status_code == 404


def test_a_route_of_the_service_wins(tmp_path):
    root = service_copy(tmp_path, "ignore_base_path: true\n")
    spec = os.path.join(root, "apis", "library.yaml")
    with open(spec) as f:
        text = f.read()
    own = (
        "paths:\n  /openapi.json:\n    get:\n      x-bind-server: library.handlers.list_books\n"
        "      responses:\n        '200': {description: ok}\n"
    )
    with open(spec, "w") as f:
        f.write(text.replace("paths:\n", own, 1))
    client = build_app(root).test_client()
    assert "items" in client.get("/openapi.json").get_json()  # the service's own reply
    assert "/openapi.json" in client.get("/swagger.json").get_json()["paths"]
    assert client.get("/openapi/library.json").status_code == 200


# -- the 3.x documents: the built-in paths converted, at the root --------------------------
def fake_api(document: dict, base_path: str, builtin=False, name="shop"):
    spec = SimpleNamespace(
        name=name,
        spec=document,
        document=document,
        base_path=base_path,
        version=document["info"]["version"],
    )
    return SimpleNamespace(name=name, spec=spec, builtin=builtin)


def ping_api():
    return SimpleNamespace(
        name="ping",
        builtin=True,
        spec=load_spec(os.path.join(os.path.dirname(docs.__file__), "..", "builtin", "ping.yaml")),
    )


OAS31 = {
    "openapi": "3.1.0",
    "info": {"title": "Shop", "version": "2.0.0"},
    "servers": [{"url": "https://api.example.com/shop/v1"}, {"url": "/shop/v1"}],
    "paths": {
        "/items": {
            "get": {
                "operationId": "version",  # clashes with the built-in's id
                "responses": {"200": {"description": "ok"}},
            }
        }
    },
}


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_openapi_documents_get_the_builtin_paths_converted(version):
    from openapi_spec_validator import validate

    document = {**json.loads(json.dumps(OAS31)), "openapi": version}
    conf = SimpleNamespace(ignore_base_path=False)
    doc = docs.served_document(fake_api(document, "/shop/v1"), ping_api(), conf)
    validate(doc)  # a valid OpenAPI document of its own version
    assert doc["openapi"] == version and set(doc["paths"]) == {"/items"} | BUILTIN
    ping = doc["paths"]["/ping"]
    assert ping["servers"] == [{"url": "https://api.example.com/"}, {"url": "/"}]
    reply = doc["paths"]["/version"]["get"]["responses"]["200"]
    assert reply["content"]["application/json"]["schema"]["type"] == "object"
    assert "operationId" not in doc["paths"]["/version"]["get"]  # it would clash
    assert doc["paths"]["/ping"]["get"]["operationId"] == "ping"
    assert document["paths"].keys() == {"/items"}  # the loaded spec is left as it is


def test_openapi_documents_with_ignore_base_path():
    conf = SimpleNamespace(ignore_base_path=True)
    doc = docs.served_document(fake_api(OAS31, "/shop/v1"), ping_api(), conf)
    assert doc["servers"] == [{"url": "https://api.example.com/"}, {"url": "/"}]
    assert "servers" not in doc["paths"]["/ping"]


def test_an_openapi_service_serves_its_document_as_written():
    from openapi_spec_validator import validate

    client = build_app(os.path.join(FIXTURES, "oas30_issues")).test_client()
    r = client.get("/api/v3/openapi.json")
    assert r.status_code == 200
    doc = r.get_json()
    validate(doc)
    assert doc["openapi"] == "3.0.3" and doc["servers"][0]["url"].endswith("/api/v3")
    assert (
        "issue-create"
        in doc["components"]["requestBodies"]["issue-create"]["content"]["application/json"][
            "schema"
        ]["$ref"]
    )  # as written: $refs kept, not the normalized view
    assert set(doc["paths"]) >= BUILTIN
    assert doc["paths"]["/ping"]["servers"] == [{"url": "https://issues.example.com/"}]
    assert client.get("/openapi.json").data == r.data == client.get("/openapi/issues.json").data
    assert client.get("/swagger.json").status_code == 404  # not a Swagger 2.0 API
    assert client.get("/api/v3/swagger.json").status_code == 404
