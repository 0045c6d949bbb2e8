"""gunicorn is the `gunicorn` extra, not a dependency (issue 29): a venv of the runtime alone
imports pymacaron, serves a request in-process and with granian (`python -m
pymacaron.serve`), and `PYM_SERVER=gunicorn` there is one line naming the extra, exit 2."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request

import pytest

from pymacaron.ports import free_port

REPO = pathlib.Path(__file__).resolve().parents[2]
UV = str(pathlib.Path(sys.executable).with_name("uv"))

SERVER_PY = """\
from pymacaron import create_app

app = create_app(__file__)
"""

IN_PROCESS = """\
import importlib.util, sys
import pymacaron
from pymacaron import create_app
assert importlib.util.find_spec("gunicorn") is None, "gunicorn is installed"
assert "gunicorn" not in sys.modules
app = create_app(sys.argv[1])
reply = app.test_client().get("/ping")
print(reply.status_code, reply.get_json(), "gunicorn" in sys.modules)
"""


def _project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def test_gunicorn_is_an_extra_that_dev_and_the_image_keep():
    project = _project()
    names = [
        d.split(">")[0].split("=")[0].split("<")[0].strip().lower() for d in project["dependencies"]
    ]
    assert "gunicorn" not in names and "granian" in names
    extras = project["optional-dependencies"]
    assert [d for d in extras["gunicorn"] if d.startswith("gunicorn")] == extras["gunicorn"]
    assert "gunicorn" in extras["dev"][0].split("[", 1)[1]  # pymacaron[...,gunicorn]
    # the image's runtime lock pins it (PYM_SERVER=gunicorn is an environment property)
    from pymacaron_kit.release import lock

    assert extras["gunicorn"][0] in lock.image_runtime({"project": project})
    assert "gunicorn" in lock.locked_names(lock.RUNTIME_LOCK)


def test_the_exit_code_is_the_cli_map_s():
    from pymacaron.commands import errors
    from pymacaron.run import serve

    assert serve.EXIT_USAGE == errors.EXIT_USAGE


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory) -> pathlib.Path:
    """A venv with pymacaron installed without any extra (uv, `-e .`: ~4 s of CPU)."""
    venv = tmp_path_factory.mktemp("no-gunicorn") / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    subprocess.run([UV, "venv", "-q", "--python", sys.executable, str(venv)], check=True,
                   env=env, timeout=120)  # fmt: skip
    install = [
        UV,
        "pip",
        "install",
        "-q",
        "--python",
        str(venv / "bin" / "python"),
        "-e",
        str(REPO),
    ]
    # uv's cache first (no index request when it holds every pin), else the index
    proc = subprocess.run([*install, "--offline"], env=env, capture_output=True, timeout=300)
    if proc.returncode != 0:
        proc = subprocess.run(install, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
    return venv


@pytest.fixture
def service(tmp_path) -> pathlib.Path:
    (tmp_path / "apis").mkdir()
    (tmp_path / "pym-config.yaml").write_text("name: nogunicorn\n")
    (tmp_path / "server.py").write_text(SERVER_PY)
    return tmp_path


def _env(service: pathlib.Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYM_", "VIRTUAL_ENV", "PYTHONPATH", "JWT_", "GUNICORN"))}  # fmt: skip
    env.update(PYM_SERVICE_DIR=str(service), PYM_SCHED_BATCH="0", **extra)
    return env


@pytest.mark.slow
def test_without_gunicorn_pymacaron_imports_and_serves_in_process(bare_venv, service):
    python = str(bare_venv / "bin" / "python")
    proc = subprocess.run([python, "-c", IN_PROCESS, str(service)], cwd=str(service),
                          env=_env(service), capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[0] == "200 {} False", proc.stdout


@pytest.mark.slow
def test_without_gunicorn_granian_serves(bare_venv, service):
    port = free_port()
    env = _env(service, PORT=str(port), HOST="127.0.0.1", WEB_CONCURRENCY="1")
    proc = subprocess.Popen([str(bare_venv / "bin" / "python"), "-m", "pymacaron.serve"],
                            cwd=str(service), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        deadline, body = time.monotonic() + 60, None
        while body is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as r:
                    body = (r.status, r.read())
            except OSError:
                time.sleep(0.2)
        assert body == (200, b"{}"), proc.poll()
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=60)[0]
    assert "Traceback" not in out, out


@pytest.mark.slow
def test_pym_server_gunicorn_without_it_is_one_line_naming_the_extra(bare_venv, service):
    env = _env(service, PYM_SERVER="gunicorn")
    proc = subprocess.run([str(bare_venv / "bin" / "python"), "-m", "pymacaron.serve"],
                          cwd=str(service), env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "gunicorn is not installed" in lines[0]
    assert "pip install 'pymacaron[gunicorn]'" in lines[0]
    assert proc.stdout == ""
