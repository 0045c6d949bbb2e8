"""The docs page of a service served under a URL prefix (WSGI SCRIPT_NAME, e.g. a reverse
proxy's ``/shop``): the page's documents keep "Try it out" under the prefix. A browser
resolves a relative ``servers`` URL (``/v1``) or a Swagger 2.0 ``basePath`` against the
origin's root, so without the prefix every call would miss the service."""

from __future__ import annotations

import os

import pytest
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client

from pymacaron.server.docs import prefixed_document
from tests.conftest import FIXTURES, build_app


@pytest.fixture(scope="module")
def mounted():
    """(client at the root, client of the same apps mounted under /shop)."""
    apps = {
        "library": build_app(os.path.join(FIXTURES, "library_service")),
        "payments": build_app(os.path.join(FIXTURES, "oas31_payments")),
    }
    return {
        name: (app.test_client(), Client(DispatcherMiddleware(NotFound(), {"/shop": app})))
        for name, app in apps.items()
    }


def test_an_openapi_3_document_keeps_its_servers_under_the_prefix(mounted):
    root, shop = mounted["payments"]
    plain = root.get("/docs/openapi/payments.json").get_json()
    assert [s["url"] for s in plain["servers"]] == ["/v1"]
    doc = shop.get("/shop/docs/openapi/payments.json").get_json()
    assert [s["url"] for s in doc["servers"]] == ["/shop/v1"]
    # the built-ins (at the service's root, path-level servers) too
    assert [s["url"] for s in doc["paths"]["/ping"]["servers"]] == ["/shop/"]
    # and the page links the prefixed documents
    page = shop.get("/shop/docs").get_data(as_text=True).replace("&quot;", '"')
    assert '"url":"/shop/docs/openapi/payments.json"' in page
    # a call at the URL "Try it out" builds reaches the service
    assert shop.get("/shop/ping").status_code == 200


def test_a_swagger_document_gets_the_prefix_as_its_base_path(mounted):
    root, shop = mounted["library"]
    plain = root.get("/docs/openapi/library.json").get_json()
    doc = shop.get("/shop/docs/openapi/library.json").get_json()
    assert plain["basePath"] == "/" and doc["basePath"] == "/shop"
    assert set(doc["paths"]) == set(plain["paths"])
    path = next(p for p in doc["paths"] if p not in ("/ping", "/version", "/auth/version"))
    assert path.startswith("/api/")  # the API's own base path is in its paths
    assert shop.get("/shop/ping").status_code == 200


def test_each_prefix_has_its_own_etag_and_the_root_is_unchanged(mounted):
    root, shop = mounted["payments"]
    a = shop.get("/shop/docs/openapi/payments.json")
    again = shop.get(
        "/shop/docs/openapi/payments.json", headers={"If-None-Match": a.headers["ETag"]}
    )
    assert again.status_code == 304
    assert root.get("/docs/openapi/payments.json").headers["ETag"] != a.headers["ETag"]


def test_prefixed_document_leaves_other_urls_alone():
    doc = {"openapi": "3.1.0", "servers": [{"url": "/v1"}, {"url": "{scheme}://x/v2"}], "paths": {}}
    assert prefixed_document(doc, "/p/")["servers"] == [
        {"url": "/p/v1"},
        {"url": "{scheme}://x/v2"},
    ]
    assert prefixed_document(doc, "") is doc
    assert prefixed_document({"swagger": "2.0", "basePath": "/v1"}, "/p")["basePath"] == "/p/v1"
