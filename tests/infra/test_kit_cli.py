"""The deploy kit as a user meets it: `pym new`, the synth-time checks of a repository,
the deploy-key typo, this repository dogfooding the generated app.py/cdk.json, the scripts'
--help, the Makefile's npm and Node, the local pipeline's fuzz step."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pymacaron.commands import main
from pymacaron.exceptions import StartupError
from pymacaron_kit import new
from pymacaron_kit.config import load_service_config
from pymacaron_kit.service_repo import check_service_repo

ROOT = Path(__file__).resolve().parents[2]


# ---- pym new ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["Bookmarks", "book-marks", "book_marks", "b", "class", "json", "server", "x" * 24]
)
def test_pym_new_refuses_a_name_that_is_not_an_identifier_and_a_stack_name(name, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["new", name, "--dir", str(tmp_path / "out")])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"NAME {name!r}" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_pym_new_refuses_a_non_empty_directory(tmp_path, capsys):
    (tmp_path / "README.md").write_text("mine")
    with pytest.raises(SystemExit) as e:
        main(["new", "bookmarks", "--dir", str(tmp_path)])
    assert e.value.code == 2 and "is not an empty directory" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]


def test_pym_new_writes_the_service_and_nothing_of_pymacaron(tmp_path):
    target = tmp_path / "bm"
    assert main(["new", "bookmarks", "--dir", str(target)]) == 0
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert "apis/bookmarks.yaml" in files and "bookmarks/api.py" in files
    assert not [f for f in files if f.startswith(("framework", "infra", "docker"))]
    config = (target / "pym-config.yaml").read_text()
    for key in ("aws_region", "aws_instance_type", "aws_hosts_min", "aws_hosts_max",
                "aws_cert_arn", "live_host", "deployment_policy", "log_retention_days",
                "notification_email", "docker_base", "secrets", "stages", "pipeline",
                "unit_tests"):  # fmt: skip
        assert key in config, key
    load_service_config(str(target / "pym-config.yaml"))  # a valid deploy config
    check_service_repo(str(target), str(target / "pym-config.yaml"), None)
    readme = (target / "README.md").read_text()
    assert "make run" in readme and "make test" in readme and "pym deploy" in readme
    assert "--workers 2" in readme and "module-level" in readme


def test_this_repository_dogfoods_the_generated_app_and_cdk_json():
    generated = new.files("petshop")
    assert (ROOT / "app.py").read_text() == generated["app.py"]
    assert (ROOT / "cdk.json").read_text() == generated["cdk.json"]


# ---- synth-time checks --------------------------------------------------------------------


def test_a_misspelt_deploy_key_fails_with_did_you_mean(tmp_path):
    path = tmp_path / "pym-config.yaml"
    path.write_text("name: svc\naws_host_max: 4\n")
    with pytest.raises(
        StartupError, match=r"unknown deploy key 'aws_host_max': did you mean 'aws_hosts_max'\?"
    ):
        load_service_config(str(path))
    path.write_text("name: svc\nmy_feature_flag: true\n")  # a service's own key: allowed
    assert load_service_config(str(path)).name == "svc"


def test_a_repository_without_tests_or_a_test_command_fails_synth(tmp_path):
    target = tmp_path / "svc"
    new.new_service("svc", str(target))
    config = str(target / "pym-config.yaml")
    (target / "tests" / "test_api.py").unlink()
    (target / "tests" / "conftest.py").unlink()
    (target / "tests").rmdir()
    with pytest.raises(StartupError, match=r"tests/ is missing .* set pipeline.unit_tests"):
        check_service_repo(str(target), config, None)
    check_service_repo(str(target), config, "make check")  # an explicit command is enough
    (target / "testaccept" / "test_svc.py").unlink()
    (target / "testaccept").rmdir()
    with pytest.raises(StartupError, match="testaccept is missing"):
        check_service_repo(str(target), config, "make check")


def test_pipeline_unit_tests_reaches_the_unit_test_buildspec(tmp_path):
    from pymacaron_kit.pipeline_steps import unit_test_commands

    path = tmp_path / "pym-config.yaml"
    path.write_text(
        textwrap.dedent("""\
        name: svc
        pipeline:
          codecommit_repository: svc
          branch: main
          unit_tests: make check
    """)
    )
    assert unit_test_commands(load_service_config(str(path)).pipeline) == ["make check"]
    path.write_text(path.read_text().replace("  unit_tests: make check\n", ""))
    assert unit_test_commands(load_service_config(str(path)).pipeline) == [
        "python -m pytest -q tests"
    ]


# ---- the local pipeline's steps -----------------------------------------------------------


def test_pipeline_local_runs_fuzz_with_python_not_a_bash_script(tmp_path):
    from pymacaron_kit.release.pipeline_local import PipelineLocal

    run = PipelineLocal(str(ROOT), tag="t1", fuzz_examples=3)
    commands = run.acceptance_commands()
    assert [c[:4] for c in commands] == [
        [sys.executable, "-m", "pymacaron", "acceptance"],
        [sys.executable, "-m", "pymacaron", "fuzz"],
    ]
    fuzz = commands[1]
    assert "--max-examples" in fuzz and fuzz[fuzz.index("--max-examples") + 1] == "3"
    proc = subprocess.run([*fuzz[:4], "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "usage: pym fuzz" in proc.stdout, proc.stderr


# ---- scripts/ and the Makefile ------------------------------------------------------------


def test_synth_help_synthesizes_nothing_and_keeps_cdk_out():
    marker = ROOT / "cdk.out" / f".keep-{os.getpid()}"
    marker.parent.mkdir(exist_ok=True)
    marker.write_text("x")
    try:
        proc = subprocess.run([sys.executable, "-m", "pymacaron", "synth", "--help"],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)  # fmt: skip
        assert proc.returncode == 0 and "usage: pym synth" in proc.stdout, proc.stderr
        assert marker.exists(), "pym synth --help deleted cdk.out"
    finally:
        marker.unlink()


@pytest.mark.parametrize("script", ["scripts/ci-unit-tests", "scripts/setup/system-tools"])
def test_setup_and_unit_test_scripts_answer_help_without_running(script):
    proc = subprocess.run(
        [str(ROOT / script), "--help"], capture_output=True, text=True, timeout=20
    )
    assert proc.returncode == 0 and proc.stdout.strip(), proc.stderr
    assert "passed" not in proc.stdout and "installing" not in proc.stdout


def _make(tmp_path, *targets, extra_mk=""):
    (tmp_path / "extra.mk").write_text(extra_mk)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV",)}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"  # a shell without the venv activated
    return subprocess.run(
        ["make", "-f", str(ROOT / "Makefile"), "-f", str(tmp_path / "extra.mk"), *targets,
         f"VENV={tmp_path / 'v'}", f"REAL_VENV={ROOT / '.venv'}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip


def test_make_uses_node_22_from_a_venv_created_in_the_same_run(tmp_path):
    """The first `make run` creates .venv and then synthesizes: Node 22 must be used already
    (the Makefile once fixed PATH before the venv existed: Node 20 and its EOL banner)."""
    proc = _make(tmp_path, "probe", extra_mk=(
        "fake-venv:\n\tln -sfn $(REAL_VENV) $(VENV)\n"
        "probe: fake-venv\n\t@echo node=$$(node --version)\n"
    ))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "node=v22." in proc.stdout, proc.stdout


@pytest.mark.slow
def test_make_setup_installs_node_modules_with_a_working_npm(tmp_path):
    """`touch package.json && make setup` once .venv exists: npm must work (the wheel's
    bin/npm fails with "Cannot find module '../lib/cli.js'")."""
    for name in ("package.json", "package-lock.json", "pyproject.toml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    os.utime(tmp_path / "pyproject.toml", (0, 0))  # the venv is up to date with it
    os.symlink(ROOT / ".venv", tmp_path / "v")
    proc = _make(tmp_path, "node_modules/.installed")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Cannot find module" not in proc.stderr
    assert (tmp_path / "node_modules" / ".bin" / "cdk").exists()


# ---- pym run ------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


@pytest.mark.slow
def test_pym_run_workers_2_serves_with_two_processes_like_the_image(tmp_path):
    """Module-level state differs between the dev server (one process) and the image
    (granian, N processes): `pym run --workers 2` shows the image's side locally."""
    import requests

    from tests.image.image_helpers import free_port, wait_until

    target = tmp_path / "svc"
    new.new_service("svc", str(target))
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pymacaron", "run", "--workers", "2", "--port", str(port),
         "--dir", str(target)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, JWT_SECRET="x" * 32),
    )  # fmt: skip
    try:
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/ping", timeout=1).ok, 30, "/ping")
        wait_until(lambda: len(_children(proc.pid)) >= 2, 10, "two worker processes")
        assert requests.get(f"http://127.0.0.1:{port}/hello?who=x", timeout=2).json() == {
            "message": "hello, x"
        }
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0]
    assert "2 worker processes" in out and "module-level state is per process" in out


def test_one_exit_code_map_for_every_error_wrapper():
    """The one place that turns an error into an exit code (pymacaron.commands.run, through
    errors.ERRORS, and its report) takes its codes from one map, pymacaron.commands.errors'
    EXIT_*: no literal code of its own."""
    import ast
    import inspect

    from pymacaron import commands as runtime_cli
    from pymacaron.commands import errors
    from pymacaron_kit.release import common as rel

    assert (rel.EXIT_FAILED, rel.EXIT_USAGE, rel.EXIT_NO_ENGINE, rel.EXIT_REGISTRY) == (
        runtime_cli.EXIT_FAILED,
        runtime_cli.EXIT_USAGE,
        runtime_cli.EXIT_NO_ENGINE,
        runtime_cli.EXIT_REFUSED,
    )
    wrappers = [runtime_cli.main, runtime_cli.run, errors.report, errors.code_of]
    for func in wrappers:
        tree = ast.parse(inspect.getsource(func).lstrip())
        literal = [
            n.lineno
            for n in ast.walk(tree)
            if isinstance(n, ast.Return)
            and isinstance(n.value, ast.Constant)
            and isinstance(n.value.value, int)
        ]
        assert literal == [], f"{func.__module__}.{func.__name__}: literal exit codes"
