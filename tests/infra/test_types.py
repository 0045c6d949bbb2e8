"""`make lint` type-checks the public modules strictly (mypy, pyproject's [tool.mypy])."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from .infra_helpers import ROOT

MYPY = str(Path(sys.executable).with_name("mypy"))


def _mypy(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([MYPY, *args], cwd=cwd, capture_output=True, text=True, timeout=240)


# the public modules the check must keep covering (issue 29): the runtime's surface and the
# kit's constructs, config model and names
PUBLIC = [
    "framework/pymacaron/__init__.py",
    "framework/pymacaron/app.py",
    "framework/pymacaron/api.py",
    "framework/pymacaron/apipool.py",
    "framework/pymacaron/auth.py",
    "framework/pymacaron/config.py",
    "framework/pymacaron/models.py",
    "framework/pymacaron/spec/models.py",
    "framework/pymacaron/server/layers.py",
    "framework/pymacaron/run/__init__.py",
    "framework/pymacaron/client/__init__.py",
    "framework/pymacaron/testing/__init__.py",
    "framework/pymacaron/error_body.py",
    "framework/pymacaron/current.py",
    "infra/construct.py",
    "infra/config.py",
    "infra/names.py",
    "infra/stages.py",
    "infra/version.py",
    "infra/stacks/__init__.py",
]


def test_the_listed_public_modules_type_check_strictly():
    files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["files"]
    assert "framework/pymacaron/exceptions.py" in files
    assert [f for f in PUBLIC if f not in files] == []
    assert all((ROOT / f).is_file() for f in files), files
    proc = _mypy()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"Success: no issues found in {len(files)} source files" in proc.stdout
    assert "mypy" in (ROOT / "Makefile").read_text().split("\nlint:", 1)[1].split("\n\n", 1)[0]


def test_a_wrong_type_in_a_public_function_fails_the_check(tmp_path):
    """The project's configuration on a listed runtime module and a listed kit module, each
    read from a copy with one wrong return (mypy's --shadow-file: the real paths and
    packages, so relative imports resolve as in the tree)."""
    wrong = {
        "framework/pymacaron/auth.py": (
            '    sub: str | None = payload.get("sub") if payload else None\n    return sub\n',
            '    sub: str | None = payload.get("sub") if payload else None\n'
            '    return len(sub or "")\n',
        ),
        "infra/names.py": (
            '    return f"{repository_uri(account, region, repository)}:{tag}"\n',
            "    return len(tag)\n",
        ),
    }
    args = ["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(tmp_path / "c")]
    for rel, (right, bad) in wrong.items():
        text = (ROOT / rel).read_text()
        assert text.count(right) == 1, rel
        shadow = tmp_path / rel.replace("/", "_")
        shadow.write_text(text.replace(right, bad))
        args += ["--shadow-file", str(ROOT / rel), str(shadow)]
    proc = _mypy(*args, *wrong)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Found 2 errors in 2 files" in proc.stdout, proc.stdout
    for line in (
        'framework/pymacaron/auth.py:{}: error: Incompatible return value type (got "int", '
        'expected "str | None")',
        'infra/names.py:{}: error: Incompatible return value type (got "int", expected "str")',
    ):
        assert any(
            out.startswith(line.split("{}")[0]) and line.split("{}:")[1] in out
            for out in proc.stdout.splitlines()
        ), proc.stdout
    # the shadows are what failed: the real modules are clean
    clean = _mypy("--config-file", str(ROOT / "pyproject.toml"), "--cache-dir",
                  str(tmp_path / "c"), *wrong)  # fmt: skip
    assert clean.returncode == 0, clean.stdout + clean.stderr


def test_a_generated_service_type_checks_against_the_public_names(tmp_path):
    """`pym new`'s server.py (`run(app)`: the package is callable) and a handler using a
    model check strictly as a user's mypy sees pymacaron (an installed package: its own
    errors silent); a wrong argument to `run` is an error, so `run` is not Any."""
    template = ROOT / "infra" / "templates" / "new" / "server.py.tmpl"
    (tmp_path / "server.py").write_text(template.read_text())
    (tmp_path / "handlers.py").write_text(
        "from pymacaron import PyMacaronModel\n\n\n"
        "def copy_of(pet: PyMacaronModel) -> PyMacaronModel:\n"
        "    return pet.clone().update_from_dict(pet.to_json())\n"
    )
    (tmp_path / "wrong.py").write_text(
        "from pymacaron import create_app, run\n\nrun(create_app(), argv='--port 80')\n"
    )
    env = {**os.environ, "MYPYPATH": str(ROOT / "framework")}
    proc = subprocess.run(
        [MYPY, "--strict", "--follow-imports", "silent", "--cache-dir", str(tmp_path / "c"),
         "server.py", "handlers.py", "wrong.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert "Found 1 error in 1 file" in proc.stdout, proc.stdout + proc.stderr
    assert 'wrong.py:3: error: Argument "argv" to "run" has incompatible type "str"' in (
        proc.stdout
    ), proc.stdout
