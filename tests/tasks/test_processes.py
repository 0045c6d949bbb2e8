"""One command runs everything: the dev server starts a worker; the image's supervisor too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.conftest import table_prefix

from .tasks_helpers import REPO, SERVICE, LiveServer, free_port, gunicorn_cmd

pytestmark = pytest.mark.slow


def _children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie is not alive
        return f.read().split(")")[-1].split()[0] != "Z"


def test_dev_server_with_async_starts_a_worker_and_acceptance_observes_the_task(jobs_env, tmp_path):
    """`python server.py` of the example with with_async on, then its acceptance test."""
    port = free_port()
    env = {
        "PYM_WITH_ASYNC": "1",
        "PYM_BROKER_URL": jobs_env.broker_url,
        "PYM_DYNAMODB_TABLE_PREFIX": table_prefix("tasks"),
        "PYM_ENV": "dev",
    }
    server = LiveServer(
        [sys.executable, "server.py", "--port", str(port)],
        cwd=REPO,
        port=port,
        env=env,
        log_path=str(tmp_path / "dev.log"),
    )
    try:
        server.wait()
        deadline = time.monotonic() + 30
        while "ready." not in server.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        log = server.output()
        assert "with_async: task worker started" in log
        assert f"broker {jobs_env.broker_url}, queue 'petshop-tasks'" in log  # says where
        [worker_pid] = _children_of(server.proc.pid)
        from pymacaron.auth import generate_token
        from pymacaron.config import load_config, set_config

        set_config(load_config(service_dir=REPO))
        try:
            token = generate_token("acceptance-tester", expire_in=600)
        finally:
            set_config(None)
        accept = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "testaccept/test_notifications.py",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=90,
            env={
                **os.environ,
                "PYM_SERVER_HOST": "127.0.0.1",
                "PYM_SERVER_PORT": str(port),
                "PYM_JWT_TOKEN": token,
            },
        )
        assert accept.returncode == 0, accept.stdout + accept.stderr
        log = server.output()
        assert "enqueued task petshop.notifications:notify_order_placed" in log
        assert "notify_order_placed id=" in log and " done" in log  # run by the worker
    finally:
        server.stop()  # SIGTERM: the dev server stops its worker too
    deadline = time.monotonic() + 15
    while _alive(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker_pid)


def test_supervisor_runs_server_and_worker_and_stops_both(jobs_env, tmp_path, auth_headers):
    """The image's entrypoint: gunicorn + worker; SIGTERM stops both, exit code 0."""
    port = free_port()
    cmd = [sys.executable, "-m", "pymacaron.tasks.supervise", *gunicorn_cmd(port, workers=1)]
    server = LiveServer(
        cmd, cwd=SERVICE, port=port, env=jobs_env.env, log_path=str(tmp_path / "supervise.log")
    )
    try:
        server.wait()
        children = _children_of(server.proc.pid)
        assert len(children) == 2  # gunicorn and the worker
        r = requests.post(
            server.url + "/jobs",
            json={"kind": "record", "value": "supervised"},
            headers=auth_headers,
            timeout=10,
        )
        assert r.status_code == 202, r.text
        [effect] = jobs_env.wait_for(
            lambda: jobs_env.effects("record", "supervised"), 30, "the supervised worker"
        )
        assert effect["in_task"] is True and effect["pid"] not in children
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(40) == 0
        assert not any(_alive(pid) for pid in children)
    finally:
        server.stop()


def test_supervisor_without_async_execs_the_server(tmp_path):
    """with_async off: no supervisor left behind, the server command is the process."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pymacaron.tasks.supervise",
            sys.executable,
            "-c",
            "import os; print(os.getpid())",
        ],
        cwd=SERVICE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYM_WITH_ASYNC": "0", "PYM_SERVICE_DIR": SERVICE},
    )
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert int(out.strip()) == proc.pid  # exec'd: the server is the process (PID 1 in the image)
    assert "started" not in err


def test_supervisor_stops_when_the_worker_dies(jobs_env, tmp_path):
    """Half a service is not kept running: the container exits and is replaced."""
    port = free_port()
    env = {**jobs_env.env, "PYM_BROKER_URL": "sqs://"}  # no queue URLs: the worker refuses
    cmd = [sys.executable, "-m", "pymacaron.tasks.supervise", *gunicorn_cmd(port, workers=1)]
    proc = subprocess.run(
        cmd, cwd=SERVICE, capture_output=True, text=True, timeout=60, env={**os.environ, **env}
    )
    assert proc.returncode != 0
    assert "worker exited with code" in proc.stderr and "stopping the container" in proc.stderr
