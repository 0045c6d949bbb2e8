"""Reading a request for one operation: every parameter (path, query, header, cookie,
form) and the body, all violations gathered into one 400: one pipeline
(:meth:`RequestReader.read_request`) for both dialects; the query reader is Swagger 2.0's
(werkzeug's args) or the 3.x one (styles.py), chosen per operation at startup
(operation.py), and the body reader is the operation's (swagger2_body.py or bodies.py)."""

from __future__ import annotations

from urllib.parse import unquote

import werkzeug.urls  # noqa: F401 - registers the "werkzeug.url_quote" decoding error handler
from flask import request

from ..exceptions import InvalidParameterError
from ..spec.styles import parse_cookies, parse_query

__all__ = ["RequestReader", "declared_query"]

_URL_QUOTE = "werkzeug.url_quote"  # invalid bytes stay percent-encoded, as in request.args


class RequestReader:
    """The request-reading half of :class:`~pymacaron.server.operation.Operation`."""

    def read_request(self, path_values: dict, req=None) -> tuple[list, dict]:
        """Parse and validate everything the request carries: (args, kwargs) for the handler.
        Every parameter and the body are read: a 400 lists all their violations, in this
        order: path, query, headers, form fields (Swagger 2.0) or cookies (3.x), body.
        ``req``: the request (werkzeug's; default: ``flask.request``)."""
        if req is None:
            req = request
        kwargs: dict = {}
        errors: list = []
        if self.path_params:
            self._read_path(errors, kwargs, path_values)
        if self.query_params or self.reject_unknown_query:
            self.read_query(errors, kwargs, req)
        if self.header_params:
            self._read_headers(errors, kwargs, req.headers)
        if self.form_params:
            try:
                self._read_form(kwargs, req)
            except InvalidParameterError as e:
                errors.append(_item(e, "formData"))
        if self.cookie_params:
            cookies = parse_cookies(req.environ.get("HTTP_COOKIE"))
            for param in self.cookie_params:
                _read(errors, kwargs, param, param.from_pairs, cookies)
        if self.body is not None:
            body = _read_body_into(errors, self.body.read, self.spec.label, req)
            _raise_all(errors)
            return [body], kwargs
        _raise_all(errors)
        return [], kwargs

    def read_query(self, errors: list, kwargs: dict, req) -> None:
        """Swagger 2.0's query parameters, decoded as werkzeug's ``args`` decodes them: only
        the declared names' values (:func:`declared_query`), or werkzeug's ``args`` when
        ``reject_unknown_query_params`` looks at every key. A 3.x operation reads with
        :meth:`_read_query_oas3` instead (bound at startup)."""
        if self.reject_unknown_query:
            args = req.args
            unknown = [k for k in args if k not in self.known_query]
            if unknown:
                raise InvalidParameterError(
                    f"query parameter '{unknown[0][:60]}' is not declared by {self.spec.label}"
                )
            found = {p.name: args.getlist(p.name) for p in self.query_params if p.name in args}
        else:
            found = declared_query(req.query_string, self.known_query)
        for param in self.query_params:
            values = found.get(param.name)
            if values is not None:
                _read(errors, kwargs, param, param.parse, values[0], values)
            else:
                _read(errors, kwargs, param, param.missing)

    def _read_query_oas3(self, errors: list, kwargs: dict, req) -> None:
        """3.x: every style of styles.py, from the raw query string."""
        query = parse_query(req.query_string)
        if self.reject_unknown_query and not self.query_open:
            for k in query:
                if k not in self.known_query and not k.startswith(self.query_prefixes):
                    raise InvalidParameterError(
                        f"query parameter '{k[:60]}' is not declared by {self.spec.label}"
                    )
        for param in self.query_params:
            _read(errors, kwargs, param, param.from_pairs, query, self.known_query)

    # both dialects: a path segment and a header are one text each (param.from_text)
    def _read_path(self, errors: list, kwargs: dict, path_values: dict) -> None:
        for flask_name, param in self.path_params:  # _read inlined: one call less each
            try:
                kwargs[param.kwarg] = param.from_text(path_values[flask_name])
            except InvalidParameterError as e:
                errors.append(_item(e, getattr(param, "location", None) or "parameter", param.name))

    def _read_headers(self, errors: list, kwargs: dict, headers) -> None:
        for param in self.header_params:
            value = headers.get(param.name)
            if value is not None:
                _read(errors, kwargs, param, param.from_text, value)
            else:
                _read(errors, kwargs, param, param.missing)

    def _read_form(self, kwargs: dict, req=None) -> None:
        if req is None:
            req = request
        mimetype = req.mimetype
        if mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            raise InvalidParameterError(
                f"expected Content-Type multipart/form-data or application/x-www-form-urlencoded, "
                f"got {mimetype or 'none'!r}"
            )
        form, files = req.form, req.files
        for param in self.form_params:
            if param.kind == "file":
                value = files.get(param.name)
                kwargs[param.kwarg] = value if value is not None else param.missing()
            elif param.name in form:
                kwargs[param.kwarg] = param.parse(form[param.name], form.getlist(param.name))
            else:
                kwargs[param.kwarg] = param.missing()


def declared_query(query_string: bytes, names: set[str] | frozenset[str]) -> dict[str, list[str]]:
    """{name: its values, in order} for the ``names`` a query string carries, decoded as
    werkzeug's ``request.args`` decodes them (``parse_qsl`` on the UTF-8 text, blank values
    kept, ``+`` a space, invalid percent-escapes left as they are), without decoding the
    values of other names nor building a MultiDict."""
    found: dict[str, list[str]] = {}
    if not query_string:
        return found
    for part in query_string.decode().split("&"):
        if not part:
            continue
        name, eq, value = part.partition("=")
        if "%" in name or "+" in name:
            name = unquote(name.replace("+", " "), "utf-8", _URL_QUOTE)
        if name in names:
            if "%" in value or "+" in value:
                value = unquote(value.replace("+", " "), "utf-8", _URL_QUOTE)
            found.setdefault(name, []).append(value)
    return found


def _read(errors: list, kwargs: dict, param, fn, *args) -> None:
    """kwargs[param.kwarg] = fn(*args), or the violation recorded in ``errors``."""
    try:
        kwargs[param.kwarg] = fn(*args)
    except InvalidParameterError as e:
        errors.append(_item(e, getattr(param, "location", None) or "parameter", param.name))


def _item(e: InvalidParameterError, where: str, name: str | None = None) -> dict:
    """One violation of a parameter as an ``errors`` entry (bodies.violation_item's shape)."""
    return {"loc": [where, name] if name else [where], "msg": str(e), "type": "parameter"}


def _read_body_into(errors: list, read, *args):
    """The body, or None with its violations added to ``errors``."""
    try:
        return read(*args)
    except InvalidParameterError as e:
        found = getattr(e, "violations", None)
        errors.extend(found if found else [_item(e, "body")])
        return None


def _raise_all(errors: list) -> None:
    """Raise the 400 for ``errors`` (the first one's text is the description)."""
    if not errors:
        return
    error = InvalidParameterError(errors[0]["msg"])
    if len(errors) > 1:  # one violation: the uniform body as it always was
        error.violations = errors
    raise error
