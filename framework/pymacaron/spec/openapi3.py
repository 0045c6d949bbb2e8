"""OpenAPI 3.0 / 3.1 documents normalized into the one internal interface (load.py).

:func:`normalize` takes a document that passed its check (oas3check.py) and returns the
normalized view (``ApiSpec.spec``) and its operations (``OperationSpec``), so that what
runs a request (server/operation.py), builds models (models.py) or calls a service
(client/) does not care which version the file is written in:

- **The view**: a copy of the document where every ``#/components/schemas/X`` reference
  (``$ref`` values and discriminator ``mapping`` values, outside ``x-`` extensions) reads
  ``#/definitions/X``, and ``definitions`` is ``components/schemas``. Schemas are otherwise
  kept as written, in their dialect (3.0's ``nullable``, 3.1's JSON Schema 2020-12): the
  validation engine translates them (``to_json_schema(schema, dialect=...)``).
- **Parameters**: each is the 3.x Parameter Object with its ``$ref`` resolved, path-level and
  operation-level ones merged (the operation's wins on ``(in, name)``), always with a
  ``schema`` (the single ``content`` media type's schema, the media type named by
  ``x-pym-content-type``), ``style`` and ``explode`` filled with the specification's
  defaults, and ``x-pym-oas`` (``"3.0"`` or ``"3.1"``).
- **requestBody** (``$ref`` resolved) is one more parameter: ``{"in": "body", "name": "body",
  "required": bool, "schema": ..., "x-pym-content": {media type: Media Type Object},
  "x-pym-oas": ...}``; its schema is the JSON media type's (``application/json``, else the
  first ``+json`` or ``text/json`` one), else the first media type's (``{}`` if it has
  none). ``consumes`` lists its media types in order.
- **Responses**: ``{code: {"description", "schema" (the JSON media type's, ``*/*`` counting
  as JSON when no JSON type is declared; absent if none), "headers": {name: Header Object
  resolved, with a schema}, "x-pym-content": content}}``; ``produces`` is the union of
  their media types in order (``["application/json"]`` when none declares any).

No I/O, no imports beyond the standard library: this runs on every start, cached check or not.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..exceptions import StartupError
from .pointer import resolve as resolve_pointer
from .styles import DEFAULT_STYLE, STYLES_BY_LOCATION

__all__ = [
    "normalize",
    "rewrite_refs",
    "base_path_of",
    "server_url",
    "json_media_type",
    "STYLES",
    "DEFAULT_STYLE",
    "LOCATIONS",
]

SCHEMAS_PREFIX = "#/components/schemas/"
DEFINITIONS_PREFIX = "#/definitions/"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
LOCATIONS = ("path", "query", "header", "cookie")
#: the styles each location allows: the one table, spec/styles.py's
STYLES = STYLES_BY_LOCATION
_VARIABLE = re.compile(r"{([^{}]*)}")


# -- the view ---------------------------------------------------------------------------
def rewrite_refs(node):
    """A copy of ``node`` with ``#/components/schemas/X...`` references as
    ``#/definitions/X...`` (``$ref`` strings and discriminator mapping values; ``x-``
    extensions are left as they are: they are opaque)."""
    if isinstance(node, list):
        return [rewrite_refs(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if isinstance(k, str) and k.startswith("x-"):
            out[k] = v
        elif k == "$ref" and isinstance(v, str):
            out[k] = _rewritten(v)
        elif k == "discriminator" and isinstance(v, dict) and isinstance(v.get("mapping"), dict):
            d = rewrite_refs(v)
            d["mapping"] = {
                name: _rewritten(t) if isinstance(t, str) else t for name, t in v["mapping"].items()
            }
            out[k] = d
        else:
            out[k] = rewrite_refs(v)
    return out


def _rewritten(ref: str) -> str:
    return (
        DEFINITIONS_PREFIX + ref[len(SCHEMAS_PREFIX) :] if ref.startswith(SCHEMAS_PREFIX) else ref
    )


# -- servers -----------------------------------------------------------------------------
def server_url(document: dict) -> str:
    """``servers[0].url`` with its variables replaced by their defaults ('' when none)."""
    servers = document.get("servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        return ""
    server = servers[0]
    url = server.get("url")
    if not isinstance(url, str):
        return ""
    variables = server.get("variables") if isinstance(server.get("variables"), dict) else {}

    def value(m: re.Match) -> str:
        var = variables.get(m.group(1))
        default = var.get("default") if isinstance(var, dict) else None
        return str(default) if default is not None else m.group(0)

    return _VARIABLE.sub(value, url)


def base_path_of(document: dict) -> str:
    """The path of ``servers[0].url`` (absolute or relative), without a trailing ``/``;
    ``""`` for ``/`` or no server."""
    url = server_url(document)
    if not url:
        return ""
    path = urlsplit(url).path if "//" in url else url.split("?", 1)[0].split("#", 1)[0]
    path = path.rstrip("/")
    if path and not path.startswith("/"):
        path = "/" + path  # relative to where the document is served: its root, here
    return path


def host_and_scheme(document: dict) -> tuple[str | None, str | None]:
    """(``host[:port]``, scheme) of an absolute ``servers[0].url``, else (None, None)."""
    url = server_url(document)
    if "//" not in url:
        return None, None
    parts = urlsplit(url)
    return (parts.netloc or None), (parts.scheme or None)


# -- media types -------------------------------------------------------------------------
def _bare(media_type: str) -> str:
    return media_type.split(";", 1)[0].strip().lower()


def _is_json(media_type: str) -> bool:
    m = _bare(media_type)
    return m in ("application/json", "text/json") or m.endswith("+json")


def json_media_type(content: dict, any_type: bool = False) -> str | None:
    """The media type of ``content`` whose schema is the JSON one: ``application/json``,
    else the first ``+json`` / ``text/json`` one; with ``any_type``, else ``*/*``."""
    keys = [k for k in content if isinstance(k, str)]
    for k in keys:
        if _bare(k) == "application/json":
            return k
    for k in keys:
        if _is_json(k):
            return k
    if any_type:
        for k in keys:
            if _bare(k) == "*/*":
                return k
    return None


# -- normalization -----------------------------------------------------------------------
class _Context:
    def __init__(self, view: dict, path: str, shown: str, oas: str):
        self.view, self.path, self.shown, self.oas = view, path, shown, oas
        self.where_of: dict[int, tuple] = {}  # id(normalized parameter) -> its JSON path

    def error(self, message: str, where) -> StartupError:
        from .load import _located

        return StartupError(
            f"not a valid OpenAPI {self.oas} spec: {message}",
            file=self.shown,
            location=_located(self.path, where),
        )

    def resolve(self, node, where, expected: str, section: str):
        """(node, its JSON path in the file): ``$ref`` (chains too) followed in the document;
        a reference into components must be into ``components/<section>``."""
        seen = []
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#"):
                raise self.error(f"unresolvable reference {ref!r} (expected {expected})", where)
            shown_ref = _original(ref)
            if shown_ref.startswith("#/components/") and not shown_ref.startswith(
                f"#/components/{section}/"
            ):
                raise self.error(
                    f"reference {shown_ref!r} stands for {expected}: expected "
                    f"'#/components/{section}/...'",
                    (*where, "$ref"),
                )
            if ref in seen:
                raise self.error(f"circular reference {ref!r}", where)
            seen.append(ref)
            target = _pointer(self.view, ref)
            if target is _NOWHERE:
                raise self.error(
                    f"unresolvable reference {shown_ref!r} (expected {expected})", (*where, "$ref")
                )
            node = target
            where = _file_path(ref)
        return node, where


_NOWHERE = object()


def _original(ref: str) -> str:
    """A rewritten reference as the file wrote it (for messages)."""
    if ref.startswith(DEFINITIONS_PREFIX):
        return SCHEMAS_PREFIX + ref[len(DEFINITIONS_PREFIX) :]
    return ref


def _file_path(ref: str) -> tuple:
    """The JSON path in the file of a (rewritten) local reference."""
    ref = _original(ref)
    return tuple(p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/") if ref != "#")


def _pointer(doc, ref: str):
    try:
        return resolve_pointer(doc, ref)
    except KeyError:
        return _NOWHERE


def normalize(document: dict, name: str, path: str, shown: str, dialect: str):
    """(view, [OperationSpec]) of a checked OpenAPI 3.x document (see the module docstring).

    Raises StartupError (file, JSON path and line) on what the normalization cannot
    represent: a reference to nothing, a parameter in an unknown location or without a
    schema, a style its location does not allow, a requestBody without content.
    """
    from .load import OperationSpec

    oas = "3.0" if dialect == "oas30" else "3.1"
    view = rewrite_refs(document)
    components = view.get("components") if isinstance(view.get("components"), dict) else {}
    schemas = components.get("schemas") if isinstance(components.get("schemas"), dict) else {}
    view["definitions"] = schemas
    ctx = _Context(view, path, shown, oas)
    operations = []
    paths = view.get("paths") if isinstance(view.get("paths"), dict) else {}
    for p, item in paths.items():
        if not isinstance(p, str) or p.startswith("x-"):
            continue
        item, item_where = ctx.resolve(item, ("paths", p), "a Path Item Object", "pathItems")
        if not isinstance(item, dict):
            continue
        common = _parameters(ctx, item.get("parameters"), (*item_where, "parameters"))
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            where = (*item_where, method)
            merged = {(x["in"], x["name"]): x for x in common}
            merged.update(
                {
                    (x["in"], x["name"]): x
                    for x in _parameters(ctx, op.get("parameters"), (*where, "parameters"))
                }
            )
            parameters = list(merged.values())
            _check_path_parameters(ctx, p, method, parameters)
            consumes = ["application/json"]
            if op.get("requestBody") is not None:
                body, consumes = _request_body(ctx, op["requestBody"], (*where, "requestBody"))
                parameters.append(body)
            responses, produces = _responses(ctx, op.get("responses"), (*where, "responses"))
            operations.append(
                OperationSpec(
                    api=name,
                    method=method,
                    path=p,
                    operation=op,
                    parameters=parameters,
                    responses=responses,
                    consumes=consumes,
                    produces=produces,
                )
            )
    return view, operations


_PATH_PARAM = re.compile(r"{([^}/]+)}")


def _check_path_parameters(ctx: _Context, p: str, method: str, parameters: list[dict]) -> None:
    declared = {x["name"] for x in parameters if x["in"] == "path"}
    template = set(_PATH_PARAM.findall(p))
    for x in parameters:
        if x["in"] == "path" and x["name"] not in template:
            raise ctx.error(
                f"path parameter {x['name']!r} of {method.upper()} {p} is not in the path (a "
                "path parameter's name must be one of its {variables})",
                ctx.where_of.get(id(x), ("paths", p)),
            )
    for used in _PATH_PARAM.findall(p):
        if used not in declared:
            raise ctx.error(
                f"path parameter {used!r} of {p!r} is not declared (add it to the parameters "
                f"of {method.upper()} {p} or of the path, with in: path)",
                ("paths", p),
            )


def _parameters(ctx: _Context, params, where) -> list[dict]:
    if params is None:
        return []
    if not isinstance(params, list):
        raise ctx.error("parameters must be a list of Parameter Objects", where)
    out = []
    seen: dict = {}
    for i, raw in enumerate(params):
        param = _parameter(ctx, raw, (*where, i))
        key = (param["in"], param["name"])
        if key in seen:
            raise ctx.error(
                f"parameter {key[1]!r} in {key[0]} is listed twice (also at [{seen[key]}])",
                (*where, i),
            )
        seen[key] = i
        out.append(param)
    return out


def _parameter(ctx: _Context, raw, where) -> dict:
    param, where = ctx.resolve(raw, where, "a Parameter Object", "parameters")
    if not isinstance(param, dict):
        raise ctx.error("a parameter must be a Parameter Object (a mapping)", where)
    out = dict(param)
    location, name = out.get("in"), out.get("name")
    if not isinstance(name, str) or not name:
        raise ctx.error("a parameter needs a 'name'", where)
    if location not in LOCATIONS:
        hint = ""
        if location == "body":
            hint = (
                " (in: body is Swagger 2.0: OpenAPI 3 takes a body as the operation's requestBody)"
            )
        elif location == "formData":
            hint = (
                " (in: formData is Swagger 2.0: OpenAPI 3 takes a form as a requestBody of "
                "application/x-www-form-urlencoded or multipart/form-data)"
            )
        raise ctx.error(
            f"parameter {name!r}: 'in' is {location!r}, expected one of {', '.join(LOCATIONS)}"
            + hint,
            (*where, "in"),
        )
    if "schema" in out and "content" in out:
        raise ctx.error(
            f"parameter {name!r} has both 'schema' and 'content' (a parameter takes one of them)",
            where,
        )
    if "content" in out:
        content = out["content"]
        if not isinstance(content, dict) or len(content) != 1:
            raise ctx.error(
                f"parameter {name!r}: 'content' must have exactly one media type, "
                f"got {len(content) if isinstance(content, dict) else 'no mapping'}",
                (*where, "content"),
            )
        media_type, media = next(iter(content.items()))
        schema = media.get("schema") if isinstance(media, dict) else None
        out["schema"] = schema if schema is not None else {}
        out["x-pym-content-type"] = media_type
    elif "schema" not in out:
        raise ctx.error(f"parameter {name!r} needs a 'schema' (or a 'content')", where)
    if location == "path" and out.get("required") is not True:
        raise ctx.error(f"path parameter {name!r} must say required: true", (*where, "required"))
    style = out.setdefault("style", DEFAULT_STYLE[location])
    if style not in STYLES[location]:
        raise ctx.error(
            f"parameter {name!r}: style {style!r} is not allowed in {location} "
            f"(allowed: {', '.join(STYLES[location])})",
            (*where, "style"),
        )
    explode = out.setdefault("explode", style == "form")
    if not isinstance(explode, bool):
        raise ctx.error(f"parameter {name!r}: explode must be true or false", (*where, "explode"))
    out["x-pym-oas"] = ctx.oas
    ctx.where_of[id(out)] = where
    return out


def _request_body(ctx: _Context, raw, where) -> tuple[dict, list[str]]:
    body, where = ctx.resolve(raw, where, "a Request Body Object", "requestBodies")
    if not isinstance(body, dict):
        raise ctx.error("requestBody must be a Request Body Object (a mapping)", where)
    content = body.get("content")
    if not isinstance(content, dict) or not content:
        raise ctx.error(
            "requestBody needs a 'content' naming at least one media type", (*where, "content")
        )
    chosen = json_media_type(content) or next(iter(content))
    media = content.get(chosen)
    schema = media.get("schema") if isinstance(media, dict) else None
    entry = {
        "in": "body",
        "name": "body",
        "required": body.get("required") is True,
        "schema": schema if schema is not None else {},
        "x-pym-content": content,
        "x-pym-oas": ctx.oas,
    }
    if "description" in body:
        entry["description"] = body["description"]
    return entry, list(content)


def _responses(ctx: _Context, responses, where) -> tuple[dict, list[str]]:
    out: dict[str, dict] = {}
    produces: list[str] = []
    if not isinstance(responses, dict):
        return out, ["application/json"]
    for code, raw in responses.items():
        code = str(code)
        if code.startswith("x-"):
            continue
        here = (*where, code)
        resp, here = ctx.resolve(raw, here, "a Response Object", "responses")
        if not isinstance(resp, dict):
            raise ctx.error(f"response {code} must be a Response Object (a mapping)", here)
        content = resp.get("content") if isinstance(resp.get("content"), dict) else {}
        entry: dict = {"description": resp.get("description", "")}
        chosen = json_media_type(content, any_type=True)
        if chosen is not None:
            media = content[chosen]
            if isinstance(media, dict) and media.get("schema") is not None:
                entry["schema"] = media["schema"]
        headers = {}
        raw_headers = resp.get("headers") if isinstance(resp.get("headers"), dict) else {}
        for hname, hraw in raw_headers.items():
            headers[hname] = _header(ctx, hname, hraw, (*here, "headers", hname))
        entry["headers"] = headers
        entry["x-pym-content"] = content
        out[code] = entry
        for media_type in content:
            if media_type not in produces:
                produces.append(media_type)
    return out, produces or ["application/json"]


def _header(ctx: _Context, name: str, raw, where) -> dict:
    header, where = ctx.resolve(raw, where, "a Header Object", "headers")
    if not isinstance(header, dict):
        raise ctx.error(f"header {name!r} must be a Header Object (a mapping)", where)
    out = dict(header)
    if "content" in out and isinstance(out["content"], dict) and len(out["content"]) == 1:
        media_type, media = next(iter(out["content"].items()))
        schema = media.get("schema") if isinstance(media, dict) else None
        out.setdefault("schema", schema if schema is not None else {})
        out["x-pym-content-type"] = media_type
    out.setdefault("schema", {})
    out.setdefault("style", "simple")
    out.setdefault("explode", False)
    return out
