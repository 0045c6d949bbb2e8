"""``error_model: auto``: every framework error rendered in the spec's own error schema.

For each operation, the error schemas it declares (per status, or ``default``) are read at
startup; each property is filled from pymacaron's error (``status``, ``error`` code,
``error_description``, ``error_id``, ``user_message``) by its name and meaning:
``message``/``detail``/``description`` <- the description, ``code`` <- the status (integer)
or the error code (string), ``ok``/``success`` <- false, ``id``/``trace_id`` <- the error
id... A required property none of these can fill is a StartupError naming the field.
"""

from __future__ import annotations

from ..exceptions import StartupError

__all__ = ["renderers_for", "render"]

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


def _resolve(schema, definitions: dict, seen=()):
    """(type, properties, required) with $ref and allOf followed."""
    if not isinstance(schema, dict):
        return None, {}, set()
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        name = ref[len("#/definitions/") :]
        if name in seen:
            return None, {}, set()
        return _resolve(definitions.get(name) or {}, definitions, (*seen, name))
    kind = schema.get("type")
    props = dict(schema.get("properties") or {})
    required = set(schema.get("required") or [])
    for part in schema.get("allOf") or []:
        k, p, r = _resolve(part, definitions, seen)
        kind = kind or k
        props.update(p)
        required |= r
    return kind, props, required


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


def _renderer(schema, definitions: dict, where: str, file: str):
    kind, props, required = _resolve(schema, definitions)
    if kind == "string":
        return lambda b: b["error_description"]
    if kind not in (None, "object"):
        raise StartupError(
            f"error_model: auto cannot render an error as {kind!r}", file=file, location=where
        )
    fields = []
    for name, prop in props.items():
        fill = _filler(name, prop, definitions)
        if fill is not None:
            fields.append((name, fill))
        elif name in required:
            raise StartupError(
                f"error_model: auto cannot fill the required field {name!r} of the error "
                "schema (from status, error, error_description, error_id, user_message)",
                file=file,
                location=f"{where}.{name}",
            )
    for name in required - set(props):
        raise StartupError(
            f"error_model: auto cannot fill the required field {name!r} (not a declared "
            "property of the error schema)",
            file=file,
            location=where,
        )
    fields = tuple(fields)

    def render(body: dict) -> dict:
        return {name: fill(body) for name, fill in fields}

    return render


def renderers_for(responses: dict, definitions: dict, label: str, file: str) -> dict:
    """{status (int) or "default": render(body) -> dict} for the error responses of an
    operation that declare a schema."""
    out: dict = {}
    for code, response in responses.items():
        schema = response.get("schema") if isinstance(response, dict) else None
        if not schema:
            continue
        if code == "default" or (code.isdigit() and int(code) >= 400):
            key = "default" if code == "default" else int(code)
            out[key] = _renderer(schema, definitions, f"{label} responses.{code}.schema", file)
    return out


def render(renderers: dict | None, status: int, body: dict) -> dict:
    """``body`` in the operation's declared error schema for ``status`` (as is without one)."""
    if not renderers:
        return body
    fn = renderers.get(status) or renderers.get("default")
    return fn(body) if fn is not None else body
