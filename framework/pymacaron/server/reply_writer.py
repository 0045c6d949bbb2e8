"""A handler's result into the operation's reply: the declared status and media type,
response validation (``response_validation: error|warn``), the JSON reply, and for 3.x
operations whose statuses declare their own media types or headers, the per-status path
(:meth:`ReplyWriter._make_reply_oas3`, chosen at startup). Exceptions become replies in
replies.py."""

from __future__ import annotations

import logging

import orjson
from flask import Response, request

from ..exceptions import BadResponseError, InvalidParameterError
from ..spec.models import PyMacaronModel
from ..spec.validation import JsonSchemaValueException, violation_text
from .media import is_json
from .replies import BareReply, bare_json_reply, exception_reply, json_reply

log = logging.getLogger("pymacaron")

__all__ = ["ReplyWriter"]


class ReplyWriter:
    """The reply half of :class:`~pymacaron.server.operation.Operation`."""

    def make_reply(
        self, result, mimetype: str | None = None, req=None, bare: bool = False
    ) -> Response | BareReply:
        """Check the handler's result against the spec and serialise it as ``mimetype``
        (one of the declared ``produces``, JSON by default). ``bare``: a plain JSON reply
        (no headers of the handler's) as a :class:`BareReply`, not a ``Response``."""
        status = None
        headers = None
        if isinstance(result, Response):
            return result
        if isinstance(result, tuple):
            if len(result) == 2:
                result, status = result
            elif len(result) == 3:
                result, status, headers = result
            else:
                raise TypeError("a handler returns body, (body, status) or (body, status, headers)")
        if isinstance(result, PyMacaronModel):
            if status is None and result.is_error():
                status = result.status
            data = result.to_json()
        elif isinstance(result, list):
            data = [v.to_json() if isinstance(v, PyMacaronModel) else v for v in result]
        else:
            data = result
        if status is None:
            status = self.default_status
        entry = self.responses.get(status) or self.default_response
        if entry is None and self.no_responses:
            entry = (None, False)  # the spec declares no responses (3.1): nothing to check
        if entry is None:
            return self._bad_response(
                f"{self.label} returned status {status}, which the spec does not declare",
                data,
                status,
                headers,
            )
        validator, has_schema = entry
        if mimetype is not None and mimetype != self.json_type:
            if self.media_validators:
                validator = self._media_validator(status, mimetype, validator)
            if not is_json(mimetype):
                return self._raw_reply(data, status, headers, mimetype, validator)
        if validator is not None:
            if data is None:
                return self._bad_response(
                    f"{self.label} returned no body for status {status}, the spec declares one",
                    data,
                    status,
                    headers,
                )
            try:  # _check_body inlined: one call less per reply
                validator(data)
            except JsonSchemaValueException as e:
                return self._body_mismatch(e, data, status, headers)
        if data is None or status == 204:
            return Response(status=status, headers=headers, mimetype="application/json")
        if mimetype is not None and mimetype != "application/json":
            reply = json_reply(data, status, headers)
            reply.mimetype = mimetype
            return reply
        if bare and headers is None:
            return bare_json_reply(data, status)
        return json_reply(data, status, headers)

    def _media_validator(self, status, mimetype, validator):
        """The validator of ``mimetype`` for ``status`` (3.x, per media type)."""
        key = (status, mimetype) if status in self.responses else ("default", mimetype)
        return self.media_validators.get(key, validator)

    def _make_reply_oas3(self, result, mimetype: str | None = None, req=None) -> Response:
        """:meth:`make_reply` of a 3.x operation whose statuses declare different media
        types or response headers (bound at startup): the reply's media type is one its
        status declares, and its declared headers are checked."""
        if isinstance(result, Response):
            return result
        headers = None
        if isinstance(result, tuple) and len(result) >= 2:
            status = result[1]
            if len(result) == 3:
                headers = result[2]
        elif isinstance(result, PyMacaronModel) and result.is_error():
            status = result.status
        else:
            status = self.default_status
        key = status if status in self.reply_media else "default"
        media = self.reply_media.get(key)
        if media and mimetype not in media:
            mimetype = (req or request).accept_mimetypes.best_match(media) or media[0]
        reply = ReplyWriter.make_reply(self, result, mimetype, req)
        checks = self.reply_headers.get(status if status in self.responses else "default")
        if checks and reply.status_code == status:
            problem = _header_problem(checks, headers)
            if problem is not None:
                message = f"{self.label} returned a {status} reply whose {problem}"
                if self.response_validation == "warn":
                    log.warning(
                        "BAD_RESPONSE (sent anyway, response_validation: warn): %s", message
                    )
                    return reply
                error = BadResponseError(
                    "the server produced a reply that does not match its API spec"
                )
                log.error("BAD_RESPONSE error_id=%s: %s", error.error_id, message)
                return exception_reply(error, self.endpoint, self.error_model)
        return reply

    def _raw_reply(self, data, status, headers, mimetype, validator) -> Response:
        """A text or binary reply: str and bytes as they are (a string schema checks a str)."""
        if isinstance(data, str) and validator is not None:
            bad = self._check_body(validator, data, status, headers)
            if bad is not None:
                return bad
        if data is None:
            return Response(status=status, headers=headers, mimetype=mimetype)
        if not isinstance(data, str | bytes | bytearray) and not hasattr(data, "__iter__"):
            data = str(data)
        elif isinstance(data, dict | list):
            data = orjson.dumps(data)
        return Response(data, status=status, headers=headers, mimetype=mimetype)

    def _check_body(self, validator, data, status, headers) -> Response | None:
        """None when ``data`` matches the response schema, else the BAD_RESPONSE reply."""
        try:
            validator(data)
        except JsonSchemaValueException as e:
            return self._body_mismatch(e, data, status, headers)
        return None

    def _body_mismatch(self, e, data, status, headers) -> Response:
        return self._bad_response(
            f"{self.label} returned a {status} body that does not match the spec: "
            f"{violation_text(e, root='response')}",
            data,
            status,
            headers,
        )

    def _bad_response(self, message: str, data, status, headers) -> Response:
        if self.response_validation == "warn":
            log.warning("BAD_RESPONSE (sent anyway, response_validation: warn): %s", message)
            if data is None:
                return Response(status=status, headers=headers, mimetype="application/json")
            return json_reply(data, status, headers)
        error = BadResponseError("the server produced a reply that does not match its API spec")
        log.error("BAD_RESPONSE error_id=%s: %s", error.error_id, message)
        return exception_reply(error, self.endpoint, self.error_model)


def _header_problem(checks, headers) -> str | None:
    """What is wrong with a reply's headers against the declared ones, or None."""
    from werkzeug.datastructures import Headers

    given = Headers(headers) if headers is not None else Headers()
    for param in checks:
        value = given.get(param.name)
        if value is None:
            if param.required:
                return f"header {param.name!r} is required by the spec but missing"
            continue
        try:
            param.from_text(str(value))
        except InvalidParameterError as e:
            return str(e).replace("header parameter", "header", 1)
    return None
