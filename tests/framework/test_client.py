"""ApiPool clients against real servers on 127.0.0.1: a pymacaron service, and raw sockets
that stall, drop connections, refuse them, or answer what a broken service would.
"""

from __future__ import annotations

import datetime
import os
import socket
import ssl
import sys
import textwrap
import threading
import time
import uuid

import pytest

from tests.conftest import LiveServer, free_port, reset_pymacaron

ECHO_SPEC = """
swagger: "2.0"
info: {title: Echo, version: "1.0.0"}
host: echo.invalid
schemes: [http]
basePath: /api
produces: [application/json]
consumes: [application/json]
paths:
  /echo/{word}:
    get:
      x-bind-server: echo_handlers.echo
      x-bind-client: echo
      parameters:
        - {name: word, in: path, required: true, type: string, maxLength: 20}
        - {name: n, in: query, type: integer, minimum: 0, maximum: 10}
        - {name: tags, in: query, type: array, collectionFormat: csv, items: {type: string}}
        - {name: loud, in: query, type: boolean}
        - {name: X-Tag, in: header, type: string}
      responses:
        "200": {description: ok, schema: {$ref: "#/definitions/Echo"}}
        default: {description: error, schema: {$ref: "#/definitions/Error"}}
  /items:
    get:
      x-bind-server: echo_handlers.list_items
      x-bind-client: list_items
      responses:
        "200": {description: ok, schema: {type: array, items: {$ref: "#/definitions/Item"}}}
    post:
      x-bind-server: echo_handlers.add_item
      x-bind-client: add_item
      x-decorate-server: pymacaron.auth.requires_auth
      x-decorate-request: pymacaron.auth.add_auth
      parameters:
        - {name: body, in: body, required: true, schema: {$ref: "#/definitions/Item"}}
      responses:
        "201": {description: ok, schema: {$ref: "#/definitions/Item"}}
        default: {description: error, schema: {$ref: "#/definitions/Error"}}
  /fail/{code}:
    get:
      x-bind-server: echo_handlers.fail
      x-bind-client: fail
      parameters:
        - {name: code, in: path, required: true, type: string}
      responses:
        "200": {description: never, schema: {$ref: "#/definitions/Echo"}}
        default: {description: error, schema: {$ref: "#/definitions/Error"}}
  /whoami:
    get:
      x-bind-server: echo_handlers.whoami
      x-bind-client: whoami
      x-decorate-server: pymacaron.auth.requires_auth
      x-decorate-request: pymacaron.auth.add_auth
      responses:
        "200": {description: ok, schema: {$ref: "#/definitions/Echo"}}
        default: {description: error, schema: {$ref: "#/definitions/Error"}}
definitions:
  Echo:
    type: object
    required: [word]
    properties:
      word: {type: string}
      n: {type: integer}
      tags: {type: array, items: {type: string}}
      loud: {type: boolean}
      tag: {type: string}
      request_id: {type: string}
      user: {type: string}
  Item:
    type: object
    required: [name]
    additionalProperties: false
    properties:
      name: {type: string, minLength: 1}
      qty: {type: integer, minimum: 1}
  Error:
    type: object
    required: [status, error, error_description, error_id]
    properties:
      status: {type: integer}
      error: {type: string}
      error_description: {type: string}
      error_id: {type: string}
      user_message: {type: string}
"""

ECHO_HANDLERS = """
from flask import request

from pymacaron.auth import get_userid
from pymacaron.exceptions import PyMacaronException
from pymacaron.models import Echo, Item


def echo(word, n=None, tags=None, loud=None, x_tag=None):
    return Echo(word=word.upper() if loud else word, n=n, tags=tags, loud=loud, tag=x_tag,
                request_id=request.headers.get("X-Request-ID"))


def list_items():
    return [Item(name="a", qty=1), Item(name="b", qty=2)]


def add_item(item):
    return Item(name=item.name + "!", qty=item.qty or 1), 201


def fail(code):
    if code == "teapot":
        raise PyMacaronException("short and stout", status=418, code="I_AM_A_TEAPOT",
                                 error_id="fixed-error-id-1", user_message="Tip me over")
    raise RuntimeError("boom")


def whoami():
    return Echo(word="me", user=get_userid())
"""

ECHO_SERVER = """
import os
from flask import Flask
from pymacaron import API, letsgo

app = Flask(__name__)


def start(port, debug):
    here = os.path.dirname(os.path.realpath(__file__))
    api = API(app, port=port, debug=debug)
    api.load_apis(os.path.join(here, "apis"))
    api.start(serve="echo")


letsgo(__name__, callback=start)
"""

ECHO_CONFIG = """
name: echo
env_secrets: [JWT_SECRET]
jwt_audience: echo-users
jwt_issuer: echo.test
"""


def write_echo_service(root) -> str:
    (root / "apis").mkdir()
    (root / "apis" / "echo.yaml").write_text(ECHO_SPEC)
    (root / "echo_handlers.py").write_text(ECHO_HANDLERS)
    (root / "server.py").write_text(ECHO_SERVER)
    (root / "pym-config.yaml").write_text(ECHO_CONFIG)
    return str(root)


@pytest.fixture(scope="module")
def echo_server(tmp_path_factory):
    root = write_echo_service(tmp_path_factory.mktemp("echo"))
    port = free_port()
    server = LiveServer([sys.executable, "server.py", "--port", str(port)], root, port)
    try:
        server.wait()
        yield root, server
    finally:
        server.stop()


@pytest.fixture
def echo(echo_server):
    """The echo API loaded as a client only (API.load_clients), pointed at the live server."""
    from flask import Flask

    from pymacaron import API, config
    from pymacaron.apipool import ApiPool

    root, server = echo_server
    reset_pymacaron()
    config.set_config(config.load_config(path=os.path.join(root, "pym-config.yaml")))
    API(Flask("client-tests")).load_clients(path=os.path.join(root, "apis"), apis=["echo"])
    api = ApiPool.add("echo", host="127.0.0.1", port=server.port)
    yield api
    reset_pymacaron()


# -- raw servers ---------------------------------------------------------------------------
def http_reply(status: str, body: bytes, content_type: str = "application/json") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class RawServer:
    """A real TCP server: ``stall`` (read the request, never answer), ``drop`` (read it,
    close without answering) or ``reply`` (answer canned bytes). ``start_after`` seconds
    of refused connections first; ``tls`` wraps it in TLS with a self-signed certificate.
    """

    def __init__(self, mode: str, reply: bytes = b"", start_after: float = 0.0, tls=None):
        self.mode, self.reply, self.tls = mode, reply, tls
        self.connections = 0
        self.requests = 0
        self.stop = threading.Event()
        self.sock = None
        self.port = free_port()
        self.threads: list[threading.Thread] = []
        self._start = threading.Thread(target=self._listen, args=(start_after,), daemon=True)
        self._start.start()
        if not start_after:
            self._start.join()

    def _listen(self, delay: float) -> None:
        if delay:
            time.sleep(delay)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(16)
        sock.settimeout(0.1)
        self.sock = sock
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self.threads.append(t)

    def _serve(self, conn) -> None:
        try:
            if self.tls is not None:
                conn.settimeout(2)
                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    return
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            while len(body) < length:
                body += conn.recv(65536)
            self.requests += 1
            if self.mode == "stall":
                self.stop.wait(10)
            elif self.mode == "reply":
                conn.sendall(self.reply)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self._start.join(5)
        if self.sock is not None:
            self.sock.close()
        for t in self.threads:
            t.join(5)


@pytest.fixture
def raw():
    servers: list[RawServer] = []

    def make(*args, **kwargs) -> RawServer:
        servers.append(RawServer(*args, **kwargs))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def point(api, port: int, **settings) -> None:
    from pymacaron.apipool import ApiPool

    api.client_settings.clear()
    settings.setdefault("proto", "http")
    ApiPool.add(api.name, host="127.0.0.1", port=port, **settings)


# -- calls -------------------------------------------------------------------------------
def test_call_marshals_parameters_and_returns_models(echo):
    from pymacaron.logs import set_request_id

    token = set_request_id("req-client-1")
    try:
        result = echo.client.echo(word="hi there", n=3, tags=["a", "b"], loud=True, x_tag="t1")
    finally:
        from pymacaron.logs import _request_id

        _request_id.reset(token)
    assert type(result).__name__ == "Echo"
    assert result.to_json() == {
        "word": "HI THERE",
        "n": 3,
        "tags": ["a", "b"],
        "loud": True,
        "tag": "t1",
        "request_id": "req-client-1",
    }
    assert not result.is_error()
    items = echo.client.list_items()
    assert [type(i).__name__ for i in items] == ["Item", "Item"]
    assert [(i.name, i.qty) for i in items] == [("a", 1), ("b", 2)]


def test_body_model_is_the_positional_argument_and_auth_is_added(echo):
    from pymacaron.apipool import ApiPool

    item = echo.client.add_item(ApiPool.echo.model.Item(name="pen", qty=2))
    assert (type(item).__name__, item.name, item.qty) == ("Item", "pen!", 2)
    # a plain dict body works too; the backend token names the calling service
    assert echo.client.add_item({"name": "ink"}).qty == 1
    assert echo.client.whoami().user == "echo"


def test_caller_token_is_forwarded(echo):
    from flask import Flask, g

    from pymacaron.auth import generate_token

    with Flask("caller").test_request_context("/"):
        g.pym_token = generate_token("alice")
        assert echo.client.whoami().user == "alice"
    explicit = generate_token("bob")
    me = echo.client.whoami(request_headers={"Authorization": f"Bearer {explicit}"})
    assert me.user == "bob"


def test_caller_mistakes_raise_and_name_the_operation(echo):
    with pytest.raises(TypeError, match=r"echo\.echo\(\): unexpected argument 'nope'.*word"):
        echo.client.echo(word="x", nope=1)
    with pytest.raises(TypeError, match=r"path parameter 'word' is required"):
        echo.client.echo()
    with pytest.raises(ValueError, match=r"query parameter 'n'.*10"):
        echo.client.echo(word="x", n=11)
    with pytest.raises(ValueError, match=r"query parameter 'n' must be of type integer"):
        echo.client.echo(word="x", n="3")
    with pytest.raises(ValueError, match=r"echo\.add_item\(\): body\.name"):
        echo.client.add_item({"qty": 1})
    with pytest.raises(TypeError, match=r"a body is required"):
        echo.client.add_item()
    with pytest.raises(AttributeError, match=r"ApiPool\.echo\.client has no 'ech'.*echo"):
        echo.client.ech  # noqa: B018


def test_error_reply_is_returned_with_its_error_id(echo):
    from pymacaron.exceptions import is_error

    err = echo.client.fail(code="teapot")
    assert is_error(err) and err.is_error()
    assert (err.status, err.error, err.error_id) == (418, "I_AM_A_TEAPOT", "fixed-error-id-1")
    assert (err.error_description, err.user_message) == ("short and stout", "Tip me over")
    crash = echo.client.fail(code="crash")
    assert (crash.status, crash.error) == (500, "UNHANDLED_SERVER_ERROR")
    assert uuid.UUID(crash.error_id)


def test_raise_on_error(echo):
    from pymacaron.apipool import ApiPool
    from pymacaron.exceptions import PyMacaronException

    with pytest.raises(PyMacaronException) as e:
        echo.client.fail(code="teapot", raise_on_error=True)
    assert (e.value.status, e.value.code, e.value.error_id) == (
        418,
        "I_AM_A_TEAPOT",
        "fixed-error-id-1",
    )
    assert e.value.user_message == "Tip me over"
    ApiPool.add("echo", raise_on_error=True)
    with pytest.raises(PyMacaronException, match="short and stout"):
        echo.client.fail(code="teapot")
    assert echo.client.fail(code="teapot", raise_on_error=False).error == "I_AM_A_TEAPOT"


def test_downstream_error_re_raised_in_a_handler_keeps_its_error_id(echo):
    from flask import Flask

    from pymacaron.client import error_to_exception
    from pymacaron.server.replies import exception_reply

    err = echo.client.fail(code="teapot")
    with Flask("relay").test_request_context("/"):
        reply = exception_reply(error_to_exception(err))
    assert reply.status_code == 418
    assert reply.get_json()["error_id"] == "fixed-error-id-1"


# -- where a client calls -------------------------------------------------------------------
def test_target_resolution_order(echo, echo_server, monkeypatch):
    from pymacaron.client import base_url, client_settings

    echo.client_settings.clear()
    assert base_url(echo) == "http://echo.invalid/api"  # the spec's host, schemes, basePath
    echo.client_settings.update(host="10.1.2.3", port=9000)
    assert base_url(echo) == "http://10.1.2.3:9000/api"
    monkeypatch.setenv("PYM_CLIENT_ECHO_URL", f"http://127.0.0.1:{echo_server[1].port}")
    assert base_url(echo) == f"http://127.0.0.1:{echo_server[1].port}/api"
    assert echo.client.echo(word="env").word == "env"  # the env var wins over ApiPool.add
    monkeypatch.setenv("PYM_CLIENT_ECHO_URL", "https://gw.example.com/echo-v2")
    assert base_url(echo) == "https://gw.example.com/echo-v2"
    settings = client_settings(echo)
    assert (settings["connect_timeout"], settings["read_timeout"], settings["retries"]) == (
        3.0,
        10.0,
        2,
    )
    assert settings["verify_ssl"] is True


def test_apipool_add_settings(echo):
    from pymacaron.apipool import ApiPool
    from pymacaron.client import ClientConfigError, base_url, client_settings

    echo.client_settings.clear()
    # pymacaron-core's ApiPool.add(name, timeout=..., error_callback=...) keeps working
    ApiPool.add("echo", host="https://gw.example.com:8443", timeout=4.5, error_callback=print)
    assert client_settings(echo)["read_timeout"] == 4.5
    assert base_url(echo) == "https://gw.example.com:8443/api"
    ApiPool.add("echo", base_path="", proto="http")
    assert base_url(echo) == "http://gw.example.com:8443"
    echo.client_settings["bogus"] = 1
    with pytest.raises(ClientConfigError, match=r"ApiPool.add\('echo'\): unknown client setting"):
        echo.client.echo(word="x")


def test_config_clients_section(echo, tmp_path, echo_server):
    from pymacaron import config
    from pymacaron.client import base_url, client_settings

    (tmp_path / "pym-config.yaml").write_text(
        ECHO_CONFIG
        + "client_read_timeout: 7.5\nclients:\n  echo:\n"
        + f"    host: 127.0.0.1\n    port: {echo_server[1].port}\n    retries: 0\n"
    )
    config.set_config(config.load_config(path=str(tmp_path / "pym-config.yaml")))
    echo.client_settings.clear()
    assert base_url(echo) == f"http://127.0.0.1:{echo_server[1].port}/api"
    settings = client_settings(echo)
    assert (settings["read_timeout"], settings["retries"]) == (7.5, 0)
    assert echo.client.echo(word="conf").word == "conf"


def test_no_host_is_a_clear_error(echo, tmp_path):
    from pymacaron.apipool import load_api
    from pymacaron.client import ClientConfigError

    spec = ECHO_SPEC.replace("host: echo.invalid\n", "").replace("Echo,", "Hostless,")
    (tmp_path / "hostless.yaml").write_text(spec)
    api = load_api(str(tmp_path / "hostless.yaml"))
    with pytest.raises(ClientConfigError, match="PYM_CLIENT_HOSTLESS_URL"):
        api.client.echo(word="x")


# -- failures, timeouts and retries against real sockets --------------------------------------
def test_stalled_post_is_not_retried(echo, raw):
    server = raw("stall")
    point(echo, server.port, read_timeout=0.3, retries=2, retry_backoff=0.05)
    started = time.monotonic()
    err = echo.client.add_item({"name": "x"})
    elapsed = time.monotonic() - started
    assert (err.status, err.error) == (504, "DOWNSTREAM_TIMEOUT")
    assert "echo.add_item: POST http://127.0.0.1" in err.error_description
    assert server.requests == 1, "a POST that may have reached the server must not be resent"
    assert 0.3 <= elapsed < 1.2


def test_stalled_get_is_retried_within_its_budget(echo, raw):
    server = raw("stall")
    point(echo, server.port, read_timeout=0.25, retries=2, retry_backoff=0.05)
    started = time.monotonic()
    err = echo.client.echo(word="x")
    elapsed = time.monotonic() - started
    assert err.error == "DOWNSTREAM_TIMEOUT"
    assert "after 3 attempts" in err.error_description
    assert server.requests == 3
    assert 3 * 0.25 <= elapsed < 3 * 0.25 + 0.15 + 1.0  # 3 reads + backoffs + slack


def test_per_call_timeout_override(echo, raw):
    server = raw("stall")
    point(echo, server.port, read_timeout=5, retries=0)
    started = time.monotonic()
    err = echo.client.echo(word="x", read_timeout=0.2)
    assert err.error == "DOWNSTREAM_TIMEOUT"
    assert time.monotonic() - started < 1.5
    err = echo.client.echo(word="x", timeout=(1, 0.2), retries=1)
    assert err.error == "DOWNSTREAM_TIMEOUT" and server.requests == 3


@pytest.mark.parametrize("method,attempts", [("get", 3), ("post", 1)])
def test_dropped_connection_retried_only_when_idempotent(echo, raw, method, attempts):
    server = raw("drop")
    point(echo, server.port, retries=2, retry_backoff=0.02)
    if method == "get":
        err = echo.client.echo(word="x")
    else:
        err = echo.client.add_item({"name": "x"})
    assert (err.status, err.error) == (503, "DOWNSTREAM_UNAVAILABLE")
    assert "connection" in err.error_description
    assert server.requests == attempts


@pytest.mark.parametrize("call", ["get", "post"])
def test_refused_connection_is_retried_for_any_method(echo, raw, call):
    reply = http_reply("200 OK", b'{"word": "late"}')
    if call == "post":
        reply = http_reply("201 Created", b'{"name": "late"}')
    server = raw("reply", reply=reply, start_after=0.3)
    point(echo, server.port, retries=4, retry_backoff=0.15)
    result = echo.client.echo(word="x") if call == "get" else echo.client.add_item({"name": "x"})
    assert not result.is_error(), result
    assert server.requests == 1


def test_refused_get_gives_up_within_the_configured_budget(echo):
    port = free_port()  # nothing listens there
    point(echo, port, retries=3, retry_backoff=0.1)
    started = time.monotonic()
    err = echo.client.echo(word="x")
    elapsed = time.monotonic() - started
    assert (err.status, err.error) == (503, "DOWNSTREAM_UNAVAILABLE")
    assert "connection refused (after 4 attempts" in err.error_description
    assert 0.8 * (0.1 + 0.2 + 0.4) <= elapsed < 0.7 + 1.0
    assert uuid.UUID(err.error_id)


@pytest.mark.parametrize(
    "reply,code,fragment",
    [
        (http_reply("200 OK", b'{"n": 1}'), "DOWNSTREAM_BAD_RESPONSE", "response.word"),
        (
            http_reply("200 OK", b"<html>hi</html>", "text/html"),
            "DOWNSTREAM_BAD_RESPONSE",
            "not JSON",
        ),
        (http_reply("502 Bad Gateway", b"<h1>nginx</h1>", "text/html"), "DOWNSTREAM_ERROR", "502"),
    ],
)
def test_invalid_replies_become_errors(echo, raw, reply, code, fragment):
    server = raw("reply", reply=reply)
    point(echo, server.port, retries=0)
    err = echo.client.echo(word="x")
    assert err.is_error() and err.error == code
    assert fragment in err.error_description
    assert err.status == 502


def self_signed_context(tmp_path) -> ssl.SSLContext:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_https_is_verified_by_default(echo, raw, tmp_path):
    server = raw(
        "reply", reply=http_reply("200 OK", b'{"word": "tls"}'), tls=self_signed_context(tmp_path)
    )
    point(echo, server.port, proto="https", retries=2)
    err = echo.client.echo(word="x")
    assert err.error == "DOWNSTREAM_UNAVAILABLE"
    assert "TLS certificate verification failed" in err.error_description
    assert server.requests == 0 and server.connections == 1  # not retried, nothing sent
    point(echo, server.port, proto="https", verify_ssl=False)
    assert echo.client.echo(word="x").word == "tls"


def test_x_decorate_request_wraps_the_sender(echo_server, tmp_path):
    """A decorator written for the original (wrapping the requests call) still works."""
    from flask import Flask

    from pymacaron import API, config
    from pymacaron.apipool import ApiPool

    root, server = echo_server
    (tmp_path / "mydecorators.py").write_text(
        textwrap.dedent(
            """
            def tag(f):
                def wrapper(*args, **kwargs):
                    kwargs["headers"]["X-Tag"] = "from-decorator"
                    return f(*args, **kwargs)
                return wrapper
            """
        )
    )
    spec = ECHO_SPEC.replace(
        "x-bind-client: echo\n", "x-bind-client: echo\n      x-decorate-request: mydecorators.tag\n"
    )
    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "echo.yaml").write_text(spec)
    sys.path.insert(0, str(tmp_path))
    reset_pymacaron()
    try:
        config.set_config(config.load_config(path=os.path.join(root, "pym-config.yaml")))
        API(Flask("deco")).load_clients(path=str(tmp_path / "apis"))
        ApiPool.add("echo", host="127.0.0.1", port=server.port)
        assert ApiPool.echo.client.echo(word="x").tag == "from-decorator"
    finally:
        sys.path.remove(str(tmp_path))
        reset_pymacaron()
