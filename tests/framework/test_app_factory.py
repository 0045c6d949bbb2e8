"""The app factory: create_app builds a ready app, its state lives on the app (two apps in one
process keep their own error hooks), a two-line server.py serves, and the v1 API sits on it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from flask import Flask

import pymacaron
from pymacaron import API, create_app
from pymacaron.app import Service, current_service
from tests.conftest import FIXTURES, REPO, LiveServer, free_port, reset_pymacaron

LIBRARY = os.path.join(FIXTURES, "library_service")


class Reports:
    """An error_reporter that counts the reports it gets."""

    def __init__(self):
        self.titles: list[str] = []
        self.got = threading.Event()

    def __call__(self, title, data):
        self.titles.append(title)
        self.got.set()


@pytest.fixture(autouse=True)
def _fresh():
    reset_pymacaron()
    yield
    reset_pymacaron()


def test_create_app_returns_a_ready_app_with_its_service():
    app = create_app(LIBRARY)
    service = app.extensions["pymacaron"]
    assert isinstance(service, Service)
    assert service.dir == LIBRARY and service.served == ["library"]
    assert service.config.name == "library"
    client = app.test_client()
    assert client.get("/ping").get_json() == {}
    assert client.get("/version").get_json()["apis"] == ["library"]
    assert client.get("/api/v2/books/missing").status_code == 404
    # a file names its directory: create_app(__file__) in server.py
    assert create_app(os.path.join(LIBRARY, "server.py")).extensions["pymacaron"].dir == LIBRARY


def test_two_apps_in_one_process_report_to_their_own_reporters():
    first, second = Reports(), Reports()
    app1 = create_app(LIBRARY, error_reporter=first, error_callback=lambda b: {"one": b["error"]})
    app2 = create_app(LIBRARY, error_reporter=second)
    c1, c2 = app1.test_client(), app2.test_client()
    assert c1.get("/api/v2/crash").status_code == 500
    assert first.got.wait(5)
    app1.extensions["pymacaron"].hooks.reporter.flush()
    app2.extensions["pymacaron"].hooks.reporter.flush()
    assert len(first.titles) == 1 and second.titles == []
    for _ in range(2):
        assert c2.get("/api/v2/crash").status_code == 500
    assert second.got.wait(5)
    app2.extensions["pymacaron"].hooks.reporter.flush()
    assert len(first.titles) == 1 and len(second.titles) == 2
    # each app renders errors with its own error_callback (the second has none)
    assert c1.get("/nowhere").get_json() == {"one": "NOT_FOUND"}
    assert c2.get("/nowhere").get_json()["error"] == "NOT_FOUND"


def test_two_v1_apps_keep_their_own_hooks():
    """The same through the v1 API: API(app, error_reporter=...) is per app, not global."""
    first, second = Reports(), Reports()
    apps = []
    for reporter in (first, second):
        app = Flask(f"v1-{len(apps)}")
        api = API(app, error_reporter=reporter)
        api.load_apis(os.path.join(LIBRARY, "apis"))
        api.start(serve="library")
        apps.append(app)
    assert apps[0].test_client().get("/api/v2/crash").status_code == 500
    assert first.got.wait(5)
    apps[1].extensions["pymacaron"].hooks.reporter.flush()
    assert len(first.titles) == 1 and second.titles == []


def test_load_clients_keeps_the_services_hooks():
    """pymacaron.load_clients() once built a throwaway API(...) that reset the hooks to None."""
    reports = Reports()
    app = create_app(LIBRARY, error_reporter=reports, error_callback=lambda b: {"c": b["error"]})
    pymacaron.load_clients(os.path.join(LIBRARY, "apis"), apis=["library"])
    API(Flask("other")).load_clients(os.path.join(LIBRARY, "apis"))
    assert pymacaron.ApiPool.library.client is not None
    client = app.test_client()
    assert client.get("/nowhere").get_json() == {"c": "NOT_FOUND"}
    assert client.get("/api/v2/crash").status_code == 500
    assert reports.got.wait(5)
    assert reports.titles[0].startswith("500 UNHANDLED_SERVER_ERROR")


def test_apipool_and_models_stay_process_wide_views():
    app = create_app(LIBRARY)
    service = app.extensions["pymacaron"]
    assert pymacaron.ApiPool.library is service.apis["library"]
    book = pymacaron.ApiPool.library.model.Book
    from pymacaron.models import Book

    assert Book is book
    assert pymacaron.ApiPool.served == ["library"]
    with app.app_context():
        assert current_service() is service


def test_create_app_raises_startup_errors_from_a_function(tmp_path):
    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "ping.yaml").write_text("swagger: '2.0'\ninfo: {title: t, version: '1'}\n")
    with pytest.raises(pymacaron.exceptions.StartupError, match="no pym-config file here"):
        create_app(str(tmp_path))
    (tmp_path / "pym-config.yaml").write_text("name: svc\n")
    with pytest.raises(pymacaron.exceptions.StartupError, match="built-in API"):
        create_app(str(tmp_path))


TWO_LINES = (  # the server.py of `pym new`: serving is explicit (issue 28)
    "from pymacaron import create_app, run\napp = create_app(__file__)\n"
    'if __name__ == "__main__":\n    run(app)\n'
)


def _two_line_service(root) -> str:
    """A copy of the library service whose server.py is the two lines of `pym new`."""
    import shutil

    dest = root / "svc"
    shutil.copytree(LIBRARY, dest, ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "server.py").write_text(TWO_LINES)
    return str(dest)


def test_a_two_line_server_py_serves_and_checks(tmp_path):
    service = _two_line_service(tmp_path)
    port = free_port()
    env = {"PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    server = LiveServer([sys.executable, "server.py", "--port", str(port)], service, port, env=env)
    try:
        server.wait()
        import requests

        r = requests.get(f"{server.url}/version", timeout=5)
        assert r.json()["apis"] == ["library"]
        assert r.headers["X-Content-Type-Options"] == "nosniff" and r.headers["X-Request-ID"]
    finally:
        server.stop()
    check = subprocess.run(
        [sys.executable, "-m", "pymacaron", "check", "--dir", service],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith("ok: ")


def test_a_two_line_server_py_with_a_broken_spec_says_one_line(tmp_path):
    service = _two_line_service(tmp_path)
    spec = os.path.join(service, "apis", "library.yaml")
    with open(spec) as f:
        text = f.read().replace("library.handlers.crash", "library.handlers.no_such")
    with open(spec, "w") as f:
        f.write(text)
    run = subprocess.run(
        [sys.executable, "server.py", "--port", str(free_port())],
        cwd=service,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    lines = [line for line in run.stderr.splitlines() if line.startswith("pymacaron:")]
    assert len(lines) == 1 and "cannot start" in lines[0], run.stderr
    assert "Traceback" not in run.stderr


def test_two_apps_in_one_process_read_their_own_config(tmp_path, monkeypatch):
    """get_config() in a request is the serving app's: a token for one service's audience
    is refused by the other, whichever app was created last."""
    import shutil

    from pymacaron.auth import generate_token

    monkeypatch.setenv("JWT_SECRET", "one-secret-for-both")
    apps = []
    for audience in ("library-a", "library-b"):
        root = tmp_path / audience
        shutil.copytree(LIBRARY, root, ignore=shutil.ignore_patterns("__pycache__"))
        conf = (root / "pym-config.yaml").read_text()
        (root / "pym-config.yaml").write_text(conf.replace("library-users", audience))
        apps.append(create_app(str(root)))
    tokens = []
    for app in apps:
        with app.app_context():
            assert (
                pymacaron.get_config().jwt_audience
                == app.extensions["pymacaron"].config.jwt_audience
            )
            tokens.append(generate_token("alice"))
    for i, app in enumerate(apps):
        client = app.test_client()
        own = client.get("/auth/version", headers={"Authorization": f"Bearer {tokens[i]}"})
        other = client.get("/auth/version", headers={"Authorization": f"Bearer {tokens[1 - i]}"})
        assert own.status_code == 200, own.get_json()
        assert other.status_code == 401 and other.get_json()["error"] == "TOKEN_INVALID"
