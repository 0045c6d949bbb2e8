"""The served specs and the docs page.

Every service serves the documents of the APIs it serves, as loaded (external ``$ref``\\ s
inlined), with pymacaron's built-in ``/ping``, ``/version`` and ``/auth/version`` merged in:

- ``{base}/openapi.json`` for each served API (``{base}`` its base path, empty when
  ``ignore_base_path`` is set), and ``{base}/swagger.json`` too for a Swagger 2.0 API;
- ``/openapi.json`` (and ``/swagger.json``) at the root: the first served API (the first
  served Swagger 2.0 API for ``/swagger.json``) when no API claims the root itself;
- ``/openapi/<name>.json`` for every served API, whatever its base path (the docs page
  lists these: two APIs may share a base path, never a name).

Each document is serialised once at startup and answered with an ``ETag`` (``304`` on
``If-None-Match``) and ``Cache-Control: no-cache``.

``/docs/openapi/<name>.json`` are the documents the docs page shows: the same, without an
origin (Swagger 2.0 ``host`` and ``schemes`` dropped, OpenAPI 3 ``servers`` made relative to
this server), so "Try it out" calls the server that served the page, whatever name the
browser used (127.0.0.1, localhost, a load balancer's), within the page's ``connect-src
'self'``; their security schemes are kept, so the page has an Authorize button.

``/docs`` is Swagger UI, self-hosted from the ``flask-swagger-ui`` wheel (a runtime
dependency, so the image has it; no CDN). pym-config ``docs: auto`` (the default) serves it
unless ``PYM_ENV`` is ``live`` (or the package was removed); ``docs: true`` always (a missing
package is a startup error), ``docs: false`` never. Only ``/docs`` and its assets get a Content
Security Policy that lets the page run (scripts, styles and images from this origin, inline
style attributes); every other reply keeps the strict one of ``headers.py``.
"""

from __future__ import annotations

import copy
import hashlib
import html
import importlib.util
import logging
import os
import re

import orjson
from flask import Flask, request, send_from_directory
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from ..exceptions import StartupError
from ..spec import refs
from .environ import ROUTE_CSP

log = logging.getLogger("pymacaron")

__all__ = [
    "DOCS_CSP",
    "ENDPOINT_PREFIX",
    "install_docs",
    "docs_enabled",
    "docs_document",
    "served_document",
    "prefixed_document",
]

# What Swagger UI needs, and no remote origin: it runs its own scripts, sets style
# attributes, draws data: SVG icons and fetches the specs (and "Try it out") from here.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
ENDPOINT_PREFIX = "pymacaron:"  # the Flask endpoints of this module (no API name has a colon)
CSP_ENVIRON_KEY = ROUTE_CSP  # read by the SecurityHeaders layer (layers.py)

DOCS_PACKAGE = "flask_swagger_ui"
DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/static"
DOCS_SPECS_PATH = "/docs/openapi"  # the page's own documents: no origin (docs_document)
INIT_SCRIPT = "pymacaron-docs.js"
ASSETS = frozenset(
    {
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "swagger-ui.css",
        "index.css",
        "favicon-16x16.png",
        "favicon-32x32.png",
    }
)

# The page's one script of its own: configuration comes from data- attributes, so the
# page has no inline script for the CSP to allow.
_INIT_JS = rb"""window.addEventListener("load", function () {
  var node = document.getElementById("swagger-ui");
  var urls = JSON.parse(node.getAttribute("data-urls"));
  window.ui = SwaggerUIBundle({
    urls: urls,
    "urls.primaryName": urls.length ? urls[0].name : undefined,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
    // a bare JWT pasted into Authorize (a Swagger 2.0 apiKey named Authorization) is sent
    // as "Bearer <token>", as the service expects
    requestInterceptor: function (req) {
      var auth = req.headers && req.headers.Authorization;
      if (typeof auth === "string" && /^[\w-]+\.[\w-]+\.[\w-]*$/.test(auth)) {
        req.headers.Authorization = "Bearer " + auth;
      }
      return req;
    }
  });
});
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="stylesheet" href="{assets}/index.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="{assets}/favicon-16x16.png" sizes="16x16">
</head>
<body>
<div id="swagger-ui" data-urls="{urls}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-ui-standalone-preset.js"></script>
<script src="{assets}/{init}"></script>
</body>
</html>
"""

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_ORIGIN = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:)?//[^/]*")
_ANY_ORIGIN = re.compile(r"^[^/]*//[^/]*")  # an origin, server variables ({scheme}) included


# -- the documents -------------------------------------------------------------------------
def served_document(api, ping, conf) -> dict:
    """The document served for ``api``: as loaded, with the built-in paths merged in and
    its base path where this server serves it (``ignore_base_path`` moves it to the root)."""
    spec = api.spec
    # only the top level and the paths mapping change below: copy those, share the rest
    doc = dict(getattr(spec, "document", None) or spec.spec)
    if isinstance(doc.get("paths"), dict):
        doc["paths"] = dict(doc["paths"])
    base = "" if conf.ignore_base_path else spec.base_path
    if ping is None or ping is api:
        return doc
    paths = doc.get("paths")
    if not isinstance(paths, dict):
        paths = doc["paths"] = {}
    op_ids = {
        op.get("operationId")
        for item in paths.values()
        if isinstance(item, dict)
        for op in item.values()
        if isinstance(op, dict)
    }
    if "swagger" in doc:
        if base or conf.ignore_base_path:
            # Swagger 2.0 has no per-path base: the paths carry the base path instead
            doc["paths"] = paths = {
                (base + p if p.startswith("/") else p): item for p, item in paths.items()
            }
            doc["basePath"] = "/"
        builtin = _swagger_paths(ping.spec.spec, op_ids)
    else:
        servers = [s for s in doc.get("servers") or [] if isinstance(s, dict) and "url" in s]
        if conf.ignore_base_path and servers:
            doc["servers"] = [{**s, "url": _root(s["url"])} for s in servers]
        roots = None
        if base:  # the built-in paths are at the root, not under the API's servers
            roots = [{"url": _root(s["url"])} for s in servers] or [{"url": "/"}]
        builtin = _openapi_paths(ping.spec.spec, op_ids, roots)
    open_ops = bool(doc.get("security"))  # the built-ins are open: say so under a global one
    for path, item in builtin.items():
        if open_ops:
            item = {m: {**op, "security": []} for m, op in item.items() if isinstance(op, dict)}
        paths.setdefault(path, item)
    return doc


def _root(url: str) -> str:
    """A server URL with its path replaced by ``/`` (scheme, host and variables kept)."""
    m = _ORIGIN.match(url)
    return (m.group(0) if m else "") + "/"


def _inline(node, definitions: dict):
    return refs.inline(node, definitions)


def _builtin_operations(ping_spec: dict, op_ids: set):
    """(path, method, operation) of the built-in API, schemas inlined (no name can clash
    with the service's definitions), pymacaron's x- keys dropped, clashing ids left out."""
    definitions = ping_spec.get("definitions") or {}
    for path, item in (ping_spec.get("paths") or {}).items():
        for method, op in item.items():
            if method not in _METHODS:
                continue
            out = {k: _inline(v, definitions) for k, v in op.items() if not k.startswith("x-")}
            if out.get("operationId") in op_ids:
                del out["operationId"]
            yield path, method, out


def _swagger_paths(ping_spec: dict, op_ids: set) -> dict:
    paths: dict = {}
    for path, method, op in _builtin_operations(ping_spec, op_ids):
        op.setdefault("produces", ["application/json"])
        paths.setdefault(path, {})[method] = op
    return paths


def _openapi_paths(ping_spec: dict, op_ids: set, servers) -> dict:
    paths: dict = {}
    for path, method, op in _builtin_operations(ping_spec, op_ids):
        op.pop("produces", None)
        responses = {}
        for code, reply in (op.get("responses") or {}).items():
            reply = dict(reply)
            schema = reply.pop("schema", None)
            if schema is not None:
                reply["content"] = {"application/json": {"schema": schema}}
            responses[code] = reply
        op["responses"] = responses
        item = paths.setdefault(path, {})
        if servers:
            item["servers"] = copy.deepcopy(servers)
        item[method] = op
    return paths


def docs_document(doc: dict) -> dict:
    """``doc`` (a served document) for the docs page: the same API on the server that served
    the page. Swagger 2.0: no ``host``/``schemes`` (the specification then means the host and
    scheme the document came from); OpenAPI 3: every ``servers`` URL (document, path and
    operation level) keeps only its path, as a relative URL resolved against the document."""
    doc = dict(doc)  # copies only where it changes: the schemas stay shared (a big spec)
    if "swagger" in doc:
        doc.pop("host", None)
        doc.pop("schemes", None)
        return doc
    _relative_servers(doc)
    paths = doc.get("paths")
    if isinstance(paths, dict):
        doc["paths"] = paths = dict(paths)
        for url, item in paths.items():
            if isinstance(item, dict):
                paths[url] = item = dict(item)
                _relative_servers(item)
                for method, op in item.items():
                    if isinstance(op, dict) and isinstance(op.get("servers"), list):
                        item[method] = op = dict(op)
                        _relative_servers(op)
    return doc


def _relative_servers(node: dict) -> None:
    servers = node.get("servers")
    if not isinstance(servers, list):
        return
    out, seen = [], set()
    for server in servers:
        if not isinstance(server, dict) or not isinstance(server.get("url"), str):
            continue
        url = _ANY_ORIGIN.sub("", server["url"]) or "/"
        if url in seen:
            continue
        seen.add(url)
        server = {**server, "url": url}
        variables = {
            k: v for k, v in (server.get("variables") or {}).items() if "{" + k + "}" in url
        }
        if variables:
            server["variables"] = variables
        else:
            server.pop("variables", None)
        out.append(server)
    node["servers"] = out or [{"url": "/"}]


class _Document:
    """A view answering one serialised document, with its ETag."""

    def __init__(self, body: bytes):
        self.set(body)

    def set(self, body: bytes) -> None:
        self.body = body
        self.etag = hashlib.sha256(body).hexdigest()[:32]
        self.headers = (
            ("Content-Type", "application/json"),
            ("ETag", f'"{self.etag}"'),
            ("Cache-Control", "no-cache"),
        )

    def __call__(self):
        if request.if_none_match.contains(self.etag):
            return Response(status=304, headers=self.headers[1:])
        return Response(self.body, status=200, headers=self.headers)


def _serialise(doc: dict) -> bytes:
    return orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS, default=str)


# -- the docs page -------------------------------------------------------------------------
def _assets_dir() -> str | None:
    """The Swagger UI files of the flask-swagger-ui wheel (found, not imported)."""
    found = importlib.util.find_spec(DOCS_PACKAGE)
    if found is None or not found.submodule_search_locations:
        return None
    dist = os.path.join(list(found.submodule_search_locations)[0], "dist")
    return dist if os.path.isfile(os.path.join(dist, "swagger-ui-bundle.js")) else None


def docs_enabled(conf) -> bool:
    """pym-config ``docs``: auto (on unless PYM_ENV is live), true, false."""
    value = conf.get("docs")
    if value in (None, "auto"):
        return conf.pym_env != "live"
    if isinstance(value, str):
        return value.lower() in ("on", "true", "yes")
    return bool(value)


def prefixed_document(doc: dict, root: str) -> dict:
    """A docs-page document (:func:`docs_document`) for a service served under the URL
    prefix ``root`` (WSGI ``SCRIPT_NAME``, e.g. ``/shop``): Swagger 2.0's ``basePath`` and
    every relative OpenAPI 3 ``servers`` URL start with it, so "Try it out" stays under the
    prefix (a browser resolves ``/v1`` against the origin's root)."""
    root = root.rstrip("/")
    if not root:
        return doc
    doc = copy.deepcopy(doc)
    if "swagger" in doc:
        base = doc.get("basePath") or "/"
        doc["basePath"] = root + ("" if base == "/" else base)
        return doc
    nodes = [doc]
    for item in (doc.get("paths") or {}).values():
        if isinstance(item, dict):
            nodes.append(item)
            nodes += [op for op in item.values() if isinstance(op, dict)]
    for node in nodes:
        servers = node.get("servers")
        if isinstance(servers, list):
            node["servers"] = [
                {**s, "url": root + s["url"]}
                if isinstance(s, dict) and str(s.get("url", "")).startswith("/")
                else s
                for s in servers
            ]
    return doc


class _PageDocument(_Document):
    """A docs-page document: answered as is at the root, and per URL prefix (SCRIPT_NAME)
    with its base path or servers under that prefix (:func:`prefixed_document`)."""

    MAX_PREFIXES = 16  # SCRIPT_NAME comes from the server's or the proxy's configuration

    def set(self, body: bytes) -> None:
        super().set(body)
        self.prefixed: dict[str, _Document] = {}

    def __call__(self):
        root = request.script_root.rstrip("/")
        if not root:
            return super().__call__()
        doc = self.prefixed.get(root)
        if doc is None:
            body = _serialise(prefixed_document(orjson.loads(self.body), root))
            doc = _Document(body)
            if len(self.prefixed) < self.MAX_PREFIXES:
                self.prefixed[root] = doc
        return doc()


class _DocsPage:
    def __init__(self, links: list[dict], title: str):
        self.links, self.title = links, title
        self.pages: dict[str, bytes] = {}  # per SCRIPT_NAME (a service behind a prefix)

    def page(self, root: str) -> bytes:
        body = self.pages.get(root)
        if body is None:
            links = [{"name": x["name"], "url": root + x["url"]} for x in self.links]
            body = _PAGE.format(
                title=html.escape(self.title),
                assets=html.escape(root + ASSETS_PATH),
                urls=html.escape(orjson.dumps(links).decode(), quote=True),
                init=INIT_SCRIPT,
            ).encode()
            self.pages[root] = body
        return body

    def __call__(self):
        request.environ[CSP_ENVIRON_KEY] = DOCS_CSP
        return Response(
            self.page(request.script_root),
            200,
            headers=(("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-cache")),
        )


def _asset_view(dist: str):
    def docs_asset(name: str):
        if name == INIT_SCRIPT:
            reply = Response(_INIT_JS, 200, content_type="text/javascript; charset=utf-8")
        elif name in ASSETS:
            reply = send_from_directory(dist, name, max_age=3600)
        else:
            raise NotFound()
        request.environ[CSP_ENVIRON_KEY] = DOCS_CSP
        return reply

    return docs_asset


# -- installation --------------------------------------------------------------------------
def install_docs(app: Flask, apis: list, conf) -> None:
    """Serve the documents of ``apis`` (the served APIs and the built-in one) and /docs."""
    ping = next((a for a in apis if a.builtin), None)
    served = [a for a in apis if not a.builtin] or ([ping] if ping else [])
    taken = {rule.rule.rstrip("/") or "/" for rule in app.url_map.iter_rules()}
    mine: dict = app.extensions.setdefault("pymacaron.docs", {})
    claims: dict[str, bytes] = {}
    links, bodies = [], []
    swagger_body = None
    page_docs: dict[str, bytes] = {}
    for api in served:
        doc = served_document(api, ping, conf)
        body = _serialise(doc)
        bodies.append(body)
        page_docs[f"{DOCS_SPECS_PATH}/{api.name}.json"] = _serialise(docs_document(doc))
        base = "" if (conf.ignore_base_path or api.builtin) else api.spec.base_path
        claims.setdefault(f"/openapi/{api.name}.json", body)
        claims.setdefault(f"{base}/openapi.json", body)
        if "swagger" in (getattr(api.spec, "document", None) or api.spec.spec):
            claims.setdefault(f"{base}/swagger.json", body)
            swagger_body = swagger_body or body
        name = f"{api.name} {api.spec.version}".strip()
        links.append({"name": name, "url": f"{DOCS_SPECS_PATH}/{api.name}.json"})
    if bodies:  # the root: the first served API's, unless an API's base path is the root
        claims.setdefault("/openapi.json", bodies[0])
    if swagger_body is not None:
        claims.setdefault("/swagger.json", swagger_body)
    for url, body in claims.items():
        if url in mine:
            mine[url].set(body)
        elif url in taken:
            log.info("%s is a route of the service's own: its served spec is not there", url)
        else:
            mine[url] = _Document(body)
            app.add_url_rule(url, endpoint=f"{ENDPOINT_PREFIX}spec:{url}", view_func=mine[url])
    _install_page(app, conf, links, served, taken, mine, page_docs)


def _install_page(app: Flask, conf, links, served, taken, mine, page_docs) -> None:
    if not docs_enabled(conf):
        return
    for url, body in page_docs.items():
        if url in mine:
            mine[url].set(body)
        elif url not in taken:
            mine[url] = _PageDocument(body)
            app.add_url_rule(url, endpoint=f"{ENDPOINT_PREFIX}spec:{url}", view_func=mine[url])
    dist = _assets_dir()
    if dist is None:
        if conf.get("docs") not in (None, "auto"):
            raise StartupError(
                "docs: the docs page needs the flask-swagger-ui package: "
                "pip install flask-swagger-ui (or set docs: false)",
                file=conf.path,
                location="docs",
            )
        log.info("no docs page at %s: pip install flask-swagger-ui to have one", DOCS_PATH)
        return
    title = ", ".join(a.spec.spec.get("info", {}).get("title") or a.name for a in served)
    page = mine.get(DOCS_PATH)
    if page is not None:
        page.links, page.title, page.pages = links, title or "API docs", {}
        return
    if DOCS_PATH in taken:
        log.info("%s is a route of the service's own: no docs page", DOCS_PATH)
        return
    mine[DOCS_PATH] = _DocsPage(links, title or "API docs")
    app.add_url_rule(DOCS_PATH, endpoint=f"{ENDPOINT_PREFIX}docs", view_func=mine[DOCS_PATH])
    app.add_url_rule(
        ASSETS_PATH + "/<name>",
        endpoint=f"{ENDPOINT_PREFIX}docs_asset",
        view_func=_asset_view(dist),
    )
