"""What runs before a worker serves imports no server (issue 30: cold start).

The image's command is ``python -m pymacaron.tasks.supervise python -m pymacaron.serve``:
the supervisor reads pym-config and execs ``pymacaron.serve``, which reads pym-config and
execs granian, whose worker builds the app. Each of the first two is a fresh interpreter:
what it imports, it pays for on every start. Checked in fresh interpreters (other tests'
imports do not count)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO

SERVER_MODULES = ("flask", "werkzeug", "pymacaron.app", "pymacaron.server.operation", "jinja2")


def _imported(code: str, cwd: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        cwd=cwd,
        env={**os.environ, "PYM_ENV": "dev"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_pymacaron_imports_no_server(tmp_path):
    mods = _imported("import pymacaron", str(tmp_path))
    assert not [m for m in SERVER_MODULES if m in mods]


def test_the_supervisor_and_serve_import_no_server():
    service = os.path.join(REPO, "bench", "apps", "pymacaron")  # a service with pym-config
    mods = _imported(
        "from pymacaron.tasks import supervise\n"
        "assert supervise._async_enabled() is False\n"
        "from pymacaron.run import serve\n"
        "serve.check_config()\n",
        service,
    )
    assert "pymacaron.config" in mods  # pym-config was read
    assert not [m for m in SERVER_MODULES if m in mods]


def test_the_public_names_still_load_on_first_use(tmp_path):
    mods = _imported(
        "import pymacaron\n"
        "from pymacaron import create_app, run, API, ApiPool, MiddlewarePosition\n"
        "assert callable(run) and run is pymacaron.run and run.__name__ == 'pymacaron.run'\n"
        "assert create_app.__module__ == 'pymacaron.app'\n"
        "assert all(getattr(pymacaron, n) is not None for n in pymacaron.__all__)\n",
        str(tmp_path),
    )
    assert "flask" in mods


def test_the_supervisor_runs_serve_in_its_own_process(monkeypatch):
    """``python -m pymacaron.serve`` with the supervisor's own interpreter: serve runs in the
    supervisor's process and execs granian (no second interpreter); another command or
    another Python is exec'd as it is."""
    from pymacaron.run import serve
    from pymacaron.tasks import supervise

    class Exec(Exception):
        pass

    calls = []

    def execv(path, argv):
        calls.append(("execv", path, list(argv)))
        raise Exec

    def execvp(path, argv):
        calls.append(("execvp", path, list(argv)))
        raise Exec

    monkeypatch.setattr(supervise, "_async_enabled", lambda: False)
    monkeypatch.setattr(serve, "check_config", lambda: None)
    monkeypatch.setattr(serve, "batch_scheduling", lambda: False)
    monkeypatch.setattr(os, "execv", execv)
    monkeypatch.setattr(os, "execvp", execvp)
    monkeypatch.setenv("PORT", "18123")
    try:
        supervise.main([sys.executable, "-m", "pymacaron.serve"])
    except Exec:
        pass
    kind, _, argv = calls[-1]
    assert kind == "execv" and argv[0] == "granian" and "18123" in argv, calls
    other = ["/some/other/venv/bin/python", "-m", "pymacaron.serve"]
    for command in (other, [sys.executable, "-m", "pymacaron.tasks.worker"]):
        try:
            supervise.main(command)
        except Exec:
            pass
        assert calls[-1] == ("execvp", command[0], command), calls
