"""One-line user errors of the runtime's command lines (bugs found using the kit from a
user's repository): no traceback, a documented exit code."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading

import pytest

from pymacaron.commands import main, run
from pymacaron.commands.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    FROM_PYTEST,
    MEANING,
)


def test_pym_check_without_server_py_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["check", "--dir", str(tmp_path)])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert f"no server.py in {tmp_path}" in err


def test_pym_acceptance_with_a_bad_acceptance_yaml_is_one_line(tmp_path):
    (tmp_path / "server.py").write_text("")
    (tmp_path / "testaccept").mkdir()
    (tmp_path / "testaccept" / "acceptance.yaml").write_text("- a list\n- not a mapping\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pymacaron", "acceptance", "--local", "--dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
        env=dict(os.environ, JWT_SECRET="x" * 32),
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "acceptance.yaml: expected a mapping" in proc.stderr


def test_supervise_help_exits_0_without_a_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "pymacaron.tasks.supervise", "--help"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "usage: python -m pymacaron.tasks.supervise" in proc.stdout and not proc.stderr


def test_serve_finds_granian_beside_python_in_a_venv_not_activated(monkeypatch):
    from pymacaron.run import serve

    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # the venv's bin/ is not on PATH
    monkeypatch.setenv("PYM_SERVER", "granian")
    monkeypatch.setenv("PYM_SCHED_BATCH", "0")  # in-process: the test runner keeps its policy
    seen = []
    monkeypatch.setattr(serve.os, "execv", lambda exe, argv: seen.append((exe, argv)))
    serve.main()
    assert seen and seen[0][0] == os.path.join(os.path.dirname(sys.executable), "granian")


def test_every_subcommand_help_exits_0(capsys):
    import argparse

    parser_commands = []

    def collect(argv):
        with pytest.raises(SystemExit) as e:
            main([*argv, "--help"])
        assert e.value.code == 0, argv
        return capsys.readouterr().out

    top = collect([])
    names = top.split("{", 1)[1].split("}", 1)[0].split(",")
    assert {"new", "check", "run", "synth", "deploy", "image", "acceptance", "fuzz",
            "pipeline", "lock", "token"} <= set(names)  # fmt: skip
    for name in names:
        parser_commands.append([name])
    parser_commands += [["image", s] for s in ("build", "run", "push", "promote")]
    parser_commands += [["pipeline", "local"]]
    for argv in parser_commands:
        assert "usage: pym" in collect(argv)
    assert argparse  # noqa: B018


def test_a_kit_command_without_the_kit_says_what_to_install():
    code = (
        "import sys; sys.modules['pymacaron_kit'] = None; sys.modules['pymacaron_kit.deploy'] = None\n"
        "from pymacaron.commands import main; sys.exit(main(['synth']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    from pymacaron import __version__

    assert proc.stderr.strip() == (
        "pym synth: part of the deploy kit, not installed here: "
        f"pip install 'pymacaron[kit]=={__version__}'"
    )


class _Ping(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200 if self.path == "/ping" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_pym_acceptance_says_a_pytest_usage_error_with_the_usage_code(tmp_path):
    """pytest's usage error (its exit 4) is pym's usage error, 2: 4 means "AWS or the registry
    refused" in commands/errors.py (before, pym acceptance exited 4)."""
    (tmp_path / "testaccept").mkdir()
    (tmp_path / "testaccept" / "test_ping.py").write_text("def test_ping():\n    pass\n")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ping)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        argv = [sys.executable, "-m", "pymacaron", "acceptance", "--url", url, "--dir",
                str(tmp_path), "--", "--no-such-pytest-option"]  # fmt: skip
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        ok = subprocess.run(argv[:-2], capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
        server.server_close()
    assert "--no-such-pytest-option" in proc.stderr  # pytest's own usage error
    assert proc.returncode == EXIT_USAGE != EXIT_REFUSED, proc.stderr
    assert ok.returncode == EXIT_OK, ok.stdout + ok.stderr


def test_pym_acceptance_usage_errors_are_one_line_with_the_usage_code(tmp_path, capsys):
    """--port without --host, no target, no testaccept/: exit 2 (was 4) and one line."""
    for argv, says in (
        (["acceptance", "--port", "80", "--dir", str(tmp_path)], "--port goes with --host"),
        (["acceptance", "--dir", str(tmp_path)], "say where to test"),
        (["acceptance", "--url", "http://127.0.0.1:9", "--dir", str(tmp_path)], "no testaccept/"),
    ):
        assert run(argv) == EXIT_USAGE, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("acceptance: ") and says in err, err


def test_every_pytest_exit_code_has_one_meaning_of_the_map():
    assert {int(c) for c in pytest.ExitCode} <= set(FROM_PYTEST)
    assert set(FROM_PYTEST.values()) <= set(MEANING)
    assert FROM_PYTEST[int(pytest.ExitCode.USAGE_ERROR)] == EXIT_USAGE
    assert FROM_PYTEST[int(pytest.ExitCode.INTERRUPTED)] == EXIT_INTERRUPTED
