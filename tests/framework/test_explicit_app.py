"""Explicit app building (issue 28): ``create_app`` builds and returns the app wherever it
is called -- it reads no command line and starts no server; serving is ``run(app)``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.conftest import FIXTURES, REPO

LIBRARY = os.path.join(FIXTURES, "library_service")


def _script(tmp_path, body: str, *args: str) -> subprocess.CompletedProcess:
    script = tmp_path / "standalone.py"
    script.write_text(textwrap.dedent(body))
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_a_standalone_script_builds_an_app_and_uses_its_test_client(tmp_path):
    """At a script's top level, with options create_app never knew: it returns the app (the
    starting commit parsed them -- 'unrecognized arguments' -- or served and blocked)."""
    result = _script(
        tmp_path,
        f"""
        from pymacaron import create_app

        app = create_app({LIBRARY!r})
        reply = app.test_client().get("/ping")
        print("status", reply.status_code, type(app).__name__)
        """,
        "--not-an-option-of-pymacaron",
        "input.csv",
    )
    assert result.returncode == 0, result.stderr
    assert "status 200 Flask" in result.stdout


def test_run_refuses_an_env_the_app_was_not_built_for(tmp_path):
    result = _script(
        tmp_path,
        f"""
        from pymacaron import create_app, run

        app = create_app({LIBRARY!r})
        if __name__ == "__main__":
            run(app)
        """,
        "--env",
        "staging",
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("pymacaron:")]
    assert len(lines) == 1 and "pym run --env staging" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_a_startup_error_caught_by_the_caller_is_not_reported(tmp_path):
    """The one-line report is only for an error nobody catches."""
    result = _script(
        tmp_path,
        f"""
        from pymacaron import StartupError, create_app

        try:
            create_app({str(tmp_path / "nowhere")!r})
        except StartupError as e:
            print("caught", type(e).__name__)
        print("still running")
        """,
    )
    assert result.returncode == 0, result.stderr
    assert "caught StartupError" in result.stdout and "still running" in result.stdout
    assert "cannot start" not in result.stderr


def _old_two_liner(tmp_path):
    """A service whose server.py was written for 3.1: ``app = create_app(__file__)`` only."""
    import shutil

    service = tmp_path / "svc"
    shutil.copytree(LIBRARY, service)
    (service / "server.py").write_text(
        "from pymacaron import create_app\n\napp = create_app(__file__)\n"
    )
    return service


def test_a_31_server_py_run_directly_says_what_to_add(tmp_path):
    """It no longer serves by itself: instead of exiting silently it says what to add."""
    service = _old_two_liner(tmp_path)
    result = subprocess.run(
        [sys.executable, "server.py", "--port", "1"], cwd=service,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "server.py built the app but nothing served it" in result.stderr, result.stderr
    assert 'if __name__ == "__main__":' in result.stderr and "run(app)" in result.stderr


def test_pym_run_serves_a_31_server_py_as_it_is(tmp_path):
    """`pym run`'s development server serves the module-level app when the script does not
    (as gunicorn and the image do), with no hint; a script that serves itself is served once."""
    from tests.conftest import TEST_SECRET, LiveServer, free_port

    service = _old_two_liner(tmp_path)
    port = free_port()
    cmd = [sys.executable, "-m", "pymacaron.run.script", "server.py", "--port", str(port)]
    server = LiveServer(cmd, str(service), port, env={"JWT_SECRET": TEST_SECRET})
    try:
        server.wait(45)
        output = server.output()
    finally:
        server.stop()
    assert "nothing served it" not in output
