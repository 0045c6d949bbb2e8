"""Real Redis, real Celery workers, a real server: the fixtures of tests/tasks.

- ``redis_server`` (session): ``redis-server`` on a free 127.0.0.1 port, no persistence,
  stopped by PID at the end (installed by scripts/setup/system-tools.d/30-redis).
- ``jobs_env``: a fresh output directory and a fresh Redis database (FLUSHDB) per test, the
  environment the server and the workers of tests/tasks/service share.
- ``start_worker``: starts ``python -m pymacaron.tasks.worker`` for the service in its own
  process group (so a SIGKILL reaches its pool processes too); all are stopped by PID.
- ``jobs_server``: gunicorn serving tests/tasks/service on a free port.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import redis

from .tasks_helpers import REPO, SERVICE, LiveServer, free_port, gunicorn_cmd


def pytest_collection_modifyitems(items):
    for item in items:
        if str(item.fspath).startswith(os.path.dirname(__file__)):
            item.add_marker(pytest.mark.xdist_group("tasks"))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed: run scripts/setup/system-tools"
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--protected-mode",
            "yes",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.05)
    yield {"port": port, "client": client, "pid": proc.pid}
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class JobsEnv:
    """What the server and the workers of one test share, and what the test observes."""

    def __init__(self, out_dir: str, broker_url: str, client: redis.Redis):
        self.out_dir = out_dir
        self.broker_url = broker_url
        self.redis = client
        self.env = {
            "JOBS_OUT": out_dir,
            "PYM_BROKER_URL": broker_url,
            "PYM_SERVICE_DIR": SERVICE,
            "PYTHONPATH": os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")])),
        }
        self.env.pop("PYM_ENV", None)

    def _lines(self, name: str) -> list[dict]:
        path = os.path.join(self.out_dir, name)
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def effects(self, kind: str | None = None, value: str | None = None) -> list[dict]:
        return [
            e
            for e in self._lines("effects.jsonl")
            if (kind is None or e["kind"] == kind) and (value is None or e["value"] == value)
        ]

    def reports(self) -> list[dict]:
        return self._lines("reports.jsonl")

    def wait_for(self, predicate, timeout: float = 20.0, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")

    def dead_letters(self, queue: str = "jobs-tasks-dlq") -> list[dict]:
        """The envelopes on the dead-letter queue (a Redis list of Celery messages)."""
        out = []
        for raw in self.redis.lrange(queue, 0, -1):
            message = json.loads(raw)
            import base64

            body = json.loads(base64.b64decode(message["body"]))
            args = body[0]
            out.append(args[0])
        return out


@pytest.fixture(scope="module")
def jobs_env(redis_server, tmp_path_factory):
    """One Redis database and output directory per test module (tests use unique values).

    Never FLUSHDB under running workers: it would delete kombu's queue bindings.
    """
    client = redis_server["client"]
    client.flushdb()
    out = tmp_path_factory.mktemp("jobs-out")
    yield JobsEnv(str(out), f"redis://127.0.0.1:{redis_server['port']}/0", client)


class Worker:
    def __init__(self, env: JobsEnv, log_path: str, queues: str | None = None):
        self.log_path = log_path
        self.log = open(log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pymacaron.tasks.worker",
                "--dir",
                SERVICE,
                "--concurrency",
                "1",
                *(["--queues", queues] if queues else []),
            ],
            cwd=SERVICE,
            env={**os.environ, **env.env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.proc.pid

    def output(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_ready(self, timeout: float = 30.0) -> Worker:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready." in self.output():
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited {self.proc.returncode}:\n{self.output()}")
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready in {timeout}s:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes (its own process group)."""
        if self.proc.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.proc.wait(5)
        else:
            try:  # pool processes left behind by a killed parent
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()


@pytest.fixture(scope="module")
def start_worker(jobs_env, tmp_path_factory):
    """start_worker(queues=None) -> a ready Worker; every one is stopped after the module."""
    workers: list[Worker] = []
    logs = tmp_path_factory.mktemp("worker-logs")

    def start(queues: str | None = None) -> Worker:
        worker = Worker(jobs_env, str(logs / f"worker-{len(workers)}.log"), queues)
        workers.append(worker)
        return worker.wait_ready()

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture(scope="module")
def jobs_server(jobs_env, tmp_path_factory):
    """gunicorn serving tests/tasks/service (one per module)."""
    port = free_port()
    log = str(tmp_path_factory.mktemp("server-log") / "server.log")
    server = LiveServer(
        gunicorn_cmd(port, workers=1), cwd=SERVICE, port=port, env=jobs_env.env, log_path=log
    )
    yield server.wait()
    server.stop()


@pytest.fixture(scope="session")
def auth_headers():
    from pymacaron.auth import generate_token
    from pymacaron.config import load_config, set_config

    set_config(load_config(service_dir=SERVICE))
    try:
        token = generate_token("alice", expire_in=3600)
    finally:
        set_config(None)
    return {"Authorization": f"Bearer {token}"}
