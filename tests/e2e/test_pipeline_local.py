"""`pym pipeline local` for real on this repository's example service: a failing acceptance
test stops it before promotion (the passing run is the first hour's, on a `pym new` repo).

This module starts its own registry (free 127.0.0.1 port) and podman API service (temp
socket), like tests/image/conftest.py, and stops them by handle. It runs on the first
hour's xdist worker ("first-hour" group); the engine's storage (its layer cache) is one for
every worker.
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
from tests.e2e.journey import record_step  # noqa: E402
from tests.image.image_helpers import (  # noqa: E402
    BASE_IMAGE,
    REPO,
    TEST_JWT_SECRET,
)

pytestmark = [pytest.mark.xdist_group("first-hour"), pytest.mark.slow]

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


def test_a_failing_acceptance_test_stops_the_run_before_promotion(services, engine, tmp_path):
    """The passing run (every step, the tested digest promoted to live, smoke) is the first
    hour's (tests/e2e/test_first_hour.py, a `pym new` repository): here the example's own
    acceptance suite runs against staging, and one deliberately failing test stops the run."""
    registry, _ = services
    client, built = engine
    bad = f"pl-{time.strftime('%Y%m%d-%H%M%S')}-bad"
    built.append(bad)
    live_before = digest(registry, "live")

    failing = tmp_path / "failing-accept"
    failing.mkdir()
    (failing / "test_fails.py").write_text(FAILING_TEST)
    started = time.monotonic()
    proc, summary = pipeline_local(services, tmp_path, bad, "--accept-dir", str(failing))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-5000:]
    for s in summary["steps"]:  # in the journey step times (tests/conftest.py)
        record_step("pipeline local (example)", f"pipeline step {s['step']}", s["seconds"])
    steps = {s["step"]: s["code"] for s in summary["steps"]}
    assert steps["unit-tests"] == 0 and steps["image"] == 0 and steps["staging"] == 0
    assert steps["acceptance"] != 0
    assert "promote" not in steps and "smoke" not in steps
    pushed = digest(registry, bad)
    assert pushed and summary["pushed_digest"] == pushed  # the image was built and pushed...
    assert digest(registry, "live") == live_before  # ...but live still names what it named
    assert pushed != live_before
    assert digest(registry, f"live-{bad}") is None
    assert summary["live_after"] == summary["live_before"] == live_before
    assert "STOPPED at acceptance" in out and "live UNCHANGED" in out
    # the acceptance suite ran for real against the staging container: the failing test is
    # the only failure of its JUnit report
    cases = ET.parse(tmp_path / "reports" / "acceptance.xml").getroot().iter("testcase")
    failed = [c.get("name") for c in cases if any(x.tag in ("failure", "error") for x in c)]
    assert failed == ["test_version_is_not_what_we_shipped"], failed
    # its containers are gone (removed at the end of every run)
    names = [c.name for c in client.containers.list(all=True)]
    assert not [n for n in names if n.startswith("petshop-pipeline-local-")], names
    print(f"\npipeline-local: failing run {time.monotonic() - started:.0f} s")
