"""A user's own service, end to end, outside this repository.

In a temp directory, with a fresh venv where only the wheel built from this repository is
installed (its dependencies from the package index; pip's PIP_FIND_LINKS names the wheel's
directory, as a user's wheel store would): `pym new bookmarks`, the generated README's test
`pym synth` (cfn-lint + cdk-nag), `pym image build` from that directory on the local base
image (its size over the base), the container's /ping and the generated acceptance tests.
One wheel and one venv per session. The README's test command and `pym pipeline local`
(promoting, then a failing unit test stopping it) run once, on the first hour's repository
(tests/e2e/test_first_hour.py), not again here.
"""

from __future__ import annotations

import json
import os
import re
import time

import pytest
import requests

from pymacaron import __version__
from tests.e2e.journey import new_repository, run
from tests.image.image_helpers import BASE_IMAGE, REPO, free_port

pytestmark = [pytest.mark.xdist_group("image"), pytest.mark.slow]

NAME = "bookmarks"


@pytest.fixture(scope="module")
def repo(kit, tmp_path_factory):
    """`pym new bookmarks` in an empty directory outside this repository, committed to git."""
    return new_repository(kit, tmp_path_factory.mktemp("user"), NAME)


def pym(kit, repo, *args, timeout=600, check=True, env=None):
    return run([str(kit["bin"] / "pym"), *args], cwd=str(repo), env={**kit["env"], **(env or {})},
               timeout=timeout, check=check)  # fmt: skip


def test_the_generated_repository_holds_only_the_service(repo, kit):
    files = run(["git", "ls-files"], cwd=str(repo), env=kit["env"]).stdout.split()
    assert 12 <= len(files) <= 25, files
    assert {"apis/bookmarks.yaml", "bookmarks/api.py", "server.py", "pym-config.yaml", "app.py",
            "cdk.json", "requirements.txt", "README.md", ".gitignore", "tests/test_api.py",
            "testaccept/test_bookmarks.py"} <= set(files)  # fmt: skip
    ours = set(run(["git", "ls-files", "framework", "infra", "docker"], cwd=REPO,
                   env=kit["env"]).stdout.split())  # fmt: skip
    assert not [f for f in files if f in ours or f.startswith(("framework/", "infra/"))]
    assert f"pymacaron[kit]=={__version__}" in (repo / "requirements.txt").read_text()
    for ignored in (".venv", "cdk.out", "reports/", ".schemathesis"):
        assert ignored in (repo / ".gitignore").read_text()


def test_synth_writes_every_stack_lint_and_nag_clean(repo, kit):
    proc = pym(kit, repo, "synth", timeout=300)
    for stack in ("shared", "staging", "live", "pipeline"):
        assert f"{NAME}-{stack}" in proc.stdout, proc.stdout
    assert "0 errors" in proc.stdout
    report = json.loads((repo / "cdk.out" / "validation-report.json").read_text())
    violations = [v for p in report.get("pluginReports", []) for v in p.get("violations", [])]
    assert violations == []


@pytest.fixture(scope="module")
def image(repo, kit, services):
    registry, docker_host = services
    tag = f"e2e-{time.strftime('%Y%m%d-%H%M%S')}"
    started = time.monotonic()
    proc = pym(kit, repo, "image", "build", "--base", BASE_IMAGE, "--tag", tag, "--quiet",
               env={"DOCKER_HOST": docker_host}, timeout=900)  # fmt: skip
    print(f"\n{NAME}:{tag} built in {time.monotonic() - started:.0f} s")
    assert f"image: {NAME}:{tag}" in proc.stdout
    return tag


# What README.md says of a `pym new` service's image over its base (no extras): measured
# here (61.3 MB on 2026-12-07), printed, and kept within 6 MB of the claim.
README_IMAGE_CLAIM_MB = 61


def test_the_image_size_over_the_base_matches_the_readme(services, image):
    import docker

    client = docker.DockerClient(base_url=services[1])
    size = client.images.get(f"{NAME}:{image}").attrs["Size"]
    base = client.images.get(BASE_IMAGE).attrs["Size"]
    print(f"\nimage {NAME}:{image} (no extras): {size / 1e6:.1f} MB = base {base / 1e6:.1f} MB "
          f"+ {(size - base) / 1e6:.1f} MB")  # fmt: skip
    with open(os.path.join(REPO, "README.md")) as f:
        assert f"~{README_IMAGE_CLAIM_MB} MB over the base" in f.read()
    assert abs((size - base) / 1e6 - README_IMAGE_CLAIM_MB) <= 6


def test_the_image_serves_and_passes_the_generated_acceptance_tests(repo, kit, services, image):
    _, docker_host = services
    port = free_port()
    env = {"DOCKER_HOST": docker_host, "JWT_SECRET": "e2e-secret-long-enough-for-hs256-x"}
    name = f"{NAME}-e2e-{port}"
    pym(kit, repo, "image", "run", image, "--port", str(port), "--name", name, env=env)
    try:
        r = requests.get(f"http://127.0.0.1:{port}/ping", timeout=5)
        assert (r.status_code, r.json()) == (200, {})
        assert (
            requests.get(f"http://127.0.0.1:{port}/version", timeout=5).json()["container"] == image
        )
        proc = pym(kit, repo, "acceptance", "--host", "127.0.0.1", "--port", str(port), env=env)
        assert re.search(r"\b5 passed\b", proc.stdout), proc.stdout[-2000:]
    finally:
        import docker

        docker.DockerClient(base_url=docker_host).containers.get(name).remove(force=True)


def test_the_kit_is_the_wheel_make_release_builds(kit):
    """One build path: the journeys install the wheel of `make release`'s own build step
    (`make dists`: the sdist, then the wheel built from it)."""
    names = sorted(p.name for p in kit["dist"].iterdir() if not p.name.startswith("."))
    assert names == [f"pymacaron-{__version__}-py3-none-any.whl", f"pymacaron-{__version__}.tar.gz"]
    with open(os.path.join(REPO, "Makefile")) as f:
        makefile = f.read()
    release = makefile[makefile.index("\nrelease:") :].split("\n\n")[0]
    assert "$(MAKE) --no-print-directory dists DIST=$(DIST)" in release
    assert "-m build" not in release  # built only by `dists`
