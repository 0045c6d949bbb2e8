"""The limit: a hand-written WSGI callable, orjson, no framework and no validation.

The same three endpoints (and /ping) as every other server, with the status codes a
client of the petstore sees for a valid request; nothing is checked, so it is the floor of
what a WSGI request costs on a given server (the hand-off and the JSON), not a peer.
"""

import orjson
from data import NEW_ID, PETS, PETS_BY_ID

_JSON = [("Content-Type", "application/json")]
_NOT_FOUND = b'{"status":404,"error":"NOT_FOUND"}'


def _reply(start_response, status, data):
    start_response(status, [*_JSON, ("Content-Length", str(len(data)))])
    return [data]


def app(environ, start_response):
    path = environ["PATH_INFO"]
    method = environ["REQUEST_METHOD"]
    if path == "/pets":
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = orjson.loads(environ["wsgi.input"].read(length))
            body["id"] = NEW_ID
            body["status"] = "available"
            return _reply(start_response, "201 Created", orjson.dumps(body))
        limit = 20
        for pair in environ.get("QUERY_STRING", "").split("&"):
            key, _, value = pair.partition("=")
            if key == "limit" and value.isdigit():
                limit = int(value)
        return _reply(start_response, "200 OK", orjson.dumps(PETS[:limit]))
    if path.startswith("/pets/"):
        tail = path[6:]
        pet = PETS_BY_ID.get(int(tail)) if tail.isdigit() else None
        if pet is not None:
            return _reply(start_response, "200 OK", orjson.dumps(pet))
    elif path == "/ping":
        return _reply(start_response, "200 OK", b"{}")
    return _reply(start_response, "404 Not Found", _NOT_FOUND)
