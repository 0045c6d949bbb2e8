"""``pym image run``: the built image started as Beanstalk would start it.

Owns the container's environment (``env`` and ``env_secrets`` of the stage's pym-config,
read by the runtime's reader, plus ``-e`` items), the start and the wait for ``/ping``.
"""

from __future__ import annotations

import os
import sys
import time

from pymacaron.config import read_env_secrets, stage_file
from pymacaron.exceptions import StartupError

from . import common as rel

CONTAINER_PORT = 8080
RUN_LABEL = "pymacaron.run-image"


def container_env(root: str, pym_env, extra: list[str]) -> tuple[dict, list]:
    """The container's environment as the stage's runtime reads pym-config: ``env`` and
    ``env_secrets`` of ``pym-config.<pym_env>.yaml`` / ``stages.<pym_env>`` (the runtime's
    reader and its env_secrets rule), plus ``-e`` items."""
    config = rel.read_pym_config(root, pym_env)
    env = {k: str(v) for k, v in (config.get("env") or {}).items()}
    if pym_env:
        env["PYM_ENV"] = pym_env
    secrets = list(config.get("env_secrets") or [])
    if secrets:
        try:
            values = read_env_secrets(
                config, stage_file(root, pym_env), _local_environ(root, pym_env)
            )
        except StartupError as e:
            raise rel.ReleaseError(str(e), rel.EXIT_USAGE) from None
        env.update({n: values[n] for n in secrets})
    # x-persist: the container (on the host network) reaches the same local DynamoDB
    for n in ("PYM_DYNAMODB_URL", "PYM_DYNAMODB_TABLE_PREFIX", "PYM_BROKER_URL"):
        if os.environ.get(n):
            env[n] = os.environ[n]
    for item in extra:
        key, sep, value = item.partition("=")
        if not key:
            raise rel.ReleaseError(f"-e {item!r}: expected NAME=VALUE", rel.EXIT_USAGE)
        if not sep:
            if key not in os.environ:
                raise rel.ReleaseError(f"-e {key}: not set in your environment", rel.EXIT_USAGE)
            value = os.environ[key]
        env[key] = value
    return env, secrets


def _local_environ(root: str, pym_env) -> dict:
    """The shell's environment, plus the repository's development JWT_SECRET
    (``.pym/dev-secret``) for a local run, as `pym run` and `pym token` read it: only when
    JWT_SECRET is unset or empty and ``pym_env`` is unset or a development one, never for a
    stage (devsecret.py)."""
    from pymacaron.devsecret import SECRET_NAME, read_dev_secret

    environ = dict(os.environ)
    if not environ.get(SECRET_NAME):
        value = read_dev_secret(root, pym_env)
        if value:
            environ[SECRET_NAME] = value
    return environ


def logs_tail(container, lines: int = 40) -> str:
    try:
        return container.logs(tail=lines).decode(errors="replace").rstrip()
    except Exception as e:  # noqa: BLE001
        return f"(logs unavailable: {rel._short(e)})"


def wait_for_ping(container, url: str, timeout: float) -> float:
    import requests

    started = time.monotonic()
    while True:
        container.reload()
        if container.status in ("exited", "dead"):
            raise rel.ReleaseError(
                f"the container exited (code {container.attrs['State'].get('ExitCode')}) before "
                f"answering {url}; its logs:\n" + logs_tail(container)
            )
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        if time.monotonic() - started > timeout:
            raise rel.ReleaseError(
                f"no answer from {url} after {timeout:.0f} s; its logs:\n" + logs_tail(container)
            )
        time.sleep(0.3)


def run(root: str, tag: str, *, port=8080, name=None, pym_env=None, env=(), timeout=60.0,
        follow=False) -> str:  # fmt: skip
    """Start the image as Beanstalk would; returns the container id once /ping answers."""
    from docker.errors import APIError, NotFound

    if not 0 < port < 65536:
        raise rel.ReleaseError(f"--port {port}: not a TCP port", rel.EXIT_USAGE)
    config = rel.read_pym_config(root)
    ref = rel.image_ref(tag, root)
    environment, secrets = container_env(root, pym_env, list(env))
    client = rel.docker_client()
    image = rel.find_image(client, ref)
    name = name or f"{config.get('name') or 'pym'}-{port}"
    try:
        old = client.containers.get(name)
    except NotFound:
        old = None
    if old is not None:
        if old.labels.get(RUN_LABEL) != "1":
            raise rel.ReleaseError(
                f"a container named {name} exists and was not started by pym image run: "
                "remove it or pass --name",
                rel.EXIT_USAGE,
            )
        print(f"replacing the previous {name} container")
        old.remove(force=True)
    shown = ", ".join(f"{k}={'***' if k in secrets else v}" for k, v in sorted(environment.items()))
    print(f"running {ref} ({image.id[:19]}) as {name} on 127.0.0.1:{port} [{shown or 'no env'}]")
    network = {"ports": {f"{CONTAINER_PORT}/tcp": ("127.0.0.1", port)}}
    if _loopback(environment.get("PYM_DYNAMODB_URL")) or _loopback(
        environment.get("PYM_BROKER_URL")
    ):
        # x-persist against a DynamoDB on this machine (dynalite): the container shares the
        # host's network to reach it, and listens on 127.0.0.1:PORT only
        environment.update(PORT=str(port), HOST="127.0.0.1")
        network = {"network_mode": "host"}
        shown = environment.get("PYM_DYNAMODB_URL") or "the local broker"
        print(f"host network: the container reaches {shown}")
    try:
        container = client.containers.run(
            image.id,
            name=name,
            detach=True,
            environment=environment,
            labels={RUN_LABEL: "1", "pymacaron.image": ref},
            **network,
        )
    except APIError as e:
        raise rel.ReleaseError(f"could not start {ref}: {rel._short(e)}") from None
    url = f"http://127.0.0.1:{port}/ping"
    try:
        took = wait_for_ping(container, url, timeout)
    except rel.ReleaseError:
        container.remove(force=True)
        raise
    print(f"serving: http://127.0.0.1:{port} (/ping answered after {took:.1f} s)")
    print(f"container: {container.id}", flush=True)
    if not follow:
        print(f"stop it with: docker stop -t 30 {name}")
        return container.id
    try:
        for line in container.logs(stream=True, follow=True, since=int(time.time()) - 60):
            sys.stdout.write(line.decode(errors="replace"))
            sys.stdout.flush()
    except KeyboardInterrupt:
        print(f"\nstopping {name} (SIGTERM, graceful)...", flush=True)
        container.stop(timeout=30)
        container.remove()
    return container.id


def _loopback(url: str | None) -> bool:
    from urllib.parse import urlparse

    host = (urlparse(url).hostname or "") if url else ""
    return host in ("localhost", "::1") or host.startswith("127.")
