"""`make lint` type-checks the public modules strictly (mypy, pyproject's [tool.mypy])."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from .infra_helpers import ROOT

MYPY = str(Path(sys.executable).with_name("mypy"))


def _mypy(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([MYPY, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_listed_public_modules_type_check_strictly():
    files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["files"]
    assert "framework/pymacaron/exceptions.py" in files
    proc = _mypy()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success: no issues found" in proc.stdout
    assert "mypy" in (ROOT / "Makefile").read_text().split("\nlint:", 1)[1].split("\n\n", 1)[0]


def test_a_wrong_type_in_a_public_function_fails_the_check(tmp_path):
    """The same configuration on a copy of a listed module with one wrong annotation."""
    module = tmp_path / "pymacaron_kit_copy" / "beanstalk_options.py"
    module.parent.mkdir()
    shutil.copy(ROOT / "infra" / "beanstalk_options.py", module)
    text = module.read_text()
    wrong = text.replace(
        "def known_namespace(namespace: str) -> bool:\n    return namespace in NAMESPACES",
        'def known_namespace(namespace: str) -> int:\n    return namespace + "!"',
    )
    assert wrong != text
    module.write_text(wrong)
    config = ["--config-file", str(ROOT / "pyproject.toml")]
    proc = _mypy(*config, str(module), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "beanstalk_options.py" in proc.stdout and "Incompatible return value" in proc.stdout
