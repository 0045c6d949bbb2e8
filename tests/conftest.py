"""Shared test helpers: build a service in-process, or start a real server on 127.0.0.1."""

from __future__ import annotations

import os
import sys
import time

import pytest
import requests

from pymacaron.testing.runner import (
    free_port,  # noqa: F401  (re-exported to tests)
    start_logged,
    stop_process,
)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO, "tests", "fixtures")
TEST_SECRET = "test-secret-that-is-long-enough-for-hs256!"

# tests/fixtures/ holds services under test (their own testaccept/ suites run against them
# through pym acceptance), never tests of this project
collect_ignore = ["fixtures"]

os.environ.setdefault("JWT_SECRET", TEST_SECRET)

# Journey step times (tests/e2e/journey.py) are appended to this file by whichever xdist
# worker runs the step, and printed at the end of the run by the controller, so that CI's
# own output says how long each step of a user's journey took.
STEP_LOG = "PYM_TEST_STEP_LOG"


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        path = os.path.join(config.rootpath, ".pytest_cache", f"journey-steps-{os.getpid()}.tsv")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "w").close()
        os.environ[STEP_LOG] = path  # inherited by the workers started after this hook
        # Python's bytecode cache on for the run (this machine's shell sets
        # PYTHONDONTWRITEBYTECODE=1; a user's does not): without it every one of the
        # suite's Python processes compiled what it imported from source (the kit's
        # venv, installed --no-compile, compiled aws-cdk-lib's modules in every `pym synth`)
        # and each xdist worker re-ran pytest's assertion rewriting of every test module.
        # Caches land in git-ignored __pycache__/ directories (docs/decisions.md).
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        sys.dont_write_bytecode = False


def pytest_terminal_summary(terminalreporter, config):
    path = os.environ.get(STEP_LOG)
    if hasattr(config, "workerinput") or not path or not os.path.exists(path):
        return
    with open(path) as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.count("\t") == 2]
    os.remove(path)
    if rows:
        terminalreporter.section("journey step times")
        for title, name, seconds in rows:
            terminalreporter.write_line(f"{float(seconds):7.1f} s  [{title}] {name}")


def reset_pymacaron() -> None:
    """Forget loaded APIs, models and config (they are process-wide)."""
    from pymacaron import config, current
    from pymacaron.apipool import ApiPool
    from pymacaron.server.replies import handling

    ApiPool.clear()
    current._last.clear()  # the last service started: not a previous test's
    config.set_config(None)
    config._service_dir = None
    handling.error_callback = None
    handling.error_reporter = None


def build_app(service_dir: str, serve=None, env: str | None = None, **api_kwargs):
    """A Flask app serving the service in ``service_dir`` (in-process, for test clients)."""
    from flask import Flask

    from pymacaron import API

    reset_pymacaron()
    if env:
        os.environ["PYM_ENV"] = env
    else:
        os.environ.pop("PYM_ENV", None)
    if service_dir not in sys.path:
        sys.path.insert(0, service_dir)
    app = Flask("test-" + os.path.basename(service_dir))
    api = API(app, **api_kwargs)
    api.load_apis(os.path.join(service_dir, "apis"))
    api.start(serve=serve)
    return app


class LiveServer:
    """A real server process (gunicorn, python server.py...) on a free 127.0.0.1 port, in
    its own process group (a server and the workers it spawns are stopped together)."""

    def __init__(
        self,
        cmd: list[str],
        cwd: str,
        port: int,
        env: dict | None = None,
        log_path: str | None = None,
    ):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        full_env = {**os.environ, **(env or {})}
        self.log_path = log_path or os.path.join("/tmp", f"pym-live-{port}.log")
        self.log = open(self.log_path, "w+b")  # noqa: SIM115
        self.proc = start_logged(cmd, cwd, full_env, self.log)

    def wait(self, timeout: float = 30.0) -> LiveServer:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: {self.output()}")
            try:
                if requests.get(self.url + "/ping", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not answer /ping in {timeout}s: {self.output()}")

    def output(self) -> str:
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self) -> None:
        stop_process(self.proc, grace=20, group=True)
        self.log.close()


def gunicorn_cmd(port: int, workers: int = 2, module: str = "server:app") -> list[str]:
    return [
        os.path.join(os.path.dirname(sys.executable), "gunicorn"),
        "-c",
        "python:pymacaron.serving",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        "--graceful-timeout",
        "5",
        module,
    ]


@pytest.fixture
def token_for():
    """token_for('alice', **claims) with the test secret of the loaded service."""
    from pymacaron.auth import generate_token

    def make(user: str = "alice", **kwargs) -> str:
        return generate_token(user, **kwargs)

    return make


# -- a real local DynamoDB (dynalite) for every test: x-persist models (the pet shop's) -------
_table_prefixes = iter(range(1, 1_000_000))


def table_prefix(label: str = "t") -> str:
    """A PYM_DYNAMODB_TABLE_PREFIX no other test uses: new, empty tables (made at start)."""
    return f"{label}{next(_table_prefixes)}-{os.getpid()}-"


def fresh_tables(label: str = "t") -> str:
    """Point this process's x-persist models at new, empty tables (created at the next start)."""
    prefix = table_prefix(label)
    os.environ["PYM_DYNAMODB_TABLE_PREFIX"] = prefix
    return prefix


@pytest.fixture(scope="session", autouse=True)
def local_dynamodb(tmp_path_factory):
    """dynalite on 127.0.0.1 (ephemeral port, its own data dir) for the session, stopped by
    handle; PYM_DYNAMODB_URL points every in-process app and child server at it."""
    from pymacaron.persist.local import Dynalite

    if os.environ.get("PYM_DYNAMODB_URL"):  # an already running one
        yield None
        return
    data = tmp_path_factory.mktemp("dynamodb")
    dynalite = Dynalite(str(data / "data"), log_file=str(data / "dynalite.log")).start()
    os.environ["PYM_DYNAMODB_URL"] = dynalite.url
    fresh_tables("s")
    try:
        yield dynalite
    finally:
        dynalite.stop()
        os.environ.pop("PYM_DYNAMODB_URL", None)
