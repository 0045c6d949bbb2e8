"""Shared by the end-to-end tests: a registry and podman's API service for the session.

Started here (free 127.0.0.1 port, temp socket) and stopped by handle, like
tests/image/conftest.py; the e2e modules share the image tests' xdist worker ("image").
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
import requests

from tests.image.image_helpers import SETUP_HINT, Proc, free_port, wait_until


@pytest.fixture(scope="session")
def services():
    """(registry host:port, DOCKER_HOST) started for this session."""
    for tool in ("docker-registry", "podman"):
        assert shutil.which(tool), f"{tool} is not installed: {SETUP_HINT}"
    work = tempfile.mkdtemp(prefix="pym-pipeline-local-")
    port = free_port()
    registry = f"127.0.0.1:{port}"
    config = os.path.join(work, "registry.yml")
    with open(config, "w") as f:
        f.write(
            f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {work}/registry\nhttp:\n  addr: {registry}\n"
        )
    reg = Proc([shutil.which("docker-registry"), "serve", config], f"{work}/registry.log")
    conf = os.path.join(work, "registries.conf")
    with open(conf, "w") as f:
        f.write(f'[[registry]]\nlocation = "{registry}"\ninsecure = true\n')
    sock = f"unix://{work}/podman.sock"
    env = dict(os.environ, BUILDAH_ISOLATION="chroot", CONTAINERS_REGISTRIES_CONF=conf)
    engine = Proc(
        [shutil.which("podman"), "system", "service", "--time=0", sock],
        f"{work}/podman.log",
        env=env,
    )
    try:
        import docker

        wait_until(
            lambda: requests.get(f"http://{registry}/v2/", timeout=1).status_code == 200,
            20,
            "the registry",
        )
        wait_until(lambda: docker.DockerClient(base_url=sock, timeout=5).ping(), 30, "podman")
        yield registry, sock
    finally:
        engine.stop()
        reg.stop()
        shutil.rmtree(work, ignore_errors=True)
