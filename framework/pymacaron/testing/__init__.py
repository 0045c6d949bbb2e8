"""Testing kit: the original pymacaron-unit assertions, pytest fixtures, an acceptance runner.

``PyMacaronTestCase`` calls a live service (``PYM_SERVER_HOST``, ``PYM_SERVER_PORT``, https
on 443, token from ``PYM_JWT_TOKEN``, ``NO_SSL_CHECK`` to skip certificate checks) or a
Flask app in-process (``PyMacaronTestCase.bind(app=...)`` or the ``pym_client`` fixture)::

    class Test(PyMacaronTestCase):
        def test_pets(self):
            self.assertHasPing()
            j = self.assertGetReturnJson("/pets/1", 200)
            self.assertGetReturnError("pets/999", 404, "PET_NOT_FOUND")
            self.assertPostReturnJson("orders", {...}, 201, auth=f"Bearer {self.token}")
"""

from __future__ import annotations

import json
import os
import unittest
from collections.abc import Callable, Mapping
from functools import partialmethod
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.datastructures import Headers

__all__ = ["PyMacaronTestCase", "Reply", "load_port_host_token", "target_from_env"]

# A decoded JSON reply (json.loads: whatever the service sent) and a JSON object's
Json = Any
JsonObject = dict[str, Any]
# What a request sends: a JSON value, a model (``to_json()``), text or bytes
Body = Any


def load_port_host_token() -> tuple[str, int, str | None]:
    """(host, port, token) from PYM_SERVER_HOST, PYM_SERVER_PORT and PYM_JWT_TOKEN.

    The host may carry a scheme (``https://api.example.com``); without a port it is 443 for
    https and 80 for http.
    """
    base_url, token = target_from_env()
    parts = urlsplit(base_url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80), token


def target_from_env(environ: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """(base URL, token) of the live service named by the environment."""
    environ = os.environ if environ is None else environ
    host = (environ.get("PYM_SERVER_HOST") or "").strip()
    port = (environ.get("PYM_SERVER_PORT") or "").strip()
    if not host:
        raise RuntimeError(
            "PYM_SERVER_HOST is not set: export PYM_SERVER_HOST and PYM_SERVER_PORT "
            "(or run the tests with pym acceptance --host H --port P | --local | --url URL)"
        )
    scheme = None
    if "://" in host:
        scheme, host = host.split("://", 1)
    host = host.rstrip("/")
    if ":" in host and not host.startswith("["):
        host, _, inline_port = host.partition(":")
        port = port or inline_port
    if port and not port.isdigit():
        raise RuntimeError(f"PYM_SERVER_PORT must be a number, got {port!r}")
    if not port:
        port = "443" if scheme == "https" else "80"
    scheme = scheme or ("https" if port == "443" else "http")
    default = (scheme == "https" and port == "443") or (scheme == "http" and port == "80")
    netloc = host if default else f"{host}:{port}"
    return f"{scheme}://{netloc}", environ.get("PYM_JWT_TOKEN") or None


class Reply:
    """A response, the same whether it came over HTTP or from an in-process app."""

    def __init__(
        self,
        method: str,
        url: str,
        status_code: int,
        headers: Mapping[str, str] | Headers,
        content: bytes,
    ):
        self.method, self.url = method, url
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Json:
        try:
            return json.loads(self.content)
        except ValueError:
            raise AssertionError(
                f"{self.method} {self.url}: the reply is not JSON "
                f"(status {self.status_code}): {self.text[:300]!r}"
            ) from None

    @property
    def is_redirect(self) -> bool:
        return self.status_code in (301, 302, 303, 307, 308) and "Location" in self.headers

    @property
    def location(self) -> str | None:
        loc = self.headers.get("Location")
        return urljoin(self.url, loc) if loc else None

    def summary(self, limit: int = 500) -> str:
        text = self.text
        return text if len(text) <= limit else text[:limit] + "..."


_R = TypeVar("_R")


def _verb(check: Callable[..., _R], method: str, body: bool = False) -> Callable[..., _R]:
    """``check(self, method, path, data, ...)`` with its HTTP method bound, as pymacaron-unit
    spelled it: ``(self, path, data, ...)``, or ``(self, path, ...)`` for a method that sends no
    body."""
    if body:

        def with_body(self: Any, path: str, data: Body, *args: Any, **kwargs: Any) -> _R:
            return check(self, method, path, data, *args, **kwargs)

        return with_body

    def without_body(self: Any, path: str, *args: Any, **kwargs: Any) -> _R:
        return check(self, method, path, None, *args, **kwargs)

    return without_body


class PyMacaronTestCase(unittest.TestCase):
    """unittest.TestCase with the pymacaron-unit assertions (same names and semantics).

    Paths may start with a slash or not. ``auth`` is the whole Authorization header value
    (``auth=f"Bearer {self.token}"``). Every assertion returns the decoded reply.
    """

    host: str | None = None
    port: int | None = None
    token: str | None = None
    base_url: str | None = None
    app: Flask | None = None  # a Flask app to call in-process instead of a live host
    verify_ssl = True
    timeout_connect = 10
    timeout_read = 30

    def setUp(self) -> None:
        super().setUp()
        self.maxDiff = None
        if self.app is None and self.base_url is None:
            self.base_url, token = target_from_env()
            parts = urlsplit(self.base_url)
            self.host = parts.hostname
            self.port = parts.port or (443 if parts.scheme == "https" else 80)
            self.token = self.token or token
        if os.environ.get("NO_SSL_CHECK"):
            self.verify_ssl = False

    @classmethod
    def bind(
        cls, app: Flask | None = None, base_url: str | None = None, token: str | None = None
    ) -> PyMacaronTestCase:
        """A ready-to-use instance outside unittest (what the pytest fixtures return)."""
        case = cls()
        case.maxDiff = None
        if app is None and base_url is None:
            case.setUp()
        else:
            case.app, case.base_url = app, base_url
            if base_url:
                parts = urlsplit(base_url)
                case.host = parts.hostname
                case.port = parts.port or (443 if parts.scheme == "https" else 80)
            if os.environ.get("NO_SSL_CHECK"):
                case.verify_ssl = False
        case.token = token if token is not None else case.token
        return case

    # -- transport --------------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        data: Body = None,
        *,
        headers: dict[str, str] | None = None,
        auth: str | None = None,
        content_type: str | None = "application/json",
        allow_redirects: bool = True,
        verify_ssl: bool = True,
    ) -> Reply:
        """Send one request to the service (its options by name); a connection failure fails
        the test clearly."""
        method = method.upper()
        self.assertIsInstance(path, str, f"path {path!r} must be a string")
        path = "/" + path.lstrip("/")
        sent = dict(headers or {})
        if auth:
            sent["Authorization"] = auth
        body: bytes | None
        if data is None:
            body = None
        elif isinstance(data, (dict, list)):
            body = json.dumps(data).encode()
            sent["Content-Type"] = "application/json"
        elif hasattr(data, "to_json"):
            body = json.dumps(data.to_json()).encode()
            sent["Content-Type"] = "application/json"
        elif isinstance(data, (str, bytes)):
            body = data.encode() if isinstance(data, str) else data
            if content_type:
                sent.setdefault("Content-Type", content_type)
        else:
            raise TypeError(f"unsupported data type {type(data).__name__}")
        if self.app is not None:
            return self._call_app(self.app, method, path, body, sent, allow_redirects)
        return self._call_http(method, path, body, sent, allow_redirects, verify_ssl)

    def _call_app(
        self,
        app: Flask,
        method: str,
        path: str,
        body: bytes | None,
        headers: dict[str, str],
        allow_redirects: bool,
    ) -> Reply:
        client = app.test_client()
        r = client.open(
            path, method=method, data=body, headers=headers, follow_redirects=allow_redirects
        )
        return Reply(method, f"http://localhost{path}", r.status_code, r.headers, r.get_data())

    def _call_http(
        self,
        method: str,
        path: str,
        body: bytes | None,
        headers: dict[str, str],
        allow_redirects: bool,
        verify_ssl: bool,
    ) -> Reply:
        import requests

        if not self.base_url:
            raise AssertionError("no target: did setUp() run? (PYM_SERVER_HOST/PYM_SERVER_PORT)")
        url = self.base_url.rstrip("/") + path
        verify = bool(verify_ssl and self.verify_ssl)
        if not verify:
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        try:
            r = requests.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=(self.timeout_connect, self.timeout_read),
                verify=verify,
                allow_redirects=allow_redirects,
            )
        except requests.RequestException as e:
            raise AssertionError(
                f"{method} {url}: cannot reach the service ({type(e).__name__}: {e})"
            ) from None
        return Reply(method, url, r.status_code, r.headers, r.content)

    def _assertStatus(self, r: Reply, status: int) -> None:
        self.assertIsInstance(status, int, f"status {status!r} must be an int")
        if r.status_code != status:
            raise AssertionError(
                f"{r.method} {r.url}: expected status {status}, got {r.status_code}: {r.summary()}"
            )

    def _assertMethodReturnContent(
        self,
        path: str,
        method: str,
        data: Body,
        status: int,
        auth: str | None,
        contenttype: str | None,
        allow_redirects: bool = True,
        verify_ssl: bool = True,
    ) -> Reply:
        r = self.call(
            method,
            path,
            data,
            auth=auth,
            content_type=contenttype,
            allow_redirects=allow_redirects,
            verify_ssl=verify_ssl,
        )
        self._assertStatus(r, status)
        return r

    # The checks behind pymacaron-unit's assertions, method first. The verb assertions below
    # are these with their method bound (_verb); the assertCall* ones take the method.
    def _returnJson(
        self,
        method: str,
        path: str,
        data: Body,
        status: int = 200,
        auth: str | None = None,
        verify_ssl: bool = True,
    ) -> Json:
        r = self._assertMethodReturnContent(
            path, method, data, status, auth, "application/json", verify_ssl=verify_ssl
        )
        return r.json()

    def _returnDict(
        self,
        method: str,
        path: str,
        data: Body,
        kv: dict[str, Json],
        status: int = 200,
        auth: str | None = None,
        verify_ssl: bool = True,
    ) -> JsonObject:
        self.assertIsInstance(kv, dict, f"{kv!r} must be a dict")
        j = self._returnJson(method, path, data, status, auth, verify_ssl)
        self.assertIsInstance(
            j, dict, f"{method.upper()} {path}: expected a JSON object, got {j!r}"
        )
        for k, v in kv.items():
            self.assertIn(k, j, f"{method.upper()} {path}: no {k!r} in {json.dumps(j)[:500]}")
            self.assertEqual(j[k], v, f"{method.upper()} {path}: {k!r}")
        found: JsonObject = j
        return found

    def _returnOk(self, method: str, path: str, data: Body, auth: str | None = None) -> Json:
        j = self._returnJson(method, path, data, 200, auth)
        self.assertDictEqual(j, {})
        return j

    def _returnError(
        self,
        method: str,
        path: str,
        data: Body,
        status: int,
        error: str,
        auth: str | None = None,
        verify_ssl: bool = True,
    ) -> JsonObject:
        self.assertIsInstance(error, str, f"{error!r} must be a str")
        kv = {"status": status, "error": error}
        j = self._returnDict(method, path, data, kv, status, auth, verify_ssl)
        for key in ("error_description", "error_id"):
            self.assertIn(key, j, f"the error reply has no {key!r}: {j!r}")
        return j

    # -- the pymacaron-unit assertions ---------------------------------------------------
    # assertGetReturnJson(path, status=200, auth=None, verify_ssl=True), and so on: GET and
    # DELETE send no body; POST and PUT take it second: assertPostReturnJson(path, data, ...).
    assertGetReturnJson = _verb(_returnJson, "get")
    assertDeleteReturnJson = _verb(_returnJson, "delete")
    assertPostReturnJson = _verb(_returnJson, "post", body=True)
    assertPutReturnJson = _verb(_returnJson, "put", body=True)
    assertGetReturnDict = _verb(_returnDict, "get")  # (path, kv, status=200, ...)
    assertPostReturnDict = _verb(_returnDict, "post", body=True)
    assertGetReturnOk = _verb(_returnOk, "get")  # (path, auth=None)
    assertPostReturnOk = _verb(_returnOk, "post", body=True)
    assertGetReturnError = _verb(_returnError, "get")  # (path, status, error, auth=None, ...)
    assertPostReturnError = _verb(_returnError, "post", body=True)

    def assertCallReturnJson(
        self,
        method: str,
        path: str,
        data: Body = None,
        auth: str | None = None,
        status: int = 200,
        allow_error: bool = False,
        verify_ssl: bool = True,
    ) -> Json:
        if allow_error:  # as in pymacaron-unit: any non-200 status is accepted
            r = self.call(method, path, data, auth=auth, verify_ssl=verify_ssl)
            if r.status_code == 200:
                self._assertStatus(r, status)
            return r.json()
        return self._returnJson(method, path, data, status, auth, verify_ssl)

    def assertCallReturnDict(
        self,
        method: str,
        path: str,
        kv: dict[str, Json],
        data: Body = None,
        auth: str | None = None,
        status: int = 200,
        verify_ssl: bool = True,
    ) -> JsonObject:
        return self._returnDict(method, path, data, kv, status, auth, verify_ssl)

    def assertCallReturnOk(
        self, method: str, path: str, data: Body = None, auth: str | None = None
    ) -> Json:
        return self._returnOk(method, path, data, auth)

    def assertCallReturnError(
        self,
        method: str,
        path: str,
        status: int,
        error: str,
        data: Body = None,
        auth: str | None = None,
    ) -> JsonObject:
        return self._returnError(method, path, data, status, error, auth)

    def _assertReply(
        self,
        expect: str,
        method: str,
        path: str,
        data: Body = None,
        auth: str | None = None,
        status: int | None = None,
        allow_redirects: bool | None = None,
        verify_ssl: bool = True,
    ) -> str | None:
        """pymacaron-unit's text and redirect assertions. ``expect`` a media type: the reply's
        text, its Content-Type that type in UTF-8 (status 200, redirects followed, unless
        given); ``expect`` "redirect": its Location (status 302, redirects not followed)."""
        redirect = expect == "redirect"
        if status is None:
            status = 302 if redirect else 200
        if allow_redirects is None:
            allow_redirects = not redirect
        r = self._assertMethodReturnContent(
            path, method, data, status, auth, None, allow_redirects, verify_ssl
        )
        if redirect:
            self.assertTrue(r.is_redirect, f"{r.method} {r.url}: not a redirect ({r.status_code})")
            return r.location
        self.assertEqual(r.headers.get("Content-Type", "").lower(), f"{expect}; charset=utf-8")
        return r.text

    # (method, path, data=None, auth=None, status=200, allow_redirects=True, verify_ssl=True);
    # for a redirect status=302, allow_redirects=False
    assertCallReturnHtml = partialmethod(_assertReply, "text/html")
    assertCallReturnText = partialmethod(_assertReply, "text/plain")
    assertCallReturnRedirect = partialmethod(_assertReply, "redirect")

    # -- the built-in endpoints ----------------------------------------------------------
    def assertIsVersion(self, j: JsonObject) -> None:
        for key in ("version", "name", "container", "pym_env"):
            self.assertIsInstance(j.get(key), str, f"/version: {key!r} must be a string: {j!r}")

    def assertHasPing(self) -> Json:
        return self.assertGetReturnOk("ping")

    def assertHasVersion(self, verify_ssl: bool = True) -> Json:
        j = self.assertGetReturnJson("version", 200, verify_ssl=verify_ssl)
        self.assertIsVersion(j)
        return j

    def assertHasAuthVersion(self, verify_ssl: bool = True) -> Json:
        self.assertGetReturnError(
            "auth/version", 401, "AUTHORIZATION_HEADER_MISSING", verify_ssl=verify_ssl
        )
        for header, status, error in (
            ("Bearer1234567890", 401, "TOKEN_INVALID"),
            ("bearer foo bar", 401, "TOKEN_INVALID"),
            ("Bearer 1234567890", 401, "TOKEN_INVALID"),
        ):
            self.assertGetReturnError("auth/version", status, error, header, verify_ssl=verify_ssl)
        if not self.token:
            raise AssertionError(
                "no token to call /auth/version with: set PYM_JWT_TOKEN "
                "(pym acceptance generates one when the config has jwt_secret)"
            )
        j = self.assertGetReturnJson(
            "auth/version", 200, f"Bearer {self.token}", verify_ssl=verify_ssl
        )
        self.assertIsVersion(j)
        return j
