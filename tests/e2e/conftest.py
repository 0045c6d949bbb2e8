"""Shared by the end-to-end tests: a registry and podman's API service for the session,
and ``kit``: a fresh venv holding the wheel built from this repository (the journeys).

Started here (free 127.0.0.1 port, temp socket) and stopped by handle, like
tests/image/conftest.py. The first hour and the example's pipeline run on one xdist worker
("first-hour"), the `pym new` image beside the image tests on another ("image"): each
worker starts its own registry and podman service on the engine's one storage (its layer
cache); the deploy journey (moto) and the docs page (chromium) run on a third ("journey"),
with the same kit.
"""

from __future__ import annotations

import fcntl
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import pytest
import requests

from pymacaron import __version__
from tests.image.image_helpers import REPO, SETUP_HINT, Proc, free_port, wait_until


def run(cmd, cwd, env, timeout=600, check=True):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, (
            f"{cmd} -> {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc


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


def _kit_home(tmp_path_factory, worker_id: str) -> pathlib.Path:
    """Where the kit's venv is built: PYM_E2E_KIT_DIR (a developer's loop, never CI), else a
    directory every xdist worker of this session shares (the journeys run on two workers)."""
    keep = os.environ.get("PYM_E2E_KIT_DIR")
    if keep:
        return pathlib.Path(keep)
    base = tmp_path_factory.getbasetemp()
    return (base if worker_id == "master" else base.parent) / "kit"


@pytest.fixture(scope="session")
def kit(tmp_path_factory, worker_id):
    """(bin dir, env) of a fresh venv holding the wheel built from this repository, built
    once per session: the first worker to ask builds it under a lock, the others reuse it."""
    work = _kit_home(tmp_path_factory, worker_id)
    work.mkdir(parents=True, exist_ok=True)
    with open(work.parent / f"{work.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when closed
        if not (work / "ready").exists() or os.environ.get("PYM_E2E_KIT_DIR"):
            _build_kit(work)
            (work / "ready").write_text("ok")
    venv = work / "venv"
    env = _kit_env(work)
    # this worker's own per-user cache (dynalite installed on first use)
    env["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("kit-cache"))
    where = run([str(venv / "bin" / "python"), "-c",
                 "import pymacaron, pymacaron_kit; print(pymacaron.__file__, pymacaron_kit.__file__)"],
                cwd=str(work), env=env).stdout  # fmt: skip
    assert REPO not in where and str(venv) in where, where  # the wheel, not this checkout
    return {"bin": venv / "bin", "venv": venv, "env": env, "dist": work / "dist"}


def _kit_env(work: pathlib.Path) -> dict:
    """A user's shell for the kit: no PYM_/JWT_ variables, the kit's venv first on PATH and
    none of this checkout's tools (`make test` puts its .venv/bin and node_modules/.bin on
    PATH): the kit must find or install its own. pip finds the built wheel."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYM_", "PYTEST_", "VIRTUAL_ENV", "PYTHONPATH", "JWT_"))}  # fmt: skip
    dist = work / "dist"
    env["PIP_FIND_LINKS"] = " ".join(p for p in (str(dist), os.environ.get("PIP_FIND_LINKS")) if p)
    theirs = [p for p in env.get("PATH", "").split(os.pathsep) if p and not p.startswith(REPO)]
    env["PATH"] = os.pathsep.join([str(work / "venv" / "bin"), *theirs])
    return env


def _build_kit(work: pathlib.Path) -> None:
    dist, venv = work / "dist", work / "venv"
    reuse = bool(os.environ.get("PYM_E2E_KIT_DIR")) and (venv / "bin" / "pym").exists()
    started = time.monotonic()
    build_wheel(dist)
    env = _kit_env(work)
    env["XDG_CACHE_HOME"] = str(work / "cache")
    # --no-compile: no .pyc for aws-cdk-lib's ~20k modules (134 s -> 26 s here)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-compile"]
    if reuse:
        wheel = str(next(dist.glob("*.whl")))
        run([*pip, "--no-deps", "--force-reinstall", wheel], cwd=str(work), env=env)
    else:
        shutil.rmtree(venv, ignore_errors=True)
        run(["python3", "-m", "venv", str(venv)], cwd=str(work), env=env)
        run([*pip, f"pymacaron[kit]=={__version__}"], cwd=str(work), env=env, timeout=900)
    print(f"\nkit venv from the wheel in {time.monotonic() - started:.0f} s")


def build_wheel(dist: pathlib.Path) -> pathlib.Path:
    """The wheel of this repository, built into ``dist`` as `make release` builds it (its
    ``dists`` step: ``python -m build``, the sdist then the wheel from it)."""
    venv = os.path.dirname(os.path.dirname(sys.executable))
    run(["make", "-s", "--no-print-directory", "dists", f"DIST={dist}", f"VENV={venv}"],
        cwd=REPO, env=dict(os.environ))  # fmt: skip
    wheels = [p.name for p in dist.glob("*.whl")]
    assert wheels == [f"pymacaron-{__version__}-py3-none-any.whl"], wheels
    return dist / wheels[0]
