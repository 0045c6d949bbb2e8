"""The access log (accesslog.py): whole lines, none lost, none doubled, flushed at exit."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from pymacaron.server import accesslog
from pymacaron.server.accesslog import PIPE_BUF, json_line, text_line
from pymacaron.server.accesslog import LineWriter as AccessLog
from tests.conftest import FIXTURES, REPO, LiveServer, free_port, gunicorn_cmd

TEXT = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO \[(?P<rid>[\w.:\-]+)\] pymacaron\.access: "
    r"(?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) (?P<ms>\d+\.\d)ms$"
)


def _drain(fd: int, out: list) -> threading.Thread:
    def read():
        while chunk := os.read(fd, 65536):
            out.append(chunk)

    thread = threading.Thread(target=read)
    thread.start()
    return thread


def test_lines_from_many_threads_are_all_there_and_whole():
    r, w = os.pipe()
    out: list[bytes] = []
    reader = _drain(r, out)
    log = AccessLog(fd=w, max_lines=7, interval=0.005)

    def work(t):
        for i in range(500):
            log.write(text_line(time.time(), f"t{t}-{i}", "GET", "/pets/1", "200", 0.25))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))
    log.flush()
    os.close(w)
    reader.join()
    os.close(r)
    lines = b"".join(out).decode().splitlines()
    assert len(lines) == 8 * 500
    assert all(TEXT.match(line) for line in lines)
    assert len({TEXT.match(line)["rid"] for line in lines}) == 8 * 500


def test_each_write_is_whole_lines_within_pipe_buf(monkeypatch):
    writes: list[bytes] = []
    monkeypatch.setattr(AccessLog, "_write", lambda self, data: writes.append(data))
    log = AccessLog(fd=2, max_lines=10_000, interval=60)
    lines = [
        text_line(time.time(), f"r{i}", "POST", "/x" * (i % 90), "201", 1.0) for i in range(900)
    ]
    for line in lines:
        log.write(line)
    log.flush()
    assert b"".join(writes) == b"".join(lines)
    assert len(writes) > 1
    assert all(len(w) <= PIPE_BUF and w.endswith(b"\n") for w in writes)


def test_text_line_is_the_runtime_log_format():
    line = text_line(1764581653.1699, "rid-1", "GET", "/pets/1", "200", 1.234).decode()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(1764581653))
    assert line == f"{stamp},169 INFO [rid-1] pymacaron.access: GET /pets/1 200 1.2ms\n"


def test_json_line_has_the_same_fields():
    line = json_line(1764581653.1699, "rid-1", "GET", '/a"b', "404", 12.345)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {
        "time": "2025-12-01T09:34:13.169Z",
        "level": "INFO",
        "logger": "pymacaron.access",
        "request_id": "rid-1",
        "method": "GET",
        "path": '/a"b',
        "status": 404,
        "ms": 12.3,
    }


def test_a_forked_child_does_not_write_its_parents_lines():
    r, w = os.pipe()
    log = AccessLog(fd=w, max_lines=1000, interval=60)
    for i in range(5):
        log.write(f"parent {i}\n".encode())
    pid = os.fork()
    if pid == 0:  # the child: one line of its own, flushed, then out
        log.write(b"child\n")
        log.flush()
        os._exit(0)
    os.waitpid(pid, 0)
    log.flush()
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    assert sorted(data.decode().splitlines()) == ["child"] + [f"parent {i}" for i in range(5)]


def test_sigterm_over_the_default_handler_flushes_then_dies_of_it():
    code = (
        "import sys, time\n"
        "from pymacaron.server.accesslog import LineWriter as AccessLog\n"
        "log = AccessLog(fd=1, interval=60)\n"
        "log.install_signal_handlers()\n"
        "for i in range(5):\n"
        "    log.write(b'line %d\\n' % i)\n"
        "sys.stderr.write('ready\\n'); sys.stderr.flush()\n"
        "time.sleep(30)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stderr.readline() == b"ready\n"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    assert out.decode().splitlines() == [f"line {i}" for i in range(5)]
    assert proc.returncode == -signal.SIGTERM


def test_atexit_flushes():
    code = (
        "from pymacaron.server.accesslog import LineWriter as AccessLog\n"
        "log = AccessLog(fd=1, interval=60)\n"
        "for i in range(3):\n"
        "    log.write(b'line %d\\n' % i)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=10).stdout
    assert out.decode().splitlines() == ["line 0", "line 1", "line 2"]


def test_the_writer_is_one_per_process():
    assert accesslog.writer() is accesslog.writer()


# -- real servers, two worker processes each --------------------------------------------
N = 300


def _serve_and_count(cmd, env, tmp_path, sigterm_workers: bool):
    port = free_port()
    server = LiveServer(
        [a.replace("{port}", str(port)) for a in cmd],
        cwd=REPO,
        port=port,
        env={
            "PETSHOP_DB": str(tmp_path / "petshop.sqlite3"),
            # only size and exit flush: a lost line at exit would show
            "PYM_ACCESS_LOG_FLUSH_S": "3600",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEB_CONCURRENCY": "2",
            "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
            **env,
        },
        log_path=str(tmp_path / "server.log"),
    ).wait()
    ids = [f"acc-{i}" for i in range(N)]
    with requests.Session() as session, ThreadPoolExecutor(16) as pool:
        statuses = list(
            pool.map(
                lambda rid: session.get(server.url + "/ping", headers={"X-Request-ID": rid}),
                ids,
            )
        )
    assert {r.status_code for r in statuses} == {200}
    workers = _children(server.proc.pid)
    assert len(workers) >= 2
    if sigterm_workers:  # each worker on its own, the master still running
        for pid in workers:
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.05)
        assert not any(_alive(p) for p in workers)
        time.sleep(0.2)
        text = _read(server.log_path)
        server.stop()
    else:
        server.stop()
        text = _read(server.log_path)
    access = [line for line in text.splitlines() if "pymacaron.access" in line]
    assert all(TEXT.match(line) for line in access), [a for a in access if not TEXT.match(a)]
    served = [TEXT.match(line)["rid"] for line in access]
    assert sorted(r for r in served if r.startswith("acc-")) == sorted(ids)
    return access


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def _children(pid: int) -> list[int]:
    out = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/children") as f:
            out += [int(c) for c in f.read().split()]
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


SHIPPED = [sys.executable, "-m", "pymacaron.serve"]


@pytest.mark.slow
@pytest.mark.parametrize("sigterm_workers", [False, True], ids=["stop", "sigterm-workers"])
def test_granian_two_workers_every_line_once(tmp_path, sigterm_workers):
    _serve_and_count(SHIPPED, {"PYM_SERVER": "granian"}, tmp_path, sigterm_workers)


@pytest.mark.slow
@pytest.mark.parametrize("sigterm_workers", [False, True], ids=["stop", "sigterm-workers"])
def test_gunicorn_sync_two_workers_every_line_once(tmp_path, sigterm_workers):
    cmd = gunicorn_cmd(0, workers=2)
    cmd[cmd.index("-b") + 1] = "127.0.0.1:{port}"
    _serve_and_count(cmd, {}, tmp_path, sigterm_workers)


@pytest.mark.parametrize("setting", ["json", "text", "false"])
def test_pym_config_access_log_setting(tmp_path, setting):
    """`access_log: json|text|false` in pym-config, end to end through the middleware."""
    svc = tmp_path / "library_service"
    shutil.copytree(os.path.join(FIXTURES, "library_service"), svc)
    with open(svc / "pym-config.yaml", "a") as f:
        f.write(f"access_log: {setting}\n")
    code = (
        "import sys\n"
        "from tests.conftest import build_app\n"
        "app = build_app(sys.argv[1])\n"
        "client = app.test_client()\n"
        "assert client.get('/ping', headers={'X-Request-ID': 'cfg-1'}).status_code == 200\n"
        "assert client.get('/nowhere/\\x07', headers={'X-Request-ID': 'cfg-2'}).status_code == 404\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(svc)], capture_output=True, timeout=60, cwd=REPO
    )
    assert out.returncode == 0, out.stderr.decode()
    access = [line for line in out.stderr.decode().splitlines() if "pymacaron.access" in line]
    if setting == "false":
        assert access == []
    elif setting == "text":
        assert [TEXT.match(line)["rid"] for line in access] == ["cfg-1", "cfg-2"]
        assert "/nowhere/\\x07 404" in access[1]
    else:
        records = [json.loads(line) for line in access]
        assert [(r["request_id"], r["path"], r["status"]) for r in records] == [
            ("cfg-1", "/ping", 200),
            ("cfg-2", "/nowhere/\\x07", 404),
        ]
        assert all(r["method"] == "GET" and r["ms"] >= 0 for r in records)


def test_generated_request_ids_are_uuid4_hex():
    import uuid

    from pymacaron.logs import new_request_id

    ids = {new_request_id() for _ in range(2000)}
    assert len(ids) == 2000
    for rid in ids:
        u = uuid.UUID(rid)
        assert u.hex == rid and u.version == 4 and u.variant == uuid.RFC_4122


def test_forked_workers_generate_different_request_ids():
    from pymacaron.logs import new_request_id

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(w, new_request_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    os.close(w)
    child = os.read(r, 64).decode()
    os.close(r)
    assert len(child) == 32 and child != new_request_id()
