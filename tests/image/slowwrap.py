"""Test-only WSGI wrapper, mounted into the container by the SIGTERM test (never in the image).

``GET /_test/slow?seconds=S`` sleeps S seconds, then answers with the real service's /ping,
so a request is certainly in flight when the container gets SIGTERM. Everything else goes
straight to the service (``server:app``).
"""

import time
from urllib.parse import parse_qs

from server import app as service


def app(environ, start_response):
    if environ.get("PATH_INFO") == "/_test/slow":
        seconds = float(parse_qs(environ.get("QUERY_STRING", "")).get("seconds", ["1"])[0])
        time.sleep(seconds)
        environ = dict(environ, PATH_INFO="/ping", QUERY_STRING="")
    return service(environ, start_response)
