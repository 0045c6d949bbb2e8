"""Smoke-test a deployed service (``pym smoke``): /ping answers {} and /version shows the
expected image tag (``container``, written into the image at build time). Retries until the
timeout (a load balancer may still drain old hosts)."""

from __future__ import annotations

import time

from .common import EXIT_USAGE, ReleaseError


def check(base: str, version: str, verify: bool) -> str | None:
    """None when healthy, else what is wrong."""
    import requests

    try:
        r = requests.get(f"{base}/ping", timeout=10, verify=verify)
        if r.status_code != 200 or r.json() != {}:
            return f"/ping answered {r.status_code} {r.text[:200]!r}, expected 200 {{}}"
        r = requests.get(f"{base}/version", timeout=10, verify=verify)
        if r.status_code != 200:
            return f"/version answered {r.status_code} {r.text[:200]!r}"
        container = r.json().get("container")
        if container != version:
            return f"/version shows container {container!r}, expected {version!r}"
    except requests.RequestException as e:
        return f"{type(e).__name__}: {str(e)[:200]}"
    except ValueError:
        return "an answer was not JSON"
    return None


def smoke(url: str, version: str, timeout: float = 120, verify: bool = True) -> int:
    base = url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ReleaseError(f"--url {url!r}: expected http(s)://...", EXIT_USAGE)
    deadline = time.monotonic() + timeout
    while True:
        problem = check(base, version, verify)
        if problem is None:
            print(f"smoke-test: {base} is up and runs {version} (/ping, /version)")
            return 0
        if time.monotonic() > deadline:
            raise ReleaseError(f"FAILED on {base}: {problem}")
        time.sleep(3)
