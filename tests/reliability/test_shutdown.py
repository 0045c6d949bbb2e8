"""Deploys and crashes: gunicorn (the image's gunicorn.conf.py) serving tests/fixtures/fuzz_service.

- SIGTERM to the master while requests are in flight (GET /slow): every request already
  accepted completes with its correct reply, and the master exits within the graceful timeout.
- SIGKILL to one worker mid-request: the master starts a replacement that answers, requests
  held by the other worker complete, and the service keeps answering.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import requests

from .support import FUZZ_SERVICE, GUNICORN_CONF, child_pids, start_gunicorn

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability")]

GRACEFUL = 5  # seconds (tests/conftest.gunicorn_cmd passes --graceful-timeout 5)


def serve(workers: int = 2):
    return start_gunicorn(FUZZ_SERVICE, workers=workers, extra=["-c", GUNICORN_CONF])


def wait_for(predicate, timeout: float, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


def test_sigterm_completes_every_request_in_flight():
    server = serve()
    slow_ms = 1000
    count = 12
    results: list = [None] * count

    def call(i):
        try:
            reply = requests.get(f"{server.url}/api/v1/slow?ms={slow_ms}", timeout=GRACEFUL + 5)
            results[i] = (reply.status_code, reply.json())
        except Exception as e:  # counted as a lost request
            results[i] = ("error", repr(e))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(count)]
    try:
        for t in threads:
            t.start()
        time.sleep(0.5)  # every request accepted, none finished
        assert all(r is None for r in results), results
        started = time.monotonic()
        os.kill(server.proc.pid, signal.SIGTERM)
        code = server.proc.wait(timeout=GRACEFUL + 5)
        exited_after = time.monotonic() - started
        for t in threads:
            t.join(GRACEFUL + 5)
        log = server.output()
    finally:
        server.stop()
    print(f"SIGTERM: {count} requests in flight, master exited after {exited_after:.2f}s")
    failed = [r for r in results if r is None or r[0] != 200]
    assert not failed, f"{len(failed)} of {count} lost: {failed}\n{log[-3000:]}"
    assert all(r[1]["slept_ms"] == slow_ms for r in results)
    assert exited_after < GRACEFUL + 1, exited_after
    assert code == 0, log[-3000:]
    assert "Traceback" not in log


def test_a_killed_worker_is_replaced_and_the_other_keeps_serving():
    server = serve()
    sessions: list[tuple[requests.Session, int]] = []
    try:
        workers = wait_for(lambda: len(child_pids(server.proc.pid)) == 2, 10)
        assert workers, "gunicorn did not start 2 workers"
        original = set(child_pids(server.proc.pid))
        # keep-alive connections stay on the worker that accepted them: learn which one
        for _ in range(40):
            session = requests.Session()
            pid = session.get(f"{server.url}/api/v1/whoami", timeout=5).json()["pid"]
            sessions.append((session, pid))
            by_pid = {p: sum(1 for _, q in sessions if q == p) for p in original}
            if min(by_pid.values()) >= 2 and len(sessions) >= 6:
                break
        by_pid = {p: sum(1 for _, q in sessions if q == p) for p in original}
        assert min(by_pid.values()) >= 1, f"connections all landed on one worker: {by_pid}"
        victim = max(by_pid, key=by_pid.get)
        survivor = next(p for p in original if p != victim)

        results: dict[int, tuple] = {}

        def call(i, session):
            try:
                reply = session.get(f"{server.url}/api/v1/slow?ms=1000", timeout=10)
                results[i] = (reply.status_code, reply.json().get("pid"))
            except requests.RequestException as e:
                results[i] = ("error", type(e).__name__)

        threads = [threading.Thread(target=call, args=(i, s)) for i, (s, _) in enumerate(sessions)]
        for t in threads:
            t.start()
        time.sleep(0.4)
        os.kill(victim, signal.SIGKILL)
        for t in threads:
            t.join(15)

        on_survivor = [results[i] for i, (_, p) in enumerate(sessions) if p == survivor]
        on_victim = [results[i] for i, (_, p) in enumerate(sessions) if p == victim]
        print(
            f"SIGKILL worker {victim}: {len(on_victim)} requests on it, "
            f"{len(on_survivor)} on worker {survivor}: {on_survivor}"
        )
        assert on_survivor and all(r == (200, survivor) for r in on_survivor), on_survivor
        assert all(r[0] == "error" for r in on_victim), on_victim  # died with it, not answered

        replacement = wait_for(
            lambda: [p for p in child_pids(server.proc.pid) if p not in original], 15
        )
        assert replacement, "the master did not replace the killed worker"
        new_pid = replacement[0]

        def new_worker_answers():
            pid = requests.get(f"{server.url}/api/v1/whoami", timeout=5).json()["pid"]
            return pid == new_pid

        assert wait_for(new_worker_answers, 15, step=0.01), "the new worker never answered"
        replies = [requests.get(f"{server.url}/api/v1/slow?ms=0", timeout=5) for _ in range(30)]
        assert all(r.status_code == 200 for r in replies)
        assert server.proc.poll() is None
    finally:
        for session, _ in sessions:
            session.close()
        server.stop()
