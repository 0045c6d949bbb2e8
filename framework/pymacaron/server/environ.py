"""The WSGI environ keys pymacaron sets on a request, defined once.

- :data:`REQUEST_ID`: the request id (layers.RequestId sets it; the access log reads it);
- :data:`STATUS`: the reply's status line, recorded by RequestId for the access log;
- :data:`ROUTE_CSP`: a route's own Content-Security-Policy (the docs page, docs.py), which
  the SecurityHeaders layer sends instead of the strict one;
- :data:`BODY`: a request body read whole before the app (dispatch.py, run/rsgi.py).
"""

from __future__ import annotations

__all__ = ["REQUEST_ID", "STATUS", "ROUTE_CSP", "BODY"]

REQUEST_ID = "pymacaron.request_id"
STATUS = "pymacaron.status"
ROUTE_CSP = "pymacaron.csp"
BODY = "pymacaron.body"
