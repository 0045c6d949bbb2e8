"""`pym pipeline local` for real on this repository's example service: a passing run
promotes, a failing acceptance test stops it.

This module starts its own registry (free 127.0.0.1 port) and podman API service (temp
socket), like tests/image/conftest.py, and stops them by handle. It shares the image tests'
xdist worker (and so the engine's layer cache) through the "image" group.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "image"))
from tests.image.image_helpers import (  # noqa: E402
    BASE_IMAGE,
    REPO,
    TEST_JWT_SECRET,
)

pytestmark = [pytest.mark.xdist_group("image"), pytest.mark.slow]

MANIFESTS = ",".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
FAILING_TEST = """
import os

import requests


def test_version_is_not_what_we_shipped():
    base = f"http://{os.environ['PYM_SERVER_HOST']}:{os.environ['PYM_SERVER_PORT']}"
    assert requests.get(base + "/version", timeout=5).json()["container"] == "something-else"
"""


def digest(registry: str, tag: str) -> str | None:
    r = requests.head(
        f"http://{registry}/v2/petshop/manifests/{tag}", headers={"Accept": MANIFESTS}, timeout=5
    )
    return r.headers.get("Docker-Content-Digest") if r.status_code == 200 else None


def pipeline_local(services, tmp_path, tag: str, *extra: str):
    registry, docker_host = services
    summary = tmp_path / f"{tag}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYM_", "PYTEST_"))}
    env.update(DOCKER_HOST=docker_host, JWT_SECRET=TEST_JWT_SECRET)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    cmd = [sys.executable, "-m", "pymacaron", "pipeline", "local", "--dir", REPO]
    cmd += ["--registry", registry, "--tag", tag, "--base", BASE_IMAGE, "--skip-unit-tests"]
    cmd += ["--no-fuzz", "--reports", str(tmp_path / "reports"), "--summary", str(summary)]
    proc = subprocess.run(
        [*cmd, *extra], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    data = json.loads(summary.read_text()) if summary.exists() else None
    return proc, data


@pytest.fixture(scope="module")
def engine(services):
    import docker

    client = docker.DockerClient(base_url=services[1], timeout=120)
    tags = []
    yield client, tags
    for tag in tags:  # the images this module built (layers stay cached)
        for ref in (
            f"petshop:{tag}",
            f"{services[0]}/petshop:{tag}",
            f"{services[0]}/petshop:live",
        ):
            try:
                client.images.remove(ref, force=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
    client.close()


def test_a_passing_run_promotes_the_tested_digest_and_a_failing_one_stops(
    services, engine, tmp_path
):
    registry, _ = services
    client, built = engine
    stamp = time.strftime("%Y%m%d-%H%M%S")
    good, bad = f"pl-{stamp}-good", f"pl-{stamp}-bad"
    built += [good, bad]

    started = time.monotonic()
    proc, summary = pipeline_local(services, tmp_path, good)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    assert [s["step"] for s in summary["steps"]] == [
        "unit-tests",
        "image",
        "staging",
        "acceptance",
        "promote",
        "live",
        "smoke",
    ]
    assert all(s["code"] == 0 for s in summary["steps"]), summary
    assert summary["live_before"] is None
    built_digest = digest(registry, good)
    assert built_digest and summary["pushed_digest"] == built_digest
    assert digest(registry, "live") == built_digest == summary["live_after"]
    assert digest(registry, f"live-{good}") == built_digest
    assert "smoke-test: http://127.0.0.1:" in out and f"runs {good}" in out
    # the acceptance suite ran for real against the staging container: its JUnit report
    cases = ET.parse(tmp_path / "reports" / "acceptance.xml").getroot().iter("testcase")
    outcomes = [[c.tag for c in case] for case in cases]
    assert len(outcomes) >= 10 and not any(o for o in outcomes if set(o) - {"system-out"})
    assert f"PROMOTED petshop:{good}" in out
    first = time.monotonic() - started

    # A deliberately failing acceptance test: promotion must not happen.
    failing = tmp_path / "failing-accept"
    failing.mkdir()
    (failing / "test_fails.py").write_text(FAILING_TEST)
    proc, summary = pipeline_local(services, tmp_path, bad, "--accept-dir", str(failing))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-5000:]
    steps = {s["step"]: s["code"] for s in summary["steps"]}
    assert steps["image"] == 0 and steps["staging"] == 0 and steps["acceptance"] != 0
    assert "promote" not in steps and "smoke" not in steps
    assert digest(registry, bad) not in (None, built_digest)  # a new image was pushed...
    assert digest(registry, "live") == built_digest  # ...but live still names the old one
    assert digest(registry, f"live-{bad}") is None
    assert summary["live_after"] == summary["live_before"] == built_digest
    assert "STOPPED at acceptance" in out and "live UNCHANGED" in out
    # its containers are gone (removed at the end of every run)
    names = [c.name for c in client.containers.list(all=True)]
    assert not [n for n in names if n.startswith("petshop-pipeline-local-")], names
    print(f"\npipeline-local: passing run {first:.0f} s, failing run in the same test")
