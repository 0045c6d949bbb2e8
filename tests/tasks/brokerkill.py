"""Redis killed (SIGKILL) during enqueue load, restarted on its data: is every task whose
enqueue was acknowledged run? :func:`redis_kills` runs a real Redis (AOF, ``appendfsync
always``: docs/tasks.md), a real Celery worker of tests/tasks/service and a publisher
process enqueueing ``record`` tasks, kills Redis ``kills`` times, then waits for the queue
to drain and counts the acknowledged tasks that never ran."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import redis

from .tasks_helpers import REPO, SERVICE, free_port

PUBLISHER = r"""
import os, sys, time
sys.path.insert(0, os.environ["PYM_SERVICE_DIR"])
from pymacaron.config import set_service_dir
set_service_dir(os.environ["PYM_SERVICE_DIR"])
from jobs.tasks import record
i = 0
stop = time.monotonic() + float(sys.argv[1])
while time.monotonic() < stop:
    value = f"bk-{i}"
    try:
        record.enqueue(value, None)
        print("ack", value, flush=True)
    except Exception as e:
        print("fail", value, type(e).__name__, flush=True)
    i += 1
    time.sleep(0.005)
"""


class Redis:
    """redis-server with AOF (appendfsync always) on one port and one data directory."""

    def __init__(self, workdir: str, port: int):
        self.workdir, self.port, self.proc = workdir, port, None

    def start(self) -> Redis:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                self.workdir,
                "--protected-mode",
                "yes",
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(host="127.0.0.1", port=self.port)
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                return self
            except (redis.ConnectionError, redis.exceptions.BusyLoadingError):
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.02)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@contextlib.contextmanager
def redis_service(port: int | None = None):
    """A Redis of :class:`Redis` in a scratch directory and the environment of the test
    service's processes using it as their broker; yields (redis, env, effects dir)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        os.makedirs(out)
        port = port or free_port()
        server = Redis(tmp, port).start()
        env = {
            **os.environ,
            "JOBS_OUT": out,
            "JWT_SECRET": os.environ.get("JWT_SECRET") or "brokerkill-secret",
            "PYM_BROKER_URL": f"redis://127.0.0.1:{port}/0",
            "PYM_SERVICE_DIR": SERVICE,
            "PYTHONPATH": os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")])),
        }
        env.pop("PYM_ENV", None)
        try:
            yield server, env, out
        finally:
            server.stop()


def _ran(out_dir: str) -> set[str]:
    path = os.path.join(out_dir, "effects.jsonl")
    if not os.path.exists(path):
        return set()
    with open(path) as f:  # whole lines only: a task may be writing the last one now
        return {json.loads(line)["value"] for line in f if line.endswith("\n") and line.strip()}


def _stop(worker: subprocess.Popen) -> None:
    try:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(5)


def redis_kills(kills: int = 10, every: float = 1.5, drain: float = 45.0) -> dict:
    """Kill Redis ``kills`` times, ``every`` s apart, under enqueue load; the counts.
    The worker runs under the image's supervisor: a consumer that stalls after the kills
    (celery#9054, #10205) is replaced by the watchdog (tasks/watchdog.py), not by the test."""
    with redis_service() as (server, env, out):
        tmp = os.path.dirname(out)
        worker_log = open(os.path.join(tmp, "worker.log"), "wb")  # noqa: SIM115

        def start_worker():
            return subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "pymacaron.tasks.supervise",
                    sys.executable,
                    "-c",
                    "import time; time.sleep(600)",
                ],
                cwd=SERVICE,
                env={
                    **env,
                    "PYM_WORKER_CONCURRENCY": "2",
                    "PYM_WORKER_STALL_SECONDS": "8",
                    "PYM_WORKER_WATCHDOG_INTERVAL": "1",
                },
                stdout=worker_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        worker = start_worker()
        load_seconds = kills * every + 2
        publisher = subprocess.Popen(
            [sys.executable, "-c", PUBLISHER, str(load_seconds)],
            cwd=SERVICE,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            time.sleep(1.0)
            for _ in range(kills):
                time.sleep(every)
                server.kill()
                time.sleep(0.2)
                server.start()
            lines = publisher.communicate(timeout=load_seconds + 60)[0].splitlines()
            acked = {line.split()[1] for line in lines if line.startswith("ack ")}
            deadline = time.monotonic() + drain
            while time.monotonic() < deadline and not acked <= _ran(out):
                time.sleep(0.5)
            ran = _ran(out)
        finally:
            if publisher.poll() is None:
                publisher.kill()
            _stop(worker)
            worker_log.close()
            with open(os.path.join(tmp, "worker.log"), "rb") as f:
                worker_text = f.read().decode("utf-8", "replace")
                worker_tail = "\n".join(
                    line
                    for line in worker_text.splitlines()
                    if "pymacaron.tasks:" not in line
                    and "celery.app.trace" not in line
                    and "strategy" not in line
                )[-6000:]
        lost = sorted(acked - ran, key=lambda v: int(v.split("-")[1]))
        return {
            "kills": kills,
            "stalled_workers_replaced": worker_text.count("worker stalled (code"),
            "acknowledged": len(acked),
            "failed_enqueues": sum(1 for line in lines if line.startswith("fail ")),
            "ran": len(acked & ran),
            "lost": len(lost),
            "lost_values": lost[:20],
            "worker_log_tail": worker_tail if lost else "",
        }


if __name__ == "__main__":
    print(json.dumps(redis_kills(int(sys.argv[1]) if len(sys.argv) > 1 else 10)))


ENQUEUE_ONE = r"""
import os, sys
sys.path.insert(0, os.environ["PYM_SERVICE_DIR"])
from pymacaron.config import set_service_dir
set_service_dir(os.environ["PYM_SERVICE_DIR"])
from jobs.tasks import record
record.enqueue(sys.argv[1], None)
"""


def handover_lost(value: str = "handover-lost", wait: float = 30.0) -> bool:
    """The crash window itself, made certain: a task is enqueued, its message is taken off
    the queue as BRPOP does and never recorded as unacked (the crash), then a worker starts;
    True when the task still runs within ``wait`` s."""
    with redis_service() as (server, env, out):
        worker = None
        try:
            subprocess.run(
                [sys.executable, "-c", ENQUEUE_ONE, value], cwd=SERVICE, env=env, check=True
            )
            client = redis.Redis(host="127.0.0.1", port=server.port)
            assert client.rpop("jobs-tasks") is not None, "the message was not on the queue"
            worker = subprocess.Popen(
                [sys.executable, "-m", "pymacaron.tasks.worker", "--dir", SERVICE],
                cwd=SERVICE,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if value in _ran(out):
                    return True
                time.sleep(0.3)
            return False
        finally:
            if worker is not None:
                _stop(worker)


REPUBLISH_FAILS_ONCE = r"""
import json, os, sys
sys.path.insert(0, os.environ["PYM_SERVICE_DIR"])
from pymacaron.config import set_service_dir
set_service_dir(os.environ["PYM_SERVICE_DIR"])
from pymacaron.tasks import engine
from pymacaron.tasks.outbox import reconcile
from jobs.tasks import record

record.enqueue(sys.argv[1], None)
box = engine.outbox()
s = engine.settings()
box.client.delete(s.task_queue)  # the message is gone from the queue: only the outbox has it
box.redeliver_after = -1.0  # due now
app = engine.celery_app()
real = app.send_task

def refused(*a, **k):  # the broker refuses this one send (a fault injected here)
    raise ConnectionError("broker restarting")

app.send_task = refused
try:
    reconcile(box, engine.publish)
    first = "no error"
except Exception as e:
    first = type(e).__name__
kept = len(box.client.hkeys(box.key))
app.send_task = real
again = reconcile(box, engine.publish)
print(json.dumps({"first": first, "kept": kept, "again": again,
                  "queued": box.client.llen(s.task_queue)}))
"""


def republish_after_a_failed_send(value: str = "republish-1") -> dict:
    """The outbox's re-publish of an acknowledged task meets a broker that refuses the send
    once (injected); what the outbox holds after it, and what the next round does."""
    with redis_service() as (server, env, out):
        proc = subprocess.run(
            [sys.executable, "-c", REPUBLISH_FAILS_ONCE, value],
            cwd=SERVICE, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return json.loads(proc.stdout.strip().splitlines()[-1])
