"""The real image, built and run without a Docker daemon (podman's Docker API + a registry).

Per test session (one xdist worker: every image test is in xdist_group "image"):
- a registry (Debian's docker-registry) on a free 127.0.0.1 port, storage in a temp dir;
- podman's Docker-compatible API service on a temp unix socket, with that registry marked
  insecure (plain http) in its own registries.conf; BUILDAH_ISOLATION=chroot for builds;
- the image, built once from docker/Dockerfile by pym image build on
  localhost/pym-base:bookworm (scripts/setup/system-tools.d/10-image-tools makes it);
- a container of it started by pym image run.
Everything started here is stopped here, by process handle. PYM_TEST_DOCKER_HOST=<url> uses
an existing engine (e.g. a real Docker) instead of starting podman.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tempfile
import time

import pytest
import requests

from tests.image.image_helpers import (
    BASE_IMAGE,
    SETUP_HINT,
    TEST_JWT_SECRET,
    Proc,
    free_port,
    pym,
    wait_until,
)


@pytest.fixture(scope="session")
def workdir():
    path = tempfile.mkdtemp(prefix="pym-image-tests-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def registry(workdir):
    """A plain-http registry on 127.0.0.1:<free port>; yields 'host:port'."""
    binary = shutil.which("docker-registry")
    assert binary, f"docker-registry is not installed: {SETUP_HINT}"
    port = free_port()
    storage = os.path.join(workdir, "registry")
    config = os.path.join(workdir, "registry.yml")
    with open(config, "w") as f:
        f.write(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{port}\n"
        )
    proc = Proc([binary, "serve", config], os.path.join(workdir, "registry.log"))
    address = f"127.0.0.1:{port}"
    try:
        wait_until(
            lambda: requests.get(f"http://{address}/v2/", timeout=1).status_code == 200,
            20,
            f"the registry on {address}",
        )
        yield address
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def docker_host(workdir, registry):
    """DOCKER_HOST of a container engine: podman's API service started for this session."""
    if os.environ.get("PYM_TEST_DOCKER_HOST"):
        yield os.environ["PYM_TEST_DOCKER_HOST"]
        return
    podman = shutil.which("podman")
    assert podman, f"podman is not installed: {SETUP_HINT}"
    registries = os.path.join(workdir, "registries.conf")
    with open(registries, "w") as f:
        f.write(f'[[registry]]\nlocation = "{registry}"\ninsecure = true\n')
    sock = os.path.join(workdir, "podman.sock")
    env = dict(os.environ, BUILDAH_ISOLATION="chroot", CONTAINERS_REGISTRIES_CONF=registries)
    proc = Proc(
        [podman, "system", "service", "--time=0", f"unix://{sock}"],
        os.path.join(workdir, "podman.log"),
        env=env,
    )
    url = f"unix://{sock}"
    try:
        import docker

        def ping():
            assert proc.alive(), proc.output()
            return docker.DockerClient(base_url=url, timeout=5).ping()

        wait_until(ping, 30, f"podman's API service at {url}")
        yield url
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def engine_env(docker_host):
    return {"DOCKER_HOST": docker_host}


@pytest.fixture(scope="session")
def client(docker_host):
    import docker

    c = docker.DockerClient(base_url=docker_host, timeout=300)
    yield c
    c.close()


# Images this suite built in earlier runs are removed once older than this.
STALE_TEST_IMAGE_SECONDS = 3 * 3600


def remove_stale_test_images(client) -> None:
    """Test images (tag test-*) of earlier sessions: every tag of each, by id."""
    now = time.time()
    for image in client.images.list(filters={"label": "org.opencontainers.image.title"}):
        version = (image.labels or {}).get("org.opencontainers.image.version", "")
        created = image.attrs.get("Created")
        if not version.startswith("test-") or not created:
            continue
        if isinstance(created, str):
            from datetime import datetime

            created = datetime.fromisoformat(created[:19]).timestamp()
        if now - created > STALE_TEST_IMAGE_SECONDS:
            try:
                client.images.remove(image.id, force=True)
            except Exception:  # noqa: BLE001 - in use elsewhere: next time
                pass


@pytest.fixture(scope="session")
def built_image(client, engine_env, tmp_path_factory, worker_id):
    """pym image build on the real Dockerfile and the repository's service, once per
    test run. The tests ask for one xdist worker (xdist_group "image"), but pytest-xdist
    3.8 ignores groups under pytest 9.2 (it sets item._nodeid, pytest now reads item._id),
    so workers share the build through a lock file: the first one builds, the others
    reuse its image (same engine storage). Images are not removed at the end (another
    worker may still use it); test images older than 3 hours are removed before a build."""
    try:
        client.images.get(BASE_IMAGE)
    except Exception:  # noqa: BLE001
        pytest.fail(f"no base image {BASE_IMAGE}: {SETUP_HINT}")
    # Shared by the workers of this run (pytest removes old base temps itself).
    base = tmp_path_factory.getbasetemp()
    shared = str(base.parent if worker_id != "master" else base)
    result_file = os.path.join(shared, "build.json")
    with open(os.path.join(shared, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(result_file):
            remove_stale_test_images(client)
            # Unique per run: other test runs may share the engine's storage.
            tag = f"test-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
            raw = os.path.join(shared, "build-image.json")
            started = time.monotonic()
            proc = pym(
                "image",
                "build",
                "--tag",
                tag,
                "--base",
                BASE_IMAGE,
                env={**engine_env, "BUILD_IMAGE_RESULT": raw},
            )
            elapsed = time.monotonic() - started
            assert proc.returncode == 0, (
                f"build-image failed:\n{proc.stdout[-3000:]}\n{proc.stderr}"
            )
            with open(raw) as f:
                result = json.load(f)
            result.update(tag=tag, stdout=proc.stdout, build_seconds=round(elapsed, 1))
            with open(result_file + ".tmp", "w") as f:
                json.dump(result, f)
            os.replace(result_file + ".tmp", result_file)
            print(f"\nimage {result['image']} built in {elapsed:.0f} s, {result['size']} bytes")
        with open(result_file) as f:
            result = json.load(f)
    return result


@pytest.fixture(scope="session")
def service(built_image, engine_env, client):
    """The image running as pym image run starts it; yields (container, base_url)."""
    port = free_port()
    name = f"pym-image-test-{port}"
    proc = pym(
        "image",
        "run",
        built_image["tag"],
        "--port",
        str(port),
        "--name",
        name,
        "--timeout",
        "90",
        env={**engine_env, "JWT_SECRET": TEST_JWT_SECRET},
    )
    assert proc.returncode == 0, f"run-image failed:\n{proc.stdout}\n{proc.stderr}"
    assert TEST_JWT_SECRET not in proc.stdout + proc.stderr, "run-image printed a secret"
    cid = re.search(r"^container: (\w+)$", proc.stdout, re.M).group(1)
    container = client.containers.get(cid)
    yield container, f"http://127.0.0.1:{port}", port
    container.remove(force=True)
