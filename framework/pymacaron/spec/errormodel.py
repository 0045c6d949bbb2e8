"""``error_model: auto``: every framework error rendered in the spec's own error schema.

For each operation, the error schemas it declares (per status, or ``default``) are read at
startup; each property is filled from pymacaron's error (``status``, ``error`` code,
``error_description``, ``error_id``, ``user_message``) by its name and meaning:
``message``/``detail``/``description`` <- the description, ``code`` <- the status (integer)
or the error code (string), ``ok``/``success`` <- false, ``id``/``trace_id`` <- the error
id..., a nested error object the same way. A required property none of these can fill is
a warning naming the field at startup, and that status keeps the uniform error body.
"""

from __future__ import annotations

import logging

from . import refs

log = logging.getLogger("pymacaron")

__all__ = ["renderers_for", "render"]

_WARNED: set = set()  # (file, status, what): warned once per process

_DESCRIPTION = {
    "message", "errormessage", "errordescription", "description", "detail", "details", "msg",
    "reason", "errormsg", "title", "errordetail",
}  # fmt: skip
_CODE = {"code", "errorcode", "type", "errortype", "kind", "error", "errorkey", "key"}
_STATUS = {"status", "statuscode", "httpstatus", "httpcode", "httpstatuscode"}
_ID = {"errorid", "id", "requestid", "traceid", "incidentid", "correlationid", "uuid"}
_USER = {"usermessage", "displaymessage", "usermsg"}
_FALSE = {"ok", "success", "succeeded"}


def _norm(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def _resolve(schema, definitions: dict):
    """(type, properties, required) with $ref and allOf followed (refs.py)."""
    flat = refs.merged(schema, definitions)
    return flat.get("type"), dict(flat.get("properties") or {}), set(flat.get("required") or [])


def _filler(name: str, prop, definitions: dict):
    """A function body -> value for one property, or None when nothing fits."""
    kind, _, _ = _resolve(prop, definitions)
    if isinstance(prop, dict) and "enum" in prop:
        return None
    key = _norm(name)
    if kind in ("integer", "number"):
        if key in _STATUS or key in _CODE:
            return lambda b: b["status"]
        return None
    if kind == "boolean":
        return (lambda b: False) if key in _FALSE else None
    if kind not in ("string", None):
        return None
    if key in _DESCRIPTION:
        return lambda b: b["error_description"]
    if key in _CODE:
        return lambda b: b["error"]
    if key in _STATUS:
        return lambda b: str(b["status"])
    if key in _ID:
        return lambda b: b["error_id"]
    if key in _USER:
        return lambda b: b.get("user_message") or b["error_description"]
    return None


class _Unfillable(Exception):
    """A required field of an error schema nothing of pymacaron's error can fill."""


def _renderer(schema, definitions: dict, where: str, depth: int = 0):
    """render(body) -> the error in ``schema``; raises :class:`_Unfillable` naming what
    it cannot fill."""
    kind, props, required = _resolve(schema, definitions)
    if kind == "string":
        return lambda b: b["error_description"]
    if kind not in (None, "object"):
        raise _Unfillable(f"cannot render an error as {kind!r} (at {where})")
    fields = []
    for name, prop in props.items():
        fill = _filler(name, prop, definitions)
        if fill is None and depth < 3 and _resolve(prop, definitions)[0] in (None, "object"):
            # a nested error object ({"error": {"code", "message"}}): filled the same way
            try:
                if _resolve(prop, definitions)[1]:
                    fill = _renderer(prop, definitions, f"{where}.{name}", depth + 1)
            except _Unfillable:
                if name in required:
                    raise
        if fill is not None:
            fields.append((name, fill))
        elif name in required:
            raise _Unfillable(f"the required field {name!r} (at {where}.{name})")
    for name in sorted(required - set(props)):
        raise _Unfillable(f"the required field {name!r} (not a declared property, at {where})")
    fields = tuple(fields)

    def render(body: dict) -> dict:
        return {name: fill(body) for name, fill in fields}

    return render


def renderers_for(responses: dict, definitions: dict, label: str, file: str) -> dict:
    """{status (int) or "default": render(body) -> dict} for the error responses of an
    operation that declare a schema. A schema with a required field nothing can fill is
    never a refusal: a warning names the field, and that status keeps the uniform body."""
    out: dict = {}
    for code, response in responses.items():
        schema = response.get("schema") if isinstance(response, dict) else None
        if not schema:
            continue
        ranged = len(code) == 3 and code[0] in "45" and code[1:].upper() == "XX"
        if code == "default" or ranged or (code.isdigit() and int(code) >= 400):
            key = "default" if code == "default" else code.upper() if ranged else int(code)
            where = f"{label} responses.{code}.schema"
            try:
                out[key] = _renderer(schema, definitions, where)
            except _Unfillable as e:
                said = (file, code, str(e).split(" (at ", 1)[0])
                if said in _WARNED:  # the same error schema on many operations: once
                    continue
                _WARNED.add(said)
                log.warning(
                    "%s: %s: error_model: auto cannot fill %s (from status, error, "
                    "error_description, error_id, user_message): %s errors of this "
                    "operation (and of any other whose schema says the same) use the "
                    "uniform error body",
                    file,
                    where,
                    e,
                    code,
                )
    return out


def render(renderers: dict | None, status: int, body: dict) -> dict:
    """``body`` in the operation's declared error schema for ``status`` (as is without one)."""
    if not renderers:
        return body
    fn = renderers.get(status) or renderers.get(f"{status // 100}XX") or renderers.get("default")
    return fn(body) if fn is not None else body
