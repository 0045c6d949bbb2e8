"""The platform's nginx in front of the container: its refusals in the uniform error body.

On the Beanstalk Docker platform a request goes ALB -> nginx (port 80 on the instance) ->
the container. nginx parses every request again and refuses what it cannot forward itself
(a malformed head, a body over its limit, a service that does not answer) with HTML pages
of its own. The source bundle extends the platform's nginx configuration (AWS's "Reverse
proxy configuration": ``.platform/nginx/conf.d/*.conf`` in ``http``,
``.platform/nginx/conf.d/elasticbeanstalk/*.conf`` in its ``server``) so that each of those
refusals is the service's own error body (pymacaron/errors.py), with an ``error_id`` made of
the reply's ``X-Request-ID`` (nginx's ``$request_id``, in a UUID's shape), and so that nginx's body limit is the service's
``max_body_size`` (nginx's default of 1 MiB would refuse first, in HTML, a service that
allows more). What nginx forwards, the service answers: its own errors pass through
untouched (no ``proxy_intercept_errors``). docs/hostile.md, "Errors the server gives
itself".
"""

from __future__ import annotations

import json

from pymacaron.error_body import code_for
from pymacaron.server.headers import SECURITY_HEADERS

HTTP_CONF = ".platform/nginx/conf.d/pym-error-id.conf"
SERVER_CONF = ".platform/nginx/conf.d/elasticbeanstalk/pym-errors.conf"

# Internal locations nginx redirects its own errors to; no request can reach them.
ERROR_PREFIX = "/.pym-proxy-error/"

# What nginx refuses by itself, with the description the client gets. 494 is nginx's
# internal "request header too large", answered as 431.
REFUSALS = {
    404: "no such path",
    400: "the request could not be parsed (malformed request line, header or framing)",
    413: "the request body is over the limit of {limit} bytes",
    414: "the request target is too long",
    431: "the request head is too large",
    501: "the request uses a transfer encoding the service does not accept",
    502: "the service is not answering (starting, restarting or overloaded); retry later",
    504: "the service did not answer in time; retry later",
}
GATEWAY_CODE = "SERVICE_UNAVAILABLE"
# nginx's own status for a refusal answered under another one.
NGINX_STATUS = {431: 494}


def _error_code(status: int) -> str:
    return GATEWAY_CODE if status in (502, 504) else code_for(status)


def _body(status: int, max_body_size: int) -> str:
    body = {
        "status": status,
        "error": _error_code(status),
        "error_description": REFUSALS[status].format(limit=max_body_size),
        "error_id": "PYM_ERROR_ID",
    }
    text = json.dumps(body, separators=(",", ":"))
    # nginx fills the id in; the rest is a single-quoted nginx string: no ' nor \ in it.
    assert "'" not in text and "\\" not in text
    return text.replace("PYM_ERROR_ID", "$pym_error_id")


def _http_conf() -> str:
    return (
        "# pymacaron (infra/proxy.py): a UUID-shaped id for the proxy's own error replies.\n"
        "map $request_id $pym_error_id {\n"
        '    "~^(?<p1>.{8})(?<p2>.{4})(?<p3>.{4})(?<p4>.{4})(?<p5>.{12})$" '
        '"$p1-$p2-$p3-$p4-$p5";\n'
        "    default $request_id;\n"
        "}\n"
    )


def _server_conf(max_body_size: int) -> str:
    lines = [
        "# pymacaron (infra/proxy.py): nginx's own refusals in the service's error body.",
        f"client_max_body_size {max_body_size};",
    ]
    for status in REFUSALS:
        source = NGINX_STATUS.get(status, status)
        lines.append(f"error_page {source} ={status} {ERROR_PREFIX}{status};")
    for status in REFUSALS:
        lines += [
            f"location = {ERROR_PREFIX}{status} {{",
            "    internal;",
            "    default_type application/json;",
            "    add_header X-Request-ID $request_id always;",
            *(f'    add_header {name} "{value}" always;' for name, value in SECURITY_HEADERS),
            f"    return {status} '{_body(status, max_body_size)}';",
            "}",
        ]
    return "\n".join(lines) + "\n"


def nginx_files(max_body_size: int) -> dict[str, str]:
    """The files of the source bundle that extend the platform's nginx: path -> content."""
    return {HTTP_CONF: _http_conf(), SERVER_CONF: _server_conf(max_body_size)}
