"""Media types as an operation sees them: the declared ones without parameters, wildcards
made concrete for a reply, and which are JSON or text (startup and request time)."""

from __future__ import annotations

__all__ = [
    "JSON_TYPES",
    "is_json",
    "is_text",
    "media_types",
    "concrete",
    "matches",
    "request_mimetype",
]

JSON_TYPES = ("application/json", "text/json")


def is_json(mimetype: str) -> bool:
    return mimetype in JSON_TYPES or mimetype.endswith("+json")


def is_text(mimetype: str) -> bool:
    return mimetype.startswith("text/") or mimetype.endswith(("/xml", "+xml"))


def media_types(declared: list[str]) -> list[str]:
    """Declared media types without parameters, lowercased (``text/plain; charset=x``)."""
    return [m.split(";", 1)[0].strip().lower() for m in declared if isinstance(m, str)]


def concrete(declared: list[str], dedupe: bool = True) -> list[str]:
    """Declared reply media types with wildcards made concrete: ``*/*`` and
    ``application/*`` -> application/json, ``text/*`` -> text/plain, any other ``x/*``
    -> application/octet-stream."""
    out: list[str] = []
    for m in declared:
        if m in ("*/*", "*", "application/*"):
            m = "application/json"
        elif m == "text/*":
            m = "text/plain"
        elif m.endswith("/*"):
            m = "application/octet-stream"
        if not dedupe or m not in out:
            out.append(m)
    return out


def matches(mimetype: str, declared: list[str]) -> bool:
    for d in declared:
        if d == mimetype or d == "*/*":
            return True
        if d.endswith("/*") and mimetype.startswith(d[:-1]):
            return True
    return False


def request_mimetype(req) -> str:
    """``req.mimetype`` (werkzeug's: the Content-Type without parameters, lowercased), with
    the common ``application/json`` taken from the environ as is, not parsed again."""
    ctype = req.environ.get("CONTENT_TYPE")
    if ctype == "application/json":
        return ctype
    return req.mimetype
