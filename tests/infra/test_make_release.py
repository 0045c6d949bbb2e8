"""`make release`: wheel + sdist built, checked, installed into a fresh venv; one version."""

from __future__ import annotations

import re
import subprocess
import tomllib
import zipfile

import pytest

import pymacaron

from .infra_helpers import ROOT


def test_the_version_has_one_source_and_the_changelog_states_the_policy():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    attr = project["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "pymacaron.__version__"
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog and "Keep a Changelog" in changelog
    assert "Semantic Versioning" in changelog and "DeprecationWarning" in changelog
    assert f"## [{pymacaron.__version__}]" in changelog  # the current release is recorded
    assert (ROOT / "infra" / "py.typed").is_file()


@pytest.mark.slow
def test_make_release_builds_checks_and_installs_both_distributions(tmp_path):
    dist = tmp_path / "dist"
    proc = subprocess.run(
        ["make", "release", f"DIST={dist}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    version = pymacaron.__version__
    wheel = dist / f"pymacaron-{version}-py3-none-any.whl"
    assert wheel.is_file() and (dist / f"pymacaron-{version}.tar.gz").is_file()
    assert proc.stdout.count("PASSED") == 2  # twine check, both files
    assert f"pymacaron {version} installs and runs from a fresh venv" in proc.stdout
    assert re.search(rf"upload with: twine upload \S+{re.escape(wheel.name)} ", proc.stdout)
    names = zipfile.ZipFile(wheel).namelist()
    assert "pymacaron/py.typed" in names and "pymacaron_kit/py.typed" in names
    metadata = zipfile.ZipFile(wheel).read(f"pymacaron-{version}.dist-info/METADATA").decode()
    assert f"\nVersion: {version}\n" in metadata


def test_extras_are_one_home_each_and_the_old_names_still_install():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert {"dev", "kit", "async", "persist"} <= set(extras)
    listed = [re.split(r"[<>=\[ ]", r)[0] for deps in extras.values() for r in deps]
    for tool in ("pytest", "schemathesis", "boto3"):
        own = [
            n for n, deps in extras.items() if tool in (re.split(r"[<>=\[ ]", d)[0] for d in deps)
        ]
        assert len(own) == 1 or tool == "boto3" and set(own) == {"kit", "persist"}, (tool, own)
    assert "pymacaron" in listed  # dev = the kit + the runtime extras, by reference
    assert extras["infra"] == ["pymacaron[kit]"] and extras["docs"] == []  # until 3.3
