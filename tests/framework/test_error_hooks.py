"""error_callback renders every error in the service's own model; error_reporter gets 5xx."""

import os
import threading

from pymacaron.server.replies import handling
from tests.conftest import FIXTURES, build_app

LIBRARY = os.path.join(FIXTURES, "library_service")


def test_error_callback_renders_framework_and_custom_errors():
    def render(error):
        return {"code": error["error"], "message": error["error_description"]}

    client = build_app(LIBRARY, error_callback=render).test_client()
    for method, path, status, code in [
        ("get", "/nowhere", 404, "NOT_FOUND"),
        ("delete", "/api/v2/crash", 405, "METHOD_NOT_ALLOWED"),
        ("get", "/api/v2/books?pageSize=0", 400, "INVALID_PARAMETER"),
        ("get", "/api/v2/books/missing", 404, "BOOK_NOT_FOUND"),
        ("get", "/api/v2/crash", 500, "UNHANDLED_SERVER_ERROR"),
    ]:
        r = getattr(client, method)(path)
        assert r.status_code == status
        body = r.get_json()
        assert set(body) == {"code", "message"} and body["code"] == code


def test_error_reporter_gets_5xx_only_off_the_request_thread():
    seen = []
    done = threading.Event()

    def reporter(title, data):
        seen.append((title, data, threading.current_thread().name))
        done.set()

    client = build_app(LIBRARY, error_reporter=reporter).test_client()
    assert client.get("/api/v2/books/missing").status_code == 404
    r = client.get("/api/v2/crash", headers={"X-Request-ID": "rep-1"})
    assert done.wait(5)
    handling.reporter.flush()
    assert len(seen) == 1
    title, data, thread = seen[0]
    assert title.startswith("500 UNHANDLED_SERVER_ERROR")
    assert data["error_id"] == r.get_json()["error_id"] and data["request_id"] == "rep-1"
    assert "RuntimeError" in data["traceback"]
    assert thread != threading.current_thread().name
