"""Helpers of the image tests (tests/image): paths, free ports, running `pym`,
background processes started and stopped by handle."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from pymacaron.testing.runner import (
    free_port,  # noqa: F401  (re-exported to tests)
    start_logged,
    stop_process,
)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE_IMAGE = os.environ.get("PYM_TEST_BASE_IMAGE", "localhost/pym-base:bookworm")
TEST_JWT_SECRET = "image-test-secret-that-is-long-enough-for-hs256"
SETUP_HINT = "run `make system-tools` (scripts/setup/system-tools) first"


def pym(*args: str, env: dict | None = None, timeout: float = 600):
    """Run `pym ARGS` (python -m pymacaron, this python) in the repository; the
    CompletedProcess."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pymacaron", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=REPO,
    )


def wait_until(check, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as e:  # noqa: BLE001 - keep polling, report the last error
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last error: {last})")


class Proc:
    """A background process this session started (stopped by its own handle)."""

    def __init__(self, cmd: list[str], log: str, env: dict | None = None):
        self.log_path = log
        self.log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.p = start_logged(cmd, None, env, self.log)

    def alive(self) -> bool:
        return self.p.poll() is None

    def output(self) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()[-4000:]

    def stop(self) -> None:
        stop_process(self.p, grace=15)
        self.log.close()
