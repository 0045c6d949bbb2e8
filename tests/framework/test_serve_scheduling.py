"""`python -m pymacaron.serve` runs the server, its workers and their threads under
SCHED_BATCH (run/serve.py), unless PYM_SCHED_BATCH=0: checked on a real granian server."""

from __future__ import annotations

import os
import sys

import pytest
import requests

from tests.conftest import REPO, LiveServer, free_port

SHIPPED = [sys.executable, "-m", "pymacaron.serve"]


def _policies(pid: int) -> set[int]:
    """The scheduling policy of every thread of ``pid`` and of its child processes."""
    pids, found = [pid], set()
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/children") as f:
            pids += [int(c) for c in f.read().split()]
    for p in pids:
        for tid in os.listdir(f"/proc/{p}/task"):
            with open(f"/proc/{p}/task/{tid}/stat") as f:
                found.add(int(f.read().rsplit(")", 1)[1].split()[38]))  # field 41: policy
    return found


@pytest.mark.parametrize(
    ("setting", "policy"), [(None, os.SCHED_BATCH), ("0", os.SCHED_OTHER)], ids=["batch", "off"]
)
def test_the_shipped_server_runs_under_batch_scheduling(tmp_path, setting, policy):
    # the server inherits this process's policy: off means "as the parent", the default here
    assert os.sched_getscheduler(0) == os.SCHED_OTHER, "the test runner itself is not default"
    port = free_port()
    env = {
        "PETSHOP_DB": str(tmp_path / "petshop.sqlite3"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
    }
    if setting is not None:
        env["PYM_SCHED_BATCH"] = setting
    server = LiveServer(
        SHIPPED, cwd=REPO, port=port, env=env, log_path=str(tmp_path / "server.log")
    ).wait()
    try:
        assert requests.get(server.url + "/ping", timeout=10).status_code == 200
        assert os.sched_getscheduler(server.proc.pid) == policy
        policies = _policies(server.proc.pid)
        assert policies == {policy}, policies  # the workers and every thread inherit it
    finally:
        server.stop()
