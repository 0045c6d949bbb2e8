"""Smoke-test a deployed service (``pym smoke``): /ping answers {} and /version shows the
expected image tag (``container``, written into the image at build time). Retries until the
timeout (a load balancer may still drain old hosts). With ``--instance-credentials`` (the
pipeline's smoke step), /version must also report ``instance_credentials: ok``: the
container reached its instance's IMDSv2 (the hop-limit override took effect)."""

from __future__ import annotations

import time

from .common import EXIT_USAGE, ReleaseError

IMDS_FALLBACK = (
    "the container cannot read its instance's credentials through IMDSv2 (hop limit 1: the "
    "launch-template override did not apply); fallback in `pym docs deploy`, "
    '"Instance credentials in the container"'
)


def check(base: str, version: str, verify: bool, credentials: bool = False) -> str | None:
    """None when healthy, else what is wrong."""
    import requests

    try:
        r = requests.get(f"{base}/ping", timeout=10, verify=verify)
        if r.status_code != 200 or r.json() != {}:
            return f"/ping answered {r.status_code} {r.text[:200]!r}, expected 200 {{}}"
        r = requests.get(f"{base}/version", timeout=10, verify=verify)
        if r.status_code != 200:
            return f"/version answered {r.status_code} {r.text[:200]!r}"
        info = r.json()
        container = info.get("container")
        if container != version:
            return f"/version shows container {container!r}, expected {version!r}"
        if credentials:
            state = info.get("instance_credentials")
            if state is None:
                return "/version reports no instance_credentials (PYM_PROBE_INSTANCE_CREDENTIALS unset)"
            if state != "ok":
                return f"instance_credentials: {state}: {IMDS_FALLBACK}"
    except requests.RequestException as e:
        return f"{type(e).__name__}: {str(e)[:200]}"
    except ValueError:
        return "an answer was not JSON"
    return None


def smoke(url: str, version: str, timeout: float = 120, verify: bool = True,
          credentials: bool = False) -> int:  # fmt: skip
    base = url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ReleaseError(f"--url {url!r}: expected http(s)://...", EXIT_USAGE)
    deadline = time.monotonic() + timeout
    while True:
        problem = check(base, version, verify, credentials)
        if problem is None:
            extra = ", instance credentials ok" if credentials else ""
            print(f"smoke-test: {base} is up and runs {version} (/ping, /version{extra})")
            return 0
        if time.monotonic() > deadline:
            raise ReleaseError(f"FAILED on {base}: {problem}")
        time.sleep(3)
