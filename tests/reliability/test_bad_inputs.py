"""Bad configuration and bad specs: the corpus under corpus/configs and corpus/specs.

Each corpus file is dropped into a copy of minimal_service (as pym-config.yaml or as
apis/mini.yaml), then both `pym check --dir` and `python server.py` must refuse to start:
exit code != 0, one message naming the file and every `# expect:` fragment of the corpus
file (the key or JSON path, the line where there is one), and no traceback unless --debug.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
MINIMAL = os.path.join(HERE, "minimal_service")
CONFIGS = sorted(os.listdir(os.path.join(CORPUS, "configs")))
SPECS = sorted(os.listdir(os.path.join(CORPUS, "specs")))
# deploy-only keys (AWS sizes, region, certificate): the deploy kit refuses them at synth,
# the runtime serves (a v1 service ships placeholders such as <ARN_OF_SSL_CERTIFICATE>)
DEPLOY_CONFIGS = sorted(os.listdir(os.path.join(CORPUS, "deploy_configs")))
_EXPECT = re.compile(r"^# expect: (.+?)\s*$", re.M)


def expectations(path: str) -> list[str]:
    with open(path) as f:
        found = _EXPECT.findall(f.read())
    assert found, f"{path}: no '# expect:' line"
    return found


def broken_service(tmp_path, kind: str, name: str) -> tuple[str, str, list[str]]:
    """(service dir, the broken file's path as printed, expected fragments)."""
    dest = tmp_path / "svc"
    shutil.copytree(MINIMAL, dest, ignore=shutil.ignore_patterns("__pycache__"))
    source = os.path.join(CORPUS, kind, name)
    target = "pym-config.yaml" if kind.endswith("configs") else os.path.join("apis", "mini.yaml")
    shutil.copyfile(source, dest / target)
    return str(dest), target, expectations(source)


def run(*cmds: list[str], cwd: str, port: int | None = None) -> list[subprocess.CompletedProcess]:
    """Run the commands side by side (each in ``cwd``); their results, in order.

    A command that starts serving on ``port`` (it should not) is stopped at once and
    reported with returncode None, instead of waiting for a timeout.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("PYM_ENV", "PYM_SERVICE_DIR")}
    procs = [
        subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for cmd in cmds
    ]
    started = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(p.poll() is None for p in procs):
        if port is not None and _answers(port):
            for i, proc in enumerate(procs):
                if proc.poll() is None:
                    proc.kill()
                    started.add(i)
            break
        time.sleep(0.1)
    results = []
    for i, (cmd, proc) in enumerate(zip(cmds, procs, strict=True)):
        if proc.poll() is None:
            proc.kill()
            started.add(i)
        out, err = proc.communicate()
        code = None if i in started else proc.returncode
        results.append(subprocess.CompletedProcess(cmd, code, out, err))
    return results


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def pym_check_cmd(*extra: str) -> list[str]:
    return [os.path.join(os.path.dirname(sys.executable), "pym"), *extra, "check", "--dir", "."]


def serve_cmd(port: int, *extra: str) -> list[str]:
    return [sys.executable, "server.py", "--port", str(port), *extra]


def assert_refused(result: subprocess.CompletedProcess, target: str, expected: list[str]):
    output = result.stdout + result.stderr
    assert result.returncode is not None, f"it started (and served):\n{output}"
    assert result.returncode != 0, f"it would start (exit 0):\n{output}"
    assert "Traceback" not in output, output
    message = [line for line in result.stderr.splitlines() if "cannot start" in line]
    assert len(message) == 1, f"expected one 'cannot start' line:\n{output}"
    assert target in message[0], f"the file is not named: {message[0]}"
    missing = [fragment for fragment in expected if fragment not in message[0]]
    assert not missing, f"{missing} not in: {message[0]}"


@pytest.mark.parametrize("name", CONFIGS)
def test_bad_config_is_refused_clearly(tmp_path, name):
    service, target, expected = broken_service(tmp_path, "configs", name)
    port = free_port()
    for result in run(pym_check_cmd(), serve_cmd(port), cwd=service, port=port):
        assert_refused(result, target, expected)


@pytest.mark.parametrize("name", SPECS)
def test_bad_spec_is_refused_clearly(tmp_path, name):
    service, target, expected = broken_service(tmp_path, "specs", name)
    port = free_port()
    for result in run(pym_check_cmd(), serve_cmd(port), cwd=service, port=port):
        assert_refused(result, target, expected)


@pytest.mark.parametrize("name", DEPLOY_CONFIGS)
def test_bad_deploy_key_is_refused_at_synth_and_served_by_the_runtime(tmp_path, name):
    from pymacaron.config import load_config
    from pymacaron.exceptions import StartupError
    from pymacaron_kit.config import load_service_config

    service, target, expected = broken_service(tmp_path, "deploy_configs", name)
    with pytest.raises(StartupError) as e:
        load_service_config(os.path.join(service, target))
    missing = [fragment for fragment in expected if fragment not in str(e.value)]
    assert not missing, f"{missing} not in: {e.value}"
    assert load_config(path=os.path.join(service, target), environ={}).name == "mini"
    (result,) = run(pym_check_cmd(), cwd=service)
    assert result.returncode == 0 and "ok:" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize(
    "kind, name", [("configs", "unknown_stage.yaml"), ("specs", "bind_target_missing.yaml")]
)
def test_debug_adds_the_traceback(tmp_path, kind, name):
    service, target, _ = broken_service(tmp_path, kind, name)
    port = free_port()
    for result in run(pym_check_cmd("--debug"), serve_cmd(port, "--debug"), cwd=service, port=port):
        assert result.returncode != 0 and "Traceback" in result.stderr, result.stderr
        assert target in result.stderr.splitlines()[-1], result.stderr


def test_corpus_is_large_enough():
    assert len(CONFIGS) >= 12 and len(SPECS) >= 12
